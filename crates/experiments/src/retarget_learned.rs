//! # Crux 2b: can a learned agent's target be moved by editing its activations?
//!
//! **Question.** `retarget` asked whether explicit search can be pointed at a new target. Here the
//! agent is a trained network (the `misgeneralize` setup: PPO on mazes with the diamond in the
//! top-right corner region) and the handle is its activations. Turner et al. (2023) subtracted a
//! "cheese vector" from one layer of a maze policy and saw P(cheese) at decision squares fall from a
//! median 0.81 to 0.03, and moved the policy's target by clamping one channel. We test both moves on
//! our agents, next to explicit search on the same levels.
//!
//! **Model.** One condition per `method` (and, for `steer`, per site in `steer_layers` and
//! coefficient in `steer_coefficients`), all units of a seed reading the same trained policy (the
//! run is shared, see `learned`) and the same levels:
//! - `steer`, Turner et al.'s cheese vector as their code (procgen-tools) builds and applies it:
//!   for each test level (diamond and agent outside the region), the activation at the site for
//!   the maze's *initial* observation (the agent on its start cell) with the diamond, minus the
//!   same observation without it. That maze's vector, times the coefficient, is added (a) at the
//!   maze's decision square (the agent moved there, the diamond present) to read P(diamond
//!   branch), and (b) at every forward pass of an episode played from the start, to read whether
//!   the agent reaches the diamond. Levels whose decision square is the start cell are left out of
//!   (a): there the vector would be built at the state it is applied to. Beside it, two
//!   references: one mean vector over `calibration_levels` other mazes' initial observations
//!   (does one vector transfer?), and the ablation "diamond removed from the input", which is what
//!   subtracting a vector built at the very state it is applied to amounts to (`a - (a - b) = b`;
//!   an earlier version of this experiment reported that as the cheese vector).
//! - Retargeting. On test levels with the diamond removed, a target square `s` is drawn outside the
//!   region; an episode succeeds if the agent steps on `s` within the step limit. `edit`: at every
//!   step a location vector `v_s` is added at `layer`, `v_s` being the mean over calibration levels
//!   of the activation with a diamond at `s` minus the activation with no diamond (a direction
//!   learned from other mazes, not this one); `none`: no edit (how often the agent wanders onto `s`
//!   anyway); `real`: a diamond actually placed on `s` (the policy's own competence at that
//!   square); `astar` and `bfs`: the planners of `retarget`, built for the new target (Manhattan
//!   heuristic re-derived; blind), with `planner_budget` expansions per decision. The quick
//!   config edits at `fc2`, not `fc1`: for an MLP, `fc1 = ReLU(Wx + b)` of the one-hot input, so
//!   a "diamond at s" difference there is close to drawing a diamond into the observation.
//!
//! `patch`, per site of `steer_layers`: each test maze against the same maze with its diamond
//! moved to another floor cell drawn from the seed, both seen from the agent's start; the moved
//! maze's activation at the site is patched into the original's pass. Restoration, per pair where
//! moving the diamond raises the moved maze's preferred action's probability by more than 0.1:
//! `(P_patched - P_original) / (P_moved - P_original)` on that action (1: the patched part
//! carries all of what the diamond's position changes; 0: none of it). The whole site restores 1
//! by construction (the network is sequential); one channel or unit at a time, and at a
//! convolution the two diamond cells alone, are what can tell where the target is carried.
//!
//! **Metrics.** `reach` (success rate), `reach_near` / `reach_mid` / `reach_far` by the corridor
//! distance of `s` from the corner cell (cut at `distance_bins`), `reach_near_far_gap` (near minus
//! far), `steps` on success, and, in `edit` units, `achievable_gain_fraction`: (edit - none) /
//! (real - none), the share of the gain a real diamond on the square brings that the edit brings
//! (the three play the same levels with the same action-sampling streams; with `greedy = true`
//! every episode plays the most probable action instead of sampling). For `steer`: medians
//! over decision squares of P(diamond branch) unedited (`p_diamond_base_median`), with the maze's
//! vector (`_steered_`), with the mean vector (`_mean_vector_`) and with the diamond removed
//! (`_removed_`), their differences from unedited (`steer_effect_median`,
//! `mean_vector_effect_median`, `removed_effect_median`); the diamond-reaching rate of episodes
//! from the start unedited and steered (`reach_diamond_base`, `reach_diamond_steered`,
//! `steer_effect_reach`); the mean norm of the per-maze vectors and the number of decision squares.
//! For `patch`: `patch_pairs` (informative pairs), `patch_best_channel_restoration` (the
//! restoration, median over pairs, of the one channel or unit whose patch alone restores the
//! most) and, at a convolution, `patch_cells_restoration` (every channel, at the two
//! diamond cells only).
//!
//! **Claims** (the framework's rule: a Student-t 95% CI over seeds against the threshold; each
//! declared when the methods it reads are swept; the steering claims read the first site and the
//! first coefficient listed, the rest of the sweep is context):
//! - `cheese-vector-steers`: `steer_effect_median` below 0 with a margin of 0.05 for a negative
//!   coefficient (above, for a positive one). Turner et al.: 0.81 -> 0.03 at coefficient -1.
//! - `cheese-vector-steers-episodes`: the same for `steer_effect_reach`.
//! - `mean-vector-transfers`: the same for `mean_vector_effect_median`.
//! - `edit-moves-agent`: `reach` at `edit` minus at `none` above 0 with a margin of 0.05.
//! - `edit-matches-search`: `reach` at `edit` minus at `astar` above -0.1 (non-inferiority).
//! - `edit-weaker-far`: `reach_near_far_gap` at `edit` minus at `none` (the edit's gain near minus
//!   its gain far) above 0 with a margin of 0.05.
//! - `clamp-moves-agent` (CNN only, so in the full config): `reach` at `clamp` minus at `none` above
//!   0 with a margin of 0.05. `clamp` finds the channel of `clamp_layer` whose map correlates best
//!   with the diamond's one-hot cell over the calibration levels (`clamp_channel_score`, the
//!   Pearson correlation) and, at every step, sets it at the target square to `clamp_scale` times
//!   the largest value it reaches there (Turner et al. clamped their channel 55 the same way);
//!   with `clamp_channels` K > 1 the K best-tracking channels are clamped together, each at its
//!   own largest value times `clamp_scale`.
//!
//! **Controls** (`cruxlab audit retarget-learned`): `region=1, p_anywhere=0.0` (the corner-only
//! policy, which ignores the diamond, so no diamond edit should move it; inside `suite` it is
//! misgeneralize's policy, already trained; the region is set too, so that a run of Turner's arm,
//! region 5 with no anywhere-levels, gets the corner-only policy as its control, not itself) for
//! the steering and editing claims; `planner_budget=1` (search held to one expansion per decision)
//! for `edit-matches-search`.

