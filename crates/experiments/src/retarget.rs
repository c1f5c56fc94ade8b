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
//! **Verdicts** (each rule can come out supported, refuted or inconclusive; a cell supports a claim
//! when its 95% CI lies wholly on the claim's side of the threshold, contradicts it when wholly on
//! the other side):
//! 1. per level generator: at the smallest budget where `cue` reaches SPL 0.9, `astar` trails it by
//!    more than 0.1 SPL (paired by seed, pooled over sizes);
//! 2. a swap with nothing re-derived loses more than half of `cue`'s SPL at that budget (every
//!    level/size cell);
//! 3. retargeting with re-derivation (derivation plus search, largest budget) costs `cue` more
//!    expansions than `astar` (every cell);
//! 4. at the largest budget `astar` spends less than twice `cue`'s expansions per episode (every
//!    cell; the per-seed ratio's CI against 2).

use cruxlab_agents::{AgentKind, play};
use cruxlab_core::{
    Experiment, Figure, MetricSummary, PlotSpec, Results, Summary, Verdict, VerdictKind, mean_ci,
    paired_difference,
};
use cruxlab_grid::{LevelSpec, ObjectKind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

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
    pub levels: Vec<String>,
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
    pub level: String,
    pub size: usize,
    pub budget: u64,
}

const KINDS: [&str; 3] = ["original", "swapped", "rederived"];

