//! Playing a trained network: batched evaluation episodes, action probabilities in chosen states,
//! and a [`Policy`] adapter so the rest of cruxlab can run a network like any other agent.

use candle_core::{Result, Tensor};
use cruxlab_agents::{Compute, Policy, View};
use cruxlab_grid::{Action, EnvConfig, Level, ObjectKind, Pos, VecEnv};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::envs::{Plane, encode};
use crate::net::{ACTIONS, ActorCritic, probabilities};
use crate::ppo::sample;

/// A hook for [`ActorCritic::forward_hooked`] (`|layer, activation| -> activation`).
pub type Hook<'a> = &'a mut dyn FnMut(usize, Tensor) -> Result<Tensor>;

/// How evaluation episodes are played.
#[derive(Clone, Debug)]
pub struct Play {
    /// Entering an object of this kind ends the episode with success.
    pub target: ObjectKind,
    pub max_steps: u32,
    pub planes: Vec<Plane>,
    /// Seed of the action sampling (each level gets its own stream derived from it).
    pub seed: u64,
    /// Take the most likely action instead of sampling.
    pub greedy: bool,
}

/// One evaluation episode.
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    /// Cells stood on, start first.
    pub path: Vec<Pos>,
    /// Whether the agent entered an object of the target kind within the step limit.
    pub success: bool,
    pub steps: u32,
}

impl Trajectory {
    /// Index in the path of the first visit to `pos` (0 is the start).
    pub fn first_visit(&self, pos: Pos) -> Option<usize> {
        self.path.iter().position(|&p| p == pos)
    }
}

/// Observations of `levels` (agents where they stand), one after another.
pub fn observe(levels: &[Level], planes: &[Plane]) -> Vec<f32> {
    let Some(first) = levels.first() else {
        return Vec::new();
    };
    let per = first.cells() * planes.len();
    let mut out = vec![0.0; per * levels.len()];
    for (level, dst) in levels.iter().zip(out.chunks_exact_mut(per)) {
        encode(level, planes, None, dst);
    }
    out
}

/// Action probabilities of `net` in each level's current state, with `hook` applied.
pub fn action_probs(
    net: &ActorCritic,
    levels: &[Level],
    planes: &[Plane],
    hook: Hook<'_>,
) -> Result<Vec<[f32; ACTIONS]>> {
    let x = net.input_tensor(&observe(levels, planes))?;
    probabilities(&net.forward_hooked(&x, hook)?.logits)
}

/// Play one episode per level, all in lockstep (every level stays in the batch until the last
/// episode ends, so sample `b` of every forward pass is level `b`, which per-level edits rely on).
/// Moves follow the grid's step rule ([`EnvConfig::step`]).
pub fn rollout(
    net: &ActorCritic,
    levels: &[Level],
    play: &Play,
    hook: Hook<'_>,
) -> Result<Vec<Trajectory>> {
    rollout_with(levels, play, &mut |state| {
        action_probs(net, state, &play.planes, hook)
    })
}

/// Episodes of the uniformly random policy (each move with probability 1/4), sampled from the
/// same per-level streams as [`rollout`]: the baseline any learned competence is measured against.
pub fn rollout_uniform(levels: &[Level], play: &Play) -> Vec<Trajectory> {
    rollout_with(levels, play, &mut |state| {
        Ok(vec![[1.0 / ACTIONS as f32; ACTIONS]; state.len()])
    })
    .expect("the uniform policy cannot fail")
}

/// Action probabilities for every level's current state (what drives [`rollout_with`]).
pub type ActionProbs<'a> = &'a mut dyn FnMut(&[Level]) -> Result<Vec<[f32; ACTIONS]>>;

/// The lockstep episode loop of [`rollout`], with the action probabilities of every level's
/// current state from `probs`.
pub fn rollout_with(
    levels: &[Level],
    play: &Play,
    probs: ActionProbs<'_>,
) -> Result<Vec<Trajectory>> {
    let mut state: Vec<Level> = levels.to_vec();
    let mut rngs: Vec<ChaCha8Rng> = (0..levels.len())
        .map(|i| ChaCha8Rng::seed_from_u64(VecEnv::episode_seed(play.seed, i, 0)))
        .collect();
    let mut out: Vec<Trajectory> = levels
        .iter()
        .map(|l| Trajectory {
            path: vec![l.agent()],
            success: false,
            steps: 0,
        })
        .collect();
    let mut live: Vec<bool> = vec![true; levels.len()];
    let config = EnvConfig::new(play.target, play.max_steps);
    for _ in 0..play.max_steps {
        if !live.iter().any(|&l| l) {
            break;
        }
        let probs = probs(&state)?;
        for i in 0..levels.len() {
            if !live[i] {
                continue;
            }
            let a = if play.greedy {
                (0..ACTIONS)
                    .max_by(|&x, &y| probs[i][x].total_cmp(&probs[i][y]).then(y.cmp(&x)))
                    .unwrap_or(0)
            } else {
                sample(&probs[i], &mut rngs[i])
            };
            let trajectory = &mut out[i];
            let t = config.step(&mut state[i], trajectory.steps, Action::MOVES[a]);
            trajectory.steps = t.info.steps;
            trajectory.path.push(state[i].agent());
            trajectory.success = t.terminated;
            live[i] = !(t.terminated || t.truncated);
        }
    }
    Ok(out)
}

/// A network acting through the [`Policy`] trait (one observation per decision). Compute is
/// counted in decisions; a network spends no node expansions.
pub struct NeuralPolicy<'a> {
    pub net: &'a ActorCritic,
    pub planes: Vec<Plane>,
    pub greedy: bool,
    rng: ChaCha8Rng,
    seed: u64,
    decisions: u64,
}

impl<'a> NeuralPolicy<'a> {
    pub fn new(net: &'a ActorCritic, planes: Vec<Plane>, greedy: bool, seed: u64) -> Self {
        NeuralPolicy {
            net,
            planes,
            greedy,
            rng: ChaCha8Rng::seed_from_u64(seed),
            seed,
            decisions: 0,
        }
    }
}

impl Policy for NeuralPolicy<'_> {
    fn act(&mut self, view: &View<'_>) -> Action {
        self.decisions += 1;
        let mut obs = vec![0.0; view.level.cells() * self.planes.len()];
        encode(view.level, &self.planes, Some(view.cue), &mut obs);
        let probs = self
            .net
            .input_tensor(&obs)
            .and_then(|x| self.net.forward(&x))
            .and_then(|o| probabilities(&o.logits))
            .expect("a forward pass on a well-formed observation cannot fail");
        let a = if self.greedy {
            (0..ACTIONS)
                .max_by(|&x, &y| probs[0][x].total_cmp(&probs[0][y]).then(y.cmp(&x)))
                .unwrap_or(0)
        } else {
            sample(&probs[0], &mut self.rng)
        };
        Action::MOVES[a]
    }

    fn compute(&self) -> Compute {
        Compute {
            decisions: self.decisions,
            ..Compute::default()
        }
    }

    fn reset(&mut self) {
        self.rng = ChaCha8Rng::seed_from_u64(self.seed);
    }
}
