//! # Crux 1: can the search be retargeted?
//!
//! **One side** (Wentworth, "Just Retarget the Search"): if a trained system's capability comes from a
//! general-purpose internal search, then interpretability that finds the search's target could align
//! the system by pointing that target somewhere else. **Other side**: under a fixed compute budget the
//! strongest optimisers are searches sped up by heuristics that serve one objective only (a chess
//! engine's evaluation helps only at winning chess), so swapping the target throws most of the
//! competence away. **Reply**: heuristic search whose heuristic is derived by relaxing the target
//! (A* with the distance you would have if walls did not exist) is both efficient and retargetable,
//! because the heuristic is recomputed from the target for free.
//!
//! **Model.** Procedurally generated levels, perfect mazes and open rooms with scattered obstacles,
//! each holding the agent, a diamond, a piece of cheese and a key on distinct random floor cells.
//! Diamonds emit a cue field (breadth-first distance along corridors) that no other kind emits. Three
//! planners share one search algorithm (A* bounded to `budget` expansions per decision, falling back
//! to LRTA* learning when the budget runs out; see `cruxlab_agents::Planner`) and differ only in the
//! heuristic they hold:
//! `bfs` none; `astar` Manhattan distance to the target (the relaxed problem); `cue` the diamond cue,
//! the specialised heuristic.
//!
//! **Protocol.** For each level (the same levels for every agent and budget, so comparisons are
//! paired by seed) each agent plays three episodes: *original* (target diamond), *swapped* (target
//! cheese, the heuristic left as it was), and *re-derived* (target cheese, the heuristic derived again
//! for cheese: free for `bfs`, one read per object for `astar`, a breadth-first field over the level
//! for `cue`, which has no cheese cue to read). An episode succeeds if the agent steps onto its target
//! within `step_limit_per_cell` x (cells of the level) steps.
//!
//! **Metrics** (per seed, averaged over `episodes` levels): success rate per episode kind; SPL,
//! success weighted by optimal path length over taken path length (Anderson et al. 2018); expansions
//! per decision; expansions per episode; the expansions a re-derivation costs.
//!
//! **Claims** (declared in `claims`, decided by the framework's one rule: per cell a Student-t 95% CI
//! of the per-seed effect against the threshold; a claim holds when every cell supports it and is
//! refuted when any cell refutes it; one cell per level generator x size throughout):
//! 1. `specialist-leads-at-its-budget`: read at the smallest budget where `cue`'s mean SPL reaches
//!    0.9 (an anchor, found per cell), `cue` minus `astar` SPL, paired by seed, lies above 0.1.
//!    Control: open rooms without obstacles (`levels=["rooms"]`, `room_density=0`), where Manhattan
//!    distance is exact, should refute it.
//! 2. `swap-loses-half`: at the same anchor, `cue`'s swapped minus original SPL lies below -0.5. SPL
//!    is at most 1, so a loss beyond 0.5 is more than half of it; the anchored original is at least
//!    0.9 on average (exactly 1 for this cue), so -0.5 is the old "-half of the original" to within
//!    0.05. Control: 5x5 levels (`sizes=[5]`), where the stale cue still leads near the new target,
//!    should refute it.
//! 3. `rederiving-costs-specialist-more`: at the largest budget, `cue` minus `astar` expansions per
//!    re-derived episode (re-derivation plus search) lies above 0. Control: 41x41 mazes only, the
//!    world most favourable to A* costing more; an unbounded A* expands each reachable cell at most
//!    once while the cue's field pays for all of them, so this claim is foregone by construction.
//! 4. `relaxed-within-twice`: at the largest budget, the per-seed ratio of `astar` to `cue`
//!    expansions per original episode lies below 2. Controls: 41x41 mazes should refute it, open
//!    rooms without obstacles (ratio 1) should support it.
//!
//! The cue is the exact breadth-first distance, an oracle: `cue` reaches SPL 1.0 at a budget of one
//! expansion everywhere, so every anchor lands on the smallest budget swept.

