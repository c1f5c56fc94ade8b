//! PPO's parts against hand-computed values, and PPO solving a trivial environment.

use std::sync::Arc;

use candle_core::{Device, Tensor};
use cruxlab_grid::{EnvConfig, Level, ObjectKind};
use cruxlab_learn::ppo::{LossInputs, clip_global_norm, gae, normalize, ppo_loss};
use cruxlab_learn::rollout::{Play, rollout};
use cruxlab_learn::{ActorCritic, Envs, LevelEnvs, NetConfig, Plane, PpoConfig, Trainer};

fn t(v: &[f32]) -> Tensor {
    Tensor::from_slice(v, v.len(), &Device::Cpu).unwrap()
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() < 1e-5
}

#[test]
fn gae_matches_hand_computed_values() {
    // Two environments, three steps, step-major. gamma = 0.9, lambda = 0.8.
    // env 0: rewards 0, 0, 1; values 0.5, 0.6, 0.7; no episode end; bootstrap 0.4.
    // env 1: rewards 0, 1, 0; values 0.2, 0.3, 0.1; episode ends at step 1; bootstrap 0.9.
    let rewards = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0];
    let values = [0.5, 0.2, 0.6, 0.3, 0.7, 0.1];
    let ended = [false, false, false, true, false, false];
    // Env 1's episode terminated (its final state is worth 0).
    let final_value = [0.0; 6];
    let (adv, ret) = gae(
        &rewards,
        &values,
        &ended,
        &final_value,
        &[0.4, 0.9],
        0.9,
        0.8,
    );
    // env 0, by hand: d2 = 1 + 0.9*0.4 - 0.7 = 0.66; A2 = 0.66
    //                 d1 = 0 + 0.9*0.7 - 0.6 = 0.03; A1 = 0.03 + 0.72*0.66 = 0.5052
    //                 d0 = 0 + 0.9*0.6 - 0.5 = 0.04; A0 = 0.04 + 0.72*0.5052 = 0.403744
    // env 1:          d2 = 0 + 0.9*0.9 - 0.1 = 0.71; A2 = 0.71
    //                 d1 = 1 + 0 - 0.3 = 0.7 (ended: no bootstrap, no carry); A1 = 0.7
    //                 d0 = 0 + 0.9*0.3 - 0.2 = 0.07; A0 = 0.07 + 0.72*0.7 = 0.574
    let want = [0.403744, 0.574, 0.5052, 0.7, 0.66, 0.71];
    for (a, w) in adv.iter().zip(want) {
        assert!(close(*a, w), "{adv:?} vs {want:?}");
    }
    for k in 0..6 {
        assert!(close(ret[k], want[k] + values[k]));
    }
}

#[test]
fn a_truncated_episode_is_bootstrapped_from_its_final_state_by_hand() {
    // One environment, three steps, gamma = 0.9, lambda = 0.8; rewards 0, 0, 0; values 0.5,
    // 0.6, 0.2. The episode is cut off (truncated) at step 1 in a state the critic values at
    // 0.8; step 2 is the first of the next episode, bootstrapped from 0.3.
    let rewards = [0.0, 0.0, 0.0];
    let values = [0.5, 0.6, 0.2];
    let ended = [false, true, false];
    let (adv, _) = gae(
        &rewards,
        &values,
        &ended,
        &[0.0, 0.8, 0.0],
        &[0.3],
        0.9,
        0.8,
    );
    // d2 = 0 + 0.9*0.3 - 0.2 = 0.07;  A2 = 0.07
    // d1 = 0 + 0.9*0.8 - 0.6 = 0.12;  A1 = 0.12 (no carry across the episode boundary)
    // d0 = 0 + 0.9*0.6 - 0.5 = 0.04;  A0 = 0.04 + 0.72*0.12 = 0.1264
    let want = [0.1264, 0.12, 0.07];
    for (a, w) in adv.iter().zip(want) {
        assert!(close(*a, w), "{adv:?} vs {want:?}");
    }
    // Treated as a termination instead, step 1 would be d1 = -0.6: the bootstrap is what differs.
    let (as_terminal, _) = gae(&rewards, &values, &ended, &[0.0; 3], &[0.3], 0.9, 0.8);
    assert!(close(as_terminal[1], -0.6));
}

