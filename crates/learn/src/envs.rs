//! Batched environments for training: the grid's [`VecEnv`] and [`LevelEnvs`], which draws each
//! episode's level from a caller's distribution (a corner-biased maze, say), behind one trait.
//!
//! Observations are channels-last (`[N, H, W, C]`) with the planes a network was built for
//! ([`Plane`]). Both kinds follow Gymnasium's same-step auto-reset: after [`Envs::step`], an
//! environment whose episode ended reports that step's reward and flags, and its observation is
//! already the first of its next episode.

use std::sync::Arc;

use cruxlab_grid::obs::{self, CHANNELS, Layout};
use cruxlab_grid::{Action, DistanceField, EnvConfig, Level, LevelSpec, ObsKind, Pos, VecEnv};
use serde::{Deserialize, Serialize};

use crate::net::InputShape;

/// One observation plane a network can see (the grid's plane encoding, by name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plane {
    Wall,
    Agent,
    Diamond,
    Cheese,
    Key,
    /// The diamond cue, `0.9^d` with d the corridor distance to the nearest diamond.
    Cue,
}

impl Plane {
    /// The grid's plane index (`cruxlab_grid::obs::CH_*`).
    pub fn grid_channel(self) -> usize {
        match self {
            Plane::Wall => obs::CH_WALL,
            Plane::Agent => obs::CH_AGENT,
            Plane::Diamond => obs::CH_DIAMOND,
            Plane::Cheese => obs::CH_CHEESE,
            Plane::Key => obs::CH_KEY,
            Plane::Cue => obs::CH_CUE,
        }
    }
}

/// Write `level`'s observation with `planes` into `out` (`H * W * planes.len()`, channels-last):
/// the grid's plane encoder ([`obs::write_plane_selection`]) with these planes. `cue` is the level's
/// diamond cue field; it is read only if [`Plane::Cue`] is among the planes (and grown when `None`).
pub fn encode(level: &Level, planes: &[Plane], cue: Option<&DistanceField>, out: &mut [f32]) {
    let channels: Vec<usize> = planes.iter().map(|p| p.grid_channel()).collect();
    obs::write_plane_selection(level, &channels, cue, Layout::ChannelsLast, out);
}

/// A batch of environments a trainer can step. See the module docs.
pub trait Envs: Send {
    fn num_envs(&self) -> usize;
    /// The observation shape (planes included).
    fn input(&self) -> InputShape;
    /// Write every environment's current observation, `[N, H, W, C]`.
    fn write_obs(&self, out: &mut [f32]);
    /// Step environment `i` with `actions[i]`, auto-resetting the ones whose episodes end.
    fn step(&mut self, actions: &[Action]);
    /// Rewards of the last step.
    fn rewards(&self) -> &[f32];
    /// Which episodes reached their target on the last step.
    fn terminated(&self) -> &[bool];
    /// Which episodes hit the step limit on the last step.
    fn truncated(&self) -> &[bool];
    /// Steps of each episode as of the last step (for an ended one, its length).
    fn episode_steps(&self) -> &[u32];
    /// Write the observation environment `i`'s episode ended at on the last step, the state it was
    /// left in before the auto-reset (`[H, W, C]`). PPO bootstraps a truncated episode from its
    /// value, as Gymnasium's vector environments keep it in `info["final_obs"]`.
    ///
    /// # Panics
    /// If environment `i`'s episode did not end on the last step.
    fn write_final_obs(&self, i: usize, out: &mut [f32]);
    /// An independent copy in the same state (for training snapshots).
    fn boxed_clone(&self) -> Box<dyn Envs>;
    /// What a fresh copy needs to be put back into this state between steps (for a training run
    /// that resumes after an interruption), or `None` where the environments cannot say.
    fn state(&self) -> Option<EnvsState> {
        None
    }
    /// Put freshly built environments of the same kind and seeds into `state` (taken between
    /// steps by [`Envs::state`]); an error where they cannot be.
    fn restore(&mut self, _state: &EnvsState) -> Result<(), String> {
        Err("these environments cannot be restored from a saved state".into())
    }
}

/// Each environment's place between steps: which episode it plays (its level follows from the
/// seeds), where the agent stands, and the steps taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvsState {
    pub slots: Vec<SlotState>,
}