use cruxlab_agents::{AgentKind, play};
use cruxlab_core::{
    Anchor, Claim, Control, Direction, Effect, Experiment, Figure, PlotSpec, VerdictKind, at,
};
use cruxlab_grid::{LevelSpec, ObjectKind};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::seeding::derive_seed;

pub struct Retarget;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Seeds per condition; each seed is its own set of levels.
    pub seeds: u64,
    /// Master seed from which every level seed is derived.
    pub master_seed: u64,
    /// Levels per seed (the per-seed value is their mean).
    pub episodes: u64,
    pub agents: Vec<AgentKind>,
    /// Level generators: "maze" (perfect mazes) and/or "rooms" (open rooms with obstacles).
    pub levels: Vec<Generator>,
    /// Side lengths (odd).
    pub sizes: Vec<usize>,
    /// Obstacle density of "rooms" levels.
    pub room_density: f64,
    /// Per-decision expansion budgets.
    pub budgets: Vec<u64>,
    /// Episode step limit = this x the level's cell count.
    pub step_limit_per_cell: u32,
    pub original_target: ObjectKind,
    pub swapped_target: ObjectKind,
    /// The level of the report's example episodes ("maze:21", "rooms:15:0.25"; seed 0 of the run).
    pub trace_level: String,
    /// Per-decision budget of the example episodes.
    pub trace_budget: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Condition {
    pub agent: AgentKind,
    pub level: Generator,
    pub size: usize,
    pub budget: u64,
}

/// The three episodes each agent plays per level.
const KINDS: [&str; 3] = ["original", "swapped", "rederived"];
/// What is measured per episode kind; the metric is `{stem}_{kind}`.
const STEMS: [&str; 5] = [
    "success",
    "spl",
    "expansions_per_decision",
    "expansions_per_episode",
    "steps",
];
/// The expansions a re-derivation costs (one value per condition, not per episode kind).
const REDERIVE_COST: &str = "rederive_cost";

/// A level generator the sweep draws from (a typo in the config names the key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generator {
    /// Perfect mazes.
    Maze,
    /// Open rooms with scattered obstacles.
    Rooms,
}

impl Generator {
    pub fn name(self) -> &'static str {
        match self {
            Generator::Maze => "maze",
            Generator::Rooms => "rooms",
        }
    }

    /// A code per generator (not its place in the list), so a level never depends on which
    /// other generators the config sweeps.
    fn code(self) -> u64 {
        match self {
            Generator::Maze => 0,
            Generator::Rooms => 1,
        }
    }
}

impl Retarget {
    fn spec(config: &Config, level: Generator, size: usize) -> LevelSpec {
        match level {
            Generator::Rooms => LevelSpec::Rooms {
                size,
                density: config.room_density,
            },
            Generator::Maze => LevelSpec::Maze { size },
        }
    }

    /// One example episode drawn from inside the planner: where it expanded, where it walked.
    fn trace(
        config: &Config,
        level: &cruxlab_grid::Level,
        agent: AgentKind,
        swapped: bool,
    ) -> Figure {
        let max_steps = config.step_limit_per_cell * level.cells() as u32;
        let mut planner = agent.planner(level, config.original_target, Some(config.trace_budget));
        let target = if swapped {
            planner.retarget(config.swapped_target);
            config.swapped_target
        } else {
            config.original_target
        };
        planner.trace_expansions(level.cells());
        let ep = play(level, target, &mut planner, max_steps);
        let image = cruxlab_grid::render_trace(level, planner.heat().unwrap_or(&[]), &ep.path, 16);
        let bytes = cruxlab_grid::encode_png(&image).expect("encoding a PNG in memory cannot fail");
        let episode = if swapped {
            "swapped to"
        } else {
            "original target"
        };
        let stale = if swapped { ", nothing re-derived" } else { "" };
        Figure {
            file: format!(
                "trace_{}_{}.png",
                agent.name(),
                if swapped { "swapped" } else { "original" }
            ),
            caption: format!(
                "{} ({episode} {}{stale}), budget {}: {} in {} steps (optimal {}), {} expansions. \
                 Orange: expansions per cell (log scale); dots: the path walked.",
                agent.name(),
                target.name(),
                config.trace_budget,
                if ep.success { "reached" } else { "not reached" },
                ep.steps,
                ep.optimal,
                ep.expansions
            ),
            bytes,
        }
    }
}

