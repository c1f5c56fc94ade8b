//! # Crux 2b: can a learned agent's target be moved by editing its activations?
//!
//! **Question.** `retarget` asked whether explicit search can be pointed at a new target. Here the
//! agent is a trained network (the `misgeneralize` setup: PPO on mazes with the diamond in the
//! top-right corner region) and the handle is its activations. Turner et al. (2023) subtracted a
//! "cheese vector" from one layer of a maze policy and saw P(cheese) at decision squares fall from a
//! median 0.81 to 0.03, and moved the policy's target by clamping one channel. We test both moves on
//! our agents, next to explicit search on the same levels.
//!
//! **Model.** One condition per `method`, all units of a seed reading the same trained policy (the
//! run is shared, see `learned`) and the same levels:
//! - `steer`: on test levels (diamond and agent outside the region) with a decision square, the
//!   agent is put on the square and we read P(diamond branch) (a) unedited, (b) with the steering
//!   vector added with `steer_coefficient` (default -1, a subtraction) at site `layer`, (c) with the
//!   vector added with the opposite sign, and (d) with each level's own with-minus-without vector
//!   subtracted (Turner et al.'s per-maze variant). The steering vector is the mean, over
//!   `calibration_levels` separate test levels, of the activation with the diamond minus the
//!   activation of the same level with the diamond removed.
//! - Retargeting. On test levels with the diamond removed, a target square `s` is drawn outside the
//!   region; an episode succeeds if the agent steps on `s` within the step limit. `edit`: at every
//!   step a location vector `v_s` is added at `layer`, `v_s` being the mean over calibration levels
//!   of the activation with a diamond at `s` minus the activation with no diamond (a direction
//!   learned from other mazes, not this one); `none`: no edit (how often the agent wanders onto `s`
//!   anyway); `real`: a diamond actually placed on `s` (the policy's own competence at that
//!   square); `astar` and `bfs`: the planners of `retarget`, built for the new target (Manhattan
//!   heuristic re-derived; blind), with `planner_budget` expansions per decision.
//!
//! **Metrics.** `reach` (success rate), `reach_near` / `reach_mid` / `reach_far` by the corridor
//! distance of `s` from the corner cell (cut at `distance_bins`), `reach_near_far_gap` (near minus
//! far), `steps` on success; for `steer`:
//! medians and means over decision squares of P(diamond branch) unedited, subtracted, added and
//! per-maze subtracted, and their paired differences.
//!
//! **Claims** (the framework's rule: a Student-t 95% CI over seeds against the threshold; each
//! declared when the methods it reads are swept):
//! - `same-maze-vector-suppresses`: at `steer`, `steer_effect_same_maze_median` below 0 with a
//!   margin of 0.05 (Turner et al.: 0.81 -> 0.03). Known from review: the per-maze vector is
//!   computed at the very state it is applied to, so subtracting it equals removing the diamond
//!   from the input; the claim measures how much the policy's choice depends on the diamond.
//! - `mean-vector-transfers`: the same for one mean vector from other mazes
//!   (`steer_effect_median`).
//! - `edit-moves-agent`: `reach` at `edit` minus at `none` above 0 with a margin of 0.05.
//! - `edit-matches-search`: `reach` at `edit` minus at `astar` above -0.1 (non-inferiority).
//! - `edit-weaker-far`: `reach_near_far_gap` at `edit` minus at `none` (the edit's gain near minus
//!   its gain far) above 0 with a margin of 0.05.
//!
//! **Controls** (`cruxlab audit retarget-learned`): `p_anywhere=0.0` (the corner-only policy, which
//! ignores the diamond, so no diamond edit should move it; inside `suite` it is misgeneralize's
//! policy, already trained) for the steering and editing claims; `planner_budget=1` (search held to
//! one expansion per decision) for `edit-matches-search`.

use candle_core::Tensor;
use cruxlab_agents::{AgentKind, play};
use cruxlab_core::{Claim, Control, Direction, Effect, Experiment, PlotSpec, VerdictKind, at};
use cruxlab_grid::{DistanceField, Level, ObjectKind, Pos};
use cruxlab_learn::interp::{SteeringVector, capture, steer_each};
use cruxlab_learn::rollout::{Play, action_probs, observe, rollout};
use cruxlab_learn::{ActorCritic, CornerMazes, net::probabilities};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::learned::{TrainSetup, build_run, decision_square, mean, median, run_key, trained};
use crate::seeding::derive_seed;

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
    /// Activation site edited (`fc1`, `fc2`, `conv1`, ...).
    pub layer: String,
    /// Coefficient of the steering vector in the `steer` analysis (-1: subtract).
    pub steer_coefficient: f64,
    /// Levels used to compute steering and location vectors (separate from the test levels).
    pub calibration_levels: usize,
    /// Test levels per seed.
    pub eval_levels: usize,
    /// Corridor distances from the corner that separate near / mid / far target squares.
    pub distance_bins: Vec<u32>,
    /// Per-decision expansion budget of the planners.
    pub planner_budget: u64,
    pub train: TrainSetup,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Condition {
    pub method: Method,
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
}