#[test]
fn the_final_observation_is_the_state_the_episode_ended_in() {
    // A corridor the agent cannot finish in 2 steps: every episode is truncated. After the
    // truncating step, the current observation is the next episode's first; the final one shows
    // the agent where the last move left it.
    let level = corridor();
    let start = level.agent();
    let planes = vec![Plane::Wall, Plane::Agent, Plane::Diamond];
    let mut envs = LevelEnvs::new(
        1,
        Arc::new(move |_| level.clone()),
        EnvConfig::new(ObjectKind::Diamond, 2),
        planes.clone(),
        0,
    );
    let len = envs.input().len();
    let (mut now, mut last) = (vec![0.0; len], vec![0.0; len]);
    envs.step(&[cruxlab_grid::Action::Right]);
    assert!(!envs.truncated()[0]);
    envs.step(&[cruxlab_grid::Action::Right]);
    assert!(envs.truncated()[0] && !envs.terminated()[0]);
    envs.write_obs(&mut now);
    envs.write_final_obs(0, &mut last);
    let mut moved = corridor();
    moved.set_agent(cruxlab_grid::Pos::new(start.row, start.col + 2));
    let mut want = vec![0.0; len];
    cruxlab_learn::envs::encode(&moved, &planes, None, &mut want);
    assert_eq!(last, want, "final observation");
    let mut fresh = vec![0.0; len];
    cruxlab_learn::envs::encode(&corridor(), &planes, None, &mut fresh);
    assert_eq!(
        now, fresh,
        "the current observation is the next episode's first"
    );

    // The grid engine's batched environments give the same final observation.
    let spec: cruxlab_grid::LevelSpec = "maze:7".parse().unwrap();
    let mut grid = cruxlab_learn::GridEnvs::new(
        3,
        spec,
        EnvConfig::new(ObjectKind::Diamond, 3),
        planes.clone(),
        5,
    );
    let len = grid.input().len();
    let (mut rng, mut ended) = (0u64, 0);
    for _ in 0..40 {
        let actions: Vec<_> = (0..3)
            .map(|_| {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                cruxlab_grid::Action::MOVES[(rng >> 33) as usize % 4]
            })
            .collect();
        let before: Vec<_> = (0..3).map(|i| grid.vec_env().level(i)).collect();
        grid.step(&actions);
        for i in 0..3 {
            if grid.terminated()[i] || grid.truncated()[i] {
                let mut expect = before[i].clone();
                let steps = grid.episode_steps()[i] - 1;
                EnvConfig::new(ObjectKind::Diamond, 3).step(&mut expect, steps, actions[i]);
                let (mut got, mut want) = (vec![0.0; len], vec![0.0; len]);
                grid.write_final_obs(i, &mut got);
                cruxlab_learn::envs::encode(&expect, &planes, None, &mut want);
                assert_eq!(got, want, "env {i}");
                ended += 1;
            }
        }
    }
    assert!(ended > 10, "only {ended} episodes ended");
}

#[test]
fn clipped_loss_matches_hand_computed_values() {
    // ratios 0.5, 1.0, 1.5 (log-prob differences ln r), advantages 1, -1, 2, clip 0.2:
    // -A r          = -0.5,  1.0, -3.0
    // -A clip(r)    = -0.8,  1.0, -2.4
    // max           = -0.5,  1.0, -2.4  -> mean -0.633333
    let old = t(&[-1.0, -1.0, -1.0]);
    let new = t(&[-1.0 + 0.5f32.ln(), -1.0, -1.0 + 1.5f32.ln()]);
    // values: new 1.0, 0.0, 0.5; old 0.5, 0.1, 0.5; returns 2.0, 0.0, 0.0.
    // unclipped (V-R)^2      = 1.0, 0.0, 0.25
    // clipped V = old + clip(new-old, -0.2, 0.2) = 0.7, 0.0, 0.5 -> (.-R)^2 = 1.69, 0.0, 0.25
    // max = 1.69, 0.0, 0.25 -> 0.5 * mean = 0.323333
    let cfg = PpoConfig {
        clip_coef: 0.2,
        ent_coef: 0.01,
        vf_coef: 0.5,
        clip_vloss: true,
        ..PpoConfig::default()
    };
    let entropy = t(&[1.0, 1.2, 1.4]);
    let x = LossInputs {
        new_logp: &new,
        entropy: &entropy,
        new_value: &t(&[1.0, 0.0, 0.5]),
        old_logp: &old,
        old_value: &t(&[0.5, 0.1, 0.5]),
        advantages: &t(&[1.0, -1.0, 2.0]),
        returns: &t(&[2.0, 0.0, 0.0]),
    };
    let l = ppo_loss(&x, &cfg).unwrap();
    assert!(close(l.policy, -0.633_333), "{}", l.policy);
    assert!(close(l.value, 0.323_333), "{}", l.value);
    assert!(close(l.entropy, 1.2));
    let total: f32 = l.total.to_scalar().unwrap();
    assert!(
        close(total, -0.633_333 - 0.01 * 1.2 + 0.5 * 0.323_333),
        "{total}"
    );
    // Two of three ratios are outside [0.8, 1.2].
    assert!(close(l.clipfrac, 2.0 / 3.0));
    // approx_kl = mean((r - 1) - ln r) = ((-0.5 + 0.693147) + 0 + (0.5 - 0.405465)) / 3
    assert!(
        close(l.approx_kl, (0.193_147 + 0.094_535) / 3.0),
        "{}",
        l.approx_kl
    );

    // Without value clipping: 0.5 * mean(1.0, 0.0, 0.25) = 0.208333.
    let l = ppo_loss(
        &x,
        &PpoConfig {
            clip_vloss: false,
            ..cfg
        },
    )
    .unwrap();
    assert!(close(l.value, 0.208_333));
}

