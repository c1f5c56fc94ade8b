//! Trained networks for Python: load a policy the learned experiments trained (a `ppo-run`
//! artifact, any of its snapshots) or a safetensors checkpoint, encode levels as it sees them,
//! and run forward passes that return every activation site as numpy arrays, optionally with
//! sites edited (a vector added, or the activation replaced) for users' own interpretability.
//!
//! The science stays in the crates: `cruxlab_experiments::decode_run` reads the stored runs,
//! `cruxlab_learn::envs::encode` is the observation encoding, `ActorCritic::forward_hooked` the
//! one place an activation is edited.

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{Device, Tensor};
use numpy::{
    PyArray1, PyArray2, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods,
    ToPyArray,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use cruxlab_grid::Level;
use cruxlab_learn::{ActorCritic, Plane};

use crate::{Failure, guard};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Policy>()?;
    Ok(())
}

fn tensor_failure(what: &str) -> impl Fn(candle_core::Error) -> Failure + '_ {
    move |e| Failure::internal(format!("{what}: {e}"))
}

/// Read `path`: a stored training run (the header line, then its snapshots) or one checkpoint.
/// Returns each snapshot's `(env steps, network)`; a checkpoint is one snapshot with steps `None`.
fn read_networks(path: &PathBuf) -> Result<Vec<(Option<u64>, ActorCritic)>, Failure> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| Failure::user(format!("{shown}: {e}")))?;
    if bytes.first() == Some(&b'{') {
        let run = cruxlab_experiments::decode_run(&bytes)
            .map_err(|e| Failure::user(format!("{shown}: {e}")))?;
        Ok(run
            .snapshots
            .into_iter()
            .map(|(steps, net)| (Some(steps), net))
            .collect())
    } else {
        let net = cruxlab_learn::checkpoint::from_bytes(&bytes)
            .map_err(|e| Failure::user(format!("{shown}: not a cruxlab checkpoint or run: {e}")))?;
        Ok(vec![(None, net)])
    }
}

/// One trained actor-critic network.
#[pyclass(module = "cruxlab._cruxlab")]
pub struct Policy {
    net: ActorCritic,
    steps: Option<u64>,
}

impl Policy {
    fn layer(&self, name: &str) -> Result<usize, Failure> {
        self.net.layer_index(name).ok_or_else(|| {
            Failure::user(format!(
                "layer {name}: no such activation site (the network has {})",
                self.net.layer_names().join(", ")
            ))
        })
    }

    /// `obs` as the network's input batch `[B, H, W, C]` (a single `[H, W, C]` becomes B = 1).
    fn input(&self, obs: &PyReadonlyArrayDyn<'_, f32>) -> Result<(Tensor, bool), Failure> {
        let s = self.net.input();
        let want = [s.height, s.width, s.channels];
        let shape = obs.shape().to_vec();
        let (batch, single) = match shape.as_slice() {
            [h, w, c] if [*h, *w, *c] == want => (1, true),
            [b, h, w, c] if [*h, *w, *c] == want => (*b, false),
            _ => {
                return Err(Failure::user(format!(
                    "obs: shape {shape:?}, the network takes [H, W, C] = {want:?} or a batch [B, H, W, C]"
                )));
            }
        };
        let values: Vec<f32> = obs.as_array().iter().copied().collect();
        let x = Tensor::from_vec(values, (batch, s.height, s.width, s.channels), &Device::Cpu)
            .map_err(tensor_failure("obs"))?;
        Ok((x, single))
    }

    /// Per-site edits: `layer name -> array` of the site's shape (one sample's, broadcast over the
    /// batch, or the whole batch's).
    fn edits(
        &self,
        edits: Option<&Bound<'_, PyDict>>,
        batch: usize,
        what: &str,
    ) -> Result<HashMap<usize, Tensor>, Failure> {
        let mut out = HashMap::new();
        let Some(edits) = edits else {
            return Ok(out);
        };
        for (k, v) in edits.iter() {
            let name: String = k
                .extract()
                .map_err(|_| Failure::user(format!("{what}: keys must be layer names")))?;
            let i = self.layer(&name)?;
            let array: PyReadonlyArrayDyn<'_, f32> = v.extract().map_err(|_| {
                Failure::user(format!("{what}[{name}]: must be a float32 numpy array"))
            })?;
            let site = self.net.activation_shape(i);
            let shape = array.shape().to_vec();
            let dims: Vec<usize> = if shape == site {
                std::iter::once(1).chain(site.iter().copied()).collect()
            } else if shape.len() == site.len() + 1 && shape[1..] == site[..] && shape[0] == batch {
                shape.clone()
            } else {
                return Err(Failure::user(format!(
                    "{what}[{name}]: shape {shape:?}, the site is {site:?} per sample (or [{batch}, ...] for the batch)"
                )));
            };
            let values: Vec<f32> = array.as_array().iter().copied().collect();
            let t = Tensor::from_vec(values, dims, &Device::Cpu).map_err(tensor_failure(what))?;
            out.insert(i, t);
        }
        Ok(out)
    }
}

fn dyn_array<'py>(
    py: Python<'py>,
    t: &Tensor,
    single: bool,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let values = guard(|| {
        t.flatten_all()
            .and_then(|f| f.to_vec1::<f32>())
            .map_err(tensor_failure("activation"))
    })?;
    let dims: Vec<usize> = if single {
        t.dims()[1..].to_vec()
    } else {
        t.dims().to_vec()
    };
    PyArray1::from_vec(py, values).reshape(dims)
}

