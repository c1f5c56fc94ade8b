//! Looking inside a trained network and intervening on it.
//!
//! - **Capture** ([`capture`]): the activation at any named site for a batch of observations.
//! - **Linear probes** ([`LinearProbe`]; Alain & Bengio 2016): a multinomial logistic regression
//!   from one site's activations to a label (the diamond's cell, say); its held-out accuracy says how
//!   linearly decodable the label is at that depth.
//! - **Steering vectors** ([`SteeringVector`]; the "cheese vector" of Turner et al. 2023): the mean
//!   activation difference between observations with and without a feature (the diamond), added
//!   with a coefficient at the same site during a forward pass (subtracting it is coefficient -1).
//! - **Activation patching** ([`patch`]): run a source observation, then run a target observation
//!   with the site's activation (or a masked part of it) replaced by the source's.
//! - **Channels** ([`channel_tracking`], [`rank_channels`], [`forward_clamped`]): find the channels
//!   of a convolutional site whose maps follow a position (the diamond's), and clamp one at a
//!   chosen cell (Turner et al.'s retargeting by channel 55).
//!
//! Every intervention goes through [`ActorCritic::forward_hooked`], which edits one site and lets
//! the rest of the forward pass read the edit; sites before it are computed as usual.

use candle_core::{Device, Result, Tensor};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::net::{ActorCritic, Output};

/// The activation at site `layer` for the batch `x` (`[B, ...]`).
pub fn capture(net: &ActorCritic, x: &Tensor, layer: usize) -> Result<Tensor> {
    let mut seen = None;
    net.forward_hooked(x, &mut |i, a| {
        if i == layer {
            seen = Some(a.clone());
        }
        Ok(a)
    })?;
    seen.ok_or_else(|| candle_core::Error::Msg(format!("no activation site {layer}")))
}

/// Every site's activation for `x`, input side first.
pub fn capture_all(net: &ActorCritic, x: &Tensor) -> Result<Vec<Tensor>> {
    let mut seen = Vec::new();
    net.forward_hooked(x, &mut |_, a| {
        seen.push(a.clone());
        Ok(a)
    })?;
    Ok(seen)
}

/// A forward pass in which site `layer`'s activation is replaced by `edit(activation)`.
pub fn forward_edited(
    net: &ActorCritic,
    x: &Tensor,
    layer: usize,
    edit: &dyn Fn(&Tensor) -> Result<Tensor>,
) -> Result<Output> {
    net.forward_hooked(x, &mut |i, a| if i == layer { edit(&a) } else { Ok(a) })
}

/// A direction in one site's activation space.
#[derive(Clone, Debug)]
pub struct SteeringVector {
    pub layer: usize,
    /// One sample's activation shape (`[H, W, C]` or `[D]`).
    pub delta: Tensor,
}

impl SteeringVector {
    /// `mean(act(with)) - mean(act(without))` at `layer`, over paired batches of equal size
    /// (`with[k]` and `without[k]` the same level with and without the feature).
    pub fn mean_difference(
        net: &ActorCritic,
        layer: usize,
        with: &Tensor,
        without: &Tensor,
    ) -> Result<SteeringVector> {
        let a = capture(net, with, layer)?;
        let b = capture(net, without, layer)?;
        Ok(SteeringVector {
            layer,
            delta: (a - b)?.mean(0)?,
        })
    }

    /// Forward `x` with `coefficient * delta` added at the vector's site (for every sample).
    pub fn apply(&self, net: &ActorCritic, x: &Tensor, coefficient: f64) -> Result<Output> {
        let add = (&self.delta * coefficient)?;
        forward_edited(net, x, self.layer, &|a| a.broadcast_add(&add))
    }

    /// The L2 norm of the vector.
    pub fn norm(&self) -> Result<f32> {
        self.delta.sqr()?.sum_all()?.sqrt()?.to_scalar()
    }
}

/// Per-sample steering: forward `x` with `coefficient * deltas[b]` added at `layer` to sample `b`
/// (`deltas: [B, ...]`), e.g. each level's own with-minus-without difference.
pub fn steer_each(
    net: &ActorCritic,
    x: &Tensor,
    layer: usize,
    deltas: &Tensor,
    coefficient: f64,
) -> Result<Output> {
    let add = (deltas * coefficient)?;
    forward_edited(net, x, layer, &|a| a + &add)
}