impl Retarget {
    fn spec(config: &Config, level: &str, size: usize) -> LevelSpec {
        match level {
            "rooms" => LevelSpec::Rooms {
                size,
                density: config.room_density,
            },
            _ => LevelSpec::Maze { size },
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
            levels: vec!["maze".into(), "rooms".into()],
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

    fn seeds(&self, config: &Config) -> u64 {
        config.seeds
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
        if let Some(l) = config
            .levels
            .iter()
            .find(|l| !matches!(l.as_str(), "maze" | "rooms"))
        {
            return err(
                "levels",
                &format!("unknown level generator '{l}' (expected maze or rooms)"),
            );
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
                            level: level.clone(),
                            size,
                            budget,
                        });
                    }
                }
            }
        }
        out
    }

    fn measure(&self, config: &Config, c: &Condition, seed: u64) -> Vec<(String, f64)> {
        let spec = Self::spec(config, &c.level, c.size);
        // A code per generator name (not its place in the list), so a level never depends on which
        // other generators the config sweeps.
        let level_kind = match c.level.as_str() {
            "rooms" => 1,
            _ => 0,
        };
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
            out.push((format!("success_{kind}"), sums[k][0] / n));
            out.push((format!("spl_{kind}"), sums[k][1] / n));
            out.push((format!("expansions_per_decision_{kind}"), sums[k][2] / n));
            out.push((format!("expansions_per_episode_{kind}"), sums[k][3] / n));
            out.push((format!("steps_{kind}"), sums[k][4] / n));
        }
        out.push(("rederive_cost".into(), rederive_cost / n));
        out
    }

    fn metrics(&self, _config: &Config) -> Vec<String> {
        Vec::new()
    }

    fn claims(&self, _config: &Config) -> Vec<cruxlab_core::Claim> {
        Vec::new()
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
        for level in &config.levels {
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

// OLD VERDICTS: to be rewritten as claims
#[cfg(any())]
mod old_verdicts {
    use super::*;
    fn at<'r>(
        results: &'r Results,
        metric: &str,
        agent: AgentKind,
        level: &str,
        size: usize,
        budget: u64,
    ) -> Option<&'r MetricSummary> {
        results.find(
            metric,
            &[
                ("agent", json!(agent)),
                ("level", json!(level)),
                ("size", json!(size)),
                ("budget", json!(budget)),
            ],
        )
    }

    /// The smallest budget at which `agent`'s mean `metric` (an SPL) reaches 0.9.
    fn budget_for_90(
        config: &Config,
        results: &Results,
        metric: &str,
        agent: AgentKind,
        level: &str,
        size: usize,
    ) -> Option<u64> {
        let mut budgets = config.budgets.clone();
        budgets.sort_unstable();
        budgets
            .into_iter()
            .find(|&b| at(results, metric, agent, level, size, b).is_some_and(|m| m.mean >= 0.9))
    }

    fn budget_text(b: Option<u64>) -> String {
        b.map_or("> max".into(), |b| b.to_string())
    }

    /// `f(a, b)` for every seed both summaries measured, in seed order.
    fn per_seed(
        a: &MetricSummary,
        b: &MetricSummary,
        f: impl Fn(f64, f64) -> f64,
    ) -> BTreeMap<u64, f64> {
        let b: BTreeMap<u64, f64> = b
            .seeds
            .iter()
            .copied()
            .zip(b.values.iter().copied())
            .collect();
        a.seeds
            .iter()
            .zip(&a.values)
            .filter_map(|(seed, va)| b.get(seed).map(|vb| (*seed, f(*va, *vb))))
            .collect()
    }

    /// Whether an interval lies wholly above `x` (true), wholly below it (false), or straddles it.
    fn side_of(s: &Summary, x: f64) -> Option<bool> {
        if s.is_above(x) {
            Some(true)
        } else if s.is_below(x) {
            Some(false)
        } else {
            None
        }
    }

    /// Per-cell outcomes of one claim, and the verdict they add up to: supported when every tested
    /// cell supports it, refuted when every tested cell contradicts it, inconclusive otherwise.
    #[derive(Default)]
    struct Tally {
        supports: usize,
        contradicts: usize,
        tested: usize,
        lines: Vec<String>,
    }

    impl Tally {
        fn add(&mut self, outcome: Option<bool>, line: String) {
            self.tested += 1;
            match outcome {
                Some(true) => self.supports += 1,
                Some(false) => self.contradicts += 1,
                None => {}
            }
            self.lines.push(line);
        }

        fn verdict(self, claim: String) -> Verdict {
            let verdict = if self.tested > 0 && self.supports == self.tested {
                VerdictKind::Supported
            } else if self.tested > 0 && self.contradicts == self.tested {
                VerdictKind::Refuted
            } else {
                VerdictKind::Inconclusive
            };
            let evidence = format!(
                "supports in {} of {} cells, contradicts in {}. {}",
                self.supports,
                self.tested,
                self.contradicts,
                if self.lines.is_empty() {
                    "No comparable cells.".into()
                } else {
                    self.lines.join("; ")
                }
            );
            Verdict {
                claim,
                verdict,
                evidence,
            }
        }
    }

    /// Counter-claim: at the budget the specialist needs, general search with a derived heuristic is
    /// not competitive. One verdict per level generator, pooling sizes per seed.
    fn specialist_wins_at_its_budget(config: &Config, results: &Results, level: &str) -> Verdict {
        let mut pooled: BTreeMap<u64, (f64, usize)> = BTreeMap::new();
        let mut lines = Vec::new();
        let mut sizes = 0;
        for &size in &config.sizes {
            let cue90 = budget_for_90(config, results, "spl_original", AgentKind::Cue, level, size);
            let astar90 = budget_for_90(
                config,
                results,
                "spl_original",
                AgentKind::Astar,
                level,
                size,
            );
            let Some(budget) = cue90 else { continue };
            let (Some(cue), Some(astar)) = (
                at(results, "spl_original", AgentKind::Cue, level, size, budget),
                at(
                    results,
                    "spl_original",
                    AgentKind::Astar,
                    level,
                    size,
                    budget,
                ),
            ) else {
                continue;
            };
            sizes += 1;
            for (seed, d) in per_seed(cue, astar, |c, a| c - a) {
                let e = pooled.entry(seed).or_default();
                e.0 += d;
                e.1 += 1;
            }
            lines.push(format!(
            "{size}x{size}: at budget {budget} cue {} vs astar {}; SPL >= 0.9 needs budget {} (cue) vs {} (astar)",
            cue.summary(),
            astar.summary(),
            budget_text(cue90),
            budget_text(astar90)
        ));
        }
        let diffs: Vec<f64> = pooled
            .values()
            .filter(|(_, k)| *k == sizes)
            .map(|(d, k)| d / *k as f64)
            .collect();
        let mut tally = Tally::default();
        if !diffs.is_empty() {
            let d = mean_ci(&diffs);
            tally.add(
                side_of(&d, 0.1),
                format!(
                    "SPL gap cue - astar, pooled over sizes: {}. {}",
                    d,
                    lines.join("; ")
                ),
            );
        }
        tally.verdict(format!(
        "In {level} levels, at the smallest budget where the specialised (cue) agent reaches SPL 0.9, relaxation-derived A* trails it by more than 0.1 SPL (paired by seed, pooled over sizes)."
    ))
    }

    /// Counter-claim: the specialist's competence does not survive a change of target.
    fn swap_destroys_specialist(config: &Config, results: &Results) -> Verdict {
        let mut tally = Tally::default();
        for level in &config.levels {
            for &size in &config.sizes {
                let Some(budget) =
                    budget_for_90(config, results, "spl_original", AgentKind::Cue, level, size)
                else {
                    continue;
                };
                let (Some(orig), Some(swap)) = (
                    at(results, "spl_original", AgentKind::Cue, level, size, budget),
                    at(results, "spl_swapped", AgentKind::Cue, level, size, budget),
                ) else {
                    continue;
                };
                let Some(d) = paired_difference(swap, orig) else {
                    continue;
                };
                let recovered =
                    budget_for_90(config, results, "spl_swapped", AgentKind::Cue, level, size);
                // Supports when more than half of the original SPL is surely lost.
                tally.add(
                side_of(&d, -0.5 * orig.mean).map(|above| !above),
                format!(
                    "{level} {size} at budget {budget}: original {}, swapped {}; after the swap SPL >= 0.9 needs budget {}",
                    orig.summary(),
                    swap.summary(),
                    budget_text(recovered)
                ),
            );
            }
        }
        tally.verdict(
        "Swapping the specialised agent's target without re-deriving anything loses more than half of its SPL, at the smallest budget where its original SPL reached 0.9.".into(),
    )
    }

    /// Reply, retargetability: what a change of target costs when each agent re-derives its heuristic.
    fn retargeting_costs_specialist_more(config: &Config, results: &Results) -> Verdict {
        let top = *config.budgets.iter().max().unwrap_or(&1);
        let mut tally = Tally::default();
        for level in &config.levels {
            for &size in &config.sizes {
                let get = |metric, agent| at(results, metric, agent, level, size, top);
                let (Some(cue), Some(astar)) = (
                    get("expansions_per_episode_rederived", AgentKind::Cue),
                    get("expansions_per_episode_rederived", AgentKind::Astar),
                ) else {
                    continue;
                };
                let Some(d) = paired_difference(cue, astar) else {
                    continue;
                };
                let spl = |agent| {
                    get("spl_rederived", agent).map_or("-".into(), |m| m.summary().to_string())
                };
                let cost = |agent| {
                    get("rederive_cost", agent).map_or("-".into(), |m| format!("{:.0}", m.mean))
                };
                tally.add(
                side_of(&d, 0.0),
                format!(
                    "{level} {size}: re-derivation + search cue {} vs astar {} expansions (re-derivation alone {} vs {}); SPL after re-derivation cue {} vs astar {}",
                    cue.summary(),
                    astar.summary(),
                    cost(AgentKind::Cue),
                    cost(AgentKind::Astar),
                    spl(AgentKind::Cue),
                    spl(AgentKind::Astar)
                ),
            );
            }
        }
        tally.verdict(format!(
        "Retargeting with re-derivation costs the specialised agent more compute (re-derivation plus search, budget {top}) than it costs relaxation-derived A*."
    ))
    }

    /// Reply, efficiency: derived heuristics are within a small factor of the specialist's compute.
    fn relaxed_search_within_twice(config: &Config, results: &Results) -> Verdict {
        let top = *config.budgets.iter().max().unwrap_or(&1);
        let mut tally = Tally::default();
        for level in &config.levels {
            for &size in &config.sizes {
                let get = |agent| {
                    at(
                        results,
                        "expansions_per_episode_original",
                        agent,
                        level,
                        size,
                        top,
                    )
                };
                let (Some(cue), Some(astar)) = (get(AgentKind::Cue), get(AgentKind::Astar)) else {
                    continue;
                };
                let ratios: Vec<f64> = per_seed(astar, cue, |a, c| a / c.max(1.0))
                    .into_values()
                    .collect();
                if ratios.is_empty() {
                    continue;
                }
                let r = mean_ci(&ratios);
                tally.add(
                    side_of(&r, 2.0).map(|above| !above),
                    format!(
                        "{level} {size}: astar/cue expansions per episode {} (astar {}, cue {})",
                        r,
                        astar.summary(),
                        cue.summary()
                    ),
                );
            }
        }
        tally.verdict(format!(
        "With budget {top} (effectively unbounded), relaxation-derived A* spends less than twice the specialised agent's expansions per episode."
    ))
    }
}

