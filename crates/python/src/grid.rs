//! The gridworld for Python: one environment ([`GridEnv`], over `cruxlab_grid::Env`) and the
//! batched one ([`GridVecEnv`], over `cruxlab_grid::VecEnv`) whose buffers numpy reads in place.

use numpy::ndarray::{ArrayView, Dimension, IntoDimension};
use numpy::{Element, PyArray, PyArray1, PyArray3, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use cruxlab_grid::obs::{self, CHANNELS};
use cruxlab_grid::{
    Action, Env, EnvConfig, Level, LevelSource, LevelSpec, ObjectKind, ObsKind, Observation, Pos,
    VecEnv,
};
use cruxlab_learn::CornerMazes;

use crate::{Failure, guard};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<GridEnv>()?;
    m.add_class::<GridVecEnv>()?;
    m.add("CHANNELS", CHANNELS)?;
    m.add("CODES", obs::code::COUNT)?;
    Ok(())
}

fn parse_spec(spec: &str) -> Result<LevelSpec, Failure> {
    let parsed: LevelSpec = spec
        .parse()
        .map_err(|e| Failure::user(format!("spec {spec}: {e}")))?;
    parsed
        .validate()
        .map_err(|e| Failure::user(format!("spec {spec}: {e}")))?;
    Ok(parsed)
}

fn parse_config(target: &str, max_steps: u32) -> Result<EnvConfig, Failure> {
    let target: ObjectKind = target
        .parse()
        .map_err(|e: String| Failure::user(format!("target {target}: {e}")))?;
    if max_steps == 0 {
        return Err(Failure::user("max_steps 0: must be at least 1"));
    }
    Ok(EnvConfig::new(target, max_steps))
}

fn parse_obs(kind: &str) -> Result<ObsKind, Failure> {
    kind.parse()
        .map_err(|e: String| Failure::user(format!("obs {kind}: {e}")))
}

fn parse_action(a: i64) -> Result<Action, Failure> {
    usize::try_from(a)
        .ok()
        .and_then(Action::from_index)
        .ok_or_else(|| {
            Failure::user(format!(
                "action {a}: must lie in 0..4 (0 up, 1 down, 2 left, 3 right)"
            ))
        })
}

/// The Python name of what the agent entered (`None` for floor or a bump).
fn reached_name(kind: Option<ObjectKind>) -> Option<&'static str> {
    kind.map(ObjectKind::name)
}

/// Where a single environment's levels come from.
#[derive(Clone, Debug)]
enum Source {
    /// A fixed level or a generator spec: `cruxlab_grid::Env` handles both.
    Grid(LevelSource),
    /// Corner mazes (the goal-misgeneralisation distribution of cruxlab-learn): one fixed-level
    /// `Env` per episode, built from the distribution's level for the seed.
    Corner { mazes: CornerMazes, test: bool },
}

impl Source {
    fn env(&self, seed: u64, config: EnvConfig, obs: ObsKind) -> Env {
        match self {
            Source::Grid(source) => Env::with_obs(source.clone(), config, obs),
            Source::Corner { mazes, test } => {
                let level = if *test {
                    mazes.test_level(seed)
                } else {
                    mazes.training_level(seed)
                };
                Env::with_obs(LevelSource::Fixed(level), config, obs)
            }
        }
    }
}

/// Copy an observation into a fresh numpy array: `(H, W)` u8 codes or `(C, H, W)` f32 planes.
fn observation_array<'py>(py: Python<'py>, o: &Observation) -> PyResult<Bound<'py, PyAny>> {
    let [c, h, w] = o.shape();
    Ok(match o {
        Observation::Compact(_) => PyArray1::from_slice(py, o.as_compact().expect("compact"))
            .reshape([h, w])?
            .into_any(),
        Observation::Planes(_) => PyArray1::from_slice(py, o.as_planes().expect("planes"))
            .reshape([c, h, w])?
            .into_any(),
    })
}

/// An RGB picture of a level, `(H * tile, W * tile, 3)` u8.
fn rgb_array<'py>(py: Python<'py>, level: &Level, tile: u32) -> PyResult<Bound<'py, PyArray3<u8>>> {
    let image = cruxlab_grid::render_png(level, None, tile);
    let (w, h) = (image.width() as usize, image.height() as usize);
    PyArray1::from_slice(py, image.as_raw()).reshape([h, w, 3])
}

/// One gridworld environment with Gymnasium's semantics (`cruxlab_grid::Env`).
#[pyclass(module = "cruxlab._cruxlab")]
pub struct GridEnv {
    source: Source,
    config: EnvConfig,
    obs: ObsKind,
    env: Env,
}

