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

use cruxlab_agents::roster::TABLE_LOOKAHEAD;
use cruxlab_agents::{AgentKind, Derived, Heuristic, Planner, break_even, play};
use cruxlab_core::{
    Anchor, ArtifactKey, Artifacts, Claim, Control, Direction, Effect, Experiment, Figure,
    PlotSpec, VerdictKind, at,
};
use cruxlab_grid::{Level, LevelSpec, ObjectKind};
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
    /// The agents swept: bfs, astar, altK, cue, cue-rR-nA, tableT (see `cruxlab_agents::roster`).
    pub agents: Vec<AgentKind>,
    /// The bought, target-bound specialist the claims test (one of `agents`).
    pub specialist: AgentKind,
    /// The retargetable reply the claims test it against (one of `agents`).
    pub reply: AgentKind,
    /// Episodes on one level and target over which a heuristic's construction is amortised.
    pub amortise_k: u64,
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
/// The expansions (or reads) building the heuristic for the original target costs.
const CONSTRUCTION_COST: &str = "construction_cost";
/// Construction / K + search expansions, per episode over K episodes on the original target.
const AMORTISED_ORIGINAL: &str = "amortised_original";
/// Re-derivation / K + search expansions, per episode over K episodes on the swapped target.
const AMORTISED_REDERIVED: &str = "amortised_rederived";
/// The episodes on one level and target after which the agent's total compute (construction plus
/// search) drops below A*'s at the same budget; not applicable (NaN) for a seed where it never does.
const BREAK_EVEN: &str = "break_even_vs_astar";
/// 1 for a seed where the agent breaks even with A* at all, else 0.
const BREAKS_EVEN: &str = "breaks_even_vs_astar";

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

/// The artifact kind of a value-table agent's learned tables: per level of one (seed, generator,
/// size), the table for the original target and the one for the swapped target. Learning them is
/// the slow part of the sweep and does not depend on the budget, so each is learned once and shared
/// by every budget.
const VALUE_TABLES: &str = "value-tables";

/// Everything a set of learned tables is a pure function of.
#[derive(Serialize, Deserialize)]
struct TableInputs {
    master_seed: u64,
    seed: u64,
    level: Generator,
    size: usize,
    room_density: f64,
    episodes: u64,
    trials: u32,
    lookahead: u64,
    targets: [ObjectKind; 2],
}

/// One learned table, as stored.
#[derive(Serialize, Deserialize)]
struct StoredTable {
    width: usize,
    values: Vec<u32>,
    cost: u64,
}

impl StoredTable {
    fn store(derived: Derived) -> StoredTable {
        match derived.heuristic {
            Heuristic::Table { width, values } => StoredTable {
                width,
                values,
                cost: derived.cost,
            },
            other => unreachable!("a value table agent built a {} heuristic", other.name()),
        }
    }

    fn derived(self) -> Derived {
        Derived {
            heuristic: Heuristic::Table {
                width: self.width,
                values: self.values,
            },
            cost: self.cost,
        }
    }
}

/// What one agent spent and achieved on one level.
struct LevelOutcome {
    /// Per episode kind: success, SPL, expansions per decision, search expansions, steps.
    episodes: [[f64; 5]; 3],
    construction: f64,
    rederivation: f64,
}

impl Retarget {
    fn spec(room_density: f64, level: Generator, size: usize) -> LevelSpec {
        match level {
            Generator::Rooms => LevelSpec::Rooms {
                size,
                density: room_density,
            },
            Generator::Maze => LevelSpec::Maze { size },
        }
    }

    /// Level `e` of a seed's levels of one generator and size: it depends on (seed, episode,
    /// generator, size) only, so every agent and budget sees it.
    fn level(config: &Config, generator: Generator, size: usize, seed: u64, e: u64) -> Level {
        Self::level_of(
            config.master_seed,
            config.room_density,
            generator,
            size,
            seed,
            e,
        )
    }

    fn level_of(
        master_seed: u64,
        room_density: f64,
        generator: Generator,
        size: usize,
        seed: u64,
        e: u64,
    ) -> Level {
        Self::spec(room_density, generator, size).generate(derive_seed(
            master_seed,
            &[seed, e, generator.code(), size as u64],
        ))
    }

