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
//! **Verdicts.** (1) where and by how much the specialised heuristic beats relaxed A* at equal budget;
//! (2) whether a swap with nothing re-derived destroys most of the specialised agent's success at the
//! budget it needs; (3) whether relaxed A* keeps its success after retargeting at negligible
//! re-derivation cost; (4) whether re-deriving the specialised heuristic costs more than the whole
//! search of an original episode.

use cruxlab_agents::{AgentKind, play};
use cruxlab_core::{
    Experiment, Figure, MetricSummary, PlotSpec, Results, Summary, Verdict, VerdictKind, mean_ci,
    paired_difference,
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
        if config.sizes.is_empty() || config.sizes.iter().any(|&s| s < 5 || s % 2 == 0) {
            return err("sizes", "every size must be odd and at least 5");
        }
        if !(0.0..0.6).contains(&config.room_density) {
            return err("room_density", "must lie in [0, 0.6)");
        }
        if config.budgets.is_empty() || config.budgets.contains(&0) {
            return err("budgets", "every budget must be at least 1 expansion");
        }
        if config.step_limit_per_cell == 0 {
            return err("step_limit_per_cell", "must be at least 1");
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
        let level_kind = config
            .levels
            .iter()
            .position(|l| *l == c.level)
            .unwrap_or(0) as u64;
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

    fn verdicts(&self, config: &Config, results: &Results) -> Vec<Verdict> {
        let mut verdicts = Vec::new();
        if config.agents.contains(&AgentKind::Cue) && config.agents.contains(&AgentKind::Astar) {
            verdicts.push(specialised_beats_relaxed(config, results));
        }
        if config.agents.contains(&AgentKind::Cue) {
            verdicts.push(swap_destroys_specialised(config, results));
            verdicts.push(rederivation_costs_more_than_search(config, results));
        }
        if config.agents.contains(&AgentKind::Astar) {
            verdicts.push(relaxed_is_retargetable(config, results));
        }
        verdicts
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

/// Evidence text for one summary: "0.83 [0.71, 0.95] (n=10)".
fn show(s: &Summary) -> String {
    match (s.ci_low, s.ci_high) {
        (Some(lo), Some(hi)) => format!("{:.3} [{:.3}, {:.3}] (n={})", s.mean, lo, hi, s.n),
        _ => format!("{:.3} (n={})", s.mean, s.n),
    }
}

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

fn specialised_beats_relaxed(config: &Config, results: &Results) -> Verdict {
    let mut best: Option<(Summary, String)> = None;
    let mut significant = 0;
    let mut upper_bounds_small = true;
    let mut compared = 0;
    let mut ratios = Vec::new();
    for level in &config.levels {
        for &size in &config.sizes {
            for &budget in &config.budgets {
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
                let Some(d) = paired_difference(cue, astar) else {
                    continue;
                };
                compared += 1;
                if d.ci_low.is_some_and(|lo| lo > 0.0) {
                    significant += 1;
                }
                if d.ci_high.is_none_or(|hi| hi >= 0.05) {
                    upper_bounds_small = false;
                }
                if best.as_ref().is_none_or(|(b, _)| d.mean > b.mean) {
                    best = Some((d, format!("{level} {size}x{size}, budget {budget}")));
                }
            }
            let cue90 = budget_for_90(config, results, "spl_original", AgentKind::Cue, level, size);
            let astar90 = budget_for_90(
                config,
                results,
                "spl_original",
                AgentKind::Astar,
                level,
                size,
            );
            let top = *config.budgets.iter().max().unwrap_or(&1);
            let episode = |agent| {
                at(
                    results,
                    "expansions_per_episode_original",
                    agent,
                    level,
                    size,
                    top,
                )
            };
            let compute = match (episode(AgentKind::Cue), episode(AgentKind::Astar)) {
                (Some(c), Some(a)) => format!(
                    ", expansions per episode at budget {top}: cue {} vs astar {} ({:.1}x)",
                    show(&c.summary()),
                    show(&a.summary()),
                    a.mean / c.mean.max(f64::MIN_POSITIVE)
                ),
                _ => String::new(),
            };
            ratios.push(format!(
                "{level} {size}: SPL >= 0.9 needs budget {} (cue) vs {} (astar){compute}",
                cue90.map_or("> max".into(), |b| b.to_string()),
                astar90.map_or("> max".into(), |b| b.to_string())
            ));
        }
    }
    let verdict = if significant > 0 {
        VerdictKind::Supported
    } else if compared > 0 && upper_bounds_small {
        VerdictKind::Refuted
    } else {
        VerdictKind::Inconclusive
    };
    let largest = best.map_or("no comparable conditions".into(), |(d, w)| {
        format!(
            "largest gap in SPL (cue - astar, paired by seed): {} at {w}",
            show(&d)
        )
    });
    Verdict {
        claim: "At equal per-decision budget, the specialised (cue) agent reaches its original target more efficiently (SPL: success weighted by optimal over taken path length) than relaxation-derived A*.".into(),
        verdict,
        evidence: format!(
            "{significant} of {compared} (level, size, budget) conditions show a gap whose 95% CI excludes 0; {largest}. {}.",
            ratios.join("; ")
        ),
    }
}

fn swap_destroys_specialised(config: &Config, results: &Results) -> Verdict {
    let mut lines = Vec::new();
    let (mut most_lost, mut most_kept, mut tested) = (0, 0, 0);
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
            tested += 1;
            let half = 0.5 * orig.mean;
            if d.ci_high.is_some_and(|hi| hi < -half) {
                most_lost += 1;
            } else if d.ci_low.is_some_and(|lo| lo > -half) {
                most_kept += 1;
            }
            let recovered =
                budget_for_90(config, results, "spl_swapped", AgentKind::Cue, level, size);
            lines.push(format!(
                "{level} {size} at budget {budget}: original {}, swapped {}; after the swap SPL >= 0.9 needs budget {}",
                show(&orig.summary()),
                show(&swap.summary()),
                recovered.map_or("> max".into(), |b| b.to_string())
            ));
        }
    }
    let verdict = if tested > 0 && most_lost == tested {
        VerdictKind::Supported
    } else if tested > 0 && most_kept == tested {
        VerdictKind::Refuted
    } else {
        VerdictKind::Inconclusive
    };
    Verdict {
        claim: "Swapping the specialised agent's target without re-deriving anything loses more than half of its competence (SPL), at the smallest budget where its SPL on the original target reached 0.9.".into(),
        verdict,
        evidence: format!(
            "lost more than half (CI) in {most_lost} of {tested} level/size cells, kept more than half in {most_kept}. {}",
            lines.join("; ")
        ),
    }
}

/// Per seed, the mean over `budgets` of `a - b` for one agent, level and size; then a CI over seeds.
fn pooled_difference(
    results: &Results,
    (a, b): (&str, &str),
    agent: AgentKind,
    level: &str,
    size: usize,
    budgets: &[u64],
) -> Option<Summary> {
    let mut per_seed: std::collections::BTreeMap<u64, (f64, usize)> =
        std::collections::BTreeMap::new();
    for &budget in budgets {
        let (ma, mb) = (
            at(results, a, agent, level, size, budget)?,
            at(results, b, agent, level, size, budget)?,
        );
        for (seed, va) in ma.seeds.iter().zip(&ma.values) {
            if let Some(vb) = mb
                .seeds
                .iter()
                .position(|s| s == seed)
                .map(|i| mb.values[i])
            {
                let e = per_seed.entry(*seed).or_insert((0.0, 0));
                e.0 += va - vb;
                e.1 += 1;
            }
        }
    }
    let diffs: Vec<f64> = per_seed
        .values()
        .filter(|(_, k)| *k == budgets.len())
        .map(|(d, k)| d / *k as f64)
        .collect();
    (!diffs.is_empty()).then(|| mean_ci(&diffs))
}

fn relaxed_is_retargetable(config: &Config, results: &Results) -> Verdict {
    let (mut within, mut beyond, mut tested) = (0, 0, 0);
    let mut lines = Vec::new();
    let top = *config.budgets.iter().max().unwrap_or(&1);
    for level in &config.levels {
        for &size in &config.sizes {
            let pair = ("spl_rederived", "spl_original");
            let Some(d) = pooled_difference(
                results,
                pair,
                AgentKind::Astar,
                level,
                size,
                &config.budgets,
            ) else {
                continue;
            };
            tested += 1;
            if d.ci_low.is_some_and(|lo| lo > -0.1) {
                within += 1;
            } else if d.ci_high.is_some_and(|hi| hi < -0.1) {
                beyond += 1;
            }
            let cost = |agent| {
                at(results, "rederive_cost", agent, level, size, top)
                    .map_or("-".into(), |m| format!("{:.0}", m.mean))
            };
            lines.push(format!(
                "{level} {size}: SPL change {}; re-derivation cost astar {} vs cue {} expansions",
                show(&d),
                cost(AgentKind::Astar),
                cost(AgentKind::Cue)
            ));
        }
    }
    let verdict = if tested > 0 && within == tested {
        VerdictKind::Supported
    } else if beyond > 0 {
        VerdictKind::Refuted
    } else {
        VerdictKind::Inconclusive
    };
    Verdict {
        claim: "Relaxation-derived A* keeps its competence after retargeting with re-derivation: its SPL on the new target, averaged over budgets and paired by seed, is within 0.1 of its SPL on the original target.".into(),
        verdict,
        evidence: format!(
            "drop ruled out beyond 0.1 in {within} of {tested} level/size cells, shown beyond 0.1 in {beyond}. {}",
            lines.join("; ")
        ),
    }
}

fn rederivation_costs_more_than_search(config: &Config, results: &Results) -> Verdict {
    let budget = *config.budgets.iter().max().unwrap_or(&1);
    let mut lines = Vec::new();
    let (mut more, mut less, mut tested) = (0, 0, 0);
    for level in &config.levels {
        for &size in &config.sizes {
            let (Some(cost), Some(search)) = (
                at(
                    results,
                    "rederive_cost",
                    AgentKind::Cue,
                    level,
                    size,
                    budget,
                ),
                at(
                    results,
                    "expansions_per_episode_original",
                    AgentKind::Cue,
                    level,
                    size,
                    budget,
                ),
            ) else {
                continue;
            };
            let Some(d) = paired_difference(cost, search) else {
                continue;
            };
            tested += 1;
            if d.ci_low.is_some_and(|lo| lo > 0.0) {
                more += 1;
            } else if d.ci_high.is_some_and(|hi| hi < 0.0) {
                less += 1;
            }
            lines.push(format!(
                "{level} {size}: re-derivation {} vs original episode search {}",
                show(&cost.summary()),
                show(&search.summary())
            ));
        }
    }
    let verdict = if tested > 0 && more == tested {
        VerdictKind::Supported
    } else if tested > 0 && less == tested {
        VerdictKind::Refuted
    } else {
        VerdictKind::Inconclusive
    };
    Verdict {
        claim: format!(
            "Re-deriving the specialised heuristic for a new target costs more expansions than the specialised agent's whole search for its original target (budget {budget})."
        ),
        verdict,
        evidence: format!(
            "more in {more}, less in {less} of {tested} level/size cells (paired CI). {}",
            lines.join("; ")
        ),
    }
}
