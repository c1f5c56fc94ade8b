//! Proximal Policy Optimization (Schulman et al. 2017) with generalized advantage estimation
//! (Schulman et al. 2016), written to be read top to bottom like CleanRL's `ppo.py` (Huang et al.,
//! "The 37 implementation details of PPO"). One iteration:
//!
//! 1. **Rollout.** Every environment takes `num_steps` steps with actions sampled from the current
//!    policy; observations, actions, their log-probabilities, value estimates, rewards and
//!    episode ends are stored (`num_envs * num_steps` transitions: the batch).
//! 2. **Advantages.** GAE(gamma, lambda) backwards through the rollout, bootstrapping from the value
//!    of the observation after the last step; returns = advantages + values.
//! 3. **Update.** `update_epochs` passes over the batch in shuffled minibatches. Per minibatch:
//!    normalise the advantages (mean 0, std 1), then minimise
//!    `policy_loss - ent_coef * entropy + vf_coef * value_loss` with
//!    - policy loss: the clipped surrogate `mean(max(-A r, -A clip(r, 1 - eps, 1 + eps)))`, where
//!      `r = pi_new(a|s) / pi_old(a|s)`;
//!    - value loss: `0.5 * mean(max((V - R)^2, (V_old + clip(V - V_old, -eps, eps) - R)^2))`;
//!    - entropy: the mean entropy of the new policy (a bonus, hence the minus sign);
//!
//!    gradients are clipped to a global L2 norm of `max_grad_norm` and applied by Adam (eps 1e-5),
//!    with the learning rate annealed linearly to 0 over the run.
//!
//! **Truncation.** An episode that hits its step limit is not treated as terminated: the
//! environments keep the observation it was cut off in ([`Envs::write_final_obs`], as Gymnasium's
//! vector environments keep `info["final_obs"]`), and its last transition bootstraps from that
//! observation's value, `r + gamma * V(s_final)`, where a terminated one bootstraps from nothing.
//! The episode still ends there for GAE: no advantage flows across the reset.
//!
//! **Determinism.** Action sampling and minibatch shuffling use one ChaCha generator seeded by the
//! caller; the tensor work runs on one thread in a fixed order. The same seed gives the same
//! weights bit for bit.
//!
//! **Failure.** A non-finite loss stops training with [`TrainError::NonFinite`] before the bad
//! gradient is applied; the network is rolled back to the end of the last completed iteration and,
//! when a checkpoint path was given, that network is what the checkpoint file holds.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{CpuStorage, Device, InplaceOp2, Layout, Storage, Tensor, Var};
use cruxlab_grid::Action;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::checkpoint;
use crate::envs::{Envs, EnvsState};
use crate::kernel::Kernel;
use crate::net::{ACTIONS, ActorCritic, log_softmax, probabilities};
use crate::ops;

/// PPO's hyperparameters. Defaults follow CleanRL's `ppo.py` except where noted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PpoConfig {
    /// Environments stepped together in a rollout.
    pub num_envs: usize,
    /// Steps each environment takes per rollout; the batch is `num_envs * num_steps`.
    pub num_steps: usize,
    /// Environment steps over the whole run (rounded down to whole iterations).
    pub total_steps: u64,
    /// Adam's step size at the start (annealed linearly to 0 when `anneal_lr`).
    pub learning_rate: f64,
    pub anneal_lr: bool,
    /// Discount factor.
    pub gamma: f64,
    /// GAE's lambda: 0 is one-step TD, 1 is Monte Carlo.
    pub gae_lambda: f64,
    /// Minibatches per epoch.
    pub num_minibatches: usize,
    /// Passes over each batch.
    pub update_epochs: usize,
    /// Normalise advantages per minibatch.
    pub norm_adv: bool,
    /// The surrogate's clipping range epsilon (also used for the value clipping).
    pub clip_coef: f64,
    /// Clip the value loss around the rollout's value estimates.
    pub clip_vloss: bool,
    /// Weight of the entropy bonus.
    pub ent_coef: f64,
    /// Weight of the value loss.
    pub vf_coef: f64,
    /// Global L2 norm gradients are clipped to.
    pub max_grad_norm: f64,
    /// Adam's epsilon.
    pub adam_eps: f64,
}

impl Default for PpoConfig {
    fn default() -> PpoConfig {
        PpoConfig {
            num_envs: 32,
            num_steps: 64,
            total_steps: 200_000,
            // CleanRL uses 2.5e-4 for Atari; these small networks and short runs take a larger step.
            learning_rate: 1e-3,
            anneal_lr: true,
            gamma: 0.95,
            gae_lambda: 0.95,
            num_minibatches: 4,
            update_epochs: 3,
            norm_adv: true,
            clip_coef: 0.2,
            clip_vloss: true,
            ent_coef: 0.01,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            adam_eps: 1e-5,
        }
    }
}

impl PpoConfig {
    /// Transitions per iteration.
    pub fn batch_size(&self) -> usize {
        self.num_envs * self.num_steps
    }

    pub fn minibatch_size(&self) -> usize {
        self.batch_size() / self.num_minibatches.max(1)
    }

    /// Iterations in the run.
    pub fn iterations(&self) -> usize {
        (self.total_steps / self.batch_size().max(1) as u64) as usize
    }

