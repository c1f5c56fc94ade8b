//! Learned agents for cruxlab: small actor-critic networks trained with PPO on the gridworld, and
//! the tools to look inside them.
//!
//! | module | what |
//! |--------|------|
//! | [`net`] | [`ActorCritic`]: CNN or MLP trunk, policy and value heads, explicit `forward` with hooks at every activation site |
//! | [`ops`] | the matrix product and convolutions the networks run on (candle custom ops over the direct kernels, and `gemm`) |
//! | [`envs`] | [`Envs`]: the grid's `VecEnv` ([`GridEnvs`]) or levels from any distribution ([`LevelEnvs`]), channels-last observations |
//! | [`ppo`] | [`Trainer`]: PPO with GAE, clipping, value loss, entropy bonus, advantage normalisation, minibatch epochs, global gradient clipping |
//! | [`checkpoint`] | safetensors checkpoints that carry their architecture |
//! | [`interp`] | activation capture, linear probes, steering vectors, activation patching |
//! | [`logistic`] | binary logistic regression on interpretable features (Newton's method) |
//! | [`rollout`] | batched evaluation episodes, action probabilities, a [`cruxlab_agents::Policy`] adapter |
//! | [`levels`] | [`CornerMazes`]: mazes whose diamond sits in a corner region during training |
//!
//! Tensors and autodiff are candle's (`candle-core`, CPU); docs/learned.md says why candle over
//! burn, with the measurements. Everything is seeded and runs single-threaded by default, so a seed
//! fixes a training run bit for bit.
//!
//! ```
//! use cruxlab_grid::{EnvConfig, LevelSpec, ObjectKind};
//! use cruxlab_learn::{ActorCritic, GridEnvs, NetConfig, Plane, PpoConfig, Trainer, Envs};
//!
//! let planes = vec![Plane::Wall, Plane::Agent, Plane::Diamond];
//! let envs = GridEnvs::new(8, "maze:5".parse().unwrap(), EnvConfig::new(ObjectKind::Diamond, 20), planes, 1);
//! let net = ActorCritic::new(&NetConfig::mlp(), envs.input(), 7).unwrap();
//! let cfg = PpoConfig { num_envs: 8, num_steps: 16, total_steps: 256, ..PpoConfig::default() };
//! let mut trainer = Trainer::new(net, cfg, Box::new(envs), 42);
//! trainer.train(None, 0).unwrap();
//! assert_eq!(trainer.curve().len(), 2);
//! ```

// Index loops over parallel arrays (time step x environment) read like the equations they code.
#![allow(clippy::needless_range_loop)]

/// `$body` with the constant `$k` bound to the run-time count `$n`, one of `$counts`: a const
/// generic chosen at run time.
macro_rules! with_count {
    ($n:expr, $k:ident in [$($count:literal),+] => $body:expr) => {
        match $n {
            $($count => {
                const $k: usize = $count;
                $body
            })+
            n => unreachable!("a block of {n}"),
        }
    };
}

pub mod checkpoint;
mod conv;
mod dense;
pub mod envs;
pub mod interp;
mod kernel;
pub mod levels;
pub mod logistic;
pub mod net;
pub mod ops;
pub mod ppo;
pub mod rollout;

pub use envs::{Envs, EnvsState, GridEnvs, LevelEnvs, LevelSampler, Plane, Shaping, SlotState};
pub use interp::{LinearProbe, ProbeFit, SteeringVector};
pub use levels::{CornerMazes, Region};
pub use logistic::Logistic;
pub use net::{ActorCritic, InputShape, NetConfig, NetKind, Output};
pub use ppo::{CurvePoint, PpoConfig, Timing, TrainError, Trainer, TrainerState};
pub use rollout::{NeuralPolicy, Play, Trajectory};
