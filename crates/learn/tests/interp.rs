#![allow(clippy::needless_range_loop)]
//! Interpretability plumbing: probes recover a planted feature; steering and patching edit exactly
//! the layers they should; a finite-difference gradient check; checkpoints round-trip.

use candle_core::{Device, Tensor};
use cruxlab_learn::interp::{
    LinearProbe, ProbeFit, SteeringVector, capture_all, channel_tracking, clamp_cells,
    forward_clamped, forward_edited, patch, rank_channels, rows, split,
};
use cruxlab_learn::net::log_softmax;
use cruxlab_learn::{ActorCritic, InputShape, Logistic, NetConfig, NetKind, checkpoint};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn tiny_cnn() -> ActorCritic {
    let cfg = NetConfig {
        kind: NetKind::Cnn,
        conv: vec![3, 2],
        hidden: vec![5, 4],
    };
    let input = InputShape {
        height: 4,
        width: 3,
        channels: 2,
    };
    ActorCritic::new(&cfg, input, 11).unwrap()
}

fn batch(n: usize, seed: u64, shape: InputShape) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let v: Vec<f32> = (0..n * shape.len())
        .map(|_| rng.random::<f32>() * 2.0 - 1.0)
        .collect();
    Tensor::from_vec(
        v,
        (n, shape.height, shape.width, shape.channels),
        &Device::Cpu,
    )
    .unwrap()
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

#[test]
fn finite_difference_gradient_check() {
    // d(loss)/d(param) by backprop vs central differences in f64-accumulated f32, on a tiny CNN.
    let net = tiny_cnn();
    let x = batch(3, 1, net.input());
    let loss = |net: &ActorCritic| -> Tensor {
        let out = net.forward(&x).unwrap();
        let lp = log_softmax(&out.logits).unwrap();
        let a = lp.narrow(1, 1, 1).unwrap().sum_all().unwrap();
        let b = out.value.sqr().unwrap().sum_all().unwrap();
        (a + b).unwrap()
    };
    let grads = loss(&net).backward().unwrap();
    let eps = 1e-2f32;
    let mut checked = 0;
    for (name, var) in net.params() {
        let g = values(grads.get(var).unwrap());
        let orig = values(var.as_tensor());
        for j in (0..orig.len()).step_by(7) {
            let mut plus = orig.clone();
            plus[j] += eps;
            var.set(&Tensor::from_vec(plus, var.dims(), &Device::Cpu).unwrap())
                .unwrap();
            let lp: f32 = loss(&net).to_scalar().unwrap();
            let mut minus = orig.clone();
            minus[j] -= eps;
            var.set(&Tensor::from_vec(minus, var.dims(), &Device::Cpu).unwrap())
                .unwrap();
            let lm: f32 = loss(&net).to_scalar().unwrap();
            var.set(&Tensor::from_vec(orig.clone(), var.dims(), &Device::Cpu).unwrap())
                .unwrap();
            let numeric = (lp - lm) / (2.0 * eps);
            let tol = 2e-2 * (1.0 + numeric.abs().max(g[j].abs()));
            assert!(
                (numeric - g[j]).abs() < tol,
                "{name}[{j}]: backprop {} vs finite difference {numeric}",
                g[j]
            );
            checked += 1;
        }
    }
    assert!(checked > 20);
}

#[test]
fn editing_a_layer_changes_exactly_the_layers_after_it() {
    let net = tiny_cnn();
    let x = batch(2, 2, net.input());
    let clean = capture_all(&net, &x).unwrap();
    let clean_out = net.forward(&x).unwrap();
    for layer in 0..net.layer_names().len() {
        let mut seen = Vec::new();
        let out = net
            .forward_hooked(&x, &mut |i, a| {
                let a = if i == layer { (a + 0.5).unwrap() } else { a };
                seen.push(a.clone());
                Ok(a)
            })
            .unwrap();
        for (i, (a, c)) in seen.iter().zip(&clean).enumerate() {
            let same = values(a) == values(c);
            if i < layer {
                assert!(same, "layer {i} before the edit at {layer} changed");
            } else {
                assert!(
                    !same,
                    "layer {i} at or after the edit at {layer} did not change"
                );
            }
        }
        assert_ne!(values(&out.logits), values(&clean_out.logits));
    }
}