    /// A problem with the values, as (field, message).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let positive = [
            ("num_envs", self.num_envs),
            ("num_steps", self.num_steps),
            ("num_minibatches", self.num_minibatches),
            ("update_epochs", self.update_epochs),
        ];
        for (k, v) in positive {
            if v == 0 {
                return Err((k, "must be at least 1".into()));
            }
        }
        if self.num_minibatches > self.batch_size() {
            return Err((
                "num_minibatches",
                "must not exceed num_envs * num_steps".into(),
            ));
        }
        if self.iterations() == 0 {
            return Err((
                "total_steps",
                format!(
                    "must be at least one batch (num_envs * num_steps = {})",
                    self.batch_size()
                ),
            ));
        }
        let unit = [("gamma", self.gamma), ("gae_lambda", self.gae_lambda)];
        for (k, v) in unit {
            if !(0.0..=1.0).contains(&v) {
                return Err((k, "must lie in [0, 1]".into()));
            }
        }
        let nonneg = [
            ("learning_rate", self.learning_rate),
            ("clip_coef", self.clip_coef),
            ("ent_coef", self.ent_coef),
            ("vf_coef", self.vf_coef),
            ("max_grad_norm", self.max_grad_norm),
            ("adam_eps", self.adam_eps),
        ];
        for (k, v) in nonneg {
            if !(v.is_finite() && v >= 0.0) {
                return Err((k, "must be a finite number >= 0".into()));
            }
        }
        Ok(())
    }
}

/// Why training stopped.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(
        "non-finite loss at iteration {iteration}, epoch {epoch}, minibatch {minibatch} (policy {policy}, value {value}, entropy {entropy}); \
         training stopped and the network was rolled back to the end of iteration {good_iteration}{}",
        checkpoint.as_ref().map(|p| format!(", saved in {}", p.display())).unwrap_or_default()
    )]
    NonFinite {
        iteration: usize,
        epoch: usize,
        minibatch: usize,
        policy: f32,
        value: f32,
        entropy: f32,
        good_iteration: usize,
        checkpoint: Option<PathBuf>,
    },
    #[error("tensor error: {0}")]
    Tensor(#[from] candle_core::Error),
    #[error("checkpoint {path}: {source}")]
    Checkpoint {
        path: PathBuf,
        source: checkpoint::CheckpointError,
    },
}

/// Generalized advantage estimation over a rollout stored step-major (`index = t * num_envs + i`).
///
/// `ended[t * n + i]` says environment `i`'s episode ended with step `t` (terminated or truncated);
/// nothing is bootstrapped across an ended step from the next episode. Instead `final_value[k]` is
/// the value of the state the episode ended in: 0 for a termination, the critic's value of the
/// final observation for a truncation (the episode was cut off, not finished). `next_value[i]` is
/// the value of the observation after the last step. With `V'_t` = `final_value_t` where `ended_t`
/// and `V_{t+1}` otherwise, `delta_t = r_t + gamma * V'_t - V_t`,
/// `A_t = delta_t + gamma * lambda * (1 - ended_t) * A_{t+1}`, and returns `R_t = A_t + V_t`.
pub fn gae(
    rewards: &[f32],
    values: &[f32],
    ended: &[bool],
    final_value: &[f32],
    next_value: &[f32],
    gamma: f32,
    lambda: f32,
) -> (Vec<f32>, Vec<f32>) {
    let n = next_value.len();
    let len = rewards.len();
    assert!(
        n > 0
            && len.is_multiple_of(n)
            && values.len() == len
            && ended.len() == len
            && final_value.len() == len
    );
    let steps = len / n;
    let mut advantages = vec![0.0f32; len];
    for i in 0..n {
        let mut last = 0.0f32;
        for t in (0..steps).rev() {
            let k = t * n + i;
            let (next, live) = if ended[k] {
                (final_value[k], 0.0)
            } else if t + 1 == steps {
                (next_value[i], 1.0)
            } else {
                (values[k + n], 1.0)
            };
            let delta = rewards[k] + gamma * next - values[k];
            last = delta + gamma * lambda * live * last;
            advantages[k] = last;
        }
    }
    let returns = advantages.iter().zip(values).map(|(a, v)| a + v).collect();
    (advantages, returns)
}

/// Normalise to mean 0 and (unbiased) standard deviation 1, as CleanRL does per minibatch.
pub fn normalize(x: &mut [f32]) {
    let n = x.len() as f64;
    if n < 2.0 {
        return;
    }
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let std = var.sqrt() + 1e-8;
    for v in x {
        *v = ((*v as f64 - mean) / std) as f32;
    }
}

/// What the PPO loss reads for one minibatch (all `[M]` tensors).
pub struct LossInputs<'a> {
    pub new_logp: &'a Tensor,
    pub entropy: &'a Tensor,
    pub new_value: &'a Tensor,
    pub old_logp: &'a Tensor,
    pub old_value: &'a Tensor,
    pub advantages: &'a Tensor,
    pub returns: &'a Tensor,
}

/// The loss to minimise and its parts.
pub struct Losses {
    pub total: Tensor,
    pub policy: f32,
    pub value: f32,
    pub entropy: f32,
    /// `mean((r - 1) - log r)`, the low-variance KL estimator CleanRL logs.
    pub approx_kl: f32,
    /// Fraction of samples whose ratio left `[1 - eps, 1 + eps]`.
    pub clipfrac: f32,
}

