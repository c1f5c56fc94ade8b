//! The bargaining games for Python: cruxlab-games' PettingZoo-style parallel and AEC
//! environments over the Nash demand game (commitments, threats) and Deal-or-No-Deal.

use std::collections::BTreeMap;

use numpy::{PyArray1, ToPyArray};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use cruxlab_games::parallel::{Info, Observation};
use cruxlab_games::{AecEnv, DealGame, NashDemandGame, ParallelEnv};

use crate::{Failure, guard};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<BargainParallel>()?;
    m.add_class::<BargainAec>()?;
    Ok(())
}

/// Which game, with its parameters (as `cruxlab_games` names them).
#[derive(Clone, Debug)]
enum Game {
    NashDemand(NashDemandGame),
    Deal(DealGame),
}

fn nash_demand(
    units: u32,
    commitment_stage: bool,
    threat_damage: f64,
    threat_cost: f64,
    surrogate_shield: bool,
) -> Result<Game, Failure> {
    if units == 0 {
        return Err(Failure::user("units 0: the pie needs at least one unit"));
    }
    for (key, v) in [
        ("threat_damage", threat_damage),
        ("threat_cost", threat_cost),
    ] {
        if !v.is_finite() || v < 0.0 {
            return Err(Failure::user(format!(
                "{key} {v}: must be a finite number >= 0"
            )));
        }
    }
    Ok(Game::NashDemand(NashDemandGame {
        units,
        commitment_stage,
        threat_damage,
        threat_cost,
        surrogate_shield,
    }))
}

fn deal(min_items: u32, max_items: u32, max_turns: usize) -> Result<Game, Failure> {
    if min_items == 0 || min_items > max_items {
        return Err(Failure::user(format!(
            "min_items {min_items}, max_items {max_items}: need 1 <= min_items <= max_items"
        )));
    }
    if max_turns == 0 {
        return Err(Failure::user("max_turns 0: must be at least 1"));
    }
    Ok(Game::Deal(DealGame {
        min_items,
        max_items,
        max_turns,
    }))
}

fn check_cycles(max_cycles: usize) -> Result<(), Failure> {
    if max_cycles == 0 {
        return Err(Failure::user("max_cycles 0: must be at least 1"));
    }
    Ok(())
}

fn env_error(e: cruxlab_games::EnvError) -> Failure {
    Failure::user(e.to_string())
}

fn action_of(a: i64) -> Result<usize, Failure> {
    usize::try_from(a).map_err(|_| Failure::user(format!("action {a}: must be >= 0")))
}

type Obs<'py> = (Bound<'py, PyArray1<f32>>, Bound<'py, PyArray1<i8>>);

fn observation<'py>(py: Python<'py>, o: &Observation) -> Obs<'py> {
    let mask: Vec<i8> = o.action_mask.iter().map(|&m| i8::from(m)).collect();
    (o.observation.to_pyarray(py), PyArray1::from_vec(py, mask))
}

fn info<'py>(py: Python<'py>, i: &Info) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("cumulative_return", i.cumulative_return)?;
    d.set_item("acting", i.acting)?;
    d.set_item("text", &i.text)?;
    Ok(d)
}

/// The same call on whichever game the environment holds.
macro_rules! each {
    ($inner:expr, $env:ident => $body:expr) => {
        match $inner {
            Inner::NashDemand($env) => $body,
            Inner::Deal($env) => $body,
        }
    };
}

enum Inner<N, D> {
    NashDemand(N),
    Deal(D),
}

/// PettingZoo's Parallel API over a bargaining game (`cruxlab_games::ParallelEnv`).
#[pyclass(module = "cruxlab._cruxlab")]
pub struct BargainParallel {
    inner: Inner<ParallelEnv<NashDemandGame>, ParallelEnv<DealGame>>,
}

impl BargainParallel {
    fn of(game: Game, max_cycles: usize) -> Result<BargainParallel, Failure> {
        check_cycles(max_cycles)?;
        Ok(BargainParallel {
            inner: match game {
                Game::NashDemand(g) => Inner::NashDemand(ParallelEnv::new(g, max_cycles)),
                Game::Deal(g) => Inner::Deal(ParallelEnv::new(g, max_cycles)),
            },
        })
    }
}

#[pymethods]
impl BargainParallel {
    #[staticmethod]
    #[pyo3(signature = (units = 100, commitment_stage = true, threat_damage = 0.5, threat_cost = 0.05, surrogate_shield = false, max_cycles = 100))]
    fn nash_demand(
        units: u32,
        commitment_stage: bool,
        threat_damage: f64,
        threat_cost: f64,
        surrogate_shield: bool,
        max_cycles: usize,
    ) -> PyResult<BargainParallel> {
        guard(|| {
            let game = nash_demand(
                units,
                commitment_stage,
                threat_damage,
                threat_cost,
                surrogate_shield,
            )?;
            BargainParallel::of(game, max_cycles)
        })
    }

    #[staticmethod]
    #[pyo3(signature = (min_items = 5, max_items = 7, max_turns = 10, max_cycles = 100))]
    fn deal(
        min_items: u32,
        max_items: u32,
        max_turns: usize,
        max_cycles: usize,
    ) -> PyResult<BargainParallel> {
        guard(|| BargainParallel::of(deal(min_items, max_items, max_turns)?, max_cycles))
    }

    #[getter]
    fn possible_agents(&self) -> Vec<String> {
        each!(&self.inner, e => e.possible_agents().to_vec())
    }

    #[getter]
    fn agents(&self) -> Vec<String> {
        each!(&self.inner, e => e.agents().to_vec())
    }

    #[getter]
    fn num_actions(&self) -> usize {
        each!(&self.inner, e => e.num_actions())
    }

