//! Actor-critic networks as plain structs with an explicit `forward`.
//!
//! Both kinds read a channels-last observation batch `[B, H, W, C]` (one-hot planes chosen from the
//! grid's, see [`crate::Plane`]) and end in two linear heads on the last hidden layer: policy
//! logits over the four moves and a scalar state value (a shared trunk, as in CleanRL's Atari PPO).
//!
//! - **CNN**: `conv1 .. convK` (3x3, stride 1, zero padding 1, ReLU; the grid size is kept), then
//!   `fc1 .. fcL` (ReLU) on the flattened map. The default for 9x9 mazes, `conv = [16, 16]`,
//!   `hidden = [36]` on 3 input planes, has 49,645 parameters.
//! - **MLP**: `fc1 .. fcL` (ReLU) on the flattened observation.
//!
//! Every hidden layer's output (after its ReLU) is an *activation site* with a name (`conv1`,
//! `fc1`, ...). [`ActorCritic::forward_hooked`] hands each site's activation to a hook that may
//! record it (capture, probes) or return an edited tensor that the rest of the network then reads
//! (steering, patching); layers before the edited one are untouched by construction.

use candle_core::{DType, Device, Result, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::ops::{affine_relu, conv3x3_relu, matmul};

/// Which trunk a network has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetKind {
    Cnn,
    Mlp,
}

/// The architecture: trunk kind and widths.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetConfig {
    pub kind: NetKind,
    /// Output channels of each 3x3 convolution (ignored by the MLP).
    pub conv: Vec<usize>,
    /// Widths of the fully connected hidden layers.
    pub hidden: Vec<usize>,
}

impl NetConfig {
    /// The default CNN: two 16-channel convolutions and one 36-unit hidden layer.
    pub fn cnn() -> NetConfig {
        NetConfig {
            kind: NetKind::Cnn,
            conv: vec![16, 16],
            hidden: vec![36],
        }
    }

    /// An MLP with two 64-unit hidden layers.
    pub fn mlp() -> NetConfig {
        NetConfig {
            kind: NetKind::Mlp,
            conv: Vec::new(),
            hidden: vec![64, 64],
        }
    }

    /// Names of the activation sites a network of this shape has, input side first: `conv1`, ...
    /// (CNN only), then `fc1`, ...
    pub fn layer_names(&self) -> Vec<String> {
        let convs = if self.kind == NetKind::Cnn {
            self.conv.len()
        } else {
            0
        };
        (1..=convs)
            .map(|i| format!("conv{i}"))
            .chain((1..=self.hidden.len()).map(|i| format!("fc{i}")))
            .collect()
    }

    /// A problem with the widths, as a message.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.kind == NetKind::Cnn && self.conv.is_empty() {
            return Err("a cnn needs at least one convolution (conv = [..])".into());
        }
        if self.hidden.is_empty() {
            return Err("needs at least one hidden layer (hidden = [..])".into());
        }
        if self.conv.iter().chain(&self.hidden).any(|&w| w == 0) {
            return Err("every width must be at least 1".into());
        }
        Ok(())
    }
}

/// The observation a network reads: `height x width` cells with `channels` planes each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputShape {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl InputShape {
    /// Scalars in one observation.
    pub fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A fully connected layer `y = x W + b`, `W: [in, out]`.
#[derive(Clone, Debug)]
struct Dense {
    w: Var,
    b: Var,
}

/// A 3x3 convolution as a matrix over im2col patches: `W: [9 * in, out]`.
#[derive(Clone, Debug)]
struct Conv {
    w: Var,
    b: Var,
    out: usize,
}

#[derive(Clone, Debug)]
enum Layer {
    Conv(Conv),
    Dense(Dense),
}

/// What a forward pass returns: policy logits `[B, 4]` and state values `[B]`.
#[derive(Clone, Debug)]
pub struct Output {
    pub logits: Tensor,
    pub value: Tensor,
}

/// An actor-critic network. See the module docs.
#[derive(Debug)]
pub struct ActorCritic {
    config: NetConfig,
    input: InputShape,
    names: Vec<String>,
    layers: Vec<Layer>,
    policy: Dense,
    value: Dense,
}

/// Number of actions (the four moves).
pub const ACTIONS: usize = 4;

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    // Box-Muller from two uniforms in (0, 1].
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