/// PPO's clipped objective (see the module docs). Advantages are used as given: normalise them
/// first if wanted.
pub fn ppo_loss(x: &LossInputs<'_>, cfg: &PpoConfig) -> candle_core::Result<Losses> {
    let eps = cfg.clip_coef;
    let log_ratio = (x.new_logp - x.old_logp)?;
    let ratio = log_ratio.exp()?;
    let pg1 = (x.advantages.neg()? * &ratio)?;
    let pg2 = (x.advantages.neg()? * ratio.clamp(1.0 - eps, 1.0 + eps)?)?;
    let policy = pg1.maximum(&pg2)?.mean_all()?;

    let unclipped = (x.new_value - x.returns)?.sqr()?;
    let value = if cfg.clip_vloss {
        let moved = (x.new_value - x.old_value)?.clamp(-eps, eps)?;
        let clipped = ((x.old_value + moved)? - x.returns)?.sqr()?;
        (unclipped.maximum(&clipped)?.mean_all()? * 0.5)?
    } else {
        (unclipped.mean_all()? * 0.5)?
    };
    let entropy = x.entropy.mean_all()?;
    let total = ((&policy - (&entropy * cfg.ent_coef)?)? + (&value * cfg.vf_coef)?)?;

    let r = ratio.detach().to_vec1::<f32>()?;
    let lr = log_ratio.detach().to_vec1::<f32>()?;
    let m = r.len().max(1) as f32;
    let approx_kl = r.iter().zip(&lr).map(|(r, l)| (r - 1.0) - l).sum::<f32>() / m;
    let clipfrac = r.iter().filter(|r| (**r - 1.0).abs() > eps as f32).count() as f32 / m;
    Ok(Losses {
        policy: policy.to_scalar()?,
        value: value.to_scalar()?,
        entropy: entropy.to_scalar()?,
        total,
        approx_kl,
        clipfrac,
    })
}

/// Adam (Kingma & Ba 2015) over the network's parameters, state kept as plain vectors.
#[derive(Clone, Debug)]
struct Adam {
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: i32,
    eps: f32,
}

impl Adam {
    const BETA1: f32 = 0.9;
    const BETA2: f32 = 0.999;

    fn new(net: &ActorCritic, eps: f64) -> Adam {
        let sizes: Vec<usize> = net.params().iter().map(|(_, v)| v.elem_count()).collect();
        Adam {
            m: sizes.iter().map(|&s| vec![0.0; s]).collect(),
            v: sizes.iter().map(|&s| vec![0.0; s]).collect(),
            t: 0,
            eps: eps as f32,
        }
    }

    /// One step over `params` with their gradients `grads` (same shapes), each gradient value
    /// multiplied by `scale` first when there is one (the global-norm clip, [`clip_scale`]).
    fn step(
        &mut self,
        params: &[&Var],
        grads: &[Tensor],
        scale: Option<f32>,
        lr: f32,
    ) -> candle_core::Result<()> {
        self.t += 1;
        let c1 = 1.0 - Self::BETA1.powi(self.t);
        let c2 = 1.0 - Self::BETA2.powi(self.t);
        for (k, (var, g)) in params.iter().zip(grads).enumerate() {
            // In place on the parameter's own storage: no copy out and back.
            var.as_tensor().inplace_op2(
                g,
                &AdamUpdate {
                    moments: RefCell::new((&mut self.m[k], &mut self.v[k])),
                    scale,
                    lr,
                    c1,
                    c2,
                    eps: self.eps,
                },
            )?;
        }
        Ok(())
    }
}

/// The values of a gradient held on the CPU, where its layout puts them (contiguous).
fn cpu_values<'a>(storage: &'a Storage, layout: &Layout) -> candle_core::Result<&'a [f32]> {
    let Storage::Cpu(cpu) = storage else {
        candle_core::bail!("gradient: expected a tensor on the CPU")
    };
    ops::contiguous(cpu, layout, "gradient")
}

/// One parameter tensor's Adam update from its gradient, applied in place by candle
/// ([`InplaceOp2`]: the parameter first, the gradient second).
struct AdamUpdate<'a> {
    moments: RefCell<(&'a mut [f32], &'a mut [f32])>,
    scale: Option<f32>,
    lr: f32,
    c1: f32,
    c2: f32,
    eps: f32,
}