/// One environment's part of an [`EnvsState`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotState {
    pub episode: u64,
    pub agent: Pos,
    pub steps: u32,
}

/// The grid's [`VecEnv`] (levels from a [`LevelSpec`]) seen through a chosen set of planes.
#[derive(Clone, Debug)]
pub struct GridEnvs {
    inner: VecEnv,
    planes: Vec<Plane>,
    /// Each environment's agent, steps and action as the last step began (the engine resets an
    /// ended episode within the step, so its final state is rebuilt from these).
    before: Vec<(Pos, u32, Action)>,
}

impl GridEnvs {
    pub fn new(
        n: usize,
        spec: LevelSpec,
        config: EnvConfig,
        planes: Vec<Plane>,
        base_seed: u64,
    ) -> GridEnvs {
        GridEnvs {
            inner: VecEnv::new(n, spec, config, ObsKind::Planes, base_seed),
            planes,
            before: Vec::new(),
        }
    }

    pub fn vec_env(&self) -> &VecEnv {
        &self.inner
    }
}

impl Envs for GridEnvs {
    fn num_envs(&self) -> usize {
        self.inner.num_envs()
    }
    fn input(&self) -> InputShape {
        let (height, width) = self.inner.shape();
        InputShape {
            height,
            width,
            channels: self.planes.len(),
        }
    }
    fn write_obs(&self, out: &mut [f32]) {
        let (h, w) = self.inner.shape();
        let (hw, c) = (h * w, self.planes.len());
        let planes = self.inner.obs_planes();
        for (env, dst) in planes
            .chunks_exact(CHANNELS * hw)
            .zip(out.chunks_exact_mut(hw * c))
        {
            for (k, p) in self.planes.iter().enumerate() {
                let src = &env[p.grid_channel() * hw..][..hw];
                for (cell, &v) in src.iter().enumerate() {
                    dst[cell * c + k] = v;
                }
            }
        }
    }
    fn step(&mut self, actions: &[Action]) {
        let inner = &self.inner;
        self.before.clear();
        self.before.extend((0..inner.num_envs()).map(|i| {
            let steps = inner.episode_steps()[i];
            let steps = if inner.terminated()[i] || inner.truncated()[i] {
                0
            } else {
                steps
            };
            (inner.agent(i), steps, actions[i])
        }));
        self.inner.step(actions);
    }
    fn rewards(&self) -> &[f32] {
        self.inner.rewards()
    }
    fn terminated(&self) -> &[bool] {
        self.inner.terminated()
    }
    fn truncated(&self) -> &[bool] {
        self.inner.truncated()
    }
    fn episode_steps(&self) -> &[u32] {
        self.inner.episode_steps()
    }
    fn write_final_obs(&self, i: usize, out: &mut [f32]) {
        assert!(
            self.inner.terminated()[i] || self.inner.truncated()[i],
            "environment {i}'s episode did not end on the last step"
        );
        let (from, steps, action) = self.before[i];
        let level = self.inner.ended_level(i, from, steps, action);
        encode(&level, &self.planes, None, out);
    }
    fn boxed_clone(&self) -> Box<dyn Envs> {
        Box::new(self.clone())
    }
}

/// A distribution of levels: the level for an episode seed.
pub type LevelSampler = Arc<dyn Fn(u64) -> Level + Send + Sync>;

#[derive(Clone, Debug)]
struct Slot {
    level: Level,
    cue: Option<DistanceField>,
    /// Distance to the nearest target object, when shaping.
    to_target: Option<DistanceField>,
    steps: u32,
    episode: u64,
}

/// Potential-based reward shaping (Ng, Harada & Russell 1999): each step adds
/// `gamma * phi(s') - phi(s)` with `phi(s) = -scale * d(s)`, `d` the corridor distance from the
/// agent to the nearest target object (0 at a terminal state; a truncated episode keeps its last state's). Shaping of this form leaves the
/// optimal policies unchanged; it only makes the reward dense.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shaping {
    pub scale: f32,
    pub gamma: f32,
}