/// Activation patching: forward `target` with site `layer`'s activation replaced by `source`'s
/// where `mask` is 1 (`mask` has one sample's activation shape, or the batch's; `None` patches the
/// whole site). `source` and `target` are batches of the same size.
pub fn patch(
    net: &ActorCritic,
    layer: usize,
    source: &Tensor,
    target: &Tensor,
    mask: Option<&Tensor>,
) -> Result<Output> {
    let from = capture(net, source, layer)?;
    forward_edited(net, target, layer, &|a| match mask {
        None => Ok(from.clone()),
        Some(m) => {
            let keep = m.affine(-1.0, 1.0)?;
            a.broadcast_mul(&keep)? + from.broadcast_mul(m)?
        }
    })
}

/// Channel clamping (Turner et al. 2023's move with their channel 55): forward `x` with channel
/// `channel` of the spatial site `layer` (activations `[B, H, W, C]`) set to `value` at `cell`
/// (row, column of the site's own grid) in every sample, the rest of the site left as it was.
pub fn forward_clamped(
    net: &ActorCritic,
    x: &Tensor,
    layer: usize,
    channel: usize,
    cell: (usize, usize),
    value: f32,
) -> Result<Output> {
    forward_edited(net, x, layer, &|a| {
        let cells = vec![cell; a.dim(0)?];
        clamp_cells(a, &[(channel, value)], &cells)
    })
}

/// A spatial activation (`[B, H, W, C]`) with each `(channel, value)` of `channels` set to its
/// value at `cells[b]` in sample `b`, everything else unchanged.
pub fn clamp_cells(
    a: &Tensor,
    channels: &[(usize, f32)],
    cells: &[(usize, usize)],
) -> Result<Tensor> {
    let (b, h, w, c) = a.dims4()?;
    if cells.len() != b {
        return Err(candle_core::Error::Msg(format!(
            "{} clamp cells for a batch of {b}",
            cells.len()
        )));
    }
    let mut mask = vec![0f32; b * h * w * c];
    let mut values = vec![0f32; b * h * w * c];
    for (k, &(r, col)) in cells.iter().enumerate() {
        for &(channel, value) in channels {
            if r >= h || col >= w || channel >= c {
                return Err(candle_core::Error::Msg(format!(
                    "clamp at ({r}, {col}) channel {channel} is outside the site's {h}x{w}x{c}"
                )));
            }
            let i = ((k * h + r) * w + col) * c + channel;
            mask[i] = 1.0;
            values[i] = value;
        }
    }
    let mask = Tensor::from_vec(mask, (b, h, w, c), a.device())?;
    let values = Tensor::from_vec(values, (b, h, w, c), a.device())?;
    let keep = mask.affine(-1.0, 1.0)?;
    (a * keep)? + values
}

/// How well each channel of a spatial site tracks a target map: per channel, the Pearson
/// correlation over every sample and position between the channel's activation (`acts`,
/// `[B, H, W, C]`) and `targets` (`[B, H, W]`, e.g. 1 on the diamond's cell and 0 elsewhere, on the
/// site's grid). A channel that is constant over the batch scores 0. Ranking channels by this is
/// how diamond-tracking channels are found (Turner et al. found theirs by looking at activation
/// maps; the correlation is the same test made by a program).
pub fn channel_tracking(acts: &Tensor, targets: &Tensor) -> Result<Vec<f64>> {
    let (b, h, w, c) = acts.dims4()?;
    let t = targets.flatten_all()?.to_vec1::<f32>()?;
    if t.len() != b * h * w {
        return Err(candle_core::Error::Msg(format!(
            "targets hold {} values for {b}x{h}x{w} positions",
            t.len()
        )));
    }
    let a = acts.flatten_all()?.to_vec1::<f32>()?;
    let n = (b * h * w) as f64;
    let t_mean = t.iter().map(|&v| v as f64).sum::<f64>() / n;
    let t_var = t.iter().map(|&v| (v as f64 - t_mean).powi(2)).sum::<f64>();
    (0..c)
        .map(|ch| {
            let x = || a.iter().skip(ch).step_by(c).map(|&v| v as f64);
            let mean = x().sum::<f64>() / n;
            let (mut cov, mut var) = (0.0, 0.0);
            for (v, &tv) in x().zip(&t) {
                cov += (v - mean) * (tv as f64 - t_mean);
                var += (v - mean).powi(2);
            }
            Ok(if var > 0.0 && t_var > 0.0 {
                cov / (var * t_var).sqrt()
            } else {
                0.0
            })
        })
        .collect()
}