#[cfg(any())]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            levels: vec!["maze".into()],
            sizes: vec![9],
            budgets: vec![1, 64],
            ..Retarget.default_config(true)
        }
    }

    /// Results holding `metric` for (agent, maze, 9, budget) with the given per-seed values.
    fn results(entries: &[(&str, AgentKind, u64, &[f64])]) -> Results {
        let metrics = entries
            .iter()
            .map(|(metric, agent, budget, values)| {
                let condition =
                    json!({"agent": agent, "level": "maze", "size": 9, "budget": budget});
                MetricSummary::from_seeds(
                    metric,
                    condition.as_object().unwrap().clone(),
                    (0..values.len() as u64).collect(),
                    values.to_vec(),
                )
            })
            .collect();
        Results {
            experiment: "retarget".into(),
            config: json!({}),
            metrics,
            verdicts: Vec::new(),
        }
    }

    const PERFECT: &[f64] = &[1.0; 6];

    #[test]
    fn specialist_verdict_can_go_each_way() {
        let c = config();
        let verdict = |astar: &[f64]| {
            let r = results(&[
                ("spl_original", AgentKind::Cue, 1, PERFECT),
                ("spl_original", AgentKind::Astar, 1, astar),
            ]);
            specialist_wins_at_its_budget(&c, &r, "maze").verdict
        };
        assert_eq!(
            verdict(&[0.5, 0.6, 0.55, 0.5, 0.6, 0.55]),
            VerdictKind::Supported
        );
        assert_eq!(
            verdict(&[1.0, 0.98, 0.99, 0.97, 1.0, 0.99]),
            VerdictKind::Refuted
        );
        assert_eq!(
            verdict(&[1.0, 0.5, 1.0, 0.6, 1.0, 0.95]),
            VerdictKind::Inconclusive
        );
    }

    #[test]
    fn swap_verdict_can_go_each_way() {
        let c = config();
        let verdict = |swapped: &[f64]| {
            let r = results(&[
                ("spl_original", AgentKind::Cue, 1, PERFECT),
                ("spl_swapped", AgentKind::Cue, 1, swapped),
            ]);
            swap_destroys_specialist(&c, &r).verdict
        };
        assert_eq!(
            verdict(&[0.1, 0.2, 0.15, 0.1, 0.2, 0.1]),
            VerdictKind::Supported
        );
        assert_eq!(
            verdict(&[0.9, 0.95, 0.9, 0.85, 1.0, 0.9]),
            VerdictKind::Refuted
        );
        assert_eq!(
            verdict(&[0.1, 0.9, 0.2, 0.95, 0.5, 0.6]),
            VerdictKind::Inconclusive
        );
    }

    #[test]
    fn retargeting_cost_verdict_can_go_each_way() {
        let c = config();
        let verdict = |cue: &[f64], astar: &[f64]| {
            let r = results(&[
                ("expansions_per_episode_rederived", AgentKind::Cue, 64, cue),
                (
                    "expansions_per_episode_rederived",
                    AgentKind::Astar,
                    64,
                    astar,
                ),
            ]);
            retargeting_costs_specialist_more(&c, &r).verdict
        };
        let cheap = [20.0, 25.0, 22.0, 30.0, 21.0, 24.0];
        let dear = [100.0, 110.0, 95.0, 105.0, 99.0, 120.0];
        assert_eq!(verdict(&dear, &cheap), VerdictKind::Supported);
        assert_eq!(verdict(&cheap, &dear), VerdictKind::Refuted);
        assert_eq!(verdict(&cheap, &cheap), VerdictKind::Inconclusive);
    }

    #[test]
    fn efficiency_verdict_reads_the_per_seed_ratio() {
        let c = config();
        let verdict = |astar: &[f64]| {
            let cue = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0];
            let r = results(&[
                ("expansions_per_episode_original", AgentKind::Cue, 64, &cue),
                (
                    "expansions_per_episode_original",
                    AgentKind::Astar,
                    64,
                    astar,
                ),
            ]);
            relaxed_search_within_twice(&c, &r).verdict
        };
        assert_eq!(
            verdict(&[12.0, 23.0, 33.0, 47.0, 55.0, 70.0]),
            VerdictKind::Supported
        );
        assert_eq!(
            verdict(&[30.0, 65.0, 88.0, 125.0, 150.0, 175.0]),
            VerdictKind::Refuted
        );
        // Ratios 1.5, 2.5, 1.8, 2.3, 1.9, 2.2: the interval straddles 2.
        assert_eq!(
            verdict(&[15.0, 50.0, 54.0, 92.0, 95.0, 132.0]),
            VerdictKind::Inconclusive
        );
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