/// `N` environments whose levels come from a [`LevelSampler`], with the step rule of
/// [`cruxlab_grid::Env`] ([`EnvConfig::step`]): a move into a wall leaves the agent in place, entering an object of the
/// target kind gives reward 1 and terminates, other objects are passable, and an episode is
/// truncated at `max_steps`. Environment `i`'s `k`-th episode plays
/// `sampler(VecEnv::episode_seed(base_seed, i, k))`.
#[derive(Clone)]
pub struct LevelEnvs {
    sampler: LevelSampler,
    config: EnvConfig,
    planes: Vec<Plane>,
    base_seed: u64,
    shape: (usize, usize),
    shaping: Option<Shaping>,
    slots: Vec<Slot>,
    /// The slot of each environment whose episode ended on the last step, as it ended.
    ended: Vec<Option<Slot>>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    lengths: Vec<u32>,
}

impl LevelEnvs {
    /// # Panics
    /// If `n` or `config.max_steps` is 0, or the sampler's levels change shape.
    pub fn new(
        n: usize,
        sampler: LevelSampler,
        config: EnvConfig,
        planes: Vec<Plane>,
        base_seed: u64,
    ) -> LevelEnvs {
        assert!(n > 0 && config.max_steps > 0);
        let first = sampler(VecEnv::episode_seed(base_seed, 0, 0));
        let mut envs = LevelEnvs {
            shape: (first.height(), first.width()),
            sampler,
            config,
            planes,
            base_seed,
            shaping: None,
            slots: Vec::with_capacity(n),
            ended: vec![None; n],
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            lengths: vec![0; n],
        };
        for i in 0..n {
            let slot = envs.load(i, 0);
            envs.slots.push(slot);
        }
        envs
    }

    /// Add potential-based shaping to the rewards (see [`Shaping`]); success is unaffected.
    pub fn with_shaping(mut self, shaping: Shaping) -> LevelEnvs {
        self.shaping = Some(shaping);
        let slots: Vec<Slot> = (0..self.slots.len())
            .map(|i| self.load(i, self.slots[i].episode))
            .collect();
        self.slots = slots;
        self
    }

    fn load(&self, env: usize, episode: u64) -> Slot {
        let level = (self.sampler)(VecEnv::episode_seed(self.base_seed, env, episode));
        assert_eq!(
            (level.height(), level.width()),
            self.shape,
            "a level sampler must keep one shape"
        );
        let cue = self
            .planes
            .contains(&Plane::Cue)
            .then(|| obs::cue_field(&level));
        let to_target = self
            .shaping
            .map(|_| DistanceField::from_sources(&level, level.positions_of(self.config.target)));
        Slot {
            level,
            cue,
            to_target,
            steps: 0,
            episode,
        }
    }

    /// Environment `i`'s current level (agent where it stands).
    pub fn level(&self, i: usize) -> &Level {
        &self.slots[i].level
    }
}