impl InplaceOp2 for AdamUpdate<'_> {
    fn name(&self) -> &'static str {
        "cruxlab-adam"
    }

    fn cpu_fwd(
        &self,
        param: &mut CpuStorage,
        pl: &Layout,
        grad: &CpuStorage,
        gl: &Layout,
    ) -> candle_core::Result<()> {
        let (CpuStorage::F32(all), Some((start, end))) = (param, pl.contiguous_offsets()) else {
            candle_core::bail!("adam: the parameter must be contiguous f32 values")
        };
        let (p, g) = (&mut all[start..end], ops::contiguous(grad, gl, "adam")?);
        let mut moments = self.moments.borrow_mut();
        let (m, v) = &mut *moments;
        assert!(m.len() == p.len() && v.len() == p.len() && g.len() == p.len());
        let (lr, c1, c2, eps) = (self.lr, self.c1, self.c2, self.eps);
        // Zipped slices, so that the compiler sees no aliasing and no bounds checks and runs the
        // loop as many lanes at a time as the registers hold; each element's arithmetic (and so
        // every bit of the result) is what the plain scalar loop computes.
        Kernel::best().vectorized(|| {
            for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
                // The clip's multiply, as `clip_global_norm` does it in place.
                let g = match self.scale {
                    Some(s) => g * s,
                    None => g,
                };
                *m = flush_subnormal(Adam::BETA1 * *m + (1.0 - Adam::BETA1) * g);
                *v = flush_subnormal(Adam::BETA2 * *v + (1.0 - Adam::BETA2) * g * g);
                *p -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
            }
        });
        Ok(())
    }
}

/// `x`, or zero where `x` is subnormal. Adam's moment estimates of a weight whose gradient has
/// gone to zero decay geometrically through the subnormal range, where every multiply and divide
/// takes a slow microcode path: it halved training throughput (docs/benchmarks.md). A subnormal
/// moment moves no weight by as much as one unit in the last place, and the quick suite's trained
/// networks came out byte-identical with and without the flush.
#[inline]
fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
}

/// One point of the training curve: what one iteration saw and did. NaN fields are written to
/// JSON as `null` and read back as NaN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub iteration: usize,
    /// Environment steps taken so far.
    pub env_steps: u64,
    /// Episodes that ended during this iteration's rollout.
    pub episodes: usize,
    /// Fraction of those that reached the target (NaN if none ended).
    #[serde(deserialize_with = "nan_from_null")]
    pub success: f64,
    /// Their mean length (NaN if none ended).
    #[serde(deserialize_with = "nan_from_null")]
    pub length: f64,
    #[serde(deserialize_with = "nan_from_null")]
    pub policy_loss: f64,
    #[serde(deserialize_with = "nan_from_null")]
    pub value_loss: f64,
    #[serde(deserialize_with = "nan_from_null")]
    pub entropy: f64,
    #[serde(deserialize_with = "nan_from_null")]
    pub approx_kl: f64,
    #[serde(deserialize_with = "nan_from_null")]
    pub clipfrac: f64,
    /// `1 - Var(R - V) / Var(R)` over the batch.
    #[serde(deserialize_with = "nan_from_null")]
    pub explained_variance: f64,
    #[serde(deserialize_with = "nan_from_null")]
    pub learning_rate: f64,
}

fn nan_from_null<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

/// Wall-clock time spent, for throughput figures. Never part of an experiment's metrics (it is
/// not reproducible).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timing {
    pub rollout_secs: f64,
    pub update_secs: f64,
    /// Environment steps taken.
    pub env_steps: u64,
    /// Samples passed through forward and backward in the update phase.
    pub samples_updated: u64,
    /// Gradient steps (minibatches) applied.
    pub gradient_steps: u64,
}

/// A PPO run in progress: network, optimiser, environments, generator and curve.
pub struct Trainer {
    net: ActorCritic,
    cfg: PpoConfig,
    envs: Box<dyn Envs>,
    adam: Adam,
    rng: ChaCha8Rng,
    next_obs: Vec<f32>,
    iteration: usize,
    env_steps: u64,
    curve: Vec<CurvePoint>,
    timing: Timing,
}

/// Everything a [`Trainer`] needs to go on, between two iterations, exactly as it would have: the
/// weights, Adam's moments, the generator's position, the environments' places and the curve so
/// far (not the wall-clock [`Timing`]). Floats are kept as their bits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    net: Vec<u8>,
    adam_m: Vec<Vec<u32>>,
    adam_v: Vec<Vec<u32>>,
    adam_t: i32,
    rng_seed: [u8; 32],
    rng_stream: u64,
    /// The generator's word position, low and high 64 bits.
    rng_word_pos: [u64; 2],
    iteration: usize,
    env_steps: u64,
    curve: Vec<CurvePoint>,
    envs: EnvsState,
}

impl TrainerState {
    /// Iterations the saved run had completed.
    pub fn iteration(&self) -> usize {
        self.iteration
    }
}

fn bits(v: &[Vec<f32>]) -> Vec<Vec<u32>> {
    v.iter()
        .map(|x| x.iter().map(|f| f.to_bits()).collect())
        .collect()
}

fn floats(v: &[Vec<u32>]) -> Vec<Vec<f32>> {
    v.iter()
        .map(|x| x.iter().map(|&b| f32::from_bits(b)).collect())
        .collect()
}

impl Trainer {
    /// The run's state between iterations (see [`TrainerState`]), or `None` where the
    /// environments cannot give theirs.
    pub fn state(&self) -> Option<TrainerState> {
        let pos = self.rng.get_word_pos();
        Some(TrainerState {
            net: checkpoint::to_bytes(&self.net).ok()?,
            adam_m: bits(&self.adam.m),
            adam_v: bits(&self.adam.v),
            adam_t: self.adam.t,
            rng_seed: self.rng.get_seed(),
            rng_stream: self.rng.get_stream(),
            rng_word_pos: [pos as u64, (pos >> 64) as u64],
            iteration: self.iteration,
            env_steps: self.env_steps,
            curve: self.curve.clone(),
            envs: self.envs.state()?,
        })
    }