use candle_core::Tensor;
use cruxlab_agents::{AgentKind, play};
use cruxlab_core::{Claim, Control, Direction, Effect, Experiment, PlotSpec, VerdictKind, at};
use cruxlab_grid::{DistanceField, Level, ObjectKind, Pos};
use cruxlab_learn::interp::{
    SteeringVector, capture, channel_tracking, clamp_cells, forward_edited, patch as interp_patch,
    rank_channels,
};
use cruxlab_learn::rollout::{Play, observe, rollout};
use cruxlab_learn::{ActorCritic, CornerMazes, net::probabilities};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::learned::{TrainSetup, build_run, decision_square, mean, median, run_key, trained};
use crate::seeding::derive_seed;

/// The channels a clamp sets, with their values, and the best one's tracking score.
struct Tracked {
    channels: Vec<(usize, f32)>,
    best_score: f64,
}

pub struct RetargetLearned;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub seeds: u64,
    pub master_seed: u64,
    /// Training region side (the policy is the one `misgeneralize` trains for this region).
    pub region: usize,
    pub p_anywhere: f64,
    /// Methods compared (conditions): steer, edit, none, real, astar, bfs.
    pub methods: Vec<Method>,
    /// Activation site of the location-vector edit (`fc1`, `fc2`, `conv1`, ...).
    pub layer: String,
    /// Sites the steering vector is built and added at (one `steer` condition per site and
    /// coefficient); the steering claims read the first site.
    pub steer_layers: Vec<String>,
    /// Coefficients the steering vector is added with (-1: subtracted, Turner et al.'s default);
    /// the steering claims read the first.
    pub steer_coefficients: Vec<f64>,
    /// Levels used to compute steering and location vectors (separate from the test levels).
    pub calibration_levels: usize,
    /// Test levels per seed (retargeting).
    pub eval_levels: usize,
    /// Test levels per seed for steering (only those with a decision square away from the start
    /// count at decision squares: about one in eight of 7x7 mazes).
    pub steer_levels: usize,
    /// Corridor distances from the corner that separate near / mid / far target squares.
    pub distance_bins: Vec<u32>,
    /// Per-decision expansion budget of the planners.
    pub planner_budget: u64,
    /// `clamp` only: the convolutional site whose channel is clamped (`conv1`, `conv2`, ...).
    pub clamp_layer: String,
    /// `clamp` only: the clamped value, in units of the largest activation the channel reaches
    /// on the calibration levels.
    pub clamp_scale: f64,
    /// `clamp` only: how many of the most diamond-tracking channels are clamped together, each
    /// at `clamp_scale` times its own largest activation.
    pub clamp_channels: usize,
    /// Play every episode greedily (the most probable action at every step) instead of sampling
    /// actions from the policy, as training does.
    pub greedy: bool,
    pub train: TrainSetup,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Condition {
    pub method: Method,
    /// `steer` only: the site the vector is built and added at.
    pub layer: Option<String>,
    /// `steer` only: the coefficient it is added with.
    pub coefficient: Option<f64>,
}

/// How a unit tries to move the agent to a new square (a typo in the config names the key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Steering vectors at decision squares (measures P(diamond branch), not reaching).
    Steer,
    /// The learned policy with a location vector added at `layer`.
    Edit,
    /// The learned policy, unedited.
    None,
    /// The learned policy with a real diamond drawn on the square.
    Real,
    /// A* with the Manhattan heuristic, retargeted to the square.
    Astar,
    /// Breadth-first search, retargeted to the square.
    Bfs,
    /// The learned policy with its `clamp_channels` most diamond-tracking channels at
    /// `clamp_layer` clamped high on the square (CNN only).
    Clamp,
    /// Activation patching between two versions of a maze that differ only in the diamond's
    /// position, at each site of `steer_layers` (whole site, and channel by channel).
    Patch,
}

const METHODS: [Method; 7] = [
    Method::Steer,
    Method::Edit,
    Method::None,
    Method::Real,
    Method::Astar,
    Method::Bfs,
    Method::Patch,
];

impl Method {
    /// Whether the method reads the trained network.
    fn learned(self) -> bool {
        !matches!(self, Method::Astar | Method::Bfs)
    }
}
/// The retargeting metrics, in the order `reach` emits them. `reach_near_far_gap` is
/// `reach_near - reach_far`: how much more often the agent reaches a near target than a far one.
const REACH: [&str; 8] = [
    "reach",
    "reach_near",
    "reach_mid",
    "reach_far",
    "reach_near_far_gap",
    "steps",
    "achievable_gain_fraction",
    "clamp_channel_score",
];
/// The `patch` method's metrics.
const PATCH: [&str; 3] = [
    "patch_pairs",
    "patch_best_channel_restoration",
    "patch_cells_restoration",
];
const STEER: [&str; 12] = [
    "p_diamond_base_median",
    "p_diamond_steered_median",
    "p_diamond_mean_vector_median",
    "p_diamond_removed_median",
    "steer_effect_median",
    "mean_vector_effect_median",
    "removed_effect_median",
    "reach_diamond_base",
    "reach_diamond_steered",
    "steer_effect_reach",
    "steering_norm",
    "decision_squares",
];

/// The same levels with the diamond taken out.
fn without_diamond(levels: &[Level]) -> Vec<Level> {
    levels
        .iter()
        .map(|l| {
            let mut l = l.clone();
            l.remove_objects(ObjectKind::Diamond);
            l
        })
        .collect()
}

impl RetargetLearned {
    fn net_layer(net: &ActorCritic, name: &str) -> usize {
        net.layer_index(name).expect("validated layer name")
    }

    /// Test levels (diamond and agent outside the region) from stream `set`.
    fn levels(config: &Config, dist: &CornerMazes, seed: u64, set: u64, n: usize) -> Vec<Level> {
        (0..n)
            .map(|i| {
                dist.test_level(derive_seed(
                    config.master_seed,
                    &[seed, 500 + set, i as u64],
                ))
            })
            .collect()
    }

