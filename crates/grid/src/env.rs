//! A single environment with Gymnasium semantics.
//!
//! An [`Env`] holds one level at a time. [`Env::reset`] starts an episode (a fixed level as given, or
//! a procedurally generated one from a seed) and returns the first observation; [`Env::step`] applies
//! one of the four moves and returns `(observation, reward, terminated, truncated, info)`:
//!
//! - Moving into a wall leaves the agent in place (`info.moved == false`); the step still counts.
//! - Entering a cell that holds an object of the configured target kind gives reward 1.0 and ends
//!   the episode (`terminated`). Every other step gives 0.0. Objects of other kinds are passable and
//!   do nothing (`info.reached` still names them, so experiments can see *which* object the agent
//!   went to: the goal-misgeneralisation signal).
//! - When the step count reaches `max_steps` without termination the episode is `truncated` (a time
//!   limit, not a terminal state: a value function should bootstrap through it).
//! - Stepping an ended episode panics (or returns [`EnvError::EpisodeOver`] from [`Env::try_step`]);
//!   call [`Env::reset`] first, as Gymnasium's order-enforcing wrapper requires.
//!
//! The first three points are [`EnvConfig::step`], the one step rule: [`Env`], the batched
//! [`crate::VecEnv`] (whose in-place fast path is property-tested against it) and the learned
//! agents' environments and rollouts all follow it.
//!
//! The cue field (distance to the nearest diamond) is grown lazily, at most once per episode, the
//! first time [`Env::cue`] or a plane observation needs it.

use std::sync::OnceLock;

use crate::obs::{self, ObsKind, Observation};
use crate::{Action, DistanceField, Level, LevelSpec, ObjectKind, Pos};

/// What counts as success and how long an episode may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct EnvConfig {
    /// Entering an object of this kind gives reward 1.0 and terminates the episode.
    pub target: ObjectKind,
    /// Episodes are truncated after this many steps (at least 1).
    pub max_steps: u32,
}

impl EnvConfig {
    pub fn new(target: ObjectKind, max_steps: u32) -> EnvConfig {
        EnvConfig { target, max_steps }
    }

    /// The step rule (see the module docs), the one every stepper in cruxlab follows: move `level`'s
    /// agent by `action` unless a wall or the edge is in the way, and score the step. `steps` is the
    /// number of steps the episode had taken before this one.
    ///
    /// ```
    /// use cruxlab_grid::{Action, EnvConfig, Level, ObjectKind, Pos};
    ///
    /// let mut level = Level::parse("#####\n#AD.#\n#####\n").unwrap();
    /// let config = EnvConfig::new(ObjectKind::Diamond, 10);
    /// let bump = config.step(&mut level, 0, Action::Up);
    /// assert!(!bump.info.moved && !bump.terminated && bump.info.steps == 1);
    /// let t = config.step(&mut level, 1, Action::Right);
    /// assert_eq!(level.agent(), Pos::new(1, 2));
    /// assert!(t.terminated && t.reward == 1.0 && t.info.reached == Some(ObjectKind::Diamond));
    /// ```
    pub fn step(&self, level: &mut Level, steps: u32, action: Action) -> Transition {
        let next = action.apply(level.agent()).filter(|&p| !level.is_wall(p));
        let reached = next.and_then(|p| {
            level.set_agent(p);
            level.object_at(p).map(|o| o.kind)
        });
        self.score(Info {
            steps: steps + 1,
            reached,
            moved: next.is_some(),
        })
    }

    /// The scoring half of [`EnvConfig::step`], for steppers that move the agent their own way (the
    /// batched [`crate::VecEnv`]): entering the target kind gives reward 1.0 and terminates; otherwise
    /// the episode is truncated once `info.steps` reaches `max_steps`.
    #[inline]
    pub fn score(&self, info: Info) -> Transition {
        let terminated = info.reached == Some(self.target);
        let truncated = !terminated && info.steps >= self.max_steps;
        Transition {
            reward: if terminated { 1.0 } else { 0.0 },
            terminated,
            truncated,
            info,
        }
    }
}