impl Experiment for Retarget {
    type Config = Config;
    type Condition = Condition;

    fn id(&self) -> &'static str {
        "retarget"
    }

    fn claim(&self) -> &'static str {
        "Search sped up by target-specific heuristics beats retargetable search at a fixed budget, and loses its competence when the target is swapped."
    }

    fn model(&self) -> &'static str {
        "Procedurally generated perfect mazes and obstacle rooms, each with an agent, a diamond, cheese and a key. \
Diamonds emit a cue field (breadth-first distance along corridors); nothing else does. Three planners share one \
algorithm, A* bounded to a per-decision budget of node expansions that falls back to LRTA* learning when the budget \
runs out, and differ only in their heuristic: bfs (none), astar (Manhattan distance: the target with walls relaxed away) \
and cue (the diamond cue: specialised). On the same levels each agent plays three episodes: original (reach the \
diamond); swapped (reach the cheese with the heuristic left as it was); re-derived (reach the cheese after deriving the \
heuristic again, which for cue means growing a breadth-first field over the level because cheese emits no cue). \
Metrics per seed are means over its levels: success, SPL (success weighted by optimal/actual path length), expansions \
per decision and per episode, and the expansions a re-derivation costs. Seeds pair the comparisons: every agent and \
budget sees the same levels for a given seed."
    }

    fn default_config(&self, quick: bool) -> Config {
        let base = Config {
            seeds: 24,
            master_seed: 2022,
            episodes: 4,
            agents: AgentKind::ALL.to_vec(),
            levels: vec![Generator::Maze, Generator::Rooms],
            sizes: vec![9, 15, 25, 41],
            room_density: 0.25,
            budgets: vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096],
            step_limit_per_cell: 2,
            original_target: ObjectKind::Diamond,
            swapped_target: ObjectKind::Cheese,
            trace_level: "maze:21".into(),
            trace_budget: 4,
        };
        if quick {
            Config {
                seeds: 20,
                episodes: 4,
                sizes: vec![9, 21],
                budgets: vec![1, 2, 4, 8, 16, 64, 256, 1024],
                ..base
            }
        } else {
            base
        }
    }

    fn validate(&self, config: &Config) -> Result<(), (String, String)> {
        let err = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        if config.seeds < 2 {
            return err("seeds", "needs at least 2 seeds for a confidence interval");
        }
        if config.episodes == 0 {
            return err("episodes", "must be at least 1");
        }
        if config.agents.is_empty() {
            return err("agents", "must name at least one agent");
        }
        if config.levels.is_empty() {
            return err("levels", "must name at least one level generator");
        }
        let max = cruxlab_grid::generate::MAX_SIZE;
        if config.sizes.is_empty() || config.sizes.iter().any(|&s| s < 5 || s % 2 == 0 || s > max) {
            return err(
                "sizes",
                &format!("every size must be odd, at least 5 and at most {max}"),
            );
        }
        // A repeated entry would make two conditions identical and their comparisons ambiguous.
        for (key, repeated) in [
            ("agents", has_repeats(&config.agents)),
            ("levels", has_repeats(&config.levels)),
            ("sizes", has_repeats(&config.sizes)),
            ("budgets", has_repeats(&config.budgets)),
        ] {
            if repeated {
                return err(key, "lists a value twice");
            }
        }
        if !(0.0..0.6).contains(&config.room_density) {
            return err("room_density", "must lie in [0, 0.6)");
        }
        if config.budgets.is_empty() || config.budgets.contains(&0) {
            return err("budgets", "every budget must be at least 1 expansion");
        }
        if !(1..=1000).contains(&config.step_limit_per_cell) {
            return err("step_limit_per_cell", "must lie in 1..=1000");
        }
        if config.original_target == config.swapped_target {
            return err("swapped_target", "must differ from original_target");
        }
        if let Err(e) = config.trace_level.parse::<LevelSpec>() {
            return err("trace_level", &e.to_string());
        }
        if config.trace_budget == 0 {
            return err("trace_budget", "must be at least 1 expansion");
        }
        Ok(())
    }

    fn conditions(&self, config: &Config) -> Vec<Condition> {
        let mut out = Vec::new();
        for level in &config.levels {
            for &size in &config.sizes {
                for &agent in &config.agents {
                    for &budget in &config.budgets {
                        out.push(Condition {
                            agent,
                            level: *level,
                            size,
                            budget,
                        });
                    }
                }
            }
        }
        out
    }

    fn measure(
        &self,
        config: &Config,
        c: &Condition,
        seed: u64,
        _artifacts: &cruxlab_core::Artifacts,
    ) -> Vec<(String, f64)> {
        let spec = Self::spec(config, c.level, c.size);
        let level_kind = c.level.code();
        let mut sums = [[0.0f64; 5]; 3];
        let mut rederive_cost = 0.0;
        for e in 0..config.episodes {
            // The level depends on (seed, episode, generator, size) only: every agent and budget sees it.
            let level = spec.generate(derive_seed(
                config.master_seed,
                &[seed, e, level_kind, c.size as u64],
            ));
            let max_steps = config.step_limit_per_cell * level.cells() as u32;
            let budget = Some(c.budget);

            let mut original = c.agent.planner(&level, config.original_target, budget);
            let ep_original = play(&level, config.original_target, &mut original, max_steps);

            let mut swapped = c.agent.planner(&level, config.original_target, budget);
            swapped.retarget(config.swapped_target);
            let ep_swapped = play(&level, config.swapped_target, &mut swapped, max_steps);

            let mut rederived = c.agent.planner(&level, config.original_target, budget);
            let before = rederived.compute().derivation;
            rederived.retarget_with(
                config.swapped_target,
                c.agent.derive(&level, config.swapped_target),
            );
            let cost = rederived.compute().derivation - before;
            let ep_rederived = play(&level, config.swapped_target, &mut rederived, max_steps);
            rederive_cost += cost as f64;

            for (k, ep) in [ep_original, ep_swapped, ep_rederived].iter().enumerate() {
                let extra = if k == 2 { cost as f64 } else { 0.0 };
                sums[k][0] += ep.success as u8 as f64;
                sums[k][1] += ep.spl();
                sums[k][2] += ep.expansions_per_decision();
                sums[k][3] += ep.expansions as f64 + extra;
                sums[k][4] += ep.steps as f64;
            }
        }
        let n = config.episodes as f64;
        let mut out = Vec::new();
        for (k, kind) in KINDS.iter().enumerate() {
            for (j, stem) in STEMS.iter().enumerate() {
                out.push((format!("{stem}_{kind}"), sums[k][j] / n));
            }
        }
        out.push((REDERIVE_COST.into(), rederive_cost / n));
        out
    }

    fn metrics(&self, _config: &Config) -> Vec<String> {
        let mut names: Vec<String> = KINDS
            .iter()
            .flat_map(|kind| STEMS.iter().map(move |stem| format!("{stem}_{kind}")))
            .collect();
        names.push(REDERIVE_COST.into());
        names
    }

    fn claims(&self, config: &Config) -> Vec<Claim> {
        let has = |a: AgentKind| config.agents.contains(&a);
        let (cue, astar) = (
            at(&[("agent", json!(AgentKind::Cue))]),
            at(&[("agent", json!(AgentKind::Astar))]),
        );
        let top = *config.budgets.iter().max().unwrap_or(&1);
        let at_top = at(&[("budget", json!(top))]);
        // The specialist's budget, found per (level, size) cell: the smallest budget at which the
        // cue agent's mean original SPL reaches 0.9.
        let cue_budget = Anchor {
            key: "budget".into(),
            metric: "spl_original".into(),
            at: cue.clone(),
            reaches: 0.9,
        };
        let first_level = config.levels.first().map_or("maze", |g| g.name());
        let largest = *config.sizes.iter().max().unwrap_or(&9);
        let plot = |metric: &str| format!("{metric}_{first_level}{largest}.svg");
        // Controls: each distinct `set` is a whole extra sweep, so the claims share three worlds.
        // Open rooms without obstacles, where the Manhattan relaxation is the exact distance.
        let open_rooms = ["levels=[\"rooms\"]", "room_density=0"];
        // The smallest levels, where every cell is a few steps from every other.
        let tiny_levels = ["sizes=[5]"];
        // The largest mazes of the full config, where walls make the relaxation poorest.
        let large_mazes = ["levels=[\"maze\"]", "sizes=[41]"];
        let mut claims = Vec::new();
        if has(AgentKind::Cue) && has(AgentKind::Astar) {
            claims.push(
                Claim::new(
                    "specialist-leads-at-its-budget",
                    "At the smallest budget where the specialised (cue) agent reaches SPL 0.9, \
                     relaxation-derived A* trails it by more than 0.1 SPL, in every level generator \
                     and size.",
                    Effect::contrast("spl_original", cue.clone(), astar.clone()),
                    Direction::Above,
                    0.0,
                )
                .margin(0.1)
                .cells(&["level", "size"])
                .anchor(cue_budget.clone())
                .control(Control::new(
                    &open_rooms,
                    VerdictKind::Refuted,
                    "with no obstacles Manhattan distance is the true distance, so A* is as well \
                     informed as the cue and the gap closes",
                ))
                .plot(&plot("spl_original")),
            );
        }
        if has(AgentKind::Cue) {
            claims.push(
                Claim::new(
                    "swap-loses-half",
                    "Swapping the specialised agent's target without re-deriving anything loses \
                     more than half of its SPL, at the smallest budget where its original SPL \
                     reached 0.9.",
                    Effect::gap("spl_swapped", "spl_original"),
                    Direction::Below,
                    -0.5,
                )
                .filter(cue.clone())
                .cells(&["level", "size"])
                .anchor(cue_budget)
                .control(Control::new(
                    &tiny_levels,
                    VerdictKind::Refuted,
                    "on 5x5 levels every object is a few steps from every other, so the stale \
                     diamond cue still leads near the cheese",
                ))
                .plot(&plot("spl_swapped")),
            );
        }
        if has(AgentKind::Cue) && has(AgentKind::Astar) {
            claims.push(
                Claim::new(
                    "rederiving-costs-specialist-more",
                    "Retargeting with re-derivation costs the specialised agent more compute \
                     (re-derivation plus search, at the largest budget) than it costs \
                     relaxation-derived A*.",
                    Effect::contrast(
                        "expansions_per_episode_rederived",
                        cue.clone(),
                        astar.clone(),
                    ),
                    Direction::Above,
                    0.0,
                )
                .filter(at_top.clone())
                .cells(&["level", "size"])
                .control(Control::new(
                    &large_mazes,
                    VerdictKind::Refuted,
                    "large mazes make A*'s relaxed search expand the most, the best case for the \
                     claim to fail; it cannot, since an unbounded A* expands each reachable cell at \
                     most once while the cue's breadth-first field pays for every one (foregone by \
                     construction)",
                ))
                .plot(&plot("expansions_per_episode_rederived")),
            );
            claims.push(
                Claim::new(
                    "relaxed-within-twice",
                    "At the largest budget (effectively unbounded), relaxation-derived A* spends \
                     less than twice the specialised agent's expansions per episode.",
                    Effect::ratio("expansions_per_episode_original", astar, cue),
                    Direction::Below,
                    2.0,
                )
                .filter(at_top)
                .cells(&["level", "size"])
                .control(Control::new(
                    &large_mazes,
                    VerdictKind::Refuted,
                    "the larger the maze, the further walls make Manhattan distance from the truth \
                     and the more A* expands beyond the cue agent's path",
                ))
                .control(Control::new(
                    &open_rooms,
                    VerdictKind::Supported,
                    "with no obstacles Manhattan distance and the cue are the same exact distance, \
                     so the ratio is 1",
                ))
                .plot(&plot("expansions_per_episode_original")),
            );
        }
        claims
    }

    fn figures(&self, config: &Config) -> Vec<Figure> {
        let Ok(spec) = config.trace_level.parse::<LevelSpec>() else {
            return Vec::new();
        };
        let level = spec.generate(derive_seed(config.master_seed, &[u64::MAX]));
        let mut figures = Vec::new();
        for agent in [AgentKind::Cue, AgentKind::Astar] {
            if config.agents.contains(&agent) {
                figures.push(Self::trace(config, &level, agent, false));
                figures.push(Self::trace(config, &level, agent, true));
            }
        }
        figures
    }

    fn plots(&self, config: &Config) -> Vec<PlotSpec> {
        let largest = *config.sizes.iter().max().unwrap_or(&9);
        let mut plots = Vec::new();
        for level in config.levels.iter().map(|g| g.name()) {
            for (metric, label) in [
                ("spl_original", "SPL, original target"),
                ("spl_swapped", "SPL, swapped target (nothing re-derived)"),
                ("spl_rederived", "SPL, swapped target (re-derived)"),
                (
                    "expansions_per_episode_original",
                    "expansions per episode, original target",
                ),
                (
                    "expansions_per_episode_rederived",
                    "expansions per episode incl. re-derivation, swapped target",
                ),
            ] {
                plots.push(PlotSpec {
                    file: format!("{metric}_{level}{largest}.svg"),
                    title: format!("{label}: {level} {largest}x{largest}"),
                    metric: metric.into(),
                    y_label: metric.replace('_', " "),
                    x: "budget".into(),
                    x_label: "per-decision budget (expansions)".into(),
                    log_x: true,
                    series: vec!["agent".into()],
                    filter: vec![
                        ("level".into(), json!(level)),
                        ("size".into(), json!(largest)),
                    ],
                });
            }
        }
        plots
    }
}