#[test]
fn advantage_normalisation_and_gradient_clipping() {
    let mut a = vec![1.0, 2.0, 3.0];
    normalize(&mut a);
    assert!(
        close(a[0], -1.0) && close(a[1], 0.0) && close(a[2], 1.0),
        "{a:?}"
    );
    let mut g = vec![vec![3.0], vec![4.0]];
    let norm = clip_global_norm(&mut g, 1.0);
    assert!(close(norm, 5.0));
    assert!(close(g[0][0], 0.6) && close(g[1][0], 0.8), "{g:?}");
    let mut small = vec![vec![0.3, 0.4]];
    clip_global_norm(&mut small, 1.0);
    assert_eq!(small, vec![vec![0.3, 0.4]]);
}

fn corridor() -> Level {
    // The agent three steps left of the diamond.
    Level::parse("######\n#A..D#\n######\n").unwrap()
}

fn corridor_trainer(seed: u64, total: u64) -> Trainer {
    let planes = vec![Plane::Wall, Plane::Agent, Plane::Diamond];
    let level = corridor();
    let envs = LevelEnvs::new(
        8,
        Arc::new(move |_| level.clone()),
        EnvConfig::new(ObjectKind::Diamond, 12),
        planes,
        seed,
    );
    let net = ActorCritic::new(
        &NetConfig {
            kind: cruxlab_learn::NetKind::Mlp,
            conv: vec![],
            hidden: vec![16],
        },
        envs.input(),
        seed,
    )
    .unwrap();
    let cfg = PpoConfig {
        num_envs: 8,
        num_steps: 16,
        total_steps: total,
        learning_rate: 3e-3,
        gamma: 0.9,
        ..PpoConfig::default()
    };
    Trainer::new(net, cfg, Box::new(envs), seed)
}

#[test]
fn ppo_solves_a_corridor() {
    let mut trainer = corridor_trainer(5, 8 * 16 * 40);
    trainer.train(None, 0).unwrap();
    let play = Play {
        target: ObjectKind::Diamond,
        max_steps: 12,
        planes: vec![Plane::Wall, Plane::Agent, Plane::Diamond],
        seed: 1,
        greedy: false,
    };
    let levels = vec![corridor(); 50];
    let eps = rollout(trainer.net(), &levels, &play, &mut |_, a| Ok(a)).unwrap();
    let mean_steps = eps.iter().map(|e| e.steps as f64).sum::<f64>() / 50.0;
    assert!(eps.iter().all(|e| e.success), "some episodes failed");
    assert!(mean_steps < 3.5, "mean steps {mean_steps} (optimal 3)");
    let last = trainer.curve().last().unwrap();
    assert!(last.success > 0.95, "{last:?}");
}

#[test]
fn training_is_deterministic_and_snapshots_resume_exactly() {
    let mut a = corridor_trainer(9, 8 * 16 * 4);
    let mut b = corridor_trainer(9, 8 * 16 * 4);
    a.iterate_with_checkpoint(None).unwrap();
    b.iterate_with_checkpoint(None).unwrap();
    let mut c = a.snapshot().unwrap();
    a.train(None, 0).unwrap();
    b.train(None, 0).unwrap();
    c.train(None, 0).unwrap();
    let weights = |t: &Trainer| cruxlab_learn::checkpoint::to_bytes(t.net()).unwrap();
    assert!(weights(&a) == weights(&b), "same seed, different weights");
    assert!(weights(&a) == weights(&c), "a snapshot resumed differently");
    assert_eq!(a.curve(), c.curve());
}

/// A trainer on 7x7 mazes with a diamond, a fresh maze every episode (so that a restored
/// environment must find its episode's level again) and a step limit that truncates some.
fn maze_trainer(seed: u64, total: u64) -> Trainer {
    let spec: cruxlab_grid::LevelSpec = "maze:7".parse().unwrap();
    let envs = LevelEnvs::new(
        6,
        Arc::new(move |s| spec.generate(s)),
        EnvConfig::new(ObjectKind::Diamond, 10),
        vec![Plane::Wall, Plane::Agent, Plane::Diamond],
        seed,
    );
    let net = ActorCritic::new(&NetConfig::mlp(), envs.input(), seed).unwrap();
    let cfg = PpoConfig {
        num_envs: 6,
        num_steps: 16,
        num_minibatches: 4,
        total_steps: total,
        ..PpoConfig::default()
    };
    Trainer::new(net, cfg, Box::new(envs), seed)
}