    /// Activation patching at site `layer_name`: each test maze (set 2) against the same maze with
    /// the diamond moved to another floor cell drawn from the seed, both seen from the agent's
    /// start. With the moved maze's activation patched into the original's pass, how much of the
    /// change its own pass makes does the patched pass make? Per pair, on the action the moved
    /// maze's policy prefers, `(P_patched - P_original) / (P_moved - P_original)`, over the pairs
    /// where moving the diamond raises that action's probability by more than 0.1 (the pairs where
    /// the target visibly matters). Patching the whole site restores exactly 1 in a sequential
    /// network, so it is not reported. Reported: the one channel (a convolution's map, every cell)
    /// or unit (a dense layer) whose patch alone restores the most, and at a convolution every
    /// channel patched at the two cells the diamond stands on only.
    fn patching(
        config: &Config,
        net: &ActorCritic,
        dist: &CornerMazes,
        seed: u64,
        layer_name: &str,
    ) -> Vec<(String, f64)> {
        let layer = Self::net_layer(net, layer_name);
        let planes = &config.train.planes;
        let originals = Self::levels(config, dist, seed, 2, config.steer_levels);
        let moved: Vec<Level> = originals
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let diamond = l.first_of(ObjectKind::Diamond);
                let free: Vec<Pos> = (0..l.cells())
                    .map(|k| l.pos(k))
                    .filter(|&p| {
                        !l.is_wall(p)
                            && p != l.agent()
                            && Some(p) != diamond
                            && l.object_at(p).is_none()
                    })
                    .collect();
                let pick = derive_seed(config.master_seed, &[seed, 700, i as u64]);
                let mut m = l.clone();
                m.remove_objects(ObjectKind::Diamond);
                m.place(
                    ObjectKind::Diamond,
                    free[(pick % free.len() as u64) as usize],
                );
                m
            })
            .collect();
        let x = |ls: &[Level]| net.input_tensor(&observe(ls, planes)).expect("input");
        let (xa, xb) = (x(&originals), x(&moved));
        let probs = |logits: &Tensor| probabilities(logits).expect("probabilities");
        let pa = probs(&net.forward(&xa).expect("forward").logits);
        let pb = probs(&net.forward(&xb).expect("forward").logits);
        // The informative pairs and the action each is read on.
        let pairs: Vec<(usize, usize)> = (0..originals.len())
            .filter_map(|i| {
                let a2 = (0..pb[i].len())
                    .max_by(|&u, &v| pb[i][u].total_cmp(&pb[i][v]))
                    .expect("four actions");
                (pb[i][a2] - pa[i][a2] > 0.1).then_some((i, a2))
            })
            .collect();
        let restoration = |mask: Option<&Tensor>| -> f64 {
            if pairs.is_empty() {
                return f64::NAN;
            }
            let out = interp_patch(net, layer, &xb, &xa, mask).expect("patched forward");
            let pp = probs(&out.logits);
            let r: Vec<f64> = pairs
                .iter()
                .map(|&(i, a)| ((pp[i][a] - pa[i][a]) / (pb[i][a] - pa[i][a])) as f64)
                .collect();
            median(&r)
        };
        let shape = net.activation_shape(layer);
        let per_sample: usize = shape.iter().product();
        let device = candle_core::Device::Cpu;
        // One channel (a convolution's map, every cell) or one unit (a dense layer) at a time.
        let channels = *shape.last().expect("a site has a shape");
        let mut best_value = f64::NAN;
        for c in 0..channels {
            let mut mask = vec![0.0f32; per_sample];
            for k in (c..per_sample).step_by(channels) {
                mask[k] = 1.0;
            }
            let mask = Tensor::from_vec(mask, shape.clone(), &device).expect("mask");
            let v = restoration(Some(&mask));
            if best_value.is_nan() || v > best_value {
                best_value = v;
            }
        }
        // A convolution: every channel, but only at the two cells the diamond stands on.
        let mut cells = f64::NAN;
        if let [h, w, ch] = shape[..] {
            let mut mask = vec![0.0f32; originals.len() * per_sample];
            for (i, (l, m)) in originals.iter().zip(&moved).enumerate() {
                for d in [
                    l.first_of(ObjectKind::Diamond),
                    m.first_of(ObjectKind::Diamond),
                ]
                .into_iter()
                .flatten()
                {
                    let at = i * per_sample + (d.row * w + d.col) * ch;
                    mask[at..at + ch].fill(1.0);
                }
            }
            let mask = Tensor::from_vec(mask, (originals.len(), h, w, ch), &device).expect("mask");
            cells = restoration(Some(&mask));
        }
        vec![
            ("patch_pairs".into(), pairs.len() as f64),
            ("patch_best_channel_restoration".into(), best_value),
            ("patch_cells_restoration".into(), cells),
        ]
    }

    /// Turner et al.'s cheese-vector protocol, at site `layer` with `coefficient`.
    ///
    /// For each test level the vector is that maze's *initial* observation (the agent on its
    /// start cell) with the diamond minus the same observation without it, captured at `layer`.
    /// It is then added, times `coefficient`, (a) at the maze's decision square (the agent moved
    /// there, the diamond present; levels whose decision square is the start cell are left out,
    /// since there the vector would be built at the state it is applied to) and (b) at every
    /// forward pass of an episode played from the start. Beside it: the same at one mean vector
    /// over `calibration_levels` other mazes, and the labelled ablation "diamond removed from the
    /// input" (what a vector built at the very state it is applied to, subtracted, amounts to).
    fn steer(
        config: &Config,
        net: &ActorCritic,
        dist: &CornerMazes,
        seed: u64,
        layer_name: &str,
        coefficient: f64,
    ) -> Vec<(String, f64)> {
        let layer = Self::net_layer(net, layer_name);
        let planes = &config.train.planes;
        let x = |ls: &[Level]| net.input_tensor(&observe(ls, planes)).expect("input");
        let per_maze = |ls: &[Level]| -> Tensor {
            let a = capture(net, &x(ls), layer).expect("capture");
            let b = capture(net, &x(&without_diamond(ls)), layer).expect("capture");
            (a - b).expect("difference")
        };
        let calib = Self::levels(config, dist, seed, 0, config.calibration_levels);
        let mean_vector =
            SteeringVector::mean_difference(net, layer, &x(&calib), &x(&without_diamond(&calib)))
                .expect("steering vector");
        let tests = Self::levels(config, dist, seed, 1, config.steer_levels);
        // (b) Episodes from the start, the maze's own vector added at every forward pass.
        let vectors = per_maze(&tests);
        let play = Play {
            target: ObjectKind::Diamond,
            max_steps: config.train.max_steps(),
            planes: planes.clone(),
            seed: derive_seed(config.master_seed, &[seed, 602]),
            greedy: config.greedy,
        };
        let reached = |hook: cruxlab_learn::rollout::Hook<'_>| -> f64 {
            let t = rollout(net, &tests, &play, hook).expect("rollout");
            mean(&t.iter().map(|t| t.success as u8 as f64).collect::<Vec<_>>())
        };
        let add = (&vectors * coefficient).expect("scale");
        let reach_base = reached(&mut |_, a| Ok(a));
        let reach_steered = reached(&mut |i, a| if i == layer { a + &add } else { Ok(a) });
        let norms: Vec<f64> = vectors
            .flatten_from(1)
            .and_then(|v| v.sqr()?.sum(1)?.sqrt()?.to_vec1::<f32>())
            .expect("norms")
            .into_iter()
            .map(f64::from)
            .collect();
        // (a) Decision squares, with the vector of the maze's initial observation.
        let mut keep = Vec::new();
        let mut moved = Vec::new();
        let mut squares = Vec::new();
        for (k, level) in tests.iter().enumerate() {
            if let Some(d) = decision_square(level, dist.corner(level)) {
                if d.square == level.agent() {
                    continue;
                }
                let mut l = level.clone();
                l.set_agent(d.square);
                moved.push(l);
                squares.push(d);
                keep.push(k as u32);
            }
        }
        let mut values = vec![f64::NAN; STEER.len()];
        let mut set = |name: &str, v: f64| {
            let k = STEER
                .iter()
                .position(|m| *m == name)
                .expect("a steer metric");
            values[k] = v;
        };
        set("reach_diamond_base", reach_base);
        set("reach_diamond_steered", reach_steered);
        set("steer_effect_reach", reach_steered - reach_base);
        set("steering_norm", mean(&norms));
        set("decision_squares", moved.len() as f64);
        if !moved.is_empty() {
            let pick = |out: cruxlab_learn::Output| -> Vec<f64> {
                probabilities(&out.logits)
                    .expect("probs")
                    .iter()
                    .zip(&squares)
                    .map(|(p, d)| p[d.to_diamond.index()] as f64)
                    .collect()
            };
            let idx = Tensor::from_vec(keep.clone(), keep.len(), &candle_core::Device::Cpu)
                .expect("index");
            let own = (vectors.index_select(&idx, 0).expect("rows") * coefficient).expect("scale");
            let xm = x(&moved);
            let base = pick(net.forward(&xm).expect("forward"));
            let steered = pick(forward_edited(net, &xm, layer, &|a| a + &own).expect("steer"));
            let shared = pick(mean_vector.apply(net, &xm, coefficient).expect("steer"));
            let removed = pick(net.forward(&x(&without_diamond(&moved))).expect("forward"));
            let b = median(&base);
            set("p_diamond_base_median", b);
            set("p_diamond_steered_median", median(&steered));
            set("p_diamond_mean_vector_median", median(&shared));
            set("p_diamond_removed_median", median(&removed));
            set("steer_effect_median", median(&steered) - b);
            set("mean_vector_effect_median", median(&shared) - b);
            set("removed_effect_median", median(&removed) - b);
        }
        STEER
            .iter()
            .zip(values)
            .map(|(m, v)| (m.to_string(), v))
            .collect()
    }

    /// Retargeting episodes for one method.
    fn reach(
        config: &Config,
        method: Method,
        dist: &CornerMazes,
        seed: u64,
        net: Option<&ActorCritic>,
    ) -> Vec<(String, f64)> {
        // The clamp's channels, found once.
        let tracked = match (method, net) {
            (Method::Clamp, Some(net)) => {
                let layer = Self::net_layer(net, &config.clamp_layer);
                Some(Self::tracking_channels(config, net, dist, seed, layer))
            }
            _ => None,
        };
        let (outcomes, bins) = Self::outcomes(config, method, dist, seed, net, tracked.as_ref());
        let rate_of = |outcomes: &[(bool, u32)]| {
            mean(
                &outcomes
                    .iter()
                    .map(|o| o.0 as u8 as f64)
                    .collect::<Vec<_>>(),
            )
        };
        // The edit's share of the gain a real diamond on the square achieves over no edit (the
        // three methods play the same levels with the same action-sampling streams).
        let gain_fraction = if matches!(method, Method::Edit | Method::Clamp) {
            let none = rate_of(&Self::outcomes(config, Method::None, dist, seed, net, None).0);
            let real = rate_of(&Self::outcomes(config, Method::Real, dist, seed, net, None).0);
            let achievable = real - none;
            if achievable.abs() > 1e-12 {
                (rate_of(&outcomes) - none) / achievable
            } else {
                f64::NAN
            }
        } else {
            f64::NAN
        };
        let rate = |filter: &dyn Fn(usize) -> bool| {
            let xs: Vec<f64> = outcomes
                .iter()
                .enumerate()
                .filter(|(i, _)| filter(bins[*i]))
                .map(|(_, o)| o.0 as u8 as f64)
                .collect();
            mean(&xs)
        };
        let steps: Vec<f64> = outcomes
            .iter()
            .filter(|o| o.0)
            .map(|o| o.1 as f64)
            .collect();
        let (near, far) = (rate(&|b| b == 0), rate(&|b| b == 2));
        let channel_score = tracked.map_or(f64::NAN, |t| t.best_score);
        let values = [
            rate(&|_| true),
            near,
            rate(&|b| b == 1),
            far,
            near - far,
            mean(&steps),
            gain_fraction,
            channel_score,
        ];
        REACH
            .iter()
            .zip(values)
            .map(|(m, v)| (m.to_string(), v))
            .collect()
    }

    /// Each retargeting episode's (success, steps) for one method, and its target's distance bin;
    /// `tracked` is the clamp's channels ([`Self::tracking_channels`]), for `clamp` only.
    fn outcomes(
        config: &Config,
        method: Method,
        dist: &CornerMazes,
        seed: u64,
        net: Option<&ActorCritic>,
        tracked: Option<&Tracked>,
    ) -> (Vec<(bool, u32)>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(config.master_seed, &[seed, 600]));
        let mut levels = Vec::new();
        let mut targets = Vec::new();
        for mut level in Self::levels(config, dist, seed, 2, config.eval_levels) {
            level.remove_objects(ObjectKind::Diamond);
            let region = dist.region_of(&level);
            let cells: Vec<Pos> = (0..level.cells())
                .map(|i| level.pos(i))
                .filter(|&p| !level.is_wall(p) && !region.contains(p) && p != level.agent())
                .collect();
            targets.push(cells[rng.random_range(0..cells.len())]);
            levels.push(level);
        }
        let bins: Vec<usize> = levels
            .iter()
            .zip(&targets)
            .map(|(l, &s)| {
                let d = DistanceField::from_sources(l, [dist.corner(l)])
                    .get(s)
                    .unwrap_or(u32::MAX);
                config
                    .distance_bins
                    .iter()
                    .filter(|&&b| d >= b)
                    .count()
                    .min(2)
            })
            .collect();
        let max_steps = config.train.max_steps();
        let outcomes: Vec<(bool, u32)> = match method {
            Method::Astar | Method::Bfs => {
                let agent = if method == Method::Astar {
                    AgentKind::Astar
                } else {
                    AgentKind::Bfs
                };
                levels
                    .iter()
                    .zip(&targets)
                    .map(|(l, &s)| {
                        let mut l = l.clone();
                        l.place(ObjectKind::Key, s);
                        let mut planner =
                            agent.planner(&l, ObjectKind::Key, Some(config.planner_budget));
                        let ep = play(&l, ObjectKind::Key, &mut planner, max_steps);
                        (ep.success, ep.steps)
                    })
                    .collect()
            }
            _ => {
                let net = net.expect("learned methods have a network");
                let planes = &config.train.planes;
                let layer = Self::net_layer(net, &config.layer);
                let mut play_cfg = Play {
                    target: ObjectKind::Key,
                    max_steps,
                    planes: planes.clone(),
                    seed: derive_seed(config.master_seed, &[seed, 601]),
                    greedy: config.greedy,
                };
                let mut placed = Vec::new();
                for (l, &s) in levels.iter().zip(&targets) {
                    let mut l = l.clone();
                    if method == Method::Real {
                        l.place(ObjectKind::Diamond, s);
                    } else {
                        l.place(ObjectKind::Key, s);
                    }
                    placed.push(l);
                }
                if method == Method::Real {
                    play_cfg.target = ObjectKind::Diamond;
                }
                let trajectories = if method == Method::Edit {
                    let deltas = Self::location_vectors(config, net, dist, seed, layer, &targets);
                    rollout(net, &placed, &play_cfg, &mut |i, a| {
                        if i == layer { a + &deltas } else { Ok(a) }
                    })
                } else if method == Method::Clamp {
                    let site = Self::net_layer(net, &config.clamp_layer);
                    let clamped = &tracked
                        .expect("the clamp's channels are found first")
                        .channels;
                    let cells: Vec<(usize, usize)> =
                        targets.iter().map(|p| (p.row, p.col)).collect();
                    rollout(net, &placed, &play_cfg, &mut |i, a| {
                        if i == site {
                            clamp_cells(&a, clamped, &cells)
                        } else {
                            Ok(a)
                        }
                    })
                } else {
                    rollout(net, &placed, &play_cfg, &mut |_, a| Ok(a))
                }
                .expect("rollout");
                trajectories.iter().map(|t| (t.success, t.steps)).collect()
            }
        };
        (outcomes, bins)
    }

    /// The `clamp_channels` channels of spatial site `layer` whose maps best track the diamond's
    /// cell on the calibration levels (Pearson correlation with the diamond's one-hot map), each
    /// with the value a clamp sets: `clamp_scale` times the largest activation it reaches there.
    fn tracking_channels(
        config: &Config,
        net: &ActorCritic,
        dist: &CornerMazes,
        seed: u64,
        layer: usize,
    ) -> Tracked {
        let calib = Self::levels(config, dist, seed, 3, config.calibration_levels);
        let x = net
            .input_tensor(&observe(&calib, &config.train.planes))
            .expect("input");
        let acts = capture(net, &x, layer).expect("capture");
        let (_, h, w, c) = acts.dims4().expect("a spatial site");
        let mut maps = vec![0f32; calib.len() * h * w];
        for (k, l) in calib.iter().enumerate() {
            for p in l.positions_of(ObjectKind::Diamond) {
                maps[(k * h + p.row) * w + p.col] = 1.0;
            }
        }
        let maps = Tensor::from_vec(maps, (calib.len(), h, w), acts.device()).expect("maps");
        let scores = channel_tracking(&acts, &maps).expect("tracking scores");
        let ranked = rank_channels(&scores);
        let values = acts
            .flatten_all()
            .expect("flat")
            .to_vec1::<f32>()
            .expect("values");
        let channels = ranked
            .iter()
            .take(config.clamp_channels)
            .map(|&channel| {
                let top = values
                    .iter()
                    .skip(channel)
                    .step_by(c)
                    .fold(0f32, |m, &v| m.max(v));
                (channel, top * config.clamp_scale as f32)
            })
            .collect();
        Tracked {
            channels,
            best_score: scores[ranked[0]],
        }
    }

    /// `v_s` for each target square: mean over calibration levels of the activation with a diamond
    /// on `s` minus the activation with no diamond. Returns `[B, ...]`, row `b` for target `b`.
    fn location_vectors(
        config: &Config,
        net: &ActorCritic,
        dist: &CornerMazes,
        seed: u64,
        layer: usize,
        targets: &[Pos],
    ) -> Tensor {
        #![allow(clippy::map_entry)] // the entry would borrow the cache across a long computation
        let planes = &config.train.planes;
        let calib = Self::levels(config, dist, seed, 3, config.calibration_levels);
        let mut empty = Vec::new();
        for l in &calib {
            let mut l = l.clone();
            l.remove_objects(ObjectKind::Diamond);
            empty.push(l);
        }
        let x = |ls: &[Level]| net.input_tensor(&observe(ls, planes)).expect("input");
        let mut cache: std::collections::HashMap<Pos, Tensor> = std::collections::HashMap::new();
        let mut rows = Vec::new();
        for &s in targets {
            if !cache.contains_key(&s) {
                // Only the calibration mazes where `s` is floor (passages differ between mazes).
                // The agent is kept off `s` in both sets, so that the two differ by the diamond only.
                let open: Vec<Level> = empty
                    .iter()
                    .filter(|l| !l.is_wall(s))
                    .map(|l| {
                        let mut l = l.clone();
                        if l.agent() == s {
                            let other = (0..l.cells())
                                .map(|i| l.pos(i))
                                .find(|&p| !l.is_wall(p) && p != s);
                            if let Some(p) = other {
                                l.set_agent(p);
                            }
                        }
                        l
                    })
                    .collect();
                let with: Vec<Level> = open
                    .iter()
                    .map(|l| {
                        let mut l = l.clone();
                        l.place(ObjectKind::Diamond, s);
                        l
                    })
                    .collect();
                let v = if open.is_empty() {
                    let shape = net.activation_shape(layer);
                    Tensor::zeros(shape, candle_core::DType::F32, &candle_core::Device::Cpu)
                        .expect("zeros")
                } else {
                    (capture(net, &x(&with), layer).expect("capture")
                        - capture(net, &x(&open), layer).expect("capture"))
                    .and_then(|d| d.mean(0))
                    .expect("mean")
                };
                cache.insert(s, v);
            }
            rows.push(cache[&s].unsqueeze(0).expect("unsqueeze"));
        }
        Tensor::cat(&rows, 0).expect("stack")
    }
}