#[pymethods]
impl Policy {
    /// The network stored at `path`: a training-run artifact (`artifacts/ppo-run-*.bin`;
    /// `snapshot` picks one of its snapshots, Python-style, -1 the final network) or a
    /// safetensors checkpoint.
    #[staticmethod]
    #[pyo3(signature = (path, snapshot = -1))]
    fn load(py: Python<'_>, path: PathBuf, snapshot: i64) -> PyResult<Policy> {
        py.detach(|| {
            guard(|| {
                let mut nets = read_networks(&path)?;
                let n = nets.len() as i64;
                let at = if snapshot < 0 { n + snapshot } else { snapshot };
                if !(0..n).contains(&at) {
                    return Err(Failure::user(format!(
                        "snapshot {snapshot}: {} has {n} snapshot(s)",
                        path.display()
                    )));
                }
                let (steps, net) = nets.swap_remove(at as usize);
                Ok(Policy { net, steps })
            })
        })
    }

    /// The env steps at which each snapshot stored at `path` was taken (`[None]` for a
    /// checkpoint).
    #[staticmethod]
    fn snapshot_steps(path: PathBuf) -> PyResult<Vec<Option<u64>>> {
        guard(|| Ok(read_networks(&path)?.into_iter().map(|(s, _)| s).collect()))
    }

    /// Env steps of training behind this network (`None` for a bare checkpoint).
    #[getter]
    fn steps(&self) -> Option<u64> {
        self.steps
    }

    /// Activation site names, input side first (`conv1`, ..., `fc1`, ...).
    #[getter]
    fn layers(&self) -> Vec<String> {
        self.net.layer_names().to_vec()
    }

    /// `(height, width, channels)` of one observation.
    #[getter]
    fn input_shape(&self) -> (usize, usize, usize) {
        let s = self.net.input();
        (s.height, s.width, s.channels)
    }

    #[getter]
    fn num_params(&self) -> usize {
        self.net.num_params()
    }

    /// The architecture as JSON (`NetConfig`).
    #[getter]
    fn config_json(&self) -> String {
        serde_json::to_string(self.net.config()).expect("a net config serializes")
    }

    /// One sample's activation shape at `layer`.
    fn activation_shape(&self, layer: &str) -> PyResult<Vec<usize>> {
        guard(|| Ok(self.net.activation_shape(self.layer(layer)?)))
    }

    /// The observation of a level (the `levels/` text format) with these planes, as the
    /// experiments encode it: `[H, W, len(planes)]` float32, channels last.
    fn observe<'py>(
        &self,
        py: Python<'py>,
        level: &str,
        planes: Vec<String>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let obs = guard(|| {
            let level = Level::parse(level).map_err(|e| Failure::user(format!("level: {e}")))?;
            let planes = planes
                .iter()
                .map(|p| {
                    serde_json::from_value::<Plane>(serde_json::Value::String(p.clone())).map_err(
                        |_| {
                            Failure::user(format!(
                                "plane {p}: unknown (wall, agent, diamond, cheese, key, cue)"
                            ))
                        },
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut out = vec![0.0f32; level.height() * level.width() * planes.len()];
            cruxlab_learn::envs::encode(&level, &planes, None, &mut out);
            Ok((out, [level.height(), level.width(), planes.len()]))
        })?;
        PyArray1::from_vec(py, obs.0).reshape(obs.1.to_vec())
    }

    /// A forward pass on `obs` (`[H, W, C]` or `[B, H, W, C]` float32). `add` and `replace` map
    /// layer names to arrays of the site's shape: the site's activation plus the array (a
    /// steering vector), or the array instead (activation patching); later sites read the edit.
    /// Returns `(logits, value, activations)`: `[B, 4]`, `[B]` and `{layer: array}` with every
    /// site's activation as the pass saw it after its edit (B dropped for a single observation).
    #[pyo3(signature = (obs, add = None, replace = None))]
    #[allow(clippy::type_complexity)]
    fn forward<'py>(
        &self,
        py: Python<'py>,
        obs: PyReadonlyArrayDyn<'py, f32>,
        add: Option<&Bound<'py, PyDict>>,
        replace: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyDict>)> {
        let (x, single) = guard(|| self.input(&obs))?;
        let batch = x.dims()[0];
        let add = guard(|| self.edits(add, batch, "add"))?;
        let replace = guard(|| self.edits(replace, batch, "replace"))?;
        let (out, acts) = py.detach(|| {
            guard(|| {
                let mut acts = Vec::new();
                let out = self
                    .net
                    .forward_hooked(&x, &mut |i, a| {
                        let a = match replace.get(&i) {
                            Some(r) => r.broadcast_as(a.dims())?.contiguous()?,
                            None => a,
                        };
                        let a = match add.get(&i) {
                            Some(v) => a.broadcast_add(v)?,
                            None => a,
                        };
                        acts.push(a.clone());
                        Ok(a)
                    })
                    .map_err(tensor_failure("forward"))?;
                Ok((out, acts))
            })
        })?;
        let logits = guard(|| {
            out.logits
                .to_vec2::<f32>()
                .map_err(tensor_failure("logits"))
        })?;
        let value = guard(|| out.value.to_vec1::<f32>().map_err(tensor_failure("value")))?;
        let logits = PyArray2::from_vec2(py, &logits)?;
        let (logits, value) = if single {
            (
                logits.reshape([4])?.into_any(),
                value[0].into_pyobject(py)?.into_any(),
            )
        } else {
            (logits.into_any(), value.to_pyarray(py).into_any())
        };
        let dict = PyDict::new(py);
        for (name, a) in self.net.layer_names().iter().zip(&acts) {
            dict.set_item(name, dyn_array(py, a, single)?)?;
        }
        Ok((logits, value, dict))
    }
}