impl GridEnv {
    fn build(source: Source, target: &str, max_steps: u32, obs: &str) -> Result<GridEnv, Failure> {
        let config = parse_config(target, max_steps)?;
        let obs = parse_obs(obs)?;
        let env = source.env(0, config, obs);
        Ok(GridEnv {
            source,
            config,
            obs,
            env,
        })
    }
}

#[pymethods]
impl GridEnv {
    /// Levels from a generator spec (`maze:9`, `rooms:15:0.2`), one per seed.
    #[staticmethod]
    #[pyo3(signature = (spec, target = "diamond", max_steps = 100, obs = "compact"))]
    fn generated(spec: &str, target: &str, max_steps: u32, obs: &str) -> PyResult<GridEnv> {
        guard(|| {
            let spec = parse_spec(spec)?;
            GridEnv::build(
                Source::Grid(LevelSource::Generated(spec)),
                target,
                max_steps,
                obs,
            )
        })
    }

    /// The same level every episode, from the text format of `levels/`.
    #[staticmethod]
    #[pyo3(signature = (text, target = "diamond", max_steps = 100, obs = "compact"))]
    fn fixed(text: &str, target: &str, max_steps: u32, obs: &str) -> PyResult<GridEnv> {
        guard(|| {
            let level = Level::parse(text).map_err(|e| Failure::user(format!("level: {e}")))?;
            GridEnv::build(
                Source::Grid(LevelSource::Fixed(level)),
                target,
                max_steps,
                obs,
            )
        })
    }

    /// Corner mazes: the diamond in the top-right `region` (with probability `1 - p_anywhere`)
    /// for training levels, anywhere outside it for test levels.
    #[staticmethod]
    #[pyo3(signature = (size, region, p_anywhere, test = false, max_steps = 100, obs = "compact", min_size = None))]
    #[allow(clippy::too_many_arguments)]
    fn corner(
        size: usize,
        region: usize,
        p_anywhere: f64,
        test: bool,
        max_steps: u32,
        obs: &str,
        min_size: Option<usize>,
    ) -> PyResult<GridEnv> {
        guard(|| {
            let mazes = CornerMazes {
                // None or 0: every maze fills the grid, as `train.min_size = 0` in the configs.
                min_size: min_size.filter(|&m| m != 0).unwrap_or(size),
                ..CornerMazes::fixed(size, region, p_anywhere)
            };
            mazes
                .check()
                .map_err(|(key, why)| Failure::user(format!("{key}: {why}")))?;
            GridEnv::build(Source::Corner { mazes, test }, "diamond", max_steps, obs)
        })
    }

    /// `(height, width)` of the levels.
    #[getter]
    fn shape(&self) -> (usize, usize) {
        let level = self.env.level();
        (level.height(), level.width())
    }

    #[getter]
    fn obs_kind(&self) -> &'static str {
        match self.obs {
            ObsKind::Compact => "compact",
            ObsKind::Planes => "planes",
        }
    }

    #[getter]
    fn max_steps(&self) -> u32 {
        self.config.max_steps
    }

    #[getter]
    fn target(&self) -> &'static str {
        self.config.target.name()
    }

    /// Start the episode for `seed` and return its first observation.
    fn reset<'py>(&mut self, py: Python<'py>, seed: u64) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            if let Source::Corner { .. } = self.source {
                self.env = self.source.env(seed, self.config, self.obs);
            }
            Ok(self.env.reset(seed))
        })
        .and_then(|o| observation_array(py, &o))
    }

    /// One move: `(observation, reward, terminated, truncated, steps, reached, moved)`.
    #[allow(clippy::type_complexity)]
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        action: i64,
    ) -> PyResult<(
        Bound<'py, PyAny>,
        f32,
        bool,
        bool,
        u32,
        Option<&'static str>,
        bool,
    )> {
        let step = guard(|| {
            let action = parse_action(action)?;
            self.env
                .try_step(action)
                .map_err(|e| Failure::user(e.to_string()))
        })?;
        Ok((
            observation_array(py, &step.observation)?,
            step.reward,
            step.terminated,
            step.truncated,
            step.info.steps,
            reached_name(step.info.reached),
            step.info.moved,
        ))
    }

    /// The current level as text (the `levels/` format).
    fn ansi(&self) -> String {
        self.env.level().to_text()
    }

    /// The current level as an RGB array, `tile` pixels per cell.
    #[pyo3(signature = (tile = 16))]
    fn rgb<'py>(&self, py: Python<'py>, tile: u32) -> PyResult<Bound<'py, PyArray3<u8>>> {
        if tile == 0 {
            return Err(Failure::user("tile 0: must be at least 1").into());
        }
        rgb_array(py, self.env.level(), tile)
    }

    /// The agent's `(row, col)`.
    #[getter]
    fn agent(&self) -> (usize, usize) {
        let p = self.env.agent();
        (p.row, p.col)
    }

    /// Steps taken in this episode.
    #[getter]
    fn steps(&self) -> u32 {
        self.env.steps()
    }
}