#[test]
fn steering_adds_the_mean_difference_at_its_layer() {
    let net = tiny_cnn();
    let with = batch(4, 3, net.input());
    let without = batch(4, 4, net.input());
    let v = SteeringVector::mean_difference(&net, 1, &with, &without).unwrap();
    assert_eq!(v.delta.dims(), &[4, 3, 2]);
    let a = capture_all(&net, &with).unwrap();
    let b = capture_all(&net, &without).unwrap();
    let want = values(&(&a[1] - &b[1]).unwrap().mean(0).unwrap());
    assert_eq!(values(&v.delta), want);
    // Coefficient 0 is the unedited network; the edit equals adding the vector by hand.
    let x = batch(2, 5, net.input());
    assert_eq!(
        values(&v.apply(&net, &x, 0.0).unwrap().logits),
        values(&net.forward(&x).unwrap().logits)
    );
    let by_hand = forward_edited(&net, &x, 1, &|a| a.broadcast_add(&(&v.delta * 2.0)?)).unwrap();
    assert_eq!(
        values(&v.apply(&net, &x, 2.0).unwrap().logits),
        values(&by_hand.logits)
    );
}

#[test]
fn patching_copies_the_source_activation() {
    let net = tiny_cnn();
    let source = batch(2, 6, net.input());
    let target = batch(2, 7, net.input());
    // Patching a whole site makes everything downstream equal to the source run.
    let last = net.layer_names().len() - 1;
    for layer in 0..=last {
        let out = patch(&net, layer, &source, &target, None).unwrap();
        assert_eq!(
            values(&out.logits),
            values(&net.forward(&source).unwrap().logits)
        );
    }
    // A mask of zeros patches nothing; a partial mask changes the output but leaves earlier sites.
    let zeros = Tensor::zeros((4, 3, 2), candle_core::DType::F32, &Device::Cpu).unwrap();
    let out = patch(&net, 1, &source, &target, Some(&zeros)).unwrap();
    assert_eq!(
        values(&out.logits),
        values(&net.forward(&target).unwrap().logits)
    );
    let mut m = vec![0.0f32; 24];
    m[0] = 1.0;
    let mask = Tensor::from_vec(m, (4, 3, 2), &Device::Cpu).unwrap();
    let mut seen = Vec::new();
    let from = capture_all(&net, &source).unwrap();
    let clean = capture_all(&net, &target).unwrap();
    net.forward_hooked(&target, &mut |i, a| {
        let a = if i == 1 {
            let keep = mask.affine(-1.0, 1.0)?;
            (a.broadcast_mul(&keep)? + from[1].broadcast_mul(&mask)?)?
        } else {
            a
        };
        seen.push(a.clone());
        Ok(a)
    })
    .unwrap();
    assert_eq!(values(&seen[0]), values(&clean[0]));
    let patched = values(&seen[1]);
    let (src, tgt) = (values(&from[1]), values(&clean[1]));
    // Element 0 of each sample comes from the source, the rest from the target.
    for (k, v) in patched.iter().enumerate() {
        let want = if k % 24 == 0 { src[k] } else { tgt[k] };
        assert_eq!(*v, want, "element {k}");
    }
}

#[test]
fn a_probe_recovers_a_planted_linear_feature() {
    // 400 samples of 30 noise features; the label is which of 3 planted directions was added.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (n, d, k) = (400, 30, 3);
    let dirs: Vec<Vec<f32>> = (0..k)
        .map(|_| (0..d).map(|_| rng.random::<f32>() - 0.5).collect())
        .collect();
    let mut x = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..n {
        let l = rng.random_range(0..k);
        labels.push(l);
        for j in 0..d {
            x.push(rng.random::<f32>() - 0.5 + 1.5 * dirs[l][j]);
        }
    }
    let x = Tensor::from_vec(x, (n, d), &Device::Cpu).unwrap();
    let (train, test) = split(n, 0.25, 1);
    let lab = |idx: &[usize]| idx.iter().map(|&i| labels[i]).collect::<Vec<_>>();
    let probe = LinearProbe::fit(
        &rows(&x, &train).unwrap(),
        &lab(&train),
        k,
        ProbeFit::default(),
    )
    .unwrap();
    let acc = probe
        .accuracy(&rows(&x, &test).unwrap(), &lab(&test))
        .unwrap();
    assert!(acc > 0.9, "held-out accuracy {acc}");
    // Shuffled labels carry no signal: held-out accuracy near chance.
    let mut shuffled = labels.clone();
    for i in (1..n).rev() {
        shuffled.swap(i, rng.random_range(0..=i));
    }
    let lab2 = |idx: &[usize]| idx.iter().map(|&i| shuffled[i]).collect::<Vec<_>>();
    let probe = LinearProbe::fit(
        &rows(&x, &train).unwrap(),
        &lab2(&train),
        k,
        ProbeFit::default(),
    )
    .unwrap();
    let acc = probe
        .accuracy(&rows(&x, &test).unwrap(), &lab2(&test))
        .unwrap();
    assert!(acc < 0.55, "shuffled-label accuracy {acc}");
}