    /// The key of the learned tables a value-table agent's unit reads (`None` for other agents).
    fn table_key(config: &Config, c: &Condition, seed: u64) -> Option<ArtifactKey> {
        let AgentKind::Table { trials } = c.agent else {
            return None;
        };
        let inputs = TableInputs {
            master_seed: config.master_seed,
            seed,
            level: c.level,
            size: c.size,
            room_density: config.room_density,
            episodes: config.episodes,
            trials,
            lookahead: TABLE_LOOKAHEAD,
            targets: [config.original_target, config.swapped_target],
        };
        Some(ArtifactKey::new(VALUE_TABLES, &inputs))
    }

    /// One agent on one level: the original episode, the swapped one (nothing re-derived) and the
    /// re-derived one, from one construction of its heuristic. `prepared` holds the heuristics
    /// for the original and the swapped target when they were built ahead (learned tables).
    fn play_level(
        config: &Config,
        agent: AgentKind,
        level: &Level,
        budget: u64,
        prepared: Option<(Derived, Derived)>,
    ) -> LevelOutcome {
        let max_steps = config.step_limit_per_cell * level.cells() as u32;
        let (built, rederive) = match prepared {
            Some((original, swapped)) => (
                Planner::new(config.original_target, original, Some(budget)),
                Some(swapped),
            ),
            None => (
                agent.planner(level, config.original_target, Some(budget)),
                None,
            ),
        };
        let construction = built.compute().derivation;

        let mut original = built.clone();
        let ep_original = play(level, config.original_target, &mut original, max_steps);

        let mut swapped = built.clone();
        swapped.retarget(config.swapped_target);
        let ep_swapped = play(level, config.swapped_target, &mut swapped, max_steps);

        let mut rederived = built;
        match rederive {
            Some(derived) => rederived.retarget_with(config.swapped_target, derived),
            None => agent.retarget(&mut rederived, level, config.swapped_target),
        }
        let rederivation = rederived.compute().derivation - construction;
        let ep_rederived = play(level, config.swapped_target, &mut rederived, max_steps);

        let mut episodes = [[0.0; 5]; 3];
        for (k, ep) in [ep_original, ep_swapped, ep_rederived].iter().enumerate() {
            episodes[k] = [
                ep.success as u8 as f64,
                ep.spl(),
                ep.expansions_per_decision(),
                ep.expansions as f64,
                ep.steps as f64,
            ];
        }
        LevelOutcome {
            episodes,
            construction: construction as f64,
            rederivation: rederivation as f64,
        }
    }

    /// One example episode drawn from inside the planner: where it expanded, where it walked.
    fn trace(config: &Config, level: &Level, agent: AgentKind, swapped: bool) -> Figure {
        let max_steps = config.step_limit_per_cell * level.cells() as u32;
        let mut planner = agent.planner(level, config.original_target, Some(config.trace_budget));
        let construction = planner.compute().derivation;
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
                "{} ({episode} {}{stale}), budget {}: {} in {} steps (optimal {}), {} expansions \
                 searching, {construction} building the heuristic. Orange: expansions per cell \
                 (log scale); dots: the path walked.",
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
Every agent is one algorithm, A* bounded to a per-decision budget of node expansions that falls back to LSS-LRTA* \
learning when the budget runs out, holding a heuristic, and every heuristic is charged what building it costs \
(expansions, or one unit per table read). Retargetable: bfs (none, free), astar (Manhattan distance, one read per \
target object), altK (ALT: K landmark distance fields grown once per level whatever the target, then K reads per \
target object; the estimate is the landmark lower bound or Manhattan distance, whichever is larger). Target-bound \
specialists: cue (the exact diamond distance field the environment shows, charged the breadth-first search that \
grows it), cue-rR-nA (that cue read only within R steps of the diamond and off by up to A steps, charged the cells \
within R), tableT (a value table learned from T LRTA* trials toward the diamond from random starts, charged every \
expansion of the trials). On the same levels each agent plays three episodes: original (reach the diamond); swapped \
(reach the cheese with the heuristic left as it was); re-derived (reach the cheese after deriving the heuristic again: \
ALT reads its landmarks for the cheese, the specialists build theirs again for it). Metrics per seed are means over \
its levels: success, SPL (success weighted by optimal/actual path length), expansions per decision and per episode, \
the construction and re-derivation costs, the compute per episode with construction amortised over K episodes on one \
level and target, and the break-even K against A* at the same budget. Seeds pair the comparisons: every agent and \
budget sees the same levels for a given seed."
    }