    #[getter]
    fn observation_len(&self) -> usize {
        each!(&self.inner, e => e.observation_len())
    }

    /// The agents whose actions the next step plays (the others' are not asked for).
    fn acting_agents(&self) -> Vec<String> {
        each!(&self.inner, e => e.acting_agents())
    }

    /// Start an episode: `{agent: (observation, action_mask)}`.
    fn reset<'py>(&mut self, py: Python<'py>, seed: u64) -> PyResult<BTreeMap<String, Obs<'py>>> {
        let obs = guard(|| Ok(each!(&mut self.inner, e => e.reset(seed))))?;
        Ok(obs
            .iter()
            .map(|(a, o)| (a.clone(), observation(py, o)))
            .collect())
    }

    /// One joint step with an action per acting agent: `(observations, rewards, terminations,
    /// truncations, infos)`, each a dict over the agents still in the episode.
    #[allow(clippy::type_complexity)]
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        actions: BTreeMap<String, i64>,
    ) -> PyResult<(
        BTreeMap<String, Obs<'py>>,
        BTreeMap<String, f64>,
        BTreeMap<String, bool>,
        BTreeMap<String, bool>,
        BTreeMap<String, Bound<'py, PyDict>>,
    )> {
        let step = guard(|| {
            let actions = actions
                .into_iter()
                .map(|(agent, a)| Ok((agent, action_of(a)?)))
                .collect::<Result<BTreeMap<_, _>, Failure>>()?;
            each!(&mut self.inner, e => e.step(&actions)).map_err(env_error)
        })?;
        let infos = step
            .infos
            .iter()
            .map(|(a, i)| Ok((a.clone(), info(py, i)?)))
            .collect::<PyResult<_>>()?;
        Ok((
            step.observations
                .iter()
                .map(|(a, o)| (a.clone(), observation(py, o)))
                .collect(),
            step.rewards,
            step.terminations,
            step.truncations,
            infos,
        ))
    }

    /// `agent`'s current observation and action mask.
    fn observe<'py>(&self, py: Python<'py>, agent: &str) -> PyResult<Obs<'py>> {
        let o = guard(|| each!(&self.inner, e => e.observe(agent)).map_err(env_error))?;
        Ok(observation(py, &o))
    }
}

/// PettingZoo's AEC API over a bargaining game (`cruxlab_games::AecEnv`): one agent at a time;
/// at a simultaneous node the actions are collected and applied once the last one is in.
#[pyclass(module = "cruxlab._cruxlab")]
pub struct BargainAec {
    inner: Inner<AecEnv<NashDemandGame>, AecEnv<DealGame>>,
}

impl BargainAec {
    fn of(game: Game, max_cycles: usize) -> Result<BargainAec, Failure> {
        check_cycles(max_cycles)?;
        Ok(BargainAec {
            inner: match game {
                Game::NashDemand(g) => Inner::NashDemand(AecEnv::new(g, max_cycles)),
                Game::Deal(g) => Inner::Deal(AecEnv::new(g, max_cycles)),
            },
        })
    }
}

#[pymethods]
impl BargainAec {
    #[staticmethod]
    #[pyo3(signature = (units = 100, commitment_stage = true, threat_damage = 0.5, threat_cost = 0.05, surrogate_shield = false, max_cycles = 100))]
    fn nash_demand(
        units: u32,
        commitment_stage: bool,
        threat_damage: f64,
        threat_cost: f64,
        surrogate_shield: bool,
        max_cycles: usize,
    ) -> PyResult<BargainAec> {
        guard(|| {
            let game = nash_demand(
                units,
                commitment_stage,
                threat_damage,
                threat_cost,
                surrogate_shield,
            )?;
            BargainAec::of(game, max_cycles)
        })
    }

    #[staticmethod]
    #[pyo3(signature = (min_items = 5, max_items = 7, max_turns = 10, max_cycles = 100))]
    fn deal(
        min_items: u32,
        max_items: u32,
        max_turns: usize,
        max_cycles: usize,
    ) -> PyResult<BargainAec> {
        guard(|| BargainAec::of(deal(min_items, max_items, max_turns)?, max_cycles))
    }

    #[getter]
    fn possible_agents(&self) -> Vec<String> {
        each!(&self.inner, e => e.possible_agents().to_vec())
    }

    fn reset(&mut self, seed: u64) -> PyResult<()> {
        guard(|| {
            each!(&mut self.inner, e => e.reset(seed));
            Ok(())
        })
    }

    /// The agent to act next; `None` once the episode is over.
    #[getter]
    fn agent_selection(&self) -> Option<String> {
        each!(&self.inner, e => e.agent_selection())
    }

    /// `agent`'s view: `(observation, action_mask, reward since it last acted, terminated,
    /// truncated, info)`.
    #[allow(clippy::type_complexity)]
    fn last<'py>(
        &self,
        py: Python<'py>,
        agent: &str,
    ) -> PyResult<(
        Bound<'py, PyArray1<f32>>,
        Bound<'py, PyArray1<i8>>,
        f64,
        bool,
        bool,
        Bound<'py, PyDict>,
    )> {
        let (o, r, term, trunc, i) =
            guard(|| each!(&self.inner, e => e.last(agent)).map_err(env_error))?;
        let (obs, mask) = observation(py, &o);
        Ok((obs, mask, r, term, trunc, info(py, &i)?))
    }

    /// Play the selected agent's action.
    fn step(&mut self, action: i64) -> PyResult<()> {
        guard(|| {
            let a = action_of(action)?;
            each!(&mut self.inner, e => e.step(a)).map_err(env_error)
        })
    }
}
