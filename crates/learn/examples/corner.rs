//! Train with PPO on corner mazes and print the curve (a development aid). Settings from the
//! environment: SIZE, MIN_SIZE (smallest maze side; default SIZE), REGION, STEPS, NET (cnn | small |
//! mlp), LR, GAMMA, SHAPING (0 = off), CUE (0/1), and PPO's ENVS, NSTEPS, MB, EPOCHS, ENT.
//! `SIZE=7 REGION=1 cargo run --release -p cruxlab-learn --example corner`
use std::sync::Arc;

use cruxlab_grid::{EnvConfig, ObjectKind};
use cruxlab_learn::{
    ActorCritic, CornerMazes, Envs, LevelEnvs, NetConfig, NetKind, Plane, PpoConfig, Shaping,
    Trainer,
};

fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let size: usize = var("SIZE", 9);
    let region: usize = var("REGION", 3);
    let steps: u64 = var("STEPS", 100_000);
    let lr: f64 = var("LR", 1e-3);
    let shaping: f32 = var("SHAPING", 0.0);
    let net: String = var("NET", "cnn".to_string());
    let mut planes = vec![Plane::Wall, Plane::Agent, Plane::Diamond];
    if var("CUE", 0) == 1 {
        planes.push(Plane::Cue);
    }
    let dist = CornerMazes {
        min_size: var("MIN_SIZE", size),
        ..CornerMazes::fixed(size, region, 0.0)
    };
    let sampler = Arc::new(move |s| dist.training_level(s));
    let max_steps = (2 * size * size) as u32;
    let cfg = PpoConfig {
        total_steps: steps,
        learning_rate: lr,
        update_epochs: var("EPOCHS", 3),
        num_minibatches: var("MB", 4),
        gamma: var("GAMMA", 0.95),
        ent_coef: var("ENT", 0.01),
        num_envs: var("ENVS", 32),
        num_steps: var("NSTEPS", 64),
        ..PpoConfig::default()
    };
    let mut envs = LevelEnvs::new(
        cfg.num_envs,
        sampler,
        EnvConfig::new(ObjectKind::Diamond, max_steps),
        planes,
        1,
    );
    if shaping > 0.0 {
        envs = envs.with_shaping(Shaping {
            scale: shaping,
            gamma: cfg.gamma as f32,
        });
    }
    let net_cfg = match net.as_str() {
        "mlp" => NetConfig {
            kind: NetKind::Mlp,
            conv: vec![],
            hidden: vec![64, 64],
        },
        "small" => NetConfig {
            kind: NetKind::Cnn,
            conv: vec![8, 8],
            hidden: vec![32],
        },
        _ => NetConfig::cnn(),
    };
    let net = ActorCritic::new(&net_cfg, envs.input(), 7).unwrap();
    println!("params {}", net.num_params());
    let mut t = Trainer::new(net, cfg, Box::new(envs), 3);
    let start = std::time::Instant::now();
    while !t.finished() {
        let p = t.iterate_with_checkpoint(None).unwrap().clone();
        if p.iteration.is_multiple_of(5) {
            println!(
                "it {:4} steps {:7} succ {:.3} len {:5.1} ent {:.3} vl {:.4} kl {:.4} ev {:.2}  {:.1}s",
                p.iteration,
                p.env_steps,
                p.success,
                p.length,
                p.entropy,
                p.value_loss,
                p.approx_kl,
                p.explained_variance,
                start.elapsed().as_secs_f64()
            );
        }
    }
    let tm = t.timing();
    println!(
        "rollout {:.1}s update {:.1}s; env steps/s {:.0}; gradient steps/s {:.1}",
        tm.rollout_secs,
        tm.update_secs,
        tm.env_steps as f64 / (tm.rollout_secs + tm.update_secs),
        tm.gradient_steps as f64 / tm.update_secs
    );
}