fn has_repeats<T: PartialEq>(items: &[T]) -> bool {
    items
        .iter()
        .enumerate()
        .any(|(i, a)| items[..i].contains(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    /// The claim ids `config` declares, after the framework's checks.
    fn check_claims(config: &Config) -> Vec<String> {
        cruxlab_core::checked_claims(&Retarget, config).unwrap_or_else(|err| panic!("{err}"))
    }

    #[test]
    fn claims_check_against_the_declared_metrics_and_conditions() {
        for quick in [true, false] {
            let ids = check_claims(&Retarget.default_config(quick));
            assert_eq!(ids.len(), 4);
        }
    }

    #[test]
    fn claims_need_the_agents_they_compare() {
        let config = Config {
            agents: vec![AgentKind::Cue, AgentKind::Bfs],
            ..Retarget.default_config(true)
        };
        assert_eq!(check_claims(&config), ["swap-loses-half"]);
        let config = Config {
            agents: vec![AgentKind::Bfs],
            ..Retarget.default_config(true)
        };
        assert!(check_claims(&config).is_empty());
    }

    #[test]
    fn measure_emits_exactly_the_declared_metrics() {
        let config = Config {
            episodes: 1,
            ..Retarget.default_config(true)
        };
        let mut declared = Retarget.metrics(&config);
        let condition = Condition {
            agent: AgentKind::Cue,
            level: Generator::Maze,
            size: 9,
            budget: 4,
        };
        let mut emitted: Vec<String> =
            cruxlab_core::measure_unit(&Retarget, &config, &condition, 0)
                .into_iter()
                .map(|(m, _)| m)
                .collect();
        declared.sort();
        emitted.sort();
        assert_eq!(declared, emitted);
    }

    #[test]
    fn validation_rejects_repeats_and_oversized_levels() {
        let bad = |f: fn(&mut Config)| {
            let mut c = Retarget.default_config(true);
            f(&mut c);
            Retarget.validate(&c).unwrap_err().0
        };
        assert_eq!(bad(|c| c.budgets = vec![1, 1, 64]), "budgets");
        assert_eq!(bad(|c| c.sizes = vec![2049]), "sizes");
        assert_eq!(
            bad(|c| c.step_limit_per_cell = 53_024_288),
            "step_limit_per_cell"
        );
        assert!(Retarget.validate(&Retarget.default_config(false)).is_ok());
    }
}