impl Experiment for RetargetLearned {
    type Config = Config;
    type Condition = Condition;

    fn id(&self) -> &'static str {
        "retarget-learned"
    }

    fn claim(&self) -> &'static str {
        "A trained maze policy's target can be moved by editing its activations: subtracting a diamond vector suppresses diamond-seeking at decision squares, and adding a location vector sends the agent to a chosen square, comparably to re-targeting explicit search."
    }

    fn model(&self) -> &'static str {
        "The policy is the one misgeneralize trains (PPO, diamond in the top-right corner region during training); every method \
of a seed sees the same trained network and the same test levels (diamond and agent outside the region). steer (Turner et al. \
2023's cheese vector as their code builds it): per maze, the activation at a chosen site for the maze's initial observation \
(agent on its start cell) with minus without the diamond, added with a coefficient at the maze's decision square (P(diamond \
branch), median over squares) and at every forward pass of an episode from the start (diamond reached), swept over sites and \
coefficients; beside it one mean vector over other mazes and the ablation 'diamond removed from the input'. Retargeting: the \
diamond removed, a target square drawn outside the region; edit adds a location vector (mean activation with a diamond on \
that square minus with none, over other mazes) at every step; none edits nothing; real places an actual diamond there; \
achievable_gain_fraction = (edit - none) / (real - none); astar and bfs are retarget's planners built for the new target. \
Success = stepping on the square within the step limit; reported overall and by the square's corridor distance from the \
training corner. Anchor: Turner et al. 2023, median P(cheese) at decision squares 0.81 -> 0.03 at coefficient -1; retargeting \
by clamping one channel."
    }

    fn default_config(&self, quick: bool) -> Config {
        let train = if quick {
            TrainSetup::quick()
        } else {
            TrainSetup::full()
        };
        Config {
            seeds: if quick { 3 } else { 8 },
            master_seed: 2023,
            region: 1,
            // A quarter of the training diamonds anywhere: a policy that tracks the diamond (median
            // P(diamond branch) near Turner et al.'s 0.81), so that steering has something to act
            // on. With 0 the policy ignores the diamond (docs/learned.md).
            p_anywhere: 0.25,
            // The clamp needs a convolutional site: only the full setup's CNN has one.
            methods: if quick {
                METHODS.to_vec()
            } else {
                METHODS.iter().copied().chain([Method::Clamp]).collect()
            },
            // Not the first layer: fc1 = ReLU(Wx + b) of the one-hot input, so a difference there
            // is close to drawing a diamond into the observation.
            layer: if quick { "fc2".into() } else { "conv2".into() },
            // The middle of the network first (the claims read it): between input and heads for
            // the two-layer MLP, the last convolution for the CNN (Turner et al.: a residual
            // block in the middle of the ResNet).
            steer_layers: if quick {
                vec!["fc1".into(), "fc2".into()]
            } else {
                vec!["conv2".into(), "conv1".into(), "fc1".into()]
            },
            steer_coefficients: if quick {
                vec![-1.0, -2.0, 1.0]
            } else {
                vec![-1.0, -0.5, -2.0, -4.0, 1.0]
            },
            calibration_levels: if quick { 100 } else { 200 },
            eval_levels: if quick { 200 } else { 500 },
            steer_levels: if quick { 1000 } else { 2000 },
            distance_bins: if quick { vec![4, 8] } else { vec![6, 12] },
            planner_budget: 4,
            clamp_layer: "conv2".into(),
            clamp_scale: 1.0,
            clamp_channels: 1,
            greedy: false,
            train,
        }
    }

    fn validate(&self, config: &Config) -> Result<(), (String, String)> {
        let err = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        if config.seeds < 2 {
            return err("seeds", "needs at least 2 seeds for a confidence interval");
        }
        config.train.check("train")?;
        // `train.check` has vetted the sizes, so what is left to fail is this config's own keys.
        if let Err((key, m)) = config.train.mazes(config.region, config.p_anywhere).check() {
            return err(if key == "p_anywhere" { key } else { "region" }, &m);
        }
        if config.methods.is_empty() {
            return err("methods", "must list at least one method");
        }
        let sites = config.train.net.layer_names();
        if !sites.contains(&config.layer) {
            return err(
                "layer",
                &format!(
                    "no activation site '{}' (this network has {})",
                    config.layer,
                    sites.join(", ")
                ),
            );
        }
        for l in &config.steer_layers {
            if !sites.contains(l) {
                return err(
                    "steer_layers",
                    &format!(
                        "no activation site '{l}' (this network has {})",
                        sites.join(", ")
                    ),
                );
            }
        }
        if config.methods.contains(&Method::Steer)
            && (config.steer_layers.is_empty() || config.steer_coefficients.is_empty())
        {
            return err(
                "steer_layers",
                "the steer method needs at least one layer and one coefficient (steer_coefficients)",
            );
        }
        if config.steer_coefficients.iter().any(|c| !c.is_finite()) {
            return err("steer_coefficients", "must be finite numbers");
        }
        if config.steer_levels < 10 {
            return err("steer_levels", "needs at least 10 test levels");
        }
        if config.calibration_levels < 2 || config.eval_levels < 10 {
            return err(
                "eval_levels",
                "needs at least 10 test and 2 calibration levels",
            );
        }
        if config.distance_bins.len() != 2 || config.distance_bins[0] >= config.distance_bins[1] {
            return err("distance_bins", "must be two increasing distances");
        }
        if config.planner_budget == 0 {
            return err("planner_budget", "must be at least 1 expansion");
        }
        if config.methods.contains(&Method::Clamp) {
            if !(config.clamp_layer.starts_with("conv") && sites.contains(&config.clamp_layer)) {
                return err(
                    "clamp_layer",
                    &format!(
                        "the clamp needs a convolutional site; '{}' is not one (this network has \
                         {})",
                        config.clamp_layer,
                        sites.join(", ")
                    ),
                );
            }
            if !(config.clamp_scale.is_finite() && config.clamp_scale > 0.0) {
                return err("clamp_scale", "must be a positive number");
            }
            let width = config
                .clamp_layer
                .strip_prefix("conv")
                .and_then(|k| k.parse::<usize>().ok())
                .and_then(|k| config.train.net.conv.get(k.wrapping_sub(1)).copied())
                .unwrap_or(0);
            if !(1..=width).contains(&config.clamp_channels) {
                return err(
                    "clamp_channels",
                    &format!(
                        "must lie in 1..={width}, the channels of {}",
                        config.clamp_layer
                    ),
                );
            }
        }
        Ok(())
    }

    fn conditions(&self, config: &Config) -> Vec<Condition> {
        let mut out = Vec::new();
        for &method in &config.methods {
            if method == Method::Patch {
                for layer in &config.steer_layers {
                    out.push(Condition {
                        method,
                        layer: Some(layer.clone()),
                        coefficient: None,
                    });
                }
            } else if method == Method::Steer {
                for layer in &config.steer_layers {
                    for &c in &config.steer_coefficients {
                        out.push(Condition {
                            method,
                            layer: Some(layer.clone()),
                            coefficient: Some(c),
                        });
                    }
                }
            } else {
                out.push(Condition {
                    method,
                    layer: None,
                    coefficient: None,
                });
            }
        }
        out
    }

    fn artifacts(
        &self,
        config: &Config,
        c: &Condition,
        seed: u64,
    ) -> Vec<cruxlab_core::ArtifactKey> {
        let learned = c.method.learned();
        if !learned {
            return Vec::new();
        }
        vec![run_key(
            &config.train,
            config.region,
            config.p_anywhere,
            config.master_seed,
            seed,
        )]
    }

    fn build_artifact(
        &self,
        _config: &Config,
        key: &cruxlab_core::ArtifactKey,
        _needs: &cruxlab_core::Artifacts,
        progress: &cruxlab_core::Progress,
    ) -> Vec<u8> {
        build_run(key, progress)
    }

    fn measure(
        &self,
        config: &Config,
        c: &Condition,
        seed: u64,
        artifacts: &cruxlab_core::Artifacts,
    ) -> Vec<(String, f64)> {
        let dist = config.train.mazes(config.region, config.p_anywhere);
        let mut out: Vec<(String, f64)> = REACH
            .iter()
            .chain(STEER.iter())
            .chain(PATCH.iter())
            .map(|m| (m.to_string(), f64::NAN))
            .collect();
        let learned = c.method.learned();
        let run = learned.then(|| {
            trained(
                artifacts,
                &run_key(
                    &config.train,
                    config.region,
                    config.p_anywhere,
                    config.master_seed,
                    seed,
                ),
            )
        });
        let net = run.as_ref().map(|r| r.last());
        let found = if c.method == Method::Patch {
            Self::patching(
                config,
                net.expect("patch needs the network"),
                &dist,
                seed,
                c.layer
                    .as_deref()
                    .expect("a patch condition names its layer"),
            )
        } else if c.method == Method::Steer {
            Self::steer(
                config,
                net.expect("steer needs the network"),
                &dist,
                seed,
                c.layer
                    .as_deref()
                    .expect("a steer condition names its layer"),
                c.coefficient
                    .expect("a steer condition names its coefficient"),
            )
        } else {
            Self::reach(config, c.method, &dist, seed, net)
        };
        for (k, v) in found {
            if let Some(slot) = out.iter_mut().find(|(name, _)| *name == k) {
                slot.1 = v;
            }
        }
        out
    }

    /// Seeds are training runs: IQM and stratified-bootstrap intervals beside the t intervals.
    fn robust_intervals(&self) -> bool {
        true
    }

    fn code_version(&self, config: &Self::Config) -> String {
        config.train.code_version()
    }

    fn metrics(&self, _config: &Config) -> Vec<String> {
        REACH
            .iter()
            .chain(&STEER)
            .chain(&PATCH)
            .map(|m| m.to_string())
            .collect()
    }

    fn claims(&self, config: &Config) -> Vec<Claim> {
        let has = |m: Method| config.methods.contains(&m);
        let method = |m: Method| at(&[("method", json!(m))]);
        let ignores_diamond = Control::new(
            &["region=1", "p_anywhere=0.0"],
            VerdictKind::Refuted,
            "the policy trained with the diamond always on the corner cell (misgeneralize's, shared inside suite) ignores the diamond out of distribution, so neither removing it nor adding a diamond direction should move it; the region is set too, so that the control is the corner-only policy whatever region the run trains on",
        );
        let mut claims = Vec::new();
        if let (true, Some(layer), Some(&coefficient)) = (
            has(Method::Steer),
            config.steer_layers.first(),
            config.steer_coefficients.first(),
        ) {
            let steer = at(&[
                ("method", json!(Method::Steer)),
                ("layer", json!(layer)),
                ("coefficient", json!(coefficient)),
            ]);
            let effect_sign = if coefficient < 0.0 {
                "lowers"
            } else {
                "raises"
            };
            let direction = if coefficient < 0.0 {
                Direction::Below
            } else {
                Direction::Above
            };
            claims.push(
                Claim::new(
                    "cheese-vector-steers",
                    format!(
                        "Turner et al.'s cheese vector, for the diamond: each maze's initial observation with minus without the diamond at {layer}, added with coefficient {coefficient} at the maze's decision square, {effect_sign} the median P(diamond branch) by more than 0.05 (Turner et al. 2023: 0.81 -> 0.03 at coefficient -1)."
                    ),
                    Effect::metric("steer_effect_median"),
                    direction,
                    0.0,
                )
                .margin(0.05)
                .filter(steer.clone())
                .control(ignores_diamond.clone()),
            );
            claims.push(
                Claim::new(
                    "cheese-vector-steers-episodes",
                    format!(
                        "The same vector added at every forward pass of an episode from the start {effect_sign} the rate of reaching the diamond by more than 0.05."
                    ),
                    Effect::metric("steer_effect_reach"),
                    direction,
                    0.0,
                )
                .margin(0.05)
                .filter(steer.clone())
                .control(ignores_diamond.clone()),
            );
            claims.push(
                Claim::new(
                    "mean-vector-transfers",
                    format!(
                        "One vector, averaged over the initial observations of other mazes, transfers: added the same way at decision squares of new mazes, it {effect_sign} the median P(diamond branch) by more than 0.05."
                    ),
                    Effect::metric("mean_vector_effect_median"),
                    direction,
                    0.0,
                )
                .margin(0.05)
                .filter(steer)
                .control(ignores_diamond.clone()),
            );
        }
        if has(Method::Edit) && has(Method::None) {
            claims.push(
                Claim::new(
                    "edit-moves-agent",
                    "Adding a location vector at one layer sends the learned agent to the chosen square more often than no edit (reach rate higher by more than 0.05, paired by seed).",
                    Effect::contrast("reach", method(Method::Edit), method(Method::None)),
                    Direction::Above,
                    0.0,
                )
                .margin(0.05)
                .control(ignores_diamond.clone()),
            );
        }
        if has(Method::Clamp) && has(Method::None) {
            claims.push(
                Claim::new(
                    "clamp-moves-agent",
                    "Clamping the most diamond-tracking channel high on a square sends the learned agent there more often than no edit (reach rate higher by more than 0.05, paired by seed; Turner et al.'s channel-55 retargeting).",
                    Effect::contrast("reach", method(Method::Clamp), method(Method::None)),
                    Direction::Above,
                    0.0,
                )
                .margin(0.05)
                .control(ignores_diamond.clone()),
            );
        }
        if has(Method::Edit) && has(Method::Astar) {
            claims.push(
                Claim::new(
                    "edit-matches-search",
                    "Editing activations retargets the learned agent about as reliably as re-deriving explicit search's heuristic: its reach rate is no more than 0.1 below A*'s (paired by seed).",
                    Effect::contrast("reach", method(Method::Edit), method(Method::Astar)),
                    Direction::Above,
                    -0.1,
                )
                .control(Control::new(
                    &["planner_budget=1"],
                    VerdictKind::Supported,
                    "search held to one expansion per decision (Korf's LRTA*) should lose its edge over the edited network; if it still wins by more than 0.1, the comparison is settled by the planners' completeness on small mazes",
                )),
            );
        }
        if has(Method::Edit) && has(Method::None) {
            claims.push(
                Claim::new(
                    "edit-weaker-far",
                    "Retargeting by activation editing helps less the farther the new square lies from the training corner: the edit's gain over no edit is larger for near squares than for far ones, by more than 0.05 (edit's reach_near - reach_far minus no edit's, paired by seed).",
                    Effect::contrast("reach_near_far_gap", method(Method::Edit), method(Method::None)),
                    Direction::Above,
                    0.0,
                )
                .margin(0.05)
                .control(ignores_diamond),
            );
        }
        claims
    }

    fn plots(&self, _config: &Config) -> Vec<PlotSpec> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_check_under_both_configs_and_every_control() {
        let ids =
            cruxlab_core::check_claims(cruxlab_core::erase(RetargetLearned).as_ref()).unwrap();
        assert_eq!(
            ids,
            [
                "cheese-vector-steers",
                "cheese-vector-steers-episodes",
                "mean-vector-transfers",
                "edit-moves-agent",
                "edit-matches-search",
                "edit-weaker-far"
            ]
        );
    }

    #[test]
    fn region_and_fraction_errors_name_their_own_keys() {
        let quick = RetargetLearned.default_config(true);
        for (region, p, key) in [
            (3, 1.5, "p_anywhere"),
            (3, -0.1, "p_anywhere"),
            (5, 0.25, "region"),
        ] {
            let c = Config {
                region,
                p_anywhere: p,
                ..quick.clone()
            };
            assert_eq!(
                RetargetLearned.validate(&c).unwrap_err().0,
                key,
                "{region} {p}"
            );
        }
    }

    #[test]
    fn the_clamp_needs_a_convolutional_site() {
        // The quick setup's MLP has none: asking for the clamp names `clamp_layer`.
        let mut config = RetargetLearned.default_config(true);
        config.methods = vec![Method::Clamp, Method::None];
        assert_eq!(
            RetargetLearned.validate(&config).unwrap_err().0,
            "clamp_layer"
        );
        // The full setup's CNN has conv1 and conv2, and sweeps the clamp with its claim.
        let full = RetargetLearned.default_config(false);
        assert!(full.methods.contains(&Method::Clamp));
        assert!(RetargetLearned.validate(&full).is_ok());
        let ids: Vec<String> = RetargetLearned
            .claims(&full)
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert!(ids.contains(&"clamp-moves-agent".to_string()));
        let bad = Config {
            clamp_scale: 0.0,
            ..full.clone()
        };
        assert_eq!(RetargetLearned.validate(&bad).unwrap_err().0, "clamp_scale");
        // conv2 has 16 channels: 1 to 16 may be clamped together.
        for (k, ok) in [(0, false), (1, true), (16, true), (17, false)] {
            let c = Config {
                clamp_channels: k,
                ..full.clone()
            };
            match RetargetLearned.validate(&c) {
                Ok(()) => assert!(ok, "{k}"),
                Err((key, _)) => assert!(!ok && key == "clamp_channels", "{k}: {key}"),
            }
        }
    }

    #[test]
    fn claims_follow_the_methods_swept() {
        let mut config = RetargetLearned.default_config(true);
        config.methods = vec![Method::Steer];
        let ids: Vec<String> = RetargetLearned
            .claims(&config)
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(
            ids,
            [
                "cheese-vector-steers",
                "cheese-vector-steers-episodes",
                "mean-vector-transfers"
            ]
        );
    }

    #[test]
    fn measure_emits_exactly_the_declared_metrics() {
        // One PPO update, few levels: seconds.
        let mut config = RetargetLearned.default_config(true);
        config.train.ppo.total_steps = 512;
        config.train.checkpoints = 1;
        config.eval_levels = 10;
        config.steer_levels = 10;
        config.calibration_levels = 5;
        for c in RetargetLearned.conditions(&config) {
            let names: Vec<String> = cruxlab_core::measure_unit(&RetargetLearned, &config, &c, 0)
                .into_iter()
                .map(|(m, _)| m)
                .collect();
            assert_eq!(names, RetargetLearned.metrics(&config), "{:?}", c.method);
        }
    }
}