fn dense(inputs: usize, outputs: usize, gain: f32, rng: &mut ChaCha8Rng) -> Result<Dense> {
    let std = gain / (inputs as f32).sqrt();
    let w: Vec<f32> = (0..inputs * outputs).map(|_| normal(rng) * std).collect();
    Ok(Dense {
        w: Var::from_vec(w, (inputs, outputs), &Device::Cpu)?,
        b: Var::zeros(outputs, DType::F32, &Device::Cpu)?,
    })
}

impl Dense {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        matmul(x, &self.w)?.broadcast_add(&self.b)
    }
}

impl ActorCritic {
    /// A freshly initialised network. Weights are drawn from `N(0, gain^2 / fan_in)` with gain
    /// sqrt(2) in the trunk, 0.01 on the policy head (near-uniform first policy) and 1 on the value
    /// head (CleanRL uses orthogonal matrices with the same gains); biases start at 0. All
    /// randomness comes from `seed`.
    pub fn new(config: &NetConfig, input: InputShape, seed: u64) -> Result<ActorCritic> {
        if let Err(e) = config.check() {
            candle_core::bail!("network config: {e}");
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let gain = std::f32::consts::SQRT_2;
        let mut layers = Vec::new();
        let mut width = match config.kind {
            NetKind::Cnn => {
                let mut cin = input.channels;
                for &out in &config.conv {
                    let d = dense(9 * cin, out, gain, &mut rng)?;
                    layers.push(Layer::Conv(Conv {
                        w: d.w,
                        b: d.b,
                        out,
                    }));
                    cin = out;
                }
                cin * input.height * input.width
            }
            NetKind::Mlp => input.len(),
        };
        for &out in &config.hidden {
            layers.push(Layer::Dense(dense(width, out, gain, &mut rng)?));
            width = out;
        }
        Ok(ActorCritic {
            config: config.clone(),
            input,
            names: config.layer_names(),
            layers,
            policy: dense(width, ACTIONS, 0.01, &mut rng)?,
            value: dense(width, 1, 1.0, &mut rng)?,
        })
    }

    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    pub fn input(&self) -> InputShape {
        self.input
    }

    /// Names of the activation sites, input side first (`conv1`, `conv2`, `fc1`, ...).
    pub fn layer_names(&self) -> &[String] {
        &self.names
    }

    /// Index of a named activation site.
    pub fn layer_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Shape of one sample's activation at site `layer`: `[H, W, C]` for convolutions, `[D]` for
    /// fully connected layers.
    pub fn activation_shape(&self, layer: usize) -> Vec<usize> {
        match &self.layers[layer] {
            Layer::Conv(c) => vec![self.input.height, self.input.width, c.out],
            Layer::Dense(d) => vec![d.b.dims()[0]],
        }
    }

    /// The trainable tensors with their checkpoint names, in a fixed order.
    pub fn params(&self) -> Vec<(String, &Var)> {
        let mut out = Vec::new();
        for (name, layer) in self.names.iter().zip(&self.layers) {
            let (w, b) = match layer {
                Layer::Conv(c) => (&c.w, &c.b),
                Layer::Dense(d) => (&d.w, &d.b),
            };
            out.push((format!("{name}.weight"), w));
            out.push((format!("{name}.bias"), b));
        }
        for (name, d) in [("policy", &self.policy), ("value", &self.value)] {
            out.push((format!("{name}.weight"), &d.w));
            out.push((format!("{name}.bias"), &d.b));
        }
        out
    }

    /// Total number of trainable scalars.
    pub fn num_params(&self) -> usize {
        self.params().iter().map(|(_, v)| v.elem_count()).sum()
    }

    /// Multiply-accumulates of one sample's forward pass (for FLOP accounting: a forward pass is
    /// `2 * macs` FLOPs, forward plus backward about three times that).
    pub fn macs_per_sample(&self) -> usize {
        let cells = self.input.height * self.input.width;
        self.params()
            .iter()
            .filter(|(n, _)| n.ends_with(".weight"))
            .map(|(n, v)| {
                let per = v.elem_count();
                if n.starts_with("conv") {
                    per * cells
                } else {
                    per
                }
            })
            .sum()
    }

    /// A deep copy (fresh storage, so training one does not move the other).
    pub fn deep_clone(&self) -> Result<ActorCritic> {
        let copy = |v: &Var| Var::from_tensor(&v.as_tensor().copy()?);
        let dense = |d: &Dense| -> Result<Dense> {
            Ok(Dense {
                w: copy(&d.w)?,
                b: copy(&d.b)?,
            })
        };
        let layers = self
            .layers
            .iter()
            .map(|l| {
                Ok(match l {
                    Layer::Conv(c) => Layer::Conv(Conv {
                        w: copy(&c.w)?,
                        b: copy(&c.b)?,
                        out: c.out,
                    }),
                    Layer::Dense(d) => Layer::Dense(dense(d)?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ActorCritic {
            config: self.config.clone(),
            input: self.input,
            names: self.names.clone(),
            layers,
            policy: dense(&self.policy)?,
            value: dense(&self.value)?,
        })
    }

    /// Turn a flat batch of observations (`batch * input.len()` floats) into the input tensor.
    pub fn input_tensor(&self, obs: &[f32]) -> Result<Tensor> {
        let per = self.input.len();
        if per == 0 || !obs.len().is_multiple_of(per) {
            candle_core::bail!(
                "observation buffer of {} floats is not a whole number of {per}-float observations",
                obs.len()
            );
        }
        let s = self.input;
        Tensor::from_slice(
            obs,
            (obs.len() / per, s.height, s.width, s.channels),
            &Device::Cpu,
        )
    }

    /// Forward pass on `x: [B, H, W, C]`.
    pub fn forward(&self, x: &Tensor) -> Result<Output> {
        self.forward_hooked(x, &mut |_, a| Ok(a))
    }

    /// Forward pass that hands every activation site's output to `hook(layer_index, activation)`
    /// and continues with what the hook returns (the activation itself to observe, an edited one to
    /// intervene). Convolution activations are `[B, H, W, C]`, fully connected ones `[B, D]`.
    pub fn forward_hooked(
        &self,
        x: &Tensor,
        hook: &mut dyn FnMut(usize, Tensor) -> Result<Tensor>,
    ) -> Result<Output> {
        x.dims4()?;
        let mut a = x.clone();
        for (i, layer) in self.layers.iter().enumerate() {
            a = match layer {
                Layer::Conv(c) => conv3x3_relu(&a, &c.w, &c.b)?,
                // A convolution map is read as [B, H*W*C], row-major.
                Layer::Dense(d) => affine_relu(&a, &d.w, &d.b)?,
            };
            a = hook(i, a)?;
        }
        Ok(Output {
            logits: self.policy.forward(&a)?,
            value: self.value.forward(&a)?.squeeze(1)?,
        })
    }

    /// Replace every parameter by the tensor of the same name in `tensors` (shapes must match).
    pub fn load_params(&self, tensors: &std::collections::HashMap<String, Tensor>) -> Result<()> {
        for (name, var) in self.params() {
            let Some(t) = tensors.get(&name) else {
                candle_core::bail!("checkpoint has no tensor '{name}'");
            };
            if t.dims() != var.dims() {
                candle_core::bail!(
                    "tensor '{name}' has shape {:?}, the network expects {:?}",
                    t.dims(),
                    var.dims()
                );
            }
            var.set(t)?;
        }
        Ok(())
    }
}

/// Log-probabilities of every action, `[B, 4]`, from logits (a stable log-softmax).
pub fn log_softmax(logits: &Tensor) -> Result<Tensor> {
    let max = logits.max_keepdim(1)?;
    let shifted = logits.broadcast_sub(&max)?;
    let lse = shifted.exp()?.sum_keepdim(1)?.log()?;
    shifted.broadcast_sub(&lse)
}

/// Action probabilities per row of a `[B, 4]` logit matrix, computed on the CPU in f64 and
/// returned as f32 (for sampling and reporting).
pub fn probabilities(logits: &Tensor) -> Result<Vec<[f32; ACTIONS]>> {
    let rows = logits.to_vec2::<f32>()?;
    Ok(rows
        .iter()
        .map(|r| {
            let m = r.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let e: Vec<f64> = r.iter().map(|&x| ((x - m) as f64).exp()).collect();
            let s: f64 = e.iter().sum();
            let mut p = [0.0f32; ACTIONS];
            for (o, x) in p.iter_mut().zip(&e) {
                *o = (x / s) as f32;
            }
            p
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_follow_the_shape() {
        assert_eq!(NetConfig::cnn().layer_names(), ["conv1", "conv2", "fc1"]);
        assert_eq!(NetConfig::mlp().layer_names(), ["fc1", "fc2"]);
        // An MLP ignores conv widths.
        let mlp = NetConfig {
            conv: vec![8],
            ..NetConfig::mlp()
        };
        assert_eq!(mlp.layer_names(), ["fc1", "fc2"]);
    }
}