impl Envs for LevelEnvs {
    fn num_envs(&self) -> usize {
        self.slots.len()
    }
    fn input(&self) -> InputShape {
        InputShape {
            height: self.shape.0,
            width: self.shape.1,
            channels: self.planes.len(),
        }
    }
    fn write_obs(&self, out: &mut [f32]) {
        let per = self.shape.0 * self.shape.1 * self.planes.len();
        for (slot, dst) in self.slots.iter().zip(out.chunks_exact_mut(per)) {
            encode(&slot.level, &self.planes, slot.cue.as_ref(), dst);
        }
    }
    fn step(&mut self, actions: &[Action]) {
        assert_eq!(
            actions.len(),
            self.slots.len(),
            "one action per environment"
        );
        for i in 0..self.slots.len() {
            let slot = &mut self.slots[i];
            let before = slot.level.agent();
            let t = self.config.step(&mut slot.level, slot.steps, actions[i]);
            let (terminated, truncated) = (t.terminated, t.truncated);
            slot.steps = t.info.steps;
            self.rewards[i] = t.reward;
            if let (Some(sh), Some(field)) = (self.shaping, &slot.to_target) {
                let d = |p| field.get(p).unwrap_or(0) as f32;
                // The potential of a terminal state is 0; a truncated episode keeps its state's
                // (PPO bootstraps from that state's value).
                let after = if terminated {
                    0.0
                } else {
                    d(slot.level.agent())
                };
                self.rewards[i] += sh.scale * (d(before) - sh.gamma * after);
            }
            self.terminated[i] = terminated;
            self.truncated[i] = truncated;
            self.lengths[i] = slot.steps;
            self.ended[i] = if terminated || truncated {
                let next = slot.episode + 1;
                let fresh = self.load(i, next);
                Some(std::mem::replace(&mut self.slots[i], fresh))
            } else {
                None
            };
        }
    }
    fn rewards(&self) -> &[f32] {
        &self.rewards
    }
    fn terminated(&self) -> &[bool] {
        &self.terminated
    }
    fn truncated(&self) -> &[bool] {
        &self.truncated
    }
    fn episode_steps(&self) -> &[u32] {
        &self.lengths
    }
    fn write_final_obs(&self, i: usize, out: &mut [f32]) {
        let slot = self.ended[i]
            .as_ref()
            .unwrap_or_else(|| panic!("environment {i}'s episode did not end on the last step"));
        encode(&slot.level, &self.planes, slot.cue.as_ref(), out);
    }
    fn boxed_clone(&self) -> Box<dyn Envs> {
        Box::new(self.clone())
    }
    /// A level is drawn afresh from its episode's seed and only the agent moves in it (the step
    /// rule changes nothing else), so the episode, the agent's cell and the steps are the state.
    fn state(&self) -> Option<EnvsState> {
        Some(EnvsState {
            slots: self
                .slots
                .iter()
                .map(|s| SlotState {
                    episode: s.episode,
                    agent: s.level.agent(),
                    steps: s.steps,
                })
                .collect(),
        })
    }
    fn restore(&mut self, state: &EnvsState) -> Result<(), String> {
        if state.slots.len() != self.slots.len() {
            return Err(format!(
                "a state of {} environments for {}",
                state.slots.len(),
                self.slots.len()
            ));
        }
        for (i, s) in state.slots.iter().enumerate() {
            let mut slot = self.load(i, s.episode);
            if slot.level.is_wall(s.agent) {
                return Err(format!(
                    "environment {i}: the agent's cell {:?} is a wall",
                    s.agent
                ));
            }
            slot.level.set_agent(s.agent);
            slot.steps = s.steps;
            self.slots[i] = slot;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cruxlab_grid::ObjectKind;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The two kinds of `Envs` on the same levels agree step by step: the grid's batched fast path
    /// and its channel-major planes (transposed) against the step rule on plain levels and the
    /// channels-last encoder.
    #[test]
    fn grid_envs_and_level_envs_agree() {
        let spec: LevelSpec = "maze:7".parse().unwrap();
        let config = EnvConfig::new(ObjectKind::Diamond, 25);
        let planes = vec![
            Plane::Cue,
            Plane::Wall,
            Plane::Agent,
            Plane::Diamond,
            Plane::Key,
        ];
        let n = 9;
        let mut grid = GridEnvs::new(n, spec, config, planes.clone(), 3);
        let sampler: LevelSampler = Arc::new(move |seed| spec.generate(seed));
        let mut levels = LevelEnvs::new(n, sampler, config, planes, 3);
        let len = n * grid.input().height * grid.input().width * grid.input().channels;
        let (mut a, mut b) = (vec![0.0; len], vec![1.0; len]);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut ended = 0;
        for _ in 0..200 {
            grid.write_obs(&mut a);
            levels.write_obs(&mut b);
            assert_eq!(a, b);
            let actions: Vec<Action> = (0..n)
                .map(|_| Action::MOVES[rng.random_range(0..4)])
                .collect();
            grid.step(&actions);
            levels.step(&actions);
            assert_eq!(grid.rewards(), levels.rewards());
            assert_eq!(grid.terminated(), levels.terminated());
            assert_eq!(grid.truncated(), levels.truncated());
            assert_eq!(grid.episode_steps(), levels.episode_steps());
            ended += grid
                .terminated()
                .iter()
                .chain(grid.truncated())
                .filter(|&&e| e)
                .count();
        }
        assert!(
            ended > n,
            "the test should cross many episode ends (saw {ended})"
        );
    }
}