#[test]
fn logistic_regression_recovers_coefficients() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..2000 {
        let a: f64 = rng.random::<f64>() * 2.0 - 1.0;
        let b: f64 = rng.random::<f64>() * 2.0 - 1.0;
        let p = 1.0 / (1.0 + (-(0.5 + 3.0 * a - 2.0 * b)).exp());
        y.push(rng.random::<f64>() < p);
        x.push(vec![a, b]);
    }
    let m = Logistic::fit(&x, &y, 0.0).unwrap();
    // Standardised coefficients: raw coefficient times the feature's std (1/sqrt(3) for U(-1, 1)).
    let s = 1.0 / 3f64.sqrt();
    assert!(
        (m.coefficients[1] - 3.0 * s).abs() < 0.25,
        "{:?}",
        m.coefficients
    );
    assert!(
        (m.coefficients[2] + 2.0 * s).abs() < 0.25,
        "{:?}",
        m.coefficients
    );
    assert!(m.accuracy(&x, &y) > 0.7);
}

#[test]
fn checkpoints_round_trip() {
    let net = tiny_cnn();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    checkpoint::save(&net, &path).unwrap();
    let back = checkpoint::load(&path).unwrap();
    assert_eq!(back.config(), net.config());
    let x = batch(2, 8, net.input());
    assert_eq!(
        values(&back.forward(&x).unwrap().logits),
        values(&net.forward(&x).unwrap().logits)
    );
    assert!(checkpoint::to_bytes(&back).unwrap() == checkpoint::to_bytes(&net).unwrap());
}

/// Turner et al.'s cheese vector is built at a maze's initial observation and applied elsewhere in
/// the same maze. Built at the very state it is applied to, subtracting it is exactly removing the
/// diamond from the input (`a - (a - b) = b` at the site, and the rest of the pass is the same
/// function of it); applied at another state of the same maze it is not (the ReLU gating and the
/// agent's position interact with the diamond's contribution).
#[test]
fn a_vector_from_the_initial_observation_is_not_an_ablation_elsewhere() {
    use cruxlab_grid::{ObjectKind, Pos};
    use cruxlab_learn::interp::capture;
    use cruxlab_learn::rollout::observe;
    use cruxlab_learn::{CornerMazes, Plane};
    let dist = CornerMazes::fixed(9, 1, 0.0);
    let planes = [Plane::Wall, Plane::Agent, Plane::Diamond];
    let level = dist.test_level(5);
    let input = InputShape {
        height: 9,
        width: 9,
        channels: 3,
    };
    for (cfg, layer) in [(NetConfig::mlp(), 1), (NetConfig::cnn(), 1)] {
        let net = ActorCritic::new(&cfg, input, 3).unwrap();
        let x = |l: &cruxlab_grid::Level| {
            net.input_tensor(&observe(std::slice::from_ref(l), &planes))
                .unwrap()
        };
        let mut empty = level.clone();
        empty.remove_objects(ObjectKind::Diamond);
        let act = |l: &cruxlab_grid::Level| capture(&net, &x(l), layer).unwrap();
        let v = (act(&level) - act(&empty)).unwrap();
        // Another state of maze A: the agent on a different floor cell.
        let diamond = level.first_of(ObjectKind::Diamond).unwrap();
        let other = (0..level.cells())
            .map(|i| level.pos(i))
            .filter(|&p| !level.is_wall(p) && p != level.agent() && p != diamond)
            .max_by_key(|&p: &Pos| {
                p.row.abs_diff(level.agent().row) + p.col.abs_diff(level.agent().col)
            })
            .unwrap();
        let (mut moved, mut moved_empty) = (level.clone(), empty.clone());
        moved.set_agent(other);
        moved_empty.set_agent(other);
        let steered = (act(&moved) - &v).unwrap();
        let ablated = act(&moved_empty);
        let gap = values(&(&steered - &ablated).unwrap().abs().unwrap())
            .into_iter()
            .fold(0.0f32, f32::max);
        assert!(
            gap > 1e-3,
            "{:?}: steering elsewhere equals ablation (gap {gap})",
            cfg.kind
        );
        // Built at the state it is applied to, it is the ablation (to rounding).
        let same = (act(&level) - &v).unwrap();
        let gap_same = values(&(&same - &act(&empty)).unwrap().abs().unwrap())
            .into_iter()
            .fold(0.0f32, f32::max);
        assert!(gap_same < 1e-5, "{:?}: {gap_same}", cfg.kind);
    }
}