/// Where an environment's levels come from.
#[derive(Clone, Debug, PartialEq)]
pub enum LevelSource {
    /// The same level every episode (the seed is ignored).
    Fixed(Level),
    /// A fresh level per episode: `spec.generate(seed)`.
    Generated(LevelSpec),
}

/// Side information about one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    /// Steps taken in this episode, this one included.
    pub steps: u32,
    /// The kind of object on the cell the agent entered this step (`None` if it did not move or the
    /// cell holds no object). Any kind is reported, not only the target.
    pub reached: Option<ObjectKind>,
    /// Whether the agent changed cell (false when it walked into a wall).
    pub moved: bool,
}

/// The outcome of one step without an observation (see [`Env::advance`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    pub reward: f32,
    pub terminated: bool,
    pub truncated: bool,
    pub info: Info,
}

/// The outcome of one step: Gymnasium's `(observation, reward, terminated, truncated, info)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub observation: Observation,
    pub reward: f32,
    pub terminated: bool,
    pub truncated: bool,
    pub info: Info,
}

/// An environment was used out of order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("the episode has ended (terminated or truncated); call reset before stepping again")]
    EpisodeOver,
}

/// One gridworld environment. See the module docs for the semantics.
///
/// ```
/// use cruxlab_grid::{Action, Env, EnvConfig, Level, LevelSource, ObjectKind};
///
/// let level = Level::parse("#####\n#A.D#\n#####\n").unwrap();
/// let mut env = Env::new(LevelSource::Fixed(level), EnvConfig::new(ObjectKind::Diamond, 10));
/// env.reset(0);
/// assert_eq!(env.step(Action::Up).info.moved, false); // a wall
/// assert_eq!(env.step(Action::Right).reward, 0.0);
/// let last = env.step(Action::Right);
/// assert!(last.terminated && last.reward == 1.0);
/// ```
#[derive(Debug)]
pub struct Env {
    source: LevelSource,
    config: EnvConfig,
    obs: ObsKind,
    level: Level,
    seed: u64,
    steps: u32,
    done: bool,
    cue: OnceLock<DistanceField>,
}

impl Env {
    /// An environment producing compact observations. The first episode (seed 0) is already loaded,
    /// so the environment can be stepped at once; call [`Env::reset`] to choose the seed.
    ///
    /// # Panics
    /// If `config.max_steps` is 0 or a generated source has an invalid spec.
    pub fn new(source: LevelSource, config: EnvConfig) -> Env {
        Env::with_obs(source, config, ObsKind::Compact)
    }

    /// Like [`Env::new`], choosing the observation encoding.
    pub fn with_obs(source: LevelSource, config: EnvConfig, obs: ObsKind) -> Env {
        assert!(config.max_steps >= 1, "max_steps must be at least 1");
        if let LevelSource::Generated(spec) = &source
            && let Err(e) = spec.validate()
        {
            panic!("invalid level spec {spec:?}: {e}");
        }
        let level = match &source {
            LevelSource::Fixed(level) => level.clone(),
            LevelSource::Generated(spec) => spec.generate(0),
        };
        Env {
            source,
            config,
            obs,
            level,
            seed: 0,
            steps: 0,
            done: false,
            cue: OnceLock::new(),
        }
    }

    /// Start a new episode and return its first observation. A generated source builds the level
    /// `spec.generate(seed)`; a fixed source restores its level (the seed only gets recorded).
    pub fn reset(&mut self, seed: u64) -> Observation {
        match &self.source {
            LevelSource::Fixed(level) => self.level.clone_from(level),
            LevelSource::Generated(spec) => self.level = spec.generate(seed),
        }
        self.seed = seed;
        self.steps = 0;
        self.done = false;
        self.cue = OnceLock::new();
        self.observe()
    }