    /// Put a freshly built trainer (the same network shape, config and environments) into a
    /// saved state: from here it goes on exactly as the saved run would have (tested).
    pub fn restore(&mut self, state: &TrainerState) -> Result<(), String> {
        let net = checkpoint::from_bytes(&state.net).map_err(|e| e.to_string())?;
        if net.config() != self.net.config() || net.input() != self.net.input() {
            return Err("the saved network has another shape".into());
        }
        let sizes = |v: &[Vec<u32>]| v.iter().map(Vec::len).collect::<Vec<_>>();
        let ours: Vec<usize> = self.adam.m.iter().map(Vec::len).collect();
        if sizes(&state.adam_m) != ours || sizes(&state.adam_v) != ours {
            return Err("the saved optimiser state has other sizes".into());
        }
        // Restored into a copy, so that a state that does not fit leaves this trainer as it was.
        let mut envs = self.envs.boxed_clone();
        envs.restore(&state.envs)?;
        self.envs = envs;
        self.net = net;
        self.adam.m = floats(&state.adam_m);
        self.adam.v = floats(&state.adam_v);
        self.adam.t = state.adam_t;
        let mut rng = ChaCha8Rng::from_seed(state.rng_seed);
        rng.set_stream(state.rng_stream);
        rng.set_word_pos(
            u128::from(state.rng_word_pos[0]) | (u128::from(state.rng_word_pos[1]) << 64),
        );
        self.rng = rng;
        self.iteration = state.iteration;
        self.env_steps = state.env_steps;
        self.curve = state.curve.clone();
        self.envs.write_obs(&mut self.next_obs);
        Ok(())
    }

    /// A run of `cfg` training `net` on `envs`, with every random choice drawn from `seed`.
    ///
    /// # Panics
    /// If the network's input shape differs from the environments' or `cfg` fails
    /// [`PpoConfig::check`].
    pub fn new(net: ActorCritic, cfg: PpoConfig, envs: Box<dyn Envs>, seed: u64) -> Trainer {
        if let Err((k, m)) = cfg.check() {
            panic!("ppo config: {k} {m}");
        }
        assert_eq!(
            net.input(),
            envs.input(),
            "network and environments disagree on the observation shape"
        );
        let mut next_obs = vec![0.0; envs.num_envs() * envs.input().len()];
        envs.write_obs(&mut next_obs);
        Trainer {
            adam: Adam::new(&net, cfg.adam_eps),
            net,
            cfg,
            envs,
            rng: ChaCha8Rng::seed_from_u64(seed),
            next_obs,
            iteration: 0,
            env_steps: 0,
            curve: Vec::new(),
            timing: Timing::default(),
        }
    }

    pub fn net(&self) -> &ActorCritic {
        &self.net
    }
    pub fn into_net(self) -> ActorCritic {
        self.net
    }
    pub fn config(&self) -> &PpoConfig {
        &self.cfg
    }
    pub fn curve(&self) -> &[CurvePoint] {
        &self.curve
    }
    pub fn timing(&self) -> Timing {
        self.timing
    }
    /// Iterations completed.
    pub fn iteration(&self) -> usize {
        self.iteration
    }
    pub fn env_steps(&self) -> u64 {
        self.env_steps
    }
    /// Whether every iteration of the run is done.
    pub fn finished(&self) -> bool {
        self.iteration >= self.cfg.iterations()
    }

    /// An independent copy in the same state (weights, optimiser, environments, generator): going on
    /// from it gives exactly what going on from `self` would.
    pub fn snapshot(&self) -> candle_core::Result<Trainer> {
        Ok(Trainer {
            net: self.net.deep_clone()?,
            cfg: self.cfg.clone(),
            envs: self.envs.boxed_clone(),
            adam: self.adam.clone(),
            rng: self.rng.clone(),
            next_obs: self.next_obs.clone(),
            iteration: self.iteration,
            env_steps: self.env_steps,
            curve: self.curve.clone(),
            timing: self.timing,
        })
    }

    /// Train to the end of the run. With `checkpoint`, the network is saved there every
    /// `every` iterations (0: only at the end) and when training stops on a non-finite loss.
    pub fn train(&mut self, checkpoint: Option<&Path>, every: usize) -> Result<(), TrainError> {
        while !self.finished() {
            self.iterate_with_checkpoint(checkpoint)?;
            if let Some(path) = checkpoint
                && ((every > 0 && self.iteration.is_multiple_of(every)) || self.finished())
            {
                self.save(path)?;
            }
        }
        Ok(())
    }

    fn save(&self, path: &Path) -> Result<(), TrainError> {
        checkpoint::save(&self.net, path).map_err(|source| TrainError::Checkpoint {
            path: path.to_path_buf(),
            source,
        })
    }