/// `n` generated gridworlds stepped together with same-step auto-reset
/// (`cruxlab_grid::VecEnv`). The observation, reward and flag arrays that [`GridVecEnv::buffers`]
/// hands out are numpy views of the engine's own buffers: a step writes them in place and
/// nothing is copied. The final observation of every episode that ends is kept in a buffer of
/// its own.
#[pyclass(module = "cruxlab._cruxlab")]
pub struct GridVecEnv {
    envs: VecEnv,
    /// Reused action buffer.
    actions: Vec<Action>,
    /// Each environment's agent before the step being taken (for the final observations).
    agents: Vec<Pos>,
    /// Steps each environment's current episode has taken.
    steps: Vec<u32>,
    /// What each environment entered on the last step: -1 nothing, else the kind's index.
    reached: Vec<i8>,
    /// Whether each environment's episode ended on the last step (its final observation slot
    /// is then valid).
    ended: Vec<bool>,
    final_compact: Vec<u8>,
    final_planes: Vec<f32>,
    keep_final: bool,
}

/// A numpy view of `data`, kept alive by `owner`.
///
/// # Safety
/// `data` must stay at its address for as long as `owner` lives: here, buffers allocated once
/// when the environment is built and only ever written in place.
unsafe fn view<'py, T: Element, D: Dimension>(
    data: &[T],
    shape: impl IntoDimension<Dim = D>,
    owner: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray<T, D>>> {
    let array = ArrayView::from_shape(shape, data)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    Ok(unsafe { PyArray::borrow_from_array(&array, owner.clone()) })
}

#[pymethods]
impl GridVecEnv {
    #[new]
    #[pyo3(signature = (n, spec, target = "diamond", max_steps = 100, obs = "compact", seed = 0, keep_final = true))]
    fn new(
        n: usize,
        spec: &str,
        target: &str,
        max_steps: u32,
        obs: &str,
        seed: u64,
        keep_final: bool,
    ) -> PyResult<GridVecEnv> {
        guard(|| {
            if n == 0 {
                return Err(Failure::user("num_envs 0: must be at least 1"));
            }
            let spec = parse_spec(spec)?;
            let config = parse_config(target, max_steps)?;
            let obs = parse_obs(obs)?;
            let envs = VecEnv::new(n, spec, config, obs, seed);
            let (h, w) = spec.shape();
            let per_env = obs.len(h, w);
            let mut env = GridVecEnv {
                envs,
                actions: vec![Action::Up; n],
                agents: vec![Pos::new(0, 0); n],
                steps: vec![0; n],
                reached: vec![-1; n],
                ended: vec![false; n],
                final_compact: match obs {
                    ObsKind::Compact if keep_final => vec![0; n * per_env],
                    _ => Vec::new(),
                },
                final_planes: match obs {
                    ObsKind::Planes if keep_final => vec![0.0; n * per_env],
                    _ => Vec::new(),
                },
                keep_final,
            };
            env.record_agents();
            Ok(env)
        })
    }

    #[getter]
    fn num_envs(&self) -> usize {
        self.envs.num_envs()
    }

    #[getter]
    fn shape(&self) -> (usize, usize) {
        self.envs.shape()
    }