#[test]
fn the_probe_gradient_matches_finite_differences() {
    // n = 5 samples, d = 3 features, 4 classes; the loss in f64 by plain loops.
    let (n, d, c) = (5, 3, 4);
    let z: Vec<f32> = (0..n * d)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) / 4.0)
        .collect();
    let labels = [0usize, 3, 1, 1, 2];
    let w: Vec<f32> = (0..d * c)
        .map(|i| ((i * 5 % 9) as f32 - 4.0) / 10.0)
        .collect();
    let b = vec![0.1f32, -0.2, 0.05, 0.0];
    let l2 = 0.3f32;
    let loss = |w: &[f64], b: &[f64]| {
        let mut total = 0.0;
        for i in 0..n {
            let logits: Vec<f64> = (0..c)
                .map(|k| {
                    b[k] + (0..d)
                        .map(|j| z[i * d + j] as f64 * w[j * c + k])
                        .sum::<f64>()
                })
                .collect();
            let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = max + logits.iter().map(|x| (x - max).exp()).sum::<f64>().ln();
            total += lse - logits[labels[i]];
        }
        total / n as f64 + l2 as f64 * w.iter().map(|x| x * x).sum::<f64>() / (d * c) as f64
    };
    let zt = Tensor::from_slice(&z, (n, d), &Device::Cpu).unwrap();
    let (gw, gb) = cruxlab_learn::interp::softmax_regression_gradient(
        &zt,
        &zt.t().unwrap().contiguous().unwrap(),
        &labels,
        &w,
        &b,
        l2,
    )
    .unwrap();
    let w64: Vec<f64> = w.iter().map(|&x| x as f64).collect();
    let b64: Vec<f64> = b.iter().map(|&x| x as f64).collect();
    let h = 1e-6;
    for j in 0..d * c {
        let (mut up, mut down) = (w64.clone(), w64.clone());
        up[j] += h;
        down[j] -= h;
        let numeric = (loss(&up, &b64) - loss(&down, &b64)) / (2.0 * h);
        assert!(
            (gw[j] as f64 - numeric).abs() < 1e-4,
            "dW[{j}]: {} vs {numeric}",
            gw[j]
        );
    }
    for k in 0..c {
        let (mut up, mut down) = (b64.clone(), b64.clone());
        up[k] += h;
        down[k] -= h;
        let numeric = (loss(&w64, &up) - loss(&w64, &down)) / (2.0 * h);
        assert!(
            (gb[k] as f64 - numeric).abs() < 1e-4,
            "db[{k}]: {} vs {numeric}",
            gb[k]
        );
    }
}

#[test]
fn clamping_changes_one_entry_and_only_its_receptive_field_downstream() {
    // The tiny CNN's first two sites are 3x3 convolutions (same padding) on a 4x3 grid. Clamping
    // channel 1 of site 0 at (2, 1) changes exactly that entry there, nothing before, and at
    // site 1 only the cells within one step of (2, 1).
    let net = tiny_cnn();
    let x = batch(3, 5, net.input());
    let before = capture_all(&net, &x).unwrap();
    let mut after = Vec::new();
    net.forward_hooked(&x, &mut |i, a| {
        let a = if i == 0 { after_first(&a) } else { a };
        after.push(a.clone());
        Ok(a)
    })
    .unwrap();
    // The library's clamp gives the same forward pass as the hand-built edit, and a different one
    // from the unedited pass.
    let clamped = forward_clamped(&net, &x, 0, 1, (2, 1), 7.5).unwrap();
    let by_hand = forward_edited(&net, &x, 0, &|a| Ok(after_first(a))).unwrap();
    let unedited = net.forward(&x).unwrap();
    assert_eq!(values(&clamped.logits), values(&by_hand.logits));
    assert_ne!(values(&clamped.logits), values(&unedited.logits));
    let (b0, a0) = (values(&before[0]), values(&after[0]));
    for (k, (u, v)) in b0.iter().zip(&a0).enumerate() {
        let (cell, ch) = ((k / 3) % 12, k % 3);
        if cell == 2 * 3 + 1 && ch == 1 {
            assert_eq!(*v, 7.5);
        } else {
            assert_eq!(u, v, "site 0 entry {k}");
        }
    }
    let (b1, a1) = (values(&before[1]), values(&after[1]));
    let c1 = 2; // the second conv's channels
    let mut changed_near = 0;
    for (k, (u, v)) in b1.iter().zip(&a1).enumerate() {
        let cell = (k / c1) % 12;
        let (r, c) = (cell / 3, cell % 3);
        let near = r.abs_diff(2) <= 1 && c.abs_diff(1) <= 1;
        if !near {
            assert_eq!(
                u, v,
                "site 1 entry {k} at ({r}, {c}) lies outside the receptive field"
            );
        } else if u != v {
            changed_near += 1;
        }
    }
    assert!(changed_near > 0, "the clamp reaches the next layer");
    // Out of range is an error, not a panic.
    assert!(forward_clamped(&net, &x, 0, 9, (0, 0), 1.0).is_err());
}

