//! Multi-agent environments over any [`Game`], with PettingZoo's two interfaces, so that Python
//! bindings later are a thin layer.
//!
//! - [`ParallelEnv`] (PettingZoo's Parallel API): `reset(seed)` gives each agent its observation
//!   and action mask; `step(actions)` takes one action per agent that must act now
//!   ([`ParallelEnv::acting_agents`]: everyone at a simultaneous node, the mover at a sequential
//!   one) and returns per-agent observations, rewards, terminations, truncations and infos.
//!   Terminated or truncated agents leave [`ParallelEnv::agents`].
//! - [`AecEnv`] (PettingZoo's AEC API): one agent at a time ([`AecEnv::agent_selection`]);
//!   [`AecEnv::last`] gives the selected agent's observation, the reward accumulated since it last
//!   acted, termination, truncation and info; [`AecEnv::step`] plays its action. At a simultaneous
//!   node the actions are collected in agent order and applied together once the last one is in.
//!
//! Agents are named `player_0`, `player_1`, ... Rewards are the change in each player's return
//! (so they sum to the final returns over an episode). An episode is truncated after
//! `max_cycles` steps if the game has not ended by then.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::game::{Action, Game, GameError, GameState, Turn};

/// What one agent sees.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub observation: Vec<f32>,
    /// `action_mask[a]`: action `a` is legal for this agent now (all false when it does not act).
    pub action_mask: Vec<bool>,
}

/// Extra per-agent information.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Info {
    /// The agent's return so far.
    pub cumulative_return: f64,
    /// Whether the agent must act now.
    pub acting: bool,
    /// The observation as text.
    pub text: String,
}

/// What a parallel step returns.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ParallelStep {
    pub observations: BTreeMap<String, Observation>,
    pub rewards: BTreeMap<String, f64>,
    pub terminations: BTreeMap<String, bool>,
    pub truncations: BTreeMap<String, bool>,
    pub infos: BTreeMap<String, Info>,
}

/// Misuse of an environment.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnvError {
    #[error("call reset before step")]
    NotReset,
    #[error("the episode is over; call reset")]
    Done,
    #[error("agent '{0}' must act now but sent no action")]
    MissingAction(String),
    #[error("agent '{0}' does not act now")]
    NotActing(String),
    #[error("unknown agent '{0}'")]
    UnknownAgent(String),
    #[error(transparent)]
    Game(#[from] GameError),
}

/// PettingZoo's Parallel API over a game.
#[derive(Clone, Debug)]
pub struct ParallelEnv<G: Game> {
    game: G,
    possible_agents: Vec<String>,
    agents: Vec<String>,
    state: Option<G::State>,
    returns: Vec<f64>,
    max_cycles: usize,
    steps: usize,
}

impl<G: Game> ParallelEnv<G> {
    pub fn new(game: G, max_cycles: usize) -> Self {
        let possible_agents = (0..game.num_players())
            .map(|p| format!("player_{p}"))
            .collect();
        ParallelEnv {
            game,
            possible_agents,
            agents: Vec::new(),
            state: None,
            returns: Vec::new(),
            max_cycles,
            steps: 0,
        }
    }

    pub fn possible_agents(&self) -> &[String] {
        &self.possible_agents
    }

    /// The agents still in the episode.
    pub fn agents(&self) -> &[String] {
        &self.agents
    }

    pub fn num_actions(&self) -> usize {
        self.game.num_distinct_actions()
    }

    pub fn observation_len(&self) -> usize {
        self.game.observation_len()
    }

    pub fn state(&self) -> Option<&G::State> {
        self.state.as_ref()
    }

    fn index(&self, agent: &str) -> Result<usize, EnvError> {
        self.possible_agents
            .iter()
            .position(|a| a == agent)
            .ok_or_else(|| EnvError::UnknownAgent(agent.to_owned()))
    }