#[test]
fn a_saved_state_resumes_in_a_fresh_trainer_exactly() {
    let total = 6 * 16 * 8;
    let mut whole = maze_trainer(11, total);
    whole.train(None, 0).unwrap();

    let mut first = maze_trainer(11, total);
    for _ in 0..3 {
        first.iterate_with_checkpoint(None).unwrap();
    }
    // Through text, as a run's progress file keeps it.
    let saved = serde_json::to_string(&first.state().unwrap()).unwrap();
    drop(first);
    let state: cruxlab_learn::TrainerState = serde_json::from_str(&saved).unwrap();
    assert_eq!(state.iteration(), 3);
    let mut resumed = maze_trainer(11, total);
    resumed.restore(&state).unwrap();
    resumed.train(None, 0).unwrap();

    let weights = |t: &Trainer| cruxlab_learn::checkpoint::to_bytes(t.net()).unwrap();
    assert!(
        weights(&whole) == weights(&resumed),
        "the resumed run trained other weights"
    );
    let curve = |t: &Trainer| serde_json::to_string(t.curve()).unwrap();
    assert_eq!(curve(&whole), curve(&resumed));
    // Episodes ended in the resumed part, so the environments' places mattered.
    assert!(whole.curve()[3..].iter().map(|p| p.episodes).sum::<usize>() > 0);

    // A state that does not fit is refused and leaves the trainer as it was.
    let mut other = maze_trainer(11, total);
    let before = other.state().unwrap();
    let mut wrong = serde_json::to_value(&state).unwrap();
    wrong["envs"]["slots"].as_array_mut().unwrap().pop();
    let wrong: cruxlab_learn::TrainerState = serde_json::from_value(wrong).unwrap();
    assert!(other.restore(&wrong).is_err());
    assert_eq!(other.state().unwrap(), before);
}

#[test]
fn non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint() {
    // An environment that pays a NaN reward from its 40th step on.
    #[derive(Clone)]
    struct Poisoned(LevelEnvs, usize, Vec<f32>);
    impl Envs for Poisoned {
        fn num_envs(&self) -> usize {
            self.0.num_envs()
        }
        fn input(&self) -> cruxlab_learn::InputShape {
            self.0.input()
        }
        fn write_obs(&self, out: &mut [f32]) {
            self.0.write_obs(out)
        }
        fn step(&mut self, a: &[cruxlab_grid::Action]) {
            self.0.step(a);
            self.1 += 1;
            self.2 = self.0.rewards().to_vec();
            if self.1 >= 40 {
                self.2.iter_mut().for_each(|r| *r = f32::NAN);
            }
        }
        fn rewards(&self) -> &[f32] {
            &self.2
        }
        fn terminated(&self) -> &[bool] {
            self.0.terminated()
        }
        fn truncated(&self) -> &[bool] {
            self.0.truncated()
        }
        fn episode_steps(&self) -> &[u32] {
            self.0.episode_steps()
        }
        fn write_final_obs(&self, i: usize, out: &mut [f32]) {
            self.0.write_final_obs(i, out)
        }
        fn boxed_clone(&self) -> Box<dyn Envs> {
            Box::new(self.clone())
        }
    }
    let planes = vec![Plane::Wall, Plane::Agent, Plane::Diamond];
    let level = corridor();
    let inner = LevelEnvs::new(
        4,
        Arc::new(move |_| level.clone()),
        EnvConfig::new(ObjectKind::Diamond, 12),
        planes,
        0,
    );
    let net = ActorCritic::new(&NetConfig::mlp(), inner.input(), 0).unwrap();
    let cfg = PpoConfig {
        num_envs: 4,
        num_steps: 16,
        total_steps: 4 * 16 * 10,
        ..PpoConfig::default()
    };
    let mut trainer = Trainer::new(net, cfg, Box::new(Poisoned(inner, 0, vec![0.0; 4])), 0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let err = trainer.train(Some(&path), 1).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("non-finite loss at iteration 3"), "{msg}");
    assert!(
        msg.contains("rolled back to the end of iteration 2"),
        "{msg}"
    );
    assert_eq!(trainer.iteration(), 2);
    // The file holds the network as it was after iteration 2, which is what the trainer kept.
    let saved = cruxlab_learn::checkpoint::load(&path).unwrap();
    assert!(
        cruxlab_learn::checkpoint::to_bytes(&saved).unwrap()
            == cruxlab_learn::checkpoint::to_bytes(trainer.net()).unwrap(),
        "the checkpoint differs from the kept network"
    );
}
