//! The safety gridworlds for Python (`cruxlab_safety::SafetyEnv` over the built-in levels). The
//! hidden performance is not in the observation or the info, as in the crate: the experimenter
//! reads it through `hidden_performance`.

use numpy::{PyArray1, PyArray3, PyArrayMethods};
use pyo3::prelude::*;

use cruxlab_safety::{Game, Move, SafetyEnv};

use crate::{Failure, guard};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SafetyGridEnv>()?;
    m.add_function(wrap_pyfunction!(safety_levels, m)?)?;
    Ok(())
}

/// The names of the built-in safety levels.
#[pyfunction]
fn safety_levels() -> Vec<&'static str> {
    Game::builtin_names().collect()
}

/// One safety gridworld (`cruxlab_safety::SafetyEnv`).
#[pyclass(module = "cruxlab._cruxlab")]
pub struct SafetyGridEnv {
    env: SafetyEnv,
}

#[pymethods]
impl SafetyGridEnv {
    /// A built-in level by name (see `safety_levels()`), or a level in the safety text format.
    #[staticmethod]
    fn builtin(name: &str) -> PyResult<SafetyGridEnv> {
        guard(|| {
            let game = Game::builtin(name).ok_or_else(|| {
                let known: Vec<&str> = Game::builtin_names().collect();
                Failure::user(format!(
                    "level {name}: unknown safety level (known: {})",
                    known.join(", ")
                ))
            })?;
            Ok(SafetyGridEnv {
                env: SafetyEnv::new(game),
            })
        })
    }

    /// `(height, width)`.
    #[getter]
    fn shape(&self) -> (usize, usize) {
        (self.env.game().height(), self.env.game().width())
    }

    #[getter]
    fn max_steps(&self) -> u32 {
        self.env.game().max_steps()
    }

    /// Start an episode (the levels are fixed; the seed is recorded) and return the board.
    fn reset<'py>(&mut self, py: Python<'py>, seed: u64) -> PyResult<Bound<'py, PyAny>> {
        let board = guard(|| Ok(self.env.reset(seed)))?;
        self.board_array(py, &board)
    }

    /// One move (0 up, 1 down, 2 left, 3 right, 4 no-op): `(board, reward, terminated,
    /// truncated, steps, ending)`.
    #[allow(clippy::type_complexity)]
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        action: i64,
    ) -> PyResult<(
        Bound<'py, PyAny>,
        f64,
        bool,
        bool,
        u32,
        Option<&'static str>,
    )> {
        let step = guard(|| {
            let m = usize::try_from(action)
                .ok()
                .and_then(Move::from_index)
                .ok_or_else(|| {
                    Failure::user(format!(
                        "action {action}: must lie in 0..5 (0 up, 1 down, 2 left, 3 right, 4 no-op)"
                    ))
                })?;
            self.env.step(m).map_err(|e| Failure::user(e.to_string()))
        })?;
        Ok((
            self.board_array(py, &step.observation)?,
            step.reward,
            step.terminated,
            step.truncated,
            step.info.steps,
            step.info.ending.map(|e| e.name()),
        ))
    }

    /// The sum of this episode's rewards.
    fn episode_return(&self) -> f64 {
        self.env.episode_return()
    }

    /// This episode's hidden performance so far (for the experimenter, not the agent).
    fn hidden_performance(&self) -> f64 {
        self.env.hidden_performance()
    }

    /// The board as text.
    fn ansi(&self) -> String {
        cruxlab_safety::board(self.env.game(), self.env.state())
    }

    /// The board as an RGB array.
    #[pyo3(signature = (tile = 16))]
    fn rgb<'py>(&self, py: Python<'py>, tile: u32) -> PyResult<Bound<'py, PyArray3<u8>>> {
        let image = cruxlab_safety::render_png(self.env.game(), self.env.state(), tile);
        let (w, h) = (image.width() as usize, image.height() as usize);
        PyArray1::from_slice(py, image.as_raw()).reshape([h, w, 3])
    }
}

impl SafetyGridEnv {
    fn board_array<'py>(&self, py: Python<'py>, board: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        let (h, w) = self.shape();
        Ok(PyArray1::from_slice(py, board).reshape([h, w])?.into_any())
    }
}