    fn default_config(&self, quick: bool) -> Config {
        let agent = |s: &str| s.parse::<AgentKind>().expect("a valid agent name");
        let agents = |names: &[&str]| names.iter().map(|s| agent(s)).collect::<Vec<_>>();
        let base = Config {
            seeds: 24,
            master_seed: 2022,
            episodes: 4,
            agents: agents(&[
                "bfs", "astar", "alt1", "alt4", "alt16", "cue", "cue-r3", "cue-r6", "cue-n2",
                "cue-n4", "table16", "table64", "table256",
            ]),
            specialist: agent("table64"),
            reply: agent("alt4"),
            amortise_k: 100,
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
                agents: agents(&[
                    "bfs", "astar", "alt4", "cue", "cue-r3", "cue-n2", "table16", "table64",
                ]),
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
        for (key, agent) in [("specialist", config.specialist), ("reply", config.reply)] {
            if !config.agents.contains(&agent) {
                return err(key, &format!("'{agent}' is not one of `agents`"));
            }
        }
        if config.specialist == config.reply {
            return err("reply", "must differ from the specialist");
        }
        if config.amortise_k == 0 {
            return err("amortise_k", "must be at least 1 episode");
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
        artifacts: &Artifacts,
    ) -> Vec<(String, f64)> {
        let mut tables: Vec<[StoredTable; 2]> = match Self::table_key(config, c, seed) {
            Some(key) => {
                serde_json::from_slice(artifacts.get(&key)).expect("stored value tables read back")
            }
            None => Vec::new(),
        };
        tables.reverse();
        let mut sums = [[0.0f64; 5]; 3];
        let (mut construction, mut rederivation) = (0.0, 0.0);
        // A* on the same levels at the same budget, the reference of the break-even count.
        let (mut astar_construction, mut astar_search) = (0.0, 0.0);
        for e in 0..config.episodes {
            let level = Self::level(config, c.level, c.size, seed, e);
            let prepared = tables
                .pop()
                .map(|[original, swapped]| (original.derived(), swapped.derived()));
            let outcome = Self::play_level(config, c.agent, &level, c.budget, prepared);
            for (k, sum) in sums.iter_mut().enumerate() {
                for (j, s) in sum.iter_mut().enumerate() {
                    *s += outcome.episodes[k][j];
                }
            }
            construction += outcome.construction;
            rederivation += outcome.rederivation;
            if c.agent == AgentKind::Astar {
                astar_construction += outcome.construction;
                astar_search += outcome.episodes[0][3];
            } else {
                let max_steps = config.step_limit_per_cell * level.cells() as u32;
                let mut astar =
                    AgentKind::Astar.planner(&level, config.original_target, Some(c.budget));
                astar_construction += astar.compute().derivation as f64;
                astar_search +=
                    play(&level, config.original_target, &mut astar, max_steps).expansions as f64;
            }
        }
        let n = config.episodes as f64;
        let k = config.amortise_k as f64;
        let mean = |x: f64| x / n;
        let mut out = Vec::new();
        for (i, kind) in KINDS.iter().enumerate() {
            for (j, stem) in STEMS.iter().enumerate() {
                // The re-derived episode's expansions include the re-derivation, as they always have.
                let extra = if i == 2 && j == 3 { rederivation } else { 0.0 };
                out.push((format!("{stem}_{kind}"), mean(sums[i][j] + extra)));
            }
        }
        out.push((REDERIVE_COST.into(), mean(rederivation)));
        out.push((CONSTRUCTION_COST.into(), mean(construction)));
        out.push((
            AMORTISED_ORIGINAL.into(),
            mean(construction) / k + mean(sums[0][3]),
        ));
        out.push((
            AMORTISED_REDERIVED.into(),
            mean(rederivation) / k + mean(sums[2][3]),
        ));
        let even = break_even(
            mean(construction),
            mean(sums[0][3]),
            mean(astar_construction),
            mean(astar_search),
        );
        out.push((BREAK_EVEN.into(), even.unwrap_or(f64::NAN)));
        out.push((BREAKS_EVEN.into(), even.is_some() as u8 as f64));
        out
    }

    fn artifacts(&self, config: &Config, c: &Condition, seed: u64) -> Vec<ArtifactKey> {
        Self::table_key(config, c, seed).into_iter().collect()
    }

    fn build_artifact(
        &self,
        _config: &Config,
        key: &ArtifactKey,
        _needs: &Artifacts,
        _progress: &cruxlab_core::Progress,
    ) -> Vec<u8> {
        // Everything comes from the key, so the tables are a pure function of it.
        let i: TableInputs = serde_json::from_str(&key.inputs).expect("value-table inputs");
        let tables: Vec<[StoredTable; 2]> = (0..i.episodes)
            .map(|e| {
                let l = Self::level_of(i.master_seed, i.room_density, i.level, i.size, i.seed, e);
                i.targets.map(|target| {
                    StoredTable::store(Heuristic::learned(&l, target, i.trials, i.lookahead))
                })
            })
            .collect();
        serde_json::to_vec(&tables).expect("tables serialize")
    }

    fn metrics(&self, _config: &Config) -> Vec<String> {
        let mut names: Vec<String> = KINDS
            .iter()
            .flat_map(|kind| STEMS.iter().map(move |stem| format!("{stem}_{kind}")))
            .collect();
        for m in [
            REDERIVE_COST,
            CONSTRUCTION_COST,
            AMORTISED_ORIGINAL,
            AMORTISED_REDERIVED,
            BREAK_EVEN,
            BREAKS_EVEN,
        ] {
            names.push(m.into());
        }
        names
    }

    fn claims(&self, config: &Config) -> Vec<Claim> {
        let has = |a: AgentKind| config.agents.contains(&a);
        let agent = |a: AgentKind| at(&[("agent", json!(a))]);
        let (specialist, reply, astar, cue) = (
            agent(config.specialist),
            agent(config.reply),
            agent(AgentKind::Astar),
            agent(AgentKind::CUE),
        );
        let top = *config.budgets.iter().max().unwrap_or(&1);
        let at_top = at(&[("budget", json!(top))]);
        // The specialist's budget, found per (level, size) cell: the smallest budget at which the
        // specialist's mean original SPL reaches 0.9.
        let specialist_budget = Anchor {
            key: "budget".into(),
            metric: "spl_original".into(),
            at: specialist.clone(),
            reaches: 0.9,
        };
        let first_level = config.levels.first().map_or("maze", |g| g.name());
        let largest = *config.sizes.iter().max().unwrap_or(&9);
        let plot = |metric: &str| format!("{metric}_{first_level}{largest}.svg");
        // Controls: each distinct `set` is a whole extra sweep, so the claims share a few worlds.
        // Open rooms without obstacles, where the Manhattan relaxation is the exact distance.
        let open_rooms = ["levels=[\"rooms\"]", "room_density=0"];
        // The smallest levels, where every cell is a few steps from every other.
        let tiny_levels = ["sizes=[5]"];
        // The largest mazes of the full config, where walls make the relaxation poorest, swept
        // only at a budget above their 799 floor cells (effectively unbounded, all the claim reads).
        let large_mazes = ["levels=[\"maze\"]", "sizes=[41]", "budgets=[1024]"];
        // Targets that change after every episode, and targets that almost never change.
        let one_episode = ["amortise_k=1"];
        let endless = ["amortise_k=1000000"];
        // The reply reduced to the relaxation alone (no landmarks), in mazes, where it is poorest.
        let weak_reply = ["levels=[\"maze\"]", "reply=\"astar\""];
        let mut claims = Vec::new();
        claims.push(
            Claim::new(
                "specialist-leads-at-its-budget",
                format!(
                    "At the smallest budget where the bought specialist ({}) reaches SPL 0.9, the \
                     retargetable reply ({}) trails it by more than 0.1 SPL, in every level \
                     generator and size.",
                    config.specialist, config.reply
                ),
                Effect::contrast("spl_original", specialist.clone(), reply.clone()),
                Direction::Above,
                0.0,
            )
            .margin(0.1)
            .cells(&["level", "size"])
            .anchor(specialist_budget.clone())
            .control(Control::new(
                &open_rooms,
                VerdictKind::Refuted,
                "with no obstacles Manhattan distance, which the reply's estimate never falls \
                 below, is the true distance, so the reply is as well informed as any specialist",
            ))
            .control(Control::new(
                &weak_reply,
                VerdictKind::Supported,
                "against the relaxation alone (no landmarks) in mazes, where walls make Manhattan \
                 distance a poor guide and a budgeted search wanders into dead ends",
            ))
            .plot(&plot("spl_original")),
        );
        claims.push(
            Claim::new(
                "swap-loses-half",
                format!(
                    "Swapping the specialist's ({}) target without re-deriving anything loses more \
                     than half of its SPL, at the smallest budget where its original SPL reached \
                     0.9.",
                    config.specialist
                ),
                Effect::gap("spl_swapped", "spl_original"),
                Direction::Below,
                -0.5,
            )
            .filter(specialist.clone())
            .cells(&["level", "size"])
            .anchor(specialist_budget.clone())
            .control(Control::new(
                &tiny_levels,
                VerdictKind::Refuted,
                "on 5x5 levels every object is a few steps from every other, so the stale \
                 estimates still lead near the new target",
            ))
            .plot(&plot("spl_swapped")),
        );
        if has(AgentKind::Astar) {
            claims.push(
                Claim::new(
                    "specialist-pays-for-itself",
                    format!(
                        "Charged its construction, amortised over amortise_k = {} episodes on one \
                         level and target, the specialist ({}) spends less compute per episode \
                         than A* at the specialist's budget.",
                        config.amortise_k, config.specialist
                    ),
                    Effect::contrast(AMORTISED_ORIGINAL, specialist.clone(), astar.clone()),
                    Direction::Below,
                    0.0,
                )
                .cells(&["level", "size"])
                .anchor(specialist_budget.clone())
                .control(Control::new(
                    &one_episode,
                    VerdictKind::Refuted,
                    "used once, the specialist pays its whole construction (trials over the \
                     level) for one episode, against A*'s one read per target",
                ))
                .control(Control::new(
                    &weak_reply,
                    VerdictKind::Supported,
                    "in mazes, where walls make Manhattan distance a poor guide, the specialist's \
                     better-informed search saves more per episode than its construction costs \
                     over amortise_k episodes (this claim does not read the reply)",
                ))
                .control(Control::new(
                    &endless,
                    VerdictKind::Supported,
                    "used for ever on one target, construction vanishes per episode and only \
                     search counts, where the specialist's estimate is the better informed",
                ))
                .plot(&plot(AMORTISED_ORIGINAL)),
            );
        }
        claims.push(
            Claim::new(
                "retargeting-costs-specialist-more",
                format!(
                    "Retargeted with its heuristic re-derived for the new target, and that \
                     re-derivation amortised over amortise_k = {} episodes on it, the specialist \
                     ({}) spends more compute per episode than the reply ({}), at the \
                     specialist's budget.",
                    config.amortise_k, config.specialist, config.reply
                ),
                Effect::contrast(AMORTISED_REDERIVED, specialist.clone(), reply.clone()),
                Direction::Above,
                0.0,
            )
            .cells(&["level", "size"])
            .anchor(specialist_budget)
            .control(Control::new(
                &weak_reply,
                VerdictKind::Refuted,
                "against the relaxation alone in mazes, A*'s budgeted search wanders into dead \
                 ends and spends more per episode than the specialist's new trials amortised \
                 over amortise_k episodes",
            ))
            .plot(&plot(AMORTISED_REDERIVED)),
        );
        if has(AgentKind::CUE) && has(AgentKind::Astar) {
            claims.push(
                Claim::new(
                    "relaxed-within-twice",
                    "At the largest budget (effectively unbounded), relaxation-derived A* spends \
                     less than twice the exact cue agent's search expansions per episode.",
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
        let mut shown: Vec<AgentKind> = Vec::new();
        for agent in [config.specialist, config.reply, AgentKind::Astar] {
            if config.agents.contains(&agent) && !shown.contains(&agent) {
                shown.push(agent);
                figures.push(Self::trace(config, &level, agent, false));
                figures.push(Self::trace(config, &level, agent, true));
            }
        }
        figures
    }

    fn plots(&self, config: &Config) -> Vec<PlotSpec> {
        let largest = *config.sizes.iter().max().unwrap_or(&9);
        let k = config.amortise_k;
        let mut plots = Vec::new();
        for level in config.levels.iter().map(|g| g.name()) {
            for (metric, label) in [
                ("spl_original", "SPL, original target".to_string()),
                (
                    "spl_swapped",
                    "SPL, swapped target (nothing re-derived)".into(),
                ),
                ("spl_rederived", "SPL, swapped target (re-derived)".into()),
                (
                    "expansions_per_episode_original",
                    "search expansions per episode, original target".into(),
                ),
                (
                    "expansions_per_episode_rederived",
                    "expansions per episode incl. re-derivation, swapped target".into(),
                ),
                (
                    AMORTISED_ORIGINAL,
                    format!("compute per episode, construction amortised over {k} episodes"),
                ),
                (
                    AMORTISED_REDERIVED,
                    format!("compute per episode after a retarget, amortised over {k} episodes"),
                ),
                (
                    BREAK_EVEN,
                    "episodes until total compute drops below A*'s".into(),
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
            assert_eq!(ids.len(), 5);
        }
    }

    #[test]
    fn claims_need_the_agents_they_compare() {
        let agent = |s: &str| s.parse::<AgentKind>().unwrap();
        let config = Config {
            agents: vec![agent("table8"), agent("alt2"), AgentKind::Bfs],
            specialist: agent("table8"),
            reply: agent("alt2"),
            ..Retarget.default_config(true)
        };
        assert_eq!(
            check_claims(&config),
            [
                "specialist-leads-at-its-budget",
                "swap-loses-half",
                "retargeting-costs-specialist-more"
            ]
        );
        let mut bad = config.clone();
        bad.reply = AgentKind::Astar;
        assert_eq!(Retarget.validate(&bad).unwrap_err().0, "reply");
    }

    #[test]
    fn construction_is_charged_and_amortised() {
        let config = Config {
            episodes: 2,
            amortise_k: 10,
            ..Retarget.default_config(true)
        };
        let value = |agent: AgentKind, budget: u64, metric: &str| {
            let condition = Condition {
                agent,
                level: Generator::Maze,
                size: 9,
                budget,
            };
            cruxlab_core::measure_unit(&Retarget, &config, &condition, 3)
                .into_iter()
                .find(|(m, _)| m == metric)
                .unwrap()
                .1
        };
        // A 9x9 perfect maze has 4 x 4 rooms and 15 passages between them: 31 floor cells, all
        // reachable. The exact cue is charged its breadth-first field over them, A* one read for
        // the one diamond, breadth-first search nothing.
        assert_eq!(value(AgentKind::CUE, 4, CONSTRUCTION_COST), 31.0);
        assert_eq!(value(AgentKind::Astar, 4, CONSTRUCTION_COST), 1.0);
        assert_eq!(value(AgentKind::Bfs, 4, CONSTRUCTION_COST), 0.0);
        // ALT with 2 landmarks: two fields of 31 cells and two reads; re-targeting reads two more.
        let alt = "alt2".parse().unwrap();
        assert_eq!(value(alt, 4, CONSTRUCTION_COST), 64.0);
        assert_eq!(value(alt, 4, REDERIVE_COST), 2.0);
        // Amortised compute is construction / K plus the search, for every agent.
        for agent in [AgentKind::CUE, alt, AgentKind::Astar] {
            let (build, search) = (
                value(agent, 4, CONSTRUCTION_COST),
                value(agent, 4, "expansions_per_episode_original"),
            );
            assert!((value(agent, 4, AMORTISED_ORIGINAL) - (build / 10.0 + search)).abs() < 1e-9);
        }
        // The exact cue at an unbounded budget expands exactly the optimal path, so its break-even
        // count against A* follows from the hand formula.
        let (cue_build, cue_search) = (
            value(AgentKind::CUE, 1024, CONSTRUCTION_COST),
            value(AgentKind::CUE, 1024, "expansions_per_episode_original"),
        );
        let (a_build, a_search) = (
            value(AgentKind::Astar, 1024, CONSTRUCTION_COST),
            value(AgentKind::Astar, 1024, "expansions_per_episode_original"),
        );
        let expected = cruxlab_agents::break_even(cue_build, cue_search, a_build, a_search);
        let measured = value(AgentKind::CUE, 1024, BREAK_EVEN);
        match expected {
            Some(k) => assert_eq!(measured, k),
            None => assert!(measured.is_nan()),
        }
    }

    #[test]
    fn measure_emits_exactly_the_declared_metrics() {
        let config = Config {
            episodes: 1,
            ..Retarget.default_config(true)
        };
        let mut declared = Retarget.metrics(&config);
        let condition = Condition {
            agent: "table4".parse().unwrap(),
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