    /// The engine's buffers as numpy views: `obs` (`(n, H, W)` u8 or `(n, C, H, W)` f32),
    /// `rewards`, `terminated`, `truncated`, `episode_steps`, `reached` (-1 nothing, 0 diamond,
    /// 1 cheese, 2 key), `ended` and, with `keep_final`, `final_obs`. Every call returns views
    /// of the same memory.
    fn buffers<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        let py = slf.py();
        let this = slf.borrow();
        let owner = slf.as_any();
        let n = this.envs.num_envs();
        let (h, w) = this.envs.shape();
        let out = PyDict::new(py);
        // SAFETY: every buffer below is allocated when the environment is built and then only
        // written in place (`VecEnv` never resizes its buffers), and the views keep `slf` alive.
        unsafe {
            match this.envs.obs_kind() {
                ObsKind::Compact => {
                    out.set_item("obs", view(this.envs.obs_compact(), (n, h, w), owner)?)?;
                    if this.keep_final {
                        out.set_item("final_obs", view(&this.final_compact, (n, h, w), owner)?)?;
                    }
                }
                ObsKind::Planes => {
                    let shape = (n, CHANNELS, h, w);
                    out.set_item("obs", view(this.envs.obs_planes(), shape, owner)?)?;
                    if this.keep_final {
                        out.set_item("final_obs", view(&this.final_planes, shape, owner)?)?;
                    }
                }
            }
            out.set_item("rewards", view(this.envs.rewards(), n, owner)?)?;
            out.set_item("terminated", view(this.envs.terminated(), n, owner)?)?;
            out.set_item("truncated", view(this.envs.truncated(), n, owner)?)?;
            out.set_item("episode_steps", view(this.envs.episode_steps(), n, owner)?)?;
            out.set_item("reached", view(&this.reached, n, owner)?)?;
            out.set_item("ended", view(&this.ended, n, owner)?)?;
        }
        Ok(out)
    }

    /// Restart every environment at its first episode under `seed`.
    fn reset(&mut self, seed: u64) -> PyResult<()> {
        guard(|| {
            self.envs.reseed(seed);
            self.steps.fill(0);
            self.reached.fill(-1);
            self.ended.fill(false);
            self.record_agents();
            Ok(())
        })
    }

    /// Step every environment with its action (`actions[i]` in 0..4 for environment `i`).
    fn step(&mut self, actions: PyReadonlyArray1<'_, i64>) -> PyResult<()> {
        let actions = actions.as_slice()?;
        guard(|| {
            let n = self.envs.num_envs();
            if actions.len() != n {
                return Err(Failure::user(format!(
                    "actions: {} given, one per environment ({n}) expected",
                    actions.len()
                )));
            }
            for (slot, &a) in self.actions.iter_mut().zip(actions) {
                *slot = parse_action(a)?;
            }
            self.envs.step(&self.actions);
            let (terminated, truncated) = (self.envs.terminated(), self.envs.truncated());
            for i in 0..n {
                self.ended[i] = terminated[i] | truncated[i];
                self.reached[i] = self.envs.reached()[i].map_or(-1, |k| k.index() as i8);
            }
            if self.keep_final {
                self.write_final_observations();
            }
            for i in 0..n {
                self.steps[i] = if self.ended[i] { 0 } else { self.steps[i] + 1 };
            }
            if self.keep_final {
                self.record_agents();
            }
            Ok(())
        })
    }

    /// Environment `i`'s current level as text.
    fn ansi(&self, i: usize) -> PyResult<String> {
        self.check_index(i)?;
        Ok(self.envs.level(i).to_text())
    }

    /// Environment `i`'s current level as an RGB array.
    #[pyo3(signature = (i, tile = 16))]
    fn rgb<'py>(&self, py: Python<'py>, i: usize, tile: u32) -> PyResult<Bound<'py, PyArray3<u8>>> {
        self.check_index(i)?;
        if tile == 0 {
            return Err(Failure::user("tile 0: must be at least 1").into());
        }
        rgb_array(py, &self.envs.level(i), tile)
    }

    /// The seed of environment `i`'s `episode`-th episode under `base_seed`: a single `GridEnv`
    /// reset with it replays that episode.
    #[staticmethod]
    fn episode_seed(base_seed: u64, i: usize, episode: u64) -> u64 {
        VecEnv::episode_seed(base_seed, i, episode)
    }

    /// Index of environment `i`'s current episode.
    fn episode(&self, i: usize) -> PyResult<u64> {
        self.check_index(i)?;
        Ok(self.envs.episode(i))
    }
}

impl GridVecEnv {
    fn check_index(&self, i: usize) -> PyResult<()> {
        let n = self.envs.num_envs();
        if i >= n {
            return Err(Failure::user(format!("env {i}: must lie in 0..{n}")).into());
        }
        Ok(())
    }

    fn record_agents(&mut self) {
        for (i, a) in self.agents.iter_mut().enumerate() {
            *a = self.envs.agent(i);
        }
    }

    /// The engine resets an environment in the step that ends its episode; rebuild the ended
    /// episode's last state (its level from its seed, the agent where it stood, the step rule
    /// applied to the action taken) and encode it into the final-observation buffer.
    fn write_final_observations(&mut self) {
        let (h, w) = self.envs.shape();
        let per_env = self.envs.obs_kind().len(h, w);
        let spec = self.envs.spec();
        let config = *self.envs.config();
        for i in 0..self.envs.num_envs() {
            if !self.ended[i] {
                continue;
            }
            let episode = self.envs.episode(i) - 1;
            let seed = VecEnv::episode_seed(self.envs.base_seed(), i, episode);
            let mut level = spec.generate(seed);
            level.set_agent(self.agents[i]);
            config.step(&mut level, self.steps[i], self.actions[i]);
            match self.envs.obs_kind() {
                ObsKind::Compact => obs::write_compact(
                    &level,
                    &mut self.final_compact[i * per_env..(i + 1) * per_env],
                ),
                ObsKind::Planes => obs::write_planes(
                    &level,
                    &obs::cue_field(&level),
                    &mut self.final_planes[i * per_env..(i + 1) * per_env],
                ),
            }
        }
    }
}
