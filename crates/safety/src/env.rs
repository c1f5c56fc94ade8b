//! Gymnasium semantics over a [`Game`], one environment ([`SafetyEnv`]) or many ([`SafetyVecEnv`]).
//!
//! As the mazes' [`cruxlab_grid::Env`]: `reset(seed)` returns the first observation; `step(action)`
//! returns `(observation, reward, terminated, truncated, info)`; stepping an ended episode is an
//! error until the next reset. The observation is the board as the agent sees it (one byte a cell,
//! the characters of [`crate::render::board`]). The hidden performance is *not* in the observation
//! or the info: it is read from [`SafetyEnv::hidden_performance`], by the experimenter only.

use rayon::prelude::*;

use crate::Move;
use crate::game::{Ending, Game, Outcome, State};
use crate::render::board_bytes;

/// One step: Gymnasium's `(observation, reward, terminated, truncated, info)`.
#[derive(Clone, Debug, PartialEq)]
pub struct SafetyStep {
    pub observation: Vec<u8>,
    pub reward: f64,
    pub terminated: bool,
    pub truncated: bool,
    pub info: SafetyInfo,
}

/// Side information about a step the agent may see.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SafetyInfo {
    pub steps: u32,
    /// How the episode ended, on its last step.
    pub ending: Option<Ending>,
}

/// The episode has ended; reset before stepping again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the episode has ended (terminated or truncated); call reset before stepping again")]
pub struct EpisodeOver;

/// One safety gridworld. The levels are fixed (the seed is recorded, not used).
#[derive(Clone, Debug)]
pub struct SafetyEnv {
    game: Game,
    state: State,
    seed: u64,
    done: bool,
    ret: f64,
    performance: f64,
    ending: Option<Ending>,
}

impl SafetyEnv {
    pub fn new(game: Game) -> SafetyEnv {
        let state = game.start();
        SafetyEnv {
            game,
            state,
            seed: 0,
            done: false,
            ret: 0.0,
            performance: 0.0,
            ending: None,
        }
    }

    pub fn reset(&mut self, seed: u64) -> Vec<u8> {
        self.state = self.game.start();
        self.seed = seed;
        self.done = false;
        self.ret = 0.0;
        self.performance = 0.0;
        self.ending = None;
        self.observe()
    }

    /// Apply one action (see the module docs).
    pub fn step(&mut self, action: Move) -> Result<SafetyStep, EpisodeOver> {
        let t = self.advance(action)?;
        Ok(SafetyStep {
            observation: self.observe(),
            reward: t.reward,
            terminated: t.terminated,
            truncated: t.truncated,
            info: SafetyInfo {
                steps: self.state.steps as u32,
                ending: t.ending,
            },
        })
    }

    /// Apply one action without building an observation.
    pub fn advance(&mut self, action: Move) -> Result<Outcome, EpisodeOver> {
        if self.done {
            return Err(EpisodeOver);
        }
        let t = self.game.step(&mut self.state, action);
        self.ret += t.reward;
        self.performance += t.performance;
        self.done = t.terminated || t.truncated;
        self.ending = t.ending;
        Ok(t)
    }

    pub fn observe(&self) -> Vec<u8> {
        board_bytes(&self.game, &self.state)
    }

    pub fn game(&self) -> &Game {
        &self.game
    }
    pub fn state(&self) -> &State {
        &self.state
    }
    pub fn is_done(&self) -> bool {
        self.done
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The sum of the rewards this episode.
    pub fn episode_return(&self) -> f64 {
        self.ret
    }
    /// The hidden performance of this episode so far (AI Safety Gridworlds' episode performance).
    pub fn hidden_performance(&self) -> f64 {
        self.performance
    }
    pub fn ending(&self) -> Option<Ending> {
        self.ending
    }
}

/// What replaying a sequence of actions gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    pub reward: f64,
    pub hidden_performance: f64,
    pub terminated: bool,
    pub truncated: bool,
    /// Actions applied (a sequence stops at the end of the episode).
    pub steps: u32,
    pub ending: Option<Ending>,
    /// Actions left over after the episode ended.
    pub unused: usize,
    pub state: State,
}

/// Play `actions` from the start of `game` until they run out or the episode ends.
pub fn replay(game: &Game, actions: &[Move]) -> Replay {
    let mut env = SafetyEnv::new(game.clone());
    let mut applied = 0;
    let mut last = Outcome::default();
    for &a in actions {
        match env.advance(a) {
            Ok(t) => {
                last = t;
                applied += 1;
            }
            Err(EpisodeOver) => break,
        }
    }
    Replay {
        reward: env.episode_return(),
        hidden_performance: env.hidden_performance(),
        terminated: last.terminated,
        truncated: last.truncated,
        steps: applied,
        ending: env.ending(),
        unused: actions.len() - applied as usize,
        state: *env.state(),
    }
}

/// Many copies of one level stepped together, with same-step auto-reset (as the mazes'
/// `VecEnv`): when environment `i`'s episode ends, that step's outputs describe the ending step
/// and `i` starts its next episode at once. Chunks run in parallel; each environment depends
/// only on its own actions, so the results do not depend on the thread count.
#[derive(Clone, Debug)]
pub struct SafetyVecEnv {
    game: Game,
    states: Vec<State>,
    rewards: Vec<f64>,
    performances: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
}

impl SafetyVecEnv {
    const CHUNK: usize = 256;

    pub fn new(game: Game, n: usize) -> SafetyVecEnv {
        let start = game.start();
        SafetyVecEnv {
            game,
            states: vec![start; n],
            rewards: vec![0.0; n],
            performances: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
        }
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    pub fn reset(&mut self) {
        let start = self.game.start();
        self.states.iter_mut().for_each(|s| *s = start);
    }

    /// Step every environment by its action (`actions.len() == self.len()`).
    pub fn step(&mut self, actions: &[Move]) {
        assert_eq!(
            actions.len(),
            self.states.len(),
            "one action per environment"
        );
        let game = &self.game;
        let start = game.start();
        self.states
            .par_chunks_mut(Self::CHUNK)
            .zip(self.rewards.par_chunks_mut(Self::CHUNK))
            .zip(self.performances.par_chunks_mut(Self::CHUNK))
            .zip(self.terminated.par_chunks_mut(Self::CHUNK))
            .zip(self.truncated.par_chunks_mut(Self::CHUNK))
            .zip(actions.par_chunks(Self::CHUNK))
            .for_each(|(((((s, r), p), te), tr), a)| {
                for i in 0..s.len() {
                    let t = game.step(&mut s[i], a[i]);
                    r[i] = t.reward;
                    p[i] = t.performance;
                    te[i] = t.terminated;
                    tr[i] = t.truncated;
                    if t.terminated || t.truncated {
                        s[i] = start;
                    }
                }
            });
    }

    pub fn states(&self) -> &[State] {
        &self.states
    }
    pub fn rewards(&self) -> &[f64] {
        &self.rewards
    }
    /// The last step's hidden performance changes (for the experimenter).
    pub fn performances(&self) -> &[f64] {
        &self.performances
    }
    pub fn terminated(&self) -> &[bool] {
        &self.terminated
    }
    pub fn truncated(&self) -> &[bool] {
        &self.truncated
    }
    pub fn game(&self) -> &Game {
        &self.game
    }
}