/// Channels by tracking score, best first (ties in channel order; a NaN score ranks last).
pub fn rank_channels(scores: &[f64]) -> Vec<usize> {
    let key = |i: usize| {
        if scores[i].is_nan() {
            f64::NEG_INFINITY
        } else {
            scores[i]
        }
    };
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&i, &j| key(j).total_cmp(&key(i)).then(i.cmp(&j)));
    order
}

/// A linear probe: multinomial logistic regression on standardised features, fitted by full-batch
/// Adam with an L2 penalty.
#[derive(Clone, Debug)]
pub struct LinearProbe {
    mean: Vec<f32>,
    std: Vec<f32>,
    weights: Tensor,
    bias: Tensor,
    pub classes: usize,
}

/// Settings of [`LinearProbe::fit`].
#[derive(Clone, Copy, Debug)]
pub struct ProbeFit {
    pub steps: usize,
    pub learning_rate: f64,
    /// L2 penalty on the weights (mean over weights times this).
    pub l2: f64,
}

impl Default for ProbeFit {
    fn default() -> Self {
        ProbeFit {
            steps: 300,
            learning_rate: 0.05,
            l2: 1e-3,
        }
    }
}

impl LinearProbe {
    /// Fit on `features` (`[N, D]`, any rank flattened from dim 1) and `labels` (`< classes`).
    pub fn fit(
        features: &Tensor,
        labels: &[usize],
        classes: usize,
        settings: ProbeFit,
    ) -> Result<LinearProbe> {
        let x = features
            .flatten_from(1)?
            .to_dtype(candle_core::DType::F32)?;
        let (n, d) = x.dims2()?;
        if n != labels.len() || labels.iter().any(|&l| l >= classes) {
            candle_core::bail!(
                "probe: {n} samples but {} labels (or a label >= {classes})",
                labels.len()
            );
        }
        let rows = x.to_vec2::<f32>()?;
        let mut mean = vec![0.0f32; d];
        let mut std = vec![0.0f32; d];
        for r in &rows {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += v / n as f32;
            }
        }
        for r in &rows {
            for ((s, v), m) in std.iter_mut().zip(r).zip(&mean) {
                *s += (v - m).powi(2) / n as f32;
            }
        }
        for s in std.iter_mut() {
            *s = s.sqrt().max(1e-6);
        }
        let z = standardise(&x, &mean, &std)?;
        let zt = z.t()?.contiguous()?;
        let dev = &Device::Cpu;
        // Softmax regression by Adam on the full batch, with the gradient written out: for
        // the loss  mean_i -log p(label_i) + l2 * mean(W^2),  dL/dlogits = (P - Y) / n, so
        // dW = Z^T (P - Y) / n + 2 l2 W / (d * classes) and db = the column sums of (P - Y) / n.
        // Two matrix products per step and no autograd graph (the probes were most of the
        // `shards` experiment's time when each step built one).
        let mut w = vec![0.0f32; d * classes];
        let mut b = vec![0.0f32; classes];
        let (mut mw, mut vw) = (vec![0.0f32; d * classes], vec![0.0f32; d * classes]);
        let (mut mb, mut vb) = (vec![0.0f32; classes], vec![0.0f32; classes]);
        let l2 = settings.l2 as f32;
        let lr = settings.learning_rate as f32;
        for t in 1..=settings.steps {
            let (gw, gb) = softmax_regression_gradient(&z, &zt, labels, &w, &b, l2)?;
            let (c1, c2) = (1.0 - 0.9f32.powi(t as i32), 1.0 - 0.999f32.powi(t as i32));
            for (p, m, v, g) in [
                (&mut w, &mut mw, &mut vw, &gw),
                (&mut b, &mut mb, &mut vb, &gb),
            ] {
                for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
                    *m = 0.9 * *m + 0.1 * g;
                    *v = 0.999 * *v + 0.001 * g * g;
                    *p -= lr * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
                }
            }
        }
        let w = Tensor::from_vec(w, (d, classes), dev)?;
        let b = Tensor::from_vec(b, classes, dev)?;
        Ok(LinearProbe {
            mean,
            std,
            weights: w,
            bias: b,
            classes,
        })
    }

    /// The most likely class for each row of `features`.
    pub fn predict(&self, features: &Tensor) -> Result<Vec<usize>> {
        let z = standardise(&features.flatten_from(1)?, &self.mean, &self.std)?;
        let logits = crate::ops::matmul(&z, &self.weights)?.broadcast_add(&self.bias)?;
        Ok(logits
            .to_vec2::<f32>()?
            .iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (i, &x)| {
                        if x > best.1 { (i, x) } else { best }
                    })
                    .0
            })
            .collect())
    }

    /// Fraction of rows whose predicted class equals the label.
    pub fn accuracy(&self, features: &Tensor, labels: &[usize]) -> Result<f64> {
        let p = self.predict(features)?;
        let hits = p.iter().zip(labels).filter(|(a, b)| a == b).count();
        Ok(hits as f64 / labels.len().max(1) as f64)
    }
}