const METHODS: [Method; 6] = [
    Method::Steer,
    Method::Edit,
    Method::None,
    Method::Real,
    Method::Astar,
    Method::Bfs,
];

impl Method {
    /// Whether the method reads the trained network.
    fn learned(self) -> bool {
        !matches!(self, Method::Astar | Method::Bfs)
    }
}
/// The retargeting metrics, in the order `reach` emits them. `reach_near_far_gap` is
/// `reach_near - reach_far`: how much more often the agent reaches a near target than a far one.
const REACH: [&str; 6] = [
    "reach",
    "reach_near",
    "reach_mid",
    "reach_far",
    "reach_near_far_gap",
    "steps",
];
const STEER: [&str; 9] = [
    "p_diamond_base_median",
    "p_diamond_subtracted_median",
    "p_diamond_added_median",
    "p_diamond_same_maze_median",
    "p_diamond_base_mean",
    "p_diamond_subtracted_mean",
    "steer_effect_median",
    "steer_effect_same_maze_median",
    "steering_norm",
];

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

    fn steer(
        config: &Config,
        net: &ActorCritic,
        dist: &CornerMazes,
        seed: u64,
    ) -> Vec<(String, f64)> {
        let layer = Self::net_layer(net, &config.layer);
        let planes = &config.train.planes;
        let calib = Self::levels(config, dist, seed, 0, config.calibration_levels);
        let without = |ls: &[Level]| -> Vec<Level> {
            ls.iter()
                .map(|l| {
                    let mut l = l.clone();
                    l.remove_objects(ObjectKind::Diamond);
                    l
                })
                .collect()
        };
        let x = |ls: &[Level]| net.input_tensor(&observe(ls, planes)).expect("input");
        let vector = SteeringVector::mean_difference(net, layer, &x(&calib), &x(&without(&calib)))
            .expect("steering vector");
        let mut squares = Vec::new();
        let mut moved = Vec::new();
        for level in Self::levels(config, dist, seed, 1, config.eval_levels) {
            if let Some(d) = decision_square(&level, dist.corner()) {
                let mut l = level.clone();
                l.set_agent(d.square);
                moved.push(l);
                squares.push(d);
            }
        }
        if moved.is_empty() {
            return STEER.iter().map(|m| (m.to_string(), f64::NAN)).collect();
        }
        let pick = |probs: Vec<[f32; 4]>| -> Vec<f64> {
            probs
                .iter()
                .zip(&squares)
                .map(|(p, d)| p[d.to_diamond.index()] as f64)
                .collect()
        };
        let xm = x(&moved);
        let base = pick(action_probs(net, &moved, planes, &mut |_, a| Ok(a)).expect("forward"));
        let probs_of =
            |out: cruxlab_learn::Output| pick(probabilities(&out.logits).expect("probs"));
        let c = config.steer_coefficient;
        let sub = probs_of(vector.apply(net, &xm, c).expect("steer"));
        let add = probs_of(vector.apply(net, &xm, -c).expect("steer"));
        // Per-maze vectors: each level's activation minus the same level's without the diamond.
        let a = capture(net, &xm, layer).expect("capture");
        let b = capture(net, &x(&without(&moved)), layer).expect("capture");
        let deltas = (a - b).expect("difference");
        let same = probs_of(steer_each(net, &xm, layer, &deltas, c).expect("steer"));
        let values = [
            median(&base),
            median(&sub),
            median(&add),
            median(&same),
            mean(&base),
            mean(&sub),
            median(&sub) - median(&base),
            median(&same) - median(&base),
            vector.norm().expect("norm") as f64,
        ];
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
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(config.master_seed, &[seed, 600]));
        let mut levels = Vec::new();
        let mut targets = Vec::new();
        for mut level in Self::levels(config, dist, seed, 2, config.eval_levels) {
            level.remove_objects(ObjectKind::Diamond);
            let cells: Vec<Pos> = (0..level.cells())
                .map(|i| level.pos(i))
                .filter(|&p| !level.is_wall(p) && !dist.in_region(p) && p != level.agent())
                .collect();
            targets.push(cells[rng.random_range(0..cells.len())]);
            levels.push(level);
        }
        let bins: Vec<usize> = levels
            .iter()
            .zip(&targets)
            .map(|(l, &s)| {
                let d = DistanceField::from_sources(l, [dist.corner()])
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
                    greedy: false,
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
                } else {
                    rollout(net, &placed, &play_cfg, &mut |_, a| Ok(a))
                }
                .expect("rollout");
                trajectories.iter().map(|t| (t.success, t.steps)).collect()
            }
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
        let values = [
            rate(&|_| true),
            near,
            rate(&|b| b == 1),
            far,
            near - far,
            mean(&steps),
        ];
        REACH
            .iter()
            .zip(values)
            .map(|(m, v)| (m.to_string(), v))
            .collect()
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
of a seed sees the same trained network and the same test levels (diamond and agent outside the region). steer: at decision \
squares, P(diamond branch) unedited and with the steering vector (mean activation with minus without the diamond, over \
calibration levels) added with steer_coefficient (-1 subtracts) at the chosen layer, with the opposite sign, and with each \
maze's own with-minus-without vector subtracted (Turner et al. 2023's per-maze cheese vector). Retargeting: the diamond \
removed, a target square drawn outside the region; edit adds a location vector (mean activation with a diamond on that square \
minus with none, over other mazes) at every step; none edits nothing; real places an actual diamond there; astar and bfs are \
retarget's planners built for the new target. Success = stepping on the square within the step limit; reported overall and by \
the square's corridor distance from the training corner. Anchor: Turner et al. 2023, median P(cheese) at decision squares 0.81 \
-> 0.03 after subtracting the cheese vector; retargeting by clamping one channel."
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
            methods: METHODS.to_vec(),
            layer: if quick { "fc1".into() } else { "conv2".into() },
            steer_coefficient: -1.0,
            calibration_levels: if quick { 100 } else { 200 },
            eval_levels: if quick { 200 } else { 500 },
            distance_bins: if quick { vec![4, 8] } else { vec![6, 12] },
            planner_budget: 4,
            train,
        }
    }

    fn validate(&self, config: &Config) -> Result<(), (String, String)> {
        let err = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        if config.seeds < 2 {
            return err("seeds", "needs at least 2 seeds for a confidence interval");
        }
        config.train.check("train")?;
        if let Err((_, m)) = config.train.mazes(config.region, config.p_anywhere).check() {
            return err("region", &m);
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
        if !config.steer_coefficient.is_finite() {
            return err("steer_coefficient", "must be a finite number");
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
        Ok(())
    }

    fn conditions(&self, config: &Config) -> Vec<Condition> {
        config
            .methods
            .iter()
            .map(|&method| Condition { method })
            .collect()
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
    ) -> Vec<u8> {
        build_run(key)
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
        let found = if c.method == Method::Steer {
            Self::steer(config, net.expect("steer needs the network"), &dist, seed)
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

    fn metrics(&self, _config: &Config) -> Vec<String> {
        REACH.iter().chain(&STEER).map(|m| m.to_string()).collect()
    }

    fn claims(&self, config: &Config) -> Vec<Claim> {
        let has = |m: Method| config.methods.contains(&m);
        let method = |m: Method| at(&[("method", json!(m))]);
        let ignores_diamond = Control::new(
            &["p_anywhere=0.0"],
            VerdictKind::Refuted,
            "the policy trained with the diamond always on the corner cell (misgeneralize's, shared inside suite) ignores the diamond out of distribution, so neither removing it nor adding a diamond direction should move it",
        );
        let mut claims = Vec::new();
        if has(Method::Steer) {
            claims.push(
                Claim::new(
                    "same-maze-vector-suppresses",
                    "Subtracting the diamond vector of the same maze (its activation with the diamond minus without, Turner et al.'s construction) lowers the policy's median P(diamond branch) at decision squares by more than 0.05 (Turner et al. 2023: cheese vector, median P(cheese) 0.81 -> 0.03). Review finding: the vector is computed at the very state it is applied to, so subtracting it equals removing the diamond from the input.",
                    Effect::metric("steer_effect_same_maze_median"),
                    Direction::Below,
                    0.0,
                )
                .margin(0.05)
                .filter(method(Method::Steer))
                .control(ignores_diamond.clone()),
            );
            claims.push(
                Claim::new(
                    "mean-vector-transfers",
                    "One diamond vector, averaged over other mazes, transfers: subtracting it lowers the policy's median P(diamond branch) at decision squares of new mazes by more than 0.05.",
                    Effect::metric("steer_effect_median"),
                    Direction::Below,
                    0.0,
                )
                .margin(0.05)
                .filter(method(Method::Steer))
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
                "same-maze-vector-suppresses",
                "mean-vector-transfers",
                "edit-moves-agent",
                "edit-matches-search",
                "edit-weaker-far"
            ]
        );
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
            ["same-maze-vector-suppresses", "mean-vector-transfers"]
        );
    }

    #[test]
    fn measure_emits_exactly_the_declared_metrics() {
        // One PPO update, few levels: seconds.
        let mut config = RetargetLearned.default_config(true);
        config.train.ppo.total_steps = 512;
        config.train.checkpoints = 1;
        config.eval_levels = 10;
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