#[test]
fn clamping_several_channels_sets_each_and_nothing_else() {
    // Channels 0 and 2 of site 0 (4x3 grid, 3 channels) at a different cell per sample, each to
    // its own value; every other entry keeps its value.
    let net = tiny_cnn();
    let x = batch(2, 9, net.input());
    let a = capture_all(&net, &x).unwrap().remove(0);
    let cells = [(0, 2), (3, 0)];
    let clamped = clamp_cells(&a, &[(0, -1.5), (2, 4.0)], &cells).unwrap();
    let (u, v) = (values(&a), values(&clamped));
    for (k, (before, after)) in u.iter().zip(&v).enumerate() {
        let (sample, cell, ch) = (k / 36, (k / 3) % 12, k % 3);
        let (r, c) = cells[sample];
        match (cell == r * 3 + c, ch) {
            (true, 0) => assert_eq!(*after, -1.5),
            (true, 2) => assert_eq!(*after, 4.0),
            _ => assert_eq!(before, after, "entry {k}"),
        }
    }
    assert!(clamp_cells(&a, &[(0, 1.0), (3, 1.0)], &cells).is_err());
    assert!(clamp_cells(&a, &[(0, 1.0)], &cells[..1]).is_err());
}

/// The hand-built clamp of the test above (channel 1 at (2, 1) of a 4x3x3 site set to 7.5).
fn after_first(a: &Tensor) -> Tensor {
    let mut m = vec![0f32; 4 * 3 * 3];
    m[(2 * 3 + 1) * 3 + 1] = 1.0;
    let m = Tensor::from_vec(m, (4, 3, 3), &Device::Cpu).unwrap();
    let keep = m.affine(-1.0, 1.0).unwrap();
    (a.broadcast_mul(&keep).unwrap() + m.affine(7.5, 0.0).unwrap().broadcast_as(a.shape()).unwrap())
        .unwrap()
}

#[test]
fn the_channel_finder_recovers_a_planted_channel() {
    // Activations of 64 samples on a 5x5 grid with 8 channels of noise; channel 5 carries the
    // target map (1 on one cell per sample) plus noise of the same size. It must rank first, and
    // a constant channel must score 0.
    let (b, h, w, c) = (64usize, 5usize, 5usize, 8usize);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut targets = vec![0f32; b * h * w];
    for s in 0..b {
        targets[s * h * w + rng.random_range(0..h * w)] = 1.0;
    }
    let mut acts = vec![0f32; b * h * w * c];
    for p in 0..b * h * w {
        for ch in 0..c {
            acts[p * c + ch] = match ch {
                5 => targets[p] + 0.5 * (rng.random::<f32>() - 0.5),
                7 => 0.25,
                _ => rng.random::<f32>(),
            };
        }
    }
    let acts = Tensor::from_vec(acts, (b, h, w, c), &Device::Cpu).unwrap();
    let targets = Tensor::from_vec(targets, (b, h, w), &Device::Cpu).unwrap();
    let scores = channel_tracking(&acts, &targets).unwrap();
    assert_eq!(rank_channels(&scores)[0], 5, "{scores:?}");
    assert_eq!(rank_channels(&[0.1, f64::NAN, 0.3]), [2, 0, 1]);
    assert!(scores[5] > 0.8, "{scores:?}");
    assert_eq!(scores[7], 0.0);
    for ch in [0, 1, 2, 3, 4, 6] {
        assert!(scores[ch].abs() < 0.2, "channel {ch}: {}", scores[ch]);
    }
}