    /// Start an episode; the seed drives the game's chance (e.g. the instance drawn).
    pub fn reset(&mut self, seed: u64) -> BTreeMap<String, Observation> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let state = self.game.new_initial_state(&mut rng);
        self.returns = state.returns();
        self.state = Some(state);
        self.agents = self.possible_agents.clone();
        self.steps = 0;
        self.possible_agents
            .iter()
            .enumerate()
            .map(|(p, a)| (a.clone(), self.observe_index(p)))
            .collect()
    }

    fn observe_index(&self, player: usize) -> Observation {
        let state = self.state.as_ref().expect("reset");
        let mut action_mask = vec![false; self.game.num_distinct_actions()];
        for a in state.legal_actions(player) {
            action_mask[a] = true;
        }
        Observation {
            observation: state.observation_tensor(player),
            action_mask,
        }
    }

    /// `agent`'s current observation and mask.
    pub fn observe(&self, agent: &str) -> Result<Observation, EnvError> {
        if self.state.is_none() {
            return Err(EnvError::NotReset);
        }
        Ok(self.observe_index(self.index(agent)?))
    }

    /// The agents that must send an action in the next [`ParallelEnv::step`].
    pub fn acting_agents(&self) -> Vec<String> {
        let Some(state) = &self.state else {
            return Vec::new();
        };
        if self.agents.is_empty() {
            return Vec::new();
        }
        match state.turn() {
            Turn::Terminal => Vec::new(),
            Turn::Simultaneous => self.agents.clone(),
            Turn::Player(p) => vec![self.possible_agents[p].clone()],
        }
    }

    /// Play one action per acting agent.
    pub fn step(&mut self, actions: &BTreeMap<String, Action>) -> Result<ParallelStep, EnvError> {
        let acting = self.acting_agents();
        let state = self.state.as_mut().ok_or(EnvError::NotReset)?;
        if self.agents.is_empty() {
            return Err(EnvError::Done);
        }
        for agent in actions.keys() {
            if !acting.contains(agent) {
                return Err(EnvError::NotActing(agent.clone()));
            }
        }
        let chosen: Vec<Action> = acting
            .iter()
            .map(|a| {
                actions
                    .get(a)
                    .copied()
                    .ok_or_else(|| EnvError::MissingAction(a.clone()))
            })
            .collect::<Result<_, _>>()?;
        match state.turn() {
            Turn::Simultaneous => state.apply_actions(&chosen)?,
            Turn::Player(_) => state.apply_action(chosen[0])?,
            Turn::Terminal => return Err(EnvError::Done),
        }
        self.steps += 1;
        let returns = state.returns();
        let terminated = state.is_terminal();
        let truncated = !terminated && self.steps >= self.max_cycles;
        let mut out = ParallelStep::default();
        let live: Vec<String> = self.agents.clone();
        for agent in &live {
            let p = self.index(agent)?;
            out.rewards
                .insert(agent.clone(), returns[p] - self.returns[p]);
            out.terminations.insert(agent.clone(), terminated);
            out.truncations.insert(agent.clone(), truncated);
            out.observations
                .insert(agent.clone(), self.observe_index(p));
            let state = self.state.as_ref().expect("reset");
            out.infos.insert(
                agent.clone(),
                Info {
                    cumulative_return: returns[p],
                    acting: !state.legal_actions(p).is_empty(),
                    text: state.observation_string(p),
                },
            );
        }
        self.returns = returns;
        if terminated || truncated {
            self.agents.clear();
        }
        Ok(out)
    }
}

/// PettingZoo's AEC API over a game: one agent at a time.
#[derive(Clone, Debug)]
pub struct AecEnv<G: Game> {
    env: ParallelEnv<G>,
    /// Actions collected so far at a simultaneous node.
    pending: BTreeMap<String, Action>,
    /// Reward accumulated by each agent since it last acted.
    cumulative: BTreeMap<String, f64>,
    terminated: bool,
    truncated: bool,
}

impl<G: Game> AecEnv<G> {
    pub fn new(game: G, max_cycles: usize) -> Self {
        AecEnv {
            env: ParallelEnv::new(game, max_cycles),
            pending: BTreeMap::new(),
            cumulative: BTreeMap::new(),
            terminated: false,
            truncated: false,
        }
    }

    pub fn possible_agents(&self) -> &[String] {
        self.env.possible_agents()
    }

    pub fn state(&self) -> Option<&G::State> {
        self.env.state()
    }

    pub fn reset(&mut self, seed: u64) {
        self.env.reset(seed);
        self.pending.clear();
        self.cumulative = self
            .env
            .possible_agents()
            .iter()
            .map(|a| (a.clone(), 0.0))
            .collect();
        self.terminated = false;
        self.truncated = false;
    }

    /// The agent to act next; `None` once the episode is over.
    pub fn agent_selection(&self) -> Option<String> {
        self.env
            .acting_agents()
            .into_iter()
            .find(|a| !self.pending.contains_key(a))
    }

    pub fn observe(&self, agent: &str) -> Result<Observation, EnvError> {
        self.env.observe(agent)
    }

    /// The selected agent's view: observation, reward since it last acted, terminated,
    /// truncated, info. After the episode ends, `agent` names whose final view to read.
    pub fn last(&self, agent: &str) -> Result<(Observation, f64, bool, bool, Info), EnvError> {
        let observation = self.env.observe(agent)?;
        let p = self.env.index(agent)?;
        let state = self.env.state().ok_or(EnvError::NotReset)?;
        let info = Info {
            cumulative_return: state.returns()[p],
            acting: self.agent_selection().as_deref() == Some(agent),
            text: state.observation_string(p),
        };
        Ok((
            observation,
            self.cumulative.get(agent).copied().unwrap_or(0.0),
            self.terminated,
            self.truncated,
            info,
        ))
    }

    /// Play the selected agent's action.
    pub fn step(&mut self, action: Action) -> Result<(), EnvError> {
        let agent = self.agent_selection().ok_or(EnvError::Done)?;
        let p = self.env.index(&agent)?;
        let state = self.env.state().ok_or(EnvError::NotReset)?;
        if !state.legal_actions(p).contains(&action) {
            return Err(GameError::Illegal { player: p, action }.into());
        }
        self.cumulative.insert(agent.clone(), 0.0);
        self.pending.insert(agent, action);
        if self.agent_selection().is_some() {
            return Ok(());
        }
        let actions = std::mem::take(&mut self.pending);
        let step = self.env.step(&actions)?;
        for (agent, reward) in &step.rewards {
            *self.cumulative.entry(agent.clone()).or_default() += reward;
        }
        self.terminated = step.terminations.values().any(|&t| t);
        self.truncated = step.truncations.values().any(|&t| t);
        Ok(())
    }
}