    /// Apply one move and return the full Gymnasium step.
    ///
    /// # Panics
    /// If the episode has already ended; see [`Env::try_step`] for the non-panicking form.
    pub fn step(&mut self, action: Action) -> Step {
        match self.try_step(action) {
            Ok(step) => step,
            Err(e) => panic!("Env::step: {e}"),
        }
    }

    /// [`Env::step`], returning [`EnvError::EpisodeOver`] instead of panicking.
    pub fn try_step(&mut self, action: Action) -> Result<Step, EnvError> {
        let t = self.try_advance(action)?;
        Ok(Step {
            observation: self.observe(),
            reward: t.reward,
            terminated: t.terminated,
            truncated: t.truncated,
            info: t.info,
        })
    }

    /// Apply one move without building an observation (for planners and rollouts that read the
    /// state through [`Env::level`] or [`Env::agent`]).
    ///
    /// # Panics
    /// If the episode has already ended.
    pub fn advance(&mut self, action: Action) -> Transition {
        match self.try_advance(action) {
            Ok(t) => t,
            Err(e) => panic!("Env::advance: {e}"),
        }
    }

    fn try_advance(&mut self, action: Action) -> Result<Transition, EnvError> {
        if self.done {
            return Err(EnvError::EpisodeOver);
        }
        let t = self.config.step(&mut self.level, self.steps, action);
        self.steps = t.info.steps;
        self.done = t.terminated || t.truncated;
        Ok(t)
    }

    /// The observation of the current state.
    pub fn observe(&self) -> Observation {
        Observation::encode(self.obs, &self.level, || self.cue())
    }

    /// The current level, with the agent where it stands now.
    pub fn level(&self) -> &Level {
        &self.level
    }

    pub fn agent(&self) -> Pos {
        self.level.agent()
    }

    /// Steps taken in the current episode.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// Whether the current episode has ended (terminated or truncated).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The seed the current episode was reset with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn config(&self) -> &EnvConfig {
        &self.config
    }

    pub fn obs_kind(&self) -> ObsKind {
        self.obs
    }

    pub fn source(&self) -> &LevelSource {
        &self.source
    }

    /// The cue field: breadth-first distance from every floor cell to the nearest
    /// [`ObjectKind::CUE_SOURCE`] object. Grown on first use after each reset, then cached (objects
    /// never move within an episode).
    pub fn cue(&self) -> &DistanceField {
        self.cue.get_or_init(|| obs::cue_field(&self.level))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corridor() -> Level {
        Level::parse("#######\n#A.C.D#\n#.#####\n#K#....\n###....\n").unwrap()
    }

    #[test]
    fn cue_is_cached_per_episode() {
        let mut env = Env::new(
            LevelSource::Fixed(corridor()),
            EnvConfig::new(ObjectKind::Diamond, 10),
        );
        let first = env.cue() as *const DistanceField;
        assert_eq!(env.cue().get(Pos::new(1, 1)), Some(4));
        assert_eq!(env.cue() as *const DistanceField, first);
        env.reset(1);
        assert_eq!(env.cue().get(Pos::new(1, 1)), Some(4));
    }

    #[test]
    fn try_step_reports_episode_over() {
        let mut env = Env::new(
            LevelSource::Fixed(corridor()),
            EnvConfig::new(ObjectKind::Diamond, 1),
        );
        let s = env.step(Action::Up);
        assert!(s.truncated && !s.terminated);
        assert_eq!(env.try_step(Action::Up), Err(EnvError::EpisodeOver));
        env.reset(0);
        assert!(env.try_step(Action::Up).is_ok());
    }

    #[test]
    #[should_panic(expected = "call reset before stepping again")]
    fn stepping_after_the_end_panics() {
        let mut env = Env::new(
            LevelSource::Fixed(corridor()),
            EnvConfig::new(ObjectKind::Diamond, 1),
        );
        env.step(Action::Up);
        env.step(Action::Up);
    }
}