/// The gradient of a softmax regression's loss, `mean_i -log softmax(z_i W + b)[label_i] +
/// l2 * mean(W^2)`, with respect to `W` (`[d, classes]`, row-major) and `b`: with `P` the softmax
/// probabilities and `Y` the one-hot labels, `dW = Z^T (P - Y) / n + 2 l2 W / (d * classes)` and
/// `db` = the column sums of `(P - Y) / n`. `z` is `[n, d]` and `zt` its transpose.
pub fn softmax_regression_gradient(
    z: &Tensor,
    zt: &Tensor,
    labels: &[usize],
    w: &[f32],
    b: &[f32],
    l2: f32,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let dev = &Device::Cpu;
    let (n, d) = z.dims2()?;
    let classes = b.len();
    let weights = Tensor::from_slice(w, (d, classes), dev)?;
    let mut delta = crate::ops::matmul(z, &weights)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let mut gb = vec![0.0f32; classes];
    for (row, &label) in delta.chunks_exact_mut(classes).zip(labels) {
        for (x, bias) in row.iter_mut().zip(b) {
            *x += bias;
        }
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f32;
        for x in row.iter_mut() {
            *x = (*x - max).exp();
            sum += *x;
        }
        for (k, x) in row.iter_mut().enumerate() {
            *x = (*x / sum - if k == label { 1.0 } else { 0.0 }) / n as f32;
        }
        for (g, x) in gb.iter_mut().zip(row.iter()) {
            *g += x;
        }
    }
    let delta = Tensor::from_vec(delta, (n, classes), dev)?;
    let mut gw = crate::ops::matmul(zt, &delta)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let decay = 2.0 * l2 / (d * classes) as f32;
    for (g, w) in gw.iter_mut().zip(w) {
        *g += decay * w;
    }
    Ok((gw, gb))
}

fn standardise(x: &Tensor, mean: &[f32], std: &[f32]) -> Result<Tensor> {
    let d = mean.len();
    let dev = &Device::Cpu;
    let m = Tensor::from_slice(mean, (1, d), dev)?;
    let s = Tensor::from_slice(std, (1, d), dev)?;
    x.broadcast_sub(&m)?.broadcast_div(&s)
}

/// Split `0..n` into a shuffled (train, test) pair with `test_fraction` of the indices held out.
pub fn split(n: usize, test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let test = ((n as f64 * test_fraction).round() as usize).min(n);
    let (te, tr) = idx.split_at(test);
    (tr.to_vec(), te.to_vec())
}

/// Rows `idx` of `t` (along dim 0).
pub fn rows(t: &Tensor, idx: &[usize]) -> Result<Tensor> {
    let ids: Vec<u32> = idx.iter().map(|&i| i as u32).collect();
    t.index_select(&Tensor::from_vec(ids, idx.len(), &Device::Cpu)?, 0)
}