    /// One iteration; on a non-finite loss, roll back and (with a path) save the good network.
    pub fn iterate_with_checkpoint(
        &mut self,
        checkpoint: Option<&Path>,
    ) -> Result<&CurvePoint, TrainError> {
        let good = self.net.deep_clone()?;
        match self.iterate() {
            Ok(()) => Ok(self.curve.last().expect("an iteration adds a point")),
            Err(TrainError::NonFinite {
                iteration,
                epoch,
                minibatch,
                policy,
                value,
                entropy,
                good_iteration,
                ..
            }) => {
                self.net = good;
                if let Some(path) = checkpoint {
                    self.save(path)?;
                }
                Err(TrainError::NonFinite {
                    iteration,
                    epoch,
                    minibatch,
                    policy,
                    value,
                    entropy,
                    good_iteration,
                    checkpoint: checkpoint.map(Path::to_path_buf),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// One PPO iteration: rollout, advantages, update. Prefer
    /// [`Trainer::iterate_with_checkpoint`], which also rolls back on failure.
    fn iterate(&mut self) -> Result<(), TrainError> {
        let cfg = self.cfg.clone();
        let (n, steps) = (cfg.num_envs, cfg.num_steps);
        let obs_len = self.envs.input().len();
        let batch = n * steps;
        let lr = if cfg.anneal_lr {
            let frac = 1.0 - self.iteration as f64 / cfg.iterations() as f64;
            frac * cfg.learning_rate
        } else {
            cfg.learning_rate
        };

        // 1. Rollout.
        let started = Instant::now();
        let mut obs = vec![0.0f32; batch * obs_len];
        let mut actions = vec![0usize; batch];
        let mut logps = vec![0.0f32; batch];
        let mut values = vec![0.0f32; batch];
        let mut rewards = vec![0.0f32; batch];
        let mut ended = vec![false; batch];
        let mut final_value = vec![0.0f32; batch];
        let mut truncated_obs: Vec<f32> = Vec::new();
        let mut truncated_at: Vec<usize> = Vec::new();
        let (mut episodes, mut successes, mut lengths) = (0usize, 0usize, 0u64);
        let mut moves = vec![Action::Up; n];
        for t in 0..steps {
            obs[t * n * obs_len..(t + 1) * n * obs_len].copy_from_slice(&self.next_obs);
            let out = self.net.forward(&self.net.input_tensor(&self.next_obs)?)?;
            let probs = probabilities(&out.logits)?;
            let v = out.value.to_vec1::<f32>()?;
            for i in 0..n {
                let a = sample(&probs[i], &mut self.rng);
                actions[t * n + i] = a;
                logps[t * n + i] = probs[i][a].max(f32::MIN_POSITIVE).ln();
                values[t * n + i] = v[i];
                moves[i] = Action::MOVES[a];
            }
            self.envs.step(&moves);
            for i in 0..n {
                let (term, trunc) = (self.envs.terminated()[i], self.envs.truncated()[i]);
                rewards[t * n + i] = self.envs.rewards()[i];
                ended[t * n + i] = term || trunc;
                if term || trunc {
                    episodes += 1;
                    successes += term as usize;
                    lengths += self.envs.episode_steps()[i] as u64;
                }
                if trunc && !term {
                    let start = truncated_obs.len();
                    truncated_obs.resize(start + obs_len, 0.0);
                    self.envs.write_final_obs(i, &mut truncated_obs[start..]);
                    truncated_at.push(t * n + i);
                }
            }
            self.envs.write_obs(&mut self.next_obs);
        }
        // A truncated episode is bootstrapped from the value of the state it was cut off in.
        if !truncated_at.is_empty() {
            let v = self
                .net
                .forward(&self.net.input_tensor(&truncated_obs)?)?
                .value
                .to_vec1::<f32>()?;
            for (&k, v) in truncated_at.iter().zip(v) {
                final_value[k] = v;
            }
        }
        let next_value = self
            .net
            .forward(&self.net.input_tensor(&self.next_obs)?)?
            .value
            .to_vec1::<f32>()?;
        self.timing.rollout_secs += started.elapsed().as_secs_f64();
        self.timing.env_steps += batch as u64;

        // 2. Advantages and returns.
        let (advantages, returns) = gae(
            &rewards,
            &values,
            &ended,
            &final_value,
            &next_value,
            cfg.gamma as f32,
            cfg.gae_lambda as f32,
        );

        // 3. Update: epochs of shuffled minibatches.
        let started = Instant::now();
        let params: Vec<(String, &Var)> = self.net.params();
        let vars: Vec<&Var> = params.iter().map(|(_, v)| *v).collect();
        let mb = cfg.minibatch_size();
        let mut order: Vec<usize> = (0..batch).collect();
        let mut sums = [0.0f64; 5];
        let mut count = 0usize;
        for epoch in 0..cfg.update_epochs {
            for i in (1..batch).rev() {
                let j = self.rng.random_range(0..=i);
                order.swap(i, j);
            }
            for (k, idx) in order.chunks(mb).enumerate() {
                if idx.len() < mb {
                    break; // a ragged tail (batch not divisible) is dropped, as in CleanRL
                }
                let m = idx.len();
                let mut x = Vec::with_capacity(m * obs_len);
                let mut onehot = vec![0.0f32; m * ACTIONS];
                let (mut old_logp, mut old_value, mut adv, mut ret) = (
                    Vec::with_capacity(m),
                    Vec::with_capacity(m),
                    Vec::with_capacity(m),
                    Vec::with_capacity(m),
                );
                for (r, &j) in idx.iter().enumerate() {
                    x.extend_from_slice(&obs[j * obs_len..(j + 1) * obs_len]);
                    onehot[r * ACTIONS + actions[j]] = 1.0;
                    old_logp.push(logps[j]);
                    old_value.push(values[j]);
                    adv.push(advantages[j]);
                    ret.push(returns[j]);
                }
                if cfg.norm_adv {
                    normalize(&mut adv);
                }
                let dev = &Device::Cpu;
                let out = self.net.forward(&self.net.input_tensor(&x)?)?;
                let logp_all = log_softmax(&out.logits)?;
                let onehot = Tensor::from_vec(onehot, (m, ACTIONS), dev)?;
                let new_logp = (&logp_all * &onehot)?.sum(1)?;
                let entropy = (logp_all.exp()? * &logp_all)?.sum(1)?.neg()?;
                let losses = ppo_loss(
                    &LossInputs {
                        new_logp: &new_logp,
                        entropy: &entropy,
                        new_value: &out.value,
                        old_logp: &Tensor::from_vec(old_logp, m, dev)?,
                        old_value: &Tensor::from_vec(old_value, m, dev)?,
                        advantages: &Tensor::from_vec(adv, m, dev)?,
                        returns: &Tensor::from_vec(ret, m, dev)?,
                    },
                    &cfg,
                )?;
                let total: f32 = losses.total.to_scalar()?;
                let mut store = losses.total.backward()?;
                let mut grads = Vec::with_capacity(vars.len());
                for v in &vars {
                    grads.push(match store.remove(v) {
                        Some(g) => g.contiguous()?,
                        None => v.zeros_like()?,
                    });
                }
                // Read where candle left them, not copied out.
                let norm = {
                    let held: Vec<_> = grads.iter().map(Tensor::storage_and_layout).collect();
                    let mut values = Vec::with_capacity(held.len());
                    for (storage, layout) in &held {
                        values.push(cpu_values(storage, layout)?);
                    }
                    global_norm(values)
                };
                // A finite loss can still have an infinite or NaN gradient; neither may reach Adam.
                if !total.is_finite() || !norm.is_finite() {
                    return Err(TrainError::NonFinite {
                        iteration: self.iteration + 1,
                        epoch: epoch + 1,
                        minibatch: k + 1,
                        policy: losses.policy,
                        value: losses.value,
                        entropy: losses.entropy,
                        good_iteration: self.iteration,
                        checkpoint: None,
                    });
                }
                let scale = clip_scale(norm, cfg.max_grad_norm as f32);
                self.adam.step(&vars, &grads, scale, lr as f32)?;
                self.timing.samples_updated += m as u64;
                self.timing.gradient_steps += 1;
                for (s, x) in sums.iter_mut().zip([
                    losses.policy,
                    losses.value,
                    losses.entropy,
                    losses.approx_kl,
                    losses.clipfrac,
                ]) {
                    *s += x as f64;
                }
                count += 1;
            }
        }
        self.timing.update_secs += started.elapsed().as_secs_f64();
        // Counted only now, so that an iteration that fails (and is rolled back) adds no steps.
        self.env_steps += batch as u64;
        self.iteration += 1;

        let c = count.max(1) as f64;
        self.curve.push(CurvePoint {
            iteration: self.iteration,
            env_steps: self.env_steps,
            episodes,
            success: if episodes > 0 {
                successes as f64 / episodes as f64
            } else {
                f64::NAN
            },
            length: if episodes > 0 {
                lengths as f64 / episodes as f64
            } else {
                f64::NAN
            },
            policy_loss: sums[0] / c,
            value_loss: sums[1] / c,
            entropy: sums[2] / c,
            approx_kl: sums[3] / c,
            clipfrac: sums[4] / c,
            explained_variance: explained_variance(&values, &returns),
            learning_rate: lr,
        });
        Ok(())
    }
}

/// Draw an action index from a probability row.
pub fn sample(probs: &[f32; ACTIONS], rng: &mut impl Rng) -> usize {
    let u: f32 = rng.random::<f32>();
    let mut acc = 0.0;
    for (a, &p) in probs.iter().enumerate() {
        acc += p;
        if u < acc {
            return a;
        }
    }
    // Rounding left the cumulative sum just under 1: take the last action with mass.
    probs.iter().rposition(|&p| p > 0.0).unwrap_or(ACTIONS - 1)
}

/// Scale all gradients together so their global L2 norm is at most `max_norm`; returns the norm
/// before clipping.
pub fn clip_global_norm(grads: &mut [Vec<f32>], max_norm: f32) -> f32 {
    let norm = global_norm(grads.iter().map(|g| &g[..]));
    if let Some(scale) = clip_scale(norm, max_norm) {
        for g in grads.iter_mut() {
            for x in g.iter_mut() {
                *x *= scale;
            }
        }
    }
    norm
}

/// The L2 norm of all the gradients together, squares summed in f64 in order.
pub fn global_norm<'a>(grads: impl IntoIterator<Item = &'a [f32]>) -> f32 {
    grads
        .into_iter()
        .flat_map(|g| g.iter())
        .map(|&x| (x as f64) * (x as f64))
        .sum::<f64>()
        .sqrt() as f32
}

/// The factor that brings gradients of global norm `norm` down to `max_norm`, or `None` when they
/// are within it.
pub fn clip_scale(norm: f32, max_norm: f32) -> Option<f32> {
    (norm > max_norm).then(|| max_norm / (norm + 1e-6))
}

fn explained_variance(values: &[f32], returns: &[f32]) -> f64 {
    let n = returns.len() as f64;
    let mean = |x: &mut dyn Iterator<Item = f64>| x.sum::<f64>() / n;
    let var = |xs: Vec<f64>| {
        let m = mean(&mut xs.iter().copied());
        xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n
    };
    let vr = var(returns.iter().map(|&r| r as f64).collect());
    if vr == 0.0 {
        return f64::NAN;
    }
    let resid = var(returns
        .iter()
        .zip(values)
        .map(|(&r, &v)| (r - v) as f64)
        .collect());
    1.0 - resid / vr
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One weight that sees a gradient once and zero after: its moments decay through the
    /// subnormal range, which the optimiser must never store, while the weight itself follows the
    /// textbook (unflushed) Adam update bit for bit.
    #[test]
    fn adam_never_stores_a_subnormal_moment_and_moves_the_weight_as_textbook_adam() {
        let var = Var::new(&[0.5f32], &Device::Cpu).unwrap();
        let mut adam = Adam {
            m: vec![vec![0.0]],
            v: vec![vec![0.0]],
            t: 0,
            eps: 1e-5,
        };
        let (lr, eps) = (2.5e-4f32, 1e-5f32);
        let (mut p, mut m, mut v) = (0.5f32, 0.0f32, 0.0f32);
        let mut saw_subnormal = false;
        for t in 1..=20_000 {
            let g = if t == 1 { 1e-3f32 } else { 0.0 };
            let grad = Tensor::new(&[g], &Device::Cpu).unwrap();
            adam.step(&[&var], &[grad], None, lr).unwrap();
            m = 0.9 * m + (1.0 - 0.9) * g;
            v = 0.999 * v + (1.0 - 0.999) * g * g;
            let (c1, c2) = (1.0 - 0.9f32.powi(t), 1.0 - 0.999f32.powi(t));
            p -= lr * (m / c1) / ((v / c2).sqrt() + eps);
            saw_subnormal |= m.is_subnormal() || v.is_subnormal();
            for x in [adam.m[0][0], adam.v[0][0]] {
                assert!(
                    !x.is_subnormal(),
                    "step {t}: stored moment {x:e} is subnormal"
                );
            }
            let got = var.as_tensor().to_vec1::<f32>().unwrap()[0];
            assert_eq!(
                got.to_bits(),
                p.to_bits(),
                "step {t}: weight {got} against {p}"
            );
        }
        assert!(
            saw_subnormal,
            "the unflushed moments never went subnormal: the test shows nothing"
        );
    }

    /// The trainer clips inside Adam's loop (`scale`) instead of scaling a copy of the gradients
    /// first (`clip_global_norm`): the same weights and moments to the bit.
    #[test]
    fn clipping_inside_adam_equals_clipping_the_gradients_first() {
        let grads = vec![vec![3.0f32, -0.7, 1e-3], vec![4.0f32, 2.5]];
        let start = [vec![0.5f32, -0.25, 1.0], vec![0.125f32, 2.0]];
        let vars = |start: &[Vec<f32>]| -> Vec<Var> {
            start
                .iter()
                .map(|v| Var::new(&v[..], &Device::Cpu).unwrap())
                .collect()
        };
        let fresh = || Adam {
            m: vec![vec![0.0; 3], vec![0.0; 2]],
            v: vec![vec![0.0; 3], vec![0.0; 2]],
            t: 0,
            eps: 1e-5,
        };
        let (a, b) = (vars(&start), vars(&start));
        let (mut adam_a, mut adam_b) = (fresh(), fresh());
        let tensors: Vec<Tensor> = grads
            .iter()
            .map(|g| Tensor::new(&g[..], &Device::Cpu).unwrap())
            .collect();
        for _ in 0..3 {
            let norm = global_norm(grads.iter().map(|g| &g[..]));
            let scale = clip_scale(norm, 0.5);
            assert!(
                scale.is_some(),
                "the gradients must be clipped for the test to say anything"
            );
            adam_a
                .step(&a.iter().collect::<Vec<_>>(), &tensors, scale, 2.5e-4)
                .unwrap();
            let mut clipped = grads.clone();
            assert_eq!(clip_global_norm(&mut clipped, 0.5), norm);
            let clipped: Vec<Tensor> = clipped
                .iter()
                .map(|g| Tensor::new(&g[..], &Device::Cpu).unwrap())
                .collect();
            adam_b
                .step(&b.iter().collect::<Vec<_>>(), &clipped, None, 2.5e-4)
                .unwrap();
        }
        let bits = |v: &Var| -> Vec<u32> {
            v.as_tensor()
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .map(|x| x.to_bits())
                .collect()
        };
        for ((x, y), s) in a.iter().zip(&b).zip(&start) {
            assert_eq!(bits(x), bits(y));
            let moved = x.as_tensor().to_vec1::<f32>().unwrap();
            assert!(moved.iter().zip(s).all(|(m, s)| m != s), "{moved:?}");
        }
        assert_eq!(adam_a.m, adam_b.m);
        assert_eq!(adam_a.v, adam_b.v);
    }
}
