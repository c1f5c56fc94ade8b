//! # Crux 5: do trees of bounded imitators fail the way bureaucracies do?
//!
//! **Claims.** One side: a tree of bounded human imitators, each answering a sub-question (HCH,
//! factored cognition), fails like a large bureaucracy: errors compound with depth, credit for a
//! wrong answer is hard to assign, answers selected for how well they spread ("the asker urgently
//! needs to know X") climb the tree, and without prices a shared budget is spent blindly even among
//! agents with one goal. Other side: copies of one agent have no politics, votes of copies correct
//! errors (Christiano's reliability amplification), and grounding answers in the world keeps the tree
//! honest. Both mechanisms are explicit here, and each claim says where which side is right.
//!
//! **Model** (`cruxlab_hch`). Tasks with checkable answers and natural decompositions (counting,
//! arithmetic expression trees, multi-hop look-ups, shortest paths on layered graphs) are answered
//! by trees of copies of one base agent. A node answers a question that fits its context directly,
//! otherwise asks each sub-question of `k` copies and combines their vote. It then errs on its own
//! account with probability `epsilon` (answering a lure, one of `lures` plausible wrong values), may
//! be fooled (probability `tau`, the meme's fitness) into passing a memetic sub-answer up in place
//! of its work, or may emit a new meme (`meme_rate`); a verifier (power, false alarm, cost) may
//! flag its answer and make it run again; a spot-check (probability `grounding`, cost `check_cost`)
//! replaces a wrong answer with the world's. On a share `rho` of questions the copies are in the
//! base's common mode and all give the same answer, the hidden cost of homogeneity. When the root
//! is wrong, blame descends: each sub-answer is compared with the world (when grounded) or with a
//! fresh copy's answer, and a run none of whose inputs looks wrong is blamed.
//!
//! **Protocol.** Six parts, each a sweep of its own (condition key `part`); every condition of a
//! part sees the same tasks and the same random numbers for a seed (draws are hashed from the
//! node's identity), so contrasts are paired by seed.
//!
//! * `depth`: task x depth x correction (`none`: one copy per sub-question; `majority`: a vote of
//!   `agent.k`; `verifier`; `grounding`: spot-checks with probability `depth.grounding`). Metrics:
//!   `accuracy` (root right), `cost` (node runs plus checks per question), and for `none` the
//!   closed form `closed_form_accuracy` = `(1 - epsilon)^questions`.
//! * `memes`: counting trees with one copy per question, depth x tau x grounding. Metrics:
//!   `contamination` (the root's answer is memetic), `accuracy`, `cost`, and over wrong roots
//!   `blame_found` (some blamed run really erred) and `blame_precision` (share of blamed runs that
//!   erred), with `blame_cost` (fresh-copy runs and checks spent on blame).
//! * `stability`: the tree of depth d, branching `stability.branching`, votes of `stability.k`,
//!   simulated by population dynamics to depth 20. Metric `critical_epsilon`: the largest epsilon
//!   whose root error stays within `stability.tolerance` (bisection in log epsilon, the simulated
//!   error being monotone in epsilon draw by draw), its `log10`, and the recursion's value
//!   `critical_epsilon_closed_form`.
//! * `closed_form`: per epsilon, the error of a vote of three copies on a directly answered
//!   question against `3e^2 - 2e^3`, and an uncorrected tree of `closed_form.task` at
//!   `closed_form.depth` against `(1 - e)^questions`.
//! * `allocation`: `allocation.subtrees` sub-questions of private difficulty (per-run error
//!   `epsilon * exp(spread * u)`, u uniform in [-1, 1]) share `subtrees * base_k` copies by a fixed
//!   split, a sealed-bid price or pairwise negotiation. Metrics: `accuracy` (root right, sampled
//!   votes), `messages`, `copies_used`, `accuracy_per_copy`.
//! * `debate`: a judge who may read `debate.pieces` pieces of evidence about a count, alone, with
//!   one consultant, or between two debaters ([`cruxlab_hch::debate`]). Metric `judge_accuracy`.
//!
//! **Claims and controls** (the framework's grammar; margins of practical significance in
//! `margin`):
//!
//! * `errors-compound-with-depth`: uncorrected accuracy at the deepest minus the shallowest depth,
//!   below 0, every task. Control `agent.epsilon=0.0`: nothing to compound.
//! * `majority-contains-compounding`: at the deepest depth, accuracy with votes minus without,
//!   above 0, every task. Controls `agent.epsilon=0.3` (above the vote's threshold both collapse)
//!   and `agent.rho=1.0` (every vote in the common mode: a vote is one run).
//! * `grounding-restores-accuracy`: at the deepest depth, accuracy with spot-checks minus without,
//!   above 0, every task; the cost is reported beside it. Control `agent.epsilon=0.0`.
//! * `correlation-lowers-threshold`: log10 of the critical epsilon at the largest rho minus at the
//!   smallest, below 0 by more than 0.05 (a factor 1.12), every depth. Control `stability.k=1`: without votes rho changes nothing.
//! * `memes-climb-with-depth`: contamination at the deepest minus the shallowest depth, at the
//!   fittest meme and no grounding, above 0. Control `memes.taus=[0.0]`: an unfit meme never
//!   leaves the node that made it.
//! * `grounding-curbs-memes`: contamination without grounding minus with the most, at the deepest
//!   depth and fittest meme, above 0. Control `memes.meme_rate=0.0`.
//! * `blame-needs-grounding`: blame precision with the most grounding minus without, at the
//!   deepest depth, pooled over tau, above 0. Control `agent.epsilon=0.0` with `memes.meme_rate=0.0`:
//!   no wrong root, no blame.
//! * `prices-beat-fixed-splits`: accuracy under the price minus the fixed split, above 0, at the
//!   largest spread. Control `allocation.spreads=[0.0]`: equal difficulty, nothing to learn from
//!   prices.
//! * `majority-matches-closed-form`: simulated minus closed-form error of a vote of three, within
//!   `margin`, every epsilon. Control `agent.rho=0.5`: correlated copies break the formula.
//! * `uncorrected-tree-matches-closed-form`: simulated minus closed-form accuracy of the
//!   uncorrected tree, within `margin`, every epsilon. Control `closed_form.task="path"`: a shortest
//!   path masks overestimates, so the tree beats the formula.
//! * `debate-beats-consultancy`: judge accuracy with debate minus with a consultant, above 0.
//!   Control `debate.liar_skill=0.0` with `debate.honest_error=0.0`: a liar who cannot keep its
//!   numbers consistent is caught at once and the honest side never slips, under either protocol.
//!
//! Every assumption is a numeric config key, so `cruxlab sensitivity` can vary it.

use cruxlab_core::{Claim, Control, Direction, Effect, Experiment, PlotSpec, VerdictKind, at};
use cruxlab_hch::allocation::{Mechanism, allocate, vote_right};
use cruxlab_hch::amplify::{PoolSimulation, critical_epsilon, run_errors};
use cruxlab_hch::debate::{self, Protocol};
use cruxlab_hch::draw::child;
use cruxlab_hch::task::{Task, question_count};
use cruxlab_hch::{Agent, AnyTask, TaskKind, TaskShape, Tree, Verifier, assign_blame};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::seeding::derive_seed;

pub struct Hch;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub seeds: u64,
    pub master_seed: u64,
    /// Questions (task instances) per seed and condition in the tree parts.
    pub questions: u64,
    /// Margin of practical significance for every claim.
    pub margin: f64,
    /// Sub-questions per question and what one agent holds.
    pub shape: ShapeConfig,
    /// The base agent and the tree's correction rules.
    pub agent: Agent,
    pub depth: DepthConfig,
    pub memes: MemeConfig,
    pub stability: StabilityConfig,
    pub closed_form: ClosedFormConfig,
    pub allocation: AllocationConfig,
    pub debate: DebateConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShapeConfig {
    pub branching: u32,
    pub context: u32,
    pub width: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepthConfig {
    pub tasks: Vec<TaskKind>,
    pub depths: Vec<u32>,
    pub corrections: Vec<Correction>,
    /// Spot-check probability of the `grounding` correction.
    pub grounding: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemeConfig {
    pub depths: Vec<u32>,
    pub taus: Vec<f64>,
    pub groundings: Vec<f64>,
    pub meme_rate: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StabilityConfig {
    pub rhos: Vec<f64>,
    pub depths: Vec<u32>,
    pub k: u32,
    pub branching: u32,
    /// Sampled runs per height.
    pub pool: u64,
    /// The root error a depth must stay within.
    pub tolerance: f64,
    /// Bisection steps in log epsilon.
    pub steps: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosedFormConfig {
    pub epsilons: Vec<f64>,
    /// Votes of three per seed.
    pub trials: u64,
    /// Uncorrected trees per seed.
    pub questions: u64,
    pub task: TaskKind,
    pub depth: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationConfig {
    pub subtrees: u32,
    pub base_k: u32,
    pub epsilon: f64,
    pub spreads: Vec<f64>,
    pub questions: u64,
    pub max_sweeps: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebateConfig {
    pub depth: u32,
    /// Items the judge may read, swept.
    pub pieces: Vec<u32>,
    /// Probability that a stated sub-answer of the honest side is wrong.
    pub honest_error: f64,
    /// Probability that a liar hides its lie where the judge is least likely to look.
    pub liar_skill: f64,
    pub questions: u64,
}

/// How a tree corrects its errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    None,
    Majority,
    Verifier,
    Grounding,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "part", rename_all = "snake_case")]
pub enum Condition {
    Depth {
        task: TaskKind,
        depth: u32,
        correction: Correction,
    },
    Memes {
        depth: u32,
        tau: f64,
        grounding: f64,
    },
    Stability {
        rho: f64,
        depth: u32,
    },
    ClosedForm {
        epsilon: f64,
    },
    Allocation {
        spread: f64,
        mechanism: Mechanism,
    },
    Debate {
        protocol: Protocol,
        pieces: u32,
    },
}

/// A change in the tolerated epsilon smaller than a factor 10^0.05 (12%) is no change.
const THRESHOLD_MARGIN: f64 = 0.05;

const DEPTH_METRICS: [&str; 3] = ["accuracy", "cost", "closed_form_accuracy"];
const MEME_METRICS: [&str; 6] = [
    "contamination",
    "accuracy",
    "cost",
    "blame_found",
    "blame_precision",
    "blame_cost",
];
const STABILITY_METRICS: [&str; 3] = [
    "critical_epsilon",
    "critical_epsilon_log10",
    "critical_epsilon_closed_form",
];
const CLOSED_FORM_METRICS: [&str; 4] = [
    "majority_error",
    "majority_closed_form",
    "tree_accuracy",
    "tree_closed_form",
];
const ALLOCATION_METRICS: [&str; 4] = ["accuracy", "messages", "copies_used", "accuracy_per_copy"];
const DEBATE_METRICS: [&str; 1] = ["judge_accuracy"];

fn named(names: &[&str], values: impl IntoIterator<Item = f64>) -> Vec<(String, f64)> {
    names.iter().map(|n| n.to_string()).zip(values).collect()
}

fn max_of<T: Copy + PartialOrd>(xs: &[T]) -> T {
    xs.iter()
        .copied()
        .fold(xs[0], |a, b| if b > a { b } else { a })
}

fn min_of<T: Copy + PartialOrd>(xs: &[T]) -> T {
    xs.iter()
        .copied()
        .fold(xs[0], |a, b| if b < a { b } else { a })
}

impl Config {
    fn shape(&self, depth: u32) -> TaskShape {
        TaskShape {
            depth,
            branching: self.shape.branching,
            context: self.shape.context,
            width: self.shape.width,
        }
    }

    /// The agent of a depth-part tree under a correction rule.
    fn corrected(&self, correction: Correction) -> Agent {
        let plain = Agent {
            k: 1,
            grounding: 0.0,
            verifier: Verifier::NONE,
            ..self.agent
        };
        match correction {
            Correction::None => plain,
            Correction::Majority => Agent {
                k: self.agent.k,
                ..plain
            },
            Correction::Verifier => Agent {
                verifier: self.agent.verifier,
                ..plain
            },
            Correction::Grounding => Agent {
                grounding: self.depth.grounding,
                ..plain
            },
        }
    }

    /// The task and tree seed of question `q` of a seed: the same for every condition of a part.
    fn question_seeds(&self, part: u64, seed: u64, q: u64) -> (u64, u64) {
        (
            derive_seed(self.master_seed, &[part, seed, q, 0]),
            derive_seed(self.master_seed, &[part, seed, q, 1]),
        )
    }
}

impl Hch {
    fn measure_depth(
        config: &Config,
        task_kind: TaskKind,
        depth: u32,
        correction: Correction,
        seed: u64,
    ) -> Vec<(String, f64)> {
        let agent = config.corrected(correction);
        let (mut right, mut cost, mut closed) = (0.0, 0.0, 0.0);
        for q in 0..config.questions {
            let (task_seed, tree_seed) = config.question_seeds(1, seed, q);
            let task = AnyTask::generate(task_kind, config.shape(depth), task_seed);
            let mut tree = Tree::new(&task, agent, tree_seed);
            let a = tree.answer();
            right += (!a.meme && a.value == task.truth(task.root())) as u8 as f64;
            cost += tree.tally.cost(&agent);
            closed += (1.0 - agent.epsilon).powf(question_count(&task) as f64);
        }
        let n = config.questions as f64;
        let closed = if correction == Correction::None {
            closed / n
        } else {
            f64::NAN
        };
        named(&DEPTH_METRICS, [right / n, cost / n, closed])
    }

    fn measure_memes(
        config: &Config,
        depth: u32,
        tau: f64,
        grounding: f64,
        seed: u64,
    ) -> Vec<(String, f64)> {
        let agent = Agent {
            k: 1,
            tau,
            grounding,
            meme_rate: config.memes.meme_rate,
            verifier: Verifier::NONE,
            ..config.agent
        };
        let (mut memes, mut right, mut cost) = (0.0, 0.0, 0.0);
        let (mut wrong, mut found, mut precision, mut blame_cost) = (0.0, 0.0, 0.0, 0.0);
        for q in 0..config.questions {
            let (task_seed, tree_seed) = config.question_seeds(2, seed, q);
            let task = AnyTask::generate(TaskKind::Count, config.shape(depth), task_seed);
            let mut tree = Tree::new(&task, agent, tree_seed);
            let a = tree.answer();
            memes += a.meme as u8 as f64;
            cost += tree.tally.cost(&agent);
            if !a.meme && a.value == task.truth(task.root()) {
                right += 1.0;
                continue;
            }
            wrong += 1.0;
            let blame = assign_blame(&mut tree);
            found += (blame.faulty_blamed > 0) as u8 as f64;
            precision += blame.faulty_blamed as f64 / blame.blamed.max(1) as f64;
            blame_cost += blame.recheck_runs as f64 + blame.checks as f64 * agent.check_cost;
        }
        let n = config.questions as f64;
        let per_wrong = |x: f64| if wrong == 0.0 { f64::NAN } else { x / wrong };
        named(
            &MEME_METRICS,
            [
                memes / n,
                right / n,
                cost / n,
                per_wrong(found),
                per_wrong(precision),
                per_wrong(blame_cost),
            ],
        )
    }

    fn measure_stability(config: &Config, rho: f64, depth: u32, seed: u64) -> Vec<(String, f64)> {
        let s = &config.stability;
        let sim = PoolSimulation {
            rho,
            k: s.k,
            branching: s.branching,
            pool: s.pool as usize,
            seed: derive_seed(config.master_seed, &[3, seed]),
        };
        let simulated = critical_epsilon(s.tolerance, s.steps, |e| {
            sim.errors(e, depth)[depth as usize]
        });
        let closed = critical_epsilon(s.tolerance, 60, |e| {
            run_errors(e, rho, s.k, s.branching, depth)[depth as usize]
        });
        named(&STABILITY_METRICS, [simulated, simulated.log10(), closed])
    }

    fn measure_closed_form(config: &Config, epsilon: f64, seed: u64) -> Vec<(String, f64)> {
        let c = &config.closed_form;
        let vote = Agent {
            epsilon,
            k: 3,
            ..config.corrected(Correction::None)
        };
        let leaf = AnyTask::generate(TaskKind::Count, config.shape(0), seed);
        let mut wrong = 0.0;
        for t in 0..c.trials {
            let mut tree = Tree::new(&leaf, vote, derive_seed(config.master_seed, &[4, seed, t]));
            let (a, _) = tree.ask(leaf.root(), 1);
            wrong += (a.meme || a.value != leaf.truth(leaf.root())) as u8 as f64;
        }
        let single = Agent {
            epsilon,
            ..config.corrected(Correction::None)
        };
        let (mut right, mut closed) = (0.0, 0.0);
        for q in 0..c.questions {
            let (task_seed, tree_seed) = config.question_seeds(5, seed, q);
            let task = AnyTask::generate(c.task, config.shape(c.depth), task_seed);
            let a = Tree::new(&task, single, tree_seed).answer();
            right += (!a.meme && a.value == task.truth(task.root())) as u8 as f64;
            closed += (1.0 - epsilon).powf(question_count(&task) as f64);
        }
        let n = c.questions as f64;
        named(
            &CLOSED_FORM_METRICS,
            [
                wrong / c.trials as f64,
                3.0 * epsilon * epsilon - 2.0 * epsilon.powi(3),
                right / n,
                closed / n,
            ],
        )
    }

    fn measure_allocation(
        config: &Config,
        spread: f64,
        mechanism: Mechanism,
        seed: u64,
    ) -> Vec<(String, f64)> {
        let a = &config.allocation;
        let rho = config.agent.rho;
        let (mut right, mut messages, mut copies) = (0.0, 0.0, 0.0);
        for q in 0..a.questions {
            let id = derive_seed(config.master_seed, &[6, seed, q]);
            let epsilons: Vec<f64> = (0..a.subtrees)
                .map(|i| {
                    let u = cruxlab_hch::draw::Draws::at(id, i as u64)
                        .unit(cruxlab_hch::draw::Purpose::Lure);
                    (a.epsilon * (spread * (2.0 * u - 1.0)).exp()).min(0.49)
                })
                .collect();
            let plan = allocate(mechanism, &epsilons, a.base_k, rho, a.max_sweeps);
            let all_right = epsilons
                .iter()
                .zip(&plan.copies)
                .enumerate()
                .all(|(i, (&e, &k))| vote_right(id, child(id, i as u64), e, k, rho));
            right += all_right as u8 as f64;
            messages += plan.messages as f64;
            copies += plan.copies.iter().sum::<u32>() as f64;
        }
        let n = a.questions as f64;
        named(
            &ALLOCATION_METRICS,
            [right / n, messages / n, copies / n, right / copies.max(1.0)],
        )
    }

    fn measure_debate(
        config: &Config,
        protocol: Protocol,
        pieces: u32,
        seed: u64,
    ) -> Vec<(String, f64)> {
        let d = &config.debate;
        let setting = debate::Setting {
            shape: config.shape(d.depth),
            pieces,
            honest_error: d.honest_error,
            liar_skill: d.liar_skill,
        };
        let mut right = 0.0;
        for q in 0..d.questions {
            let (task_seed, judge_seed) = config.question_seeds(7, seed, q);
            right += debate::judge(&setting, protocol, task_seed, judge_seed) as u8 as f64;
        }
        named(&DEBATE_METRICS, [right / d.questions as f64])
    }
}

impl Experiment for Hch {
    type Config = Config;
    type Condition = Condition;

    fn id(&self) -> &'static str {
        "hch"
    }

    fn claim(&self) -> &'static str {
        "Trees of bounded imitators (HCH, factored cognition) fail like bureaucracies: errors compound with depth, correlated copies weaken the votes that should correct them, memetic answers climb the tree, and a shared budget is wasted without prices; or votes of copies and grounding in the world keep the tree honest."
    }

    fn model(&self) -> &'static str {
        "Tasks with checkable answers and natural decompositions (counting a long list, arithmetic expression trees, \
multi-hop look-ups over a generated knowledge base, shortest paths on layered graphs) are answered by trees of copies of \
one base agent. A node answers a question that fits its context directly; otherwise it asks each sub-question of k copies, \
takes their vote and combines the sub-answers by the task's rule. It then makes its own mistake with probability epsilon \
(answering a plausible wrong value), may be fooled with probability tau into passing a memetic sub-answer up in place of \
its work, or emits a meme itself with probability meme_rate; a verifier may flag its answer and make it run again; a \
spot-check with probability `grounding` replaces a wrong answer with the world's at check_cost. On a share rho of \
questions all copies are in the base's common mode and answer alike. When the root is wrong, blame descends through \
sub-answers that a grounded check or a fresh copy finds wrong, to a run none of whose inputs looks wrong.\n\n\
Parts: `depth` (accuracy and cost by task, depth and correction rule), `memes` (contamination of the root by depth, \
meme fitness tau and grounding, and blame), `stability` (the largest epsilon a tree of depth 1 to 20 tolerates at each \
rho, simulated by population dynamics beside the closed-form recursion), `closed_form` (a vote of three against \
3e^2 - 2e^3, an uncorrected tree against (1 - e)^questions), `allocation` (a fixed split, a price or negotiation sharing \
a budget of copies among subtrees of private difficulty) and `debate` (a judge reading a few pieces of evidence, alone, \
with a consultant, or between debaters). Every condition of a part sees the same tasks and random numbers for a seed; \
claims are paired contrasts judged by their 95% CI against +-margin."
    }

    fn default_config(&self, quick: bool) -> Config {
        let full = Config {
            seeds: 20,
            master_seed: 2022,
            questions: 400,
            margin: 0.02,
            shape: ShapeConfig {
                branching: 2,
                context: 2,
                width: 2,
            },
            agent: Agent {
                epsilon: 0.01,
                rho: 0.0,
                k: 3,
                lures: 1,
                meme_rate: 0.0,
                tau: 0.0,
                grounding: 0.0,
                check_cost: 5.0,
                verifier: Verifier {
                    power: 0.8,
                    false_alarm: 0.05,
                    cost: 1.0,
                },
            },
            depth: DepthConfig {
                tasks: TaskKind::ALL.to_vec(),
                depths: vec![1, 2, 3, 4, 5],
                corrections: vec![
                    Correction::None,
                    Correction::Majority,
                    Correction::Verifier,
                    Correction::Grounding,
                ],
                grounding: 0.2,
            },
            memes: MemeConfig {
                depths: vec![1, 2, 4, 6, 8],
                taus: vec![0.0, 0.3, 0.6],
                groundings: vec![0.0, 0.1, 0.3],
                meme_rate: 0.02,
            },
            stability: StabilityConfig {
                rhos: vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
                depths: (1..=20).collect(),
                k: 3,
                branching: 2,
                pool: 4000,
                tolerance: 0.1,
                steps: 12,
            },
            closed_form: ClosedFormConfig {
                epsilons: vec![0.01, 0.05, 0.1, 0.2, 0.3],
                trials: 20000,
                questions: 2000,
                task: TaskKind::Count,
                depth: 4,
            },
            allocation: AllocationConfig {
                subtrees: 4,
                base_k: 3,
                epsilon: 0.05,
                spreads: vec![0.0, 0.5, 1.0, 1.5, 2.0],
                questions: 4000,
                max_sweeps: 100,
            },
            debate: DebateConfig {
                depth: 6,
                pieces: vec![2, 4, 8, 16, 32],
                honest_error: 0.01,
                liar_skill: 1.0,
                questions: 400,
            },
        };
        if !quick {
            return full;
        }
        Config {
            seeds: 8,
            questions: 100,
            depth: DepthConfig {
                depths: vec![1, 2, 3],
                ..full.depth
            },
            memes: MemeConfig {
                depths: vec![1, 4, 8],
                taus: vec![0.0, 0.6],
                groundings: vec![0.0, 0.3],
                ..full.memes
            },
            stability: StabilityConfig {
                rhos: vec![0.0, 0.2, 0.4, 0.6],
                depths: vec![1, 2, 5, 10, 20],
                pool: 1000,
                steps: 10,
                ..full.stability
            },
            closed_form: ClosedFormConfig {
                epsilons: vec![0.02, 0.05, 0.2],
                trials: 10000,
                questions: 1000,
                ..full.closed_form
            },
            allocation: AllocationConfig {
                spreads: vec![0.0, 2.0],
                questions: 2000,
                ..full.allocation
            },
            debate: DebateConfig {
                pieces: vec![2, 8, 32],
                questions: 200,
                ..full.debate
            },
            ..full
        }
    }

    fn validate(&self, c: &Config) -> Result<(), (String, String)> {
        let err = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        let prob = |x: f64| (0.0..=1.0).contains(&x);
        if c.seeds < 2 {
            return err("seeds", "needs at least 2 seeds for a confidence interval");
        }
        if c.questions == 0 {
            return err("questions", "must be at least 1");
        }
        if c.margin.is_nan() || c.margin < 0.0 || c.margin.is_infinite() {
            return err("margin", "must be a non-negative number");
        }
        if !(2..=8).contains(&c.shape.branching) {
            return err("shape.branching", "must be 2 to 8");
        }
        if !(1..=64).contains(&c.shape.context) {
            return err("shape.context", "must be 1 to 64");
        }
        if !(1..=8).contains(&c.shape.width) {
            return err(
                "shape.width",
                "must be 1 to 8 (a question splits into 2 x width)",
            );
        }
        let a = &c.agent;
        for (key, x) in [
            ("agent.epsilon", a.epsilon),
            ("agent.rho", a.rho),
            ("agent.meme_rate", a.meme_rate),
            ("agent.tau", a.tau),
            ("agent.grounding", a.grounding),
            ("agent.verifier.power", a.verifier.power),
            ("agent.verifier.false_alarm", a.verifier.false_alarm),
            ("depth.grounding", c.depth.grounding),
            ("memes.meme_rate", c.memes.meme_rate),
            ("debate.honest_error", c.debate.honest_error),
            ("debate.liar_skill", c.debate.liar_skill),
        ] {
            if !prob(x) {
                return err(key, "must be a probability in [0, 1]");
            }
        }
        if a.k.is_multiple_of(2) || !(1..=15).contains(&a.k) {
            return err("agent.k", "must be odd, 1 to 15");
        }
        if a.lures == 0 {
            return err("agent.lures", "must be at least 1");
        }
        if a.check_cost.is_nan() || a.check_cost < 0.0 || a.check_cost.is_infinite() {
            return err("agent.check_cost", "must be a non-negative number");
        }
        if a.verifier.cost.is_nan() || a.verifier.cost < 0.0 || a.verifier.cost.is_infinite() {
            return err("agent.verifier.cost", "must be a non-negative number");
        }
        // Tree sizes: the largest tree is (branching x k)^depth runs per question.
        let fan = match c.depth.tasks.contains(&TaskKind::Path) {
            true => (2 * c.shape.width).max(c.shape.branching),
            false => c.shape.branching,
        } as f64
            * a.k as f64;
        let lists = [
            ("depth.tasks", c.depth.tasks.is_empty()),
            ("depth.depths", c.depth.depths.is_empty()),
            ("depth.corrections", c.depth.corrections.is_empty()),
            ("memes.depths", c.memes.depths.is_empty()),
            ("memes.taus", c.memes.taus.is_empty()),
            ("memes.groundings", c.memes.groundings.is_empty()),
            ("stability.rhos", c.stability.rhos.is_empty()),
            ("stability.depths", c.stability.depths.is_empty()),
            ("closed_form.epsilons", c.closed_form.epsilons.is_empty()),
            ("allocation.spreads", c.allocation.spreads.is_empty()),
        ];
        if let Some((key, _)) = lists.iter().find(|(_, empty)| *empty) {
            return err(key, "must not be empty");
        }
        if let Some(&d) = c.depth.depths.iter().find(|&&d| fan.powi(d as i32) > 5e6) {
            return err(
                "depth.depths",
                &format!("depth {d} gives trees of more than 5 million runs per question"),
            );
        }
        if c.depth.depths.contains(&0) {
            return err("depth.depths", "depths start at 1");
        }
        let meme_fan = c.shape.branching as f64;
        if c.memes
            .depths
            .iter()
            .any(|&d| d == 0 || meme_fan.powi(d as i32) > 1e6)
        {
            return err(
                "memes.depths",
                "each must be at least 1 and give at most a million questions",
            );
        }
        for (key, xs) in [
            ("memes.taus", &c.memes.taus),
            ("memes.groundings", &c.memes.groundings),
            ("stability.rhos", &c.stability.rhos),
        ] {
            if xs.iter().any(|&x| !prob(x)) {
                return err(key, "every value must be a probability in [0, 1]");
            }
        }
        let s = &c.stability;
        if s.depths.iter().any(|&d| !(1..=200).contains(&d)) {
            return err("stability.depths", "each must be 1 to 200");
        }
        if s.k.is_multiple_of(2) || !(1..=15).contains(&s.k) {
            return err("stability.k", "must be odd, 1 to 15");
        }
        if !(1..=16).contains(&s.branching) {
            return err("stability.branching", "must be 1 to 16");
        }
        if !(10..=1_000_000).contains(&s.pool) {
            return err("stability.pool", "must be 10 to 1000000");
        }
        if s.tolerance.is_nan() || s.tolerance <= 0.0 || s.tolerance >= 1.0 {
            return err("stability.tolerance", "must lie in (0, 1)");
        }
        if !(1..=60).contains(&s.steps) {
            return err("stability.steps", "must be 1 to 60");
        }
        let cf = &c.closed_form;
        if cf.epsilons.iter().any(|&e| !(0.0..0.5).contains(&e)) {
            return err("closed_form.epsilons", "every value must lie in [0, 0.5)");
        }
        if cf.trials == 0 {
            return err("closed_form.trials", "must be at least 1");
        }
        if cf.questions == 0 {
            return err("closed_form.questions", "must be at least 1");
        }
        if !(1..=10).contains(&cf.depth) {
            return err("closed_form.depth", "must be 1 to 10");
        }
        let al = &c.allocation;
        if !(2..=64).contains(&al.subtrees) {
            return err("allocation.subtrees", "must be 2 to 64");
        }
        if al.base_k.is_multiple_of(2) || !(1..=31).contains(&al.base_k) {
            return err("allocation.base_k", "must be odd, 1 to 31");
        }
        if !(0.0..0.5).contains(&al.epsilon) {
            return err("allocation.epsilon", "must lie in [0, 0.5)");
        }
        if al.spreads.iter().any(|&s| !(0.0..=10.0).contains(&s)) {
            return err("allocation.spreads", "every value must lie in [0, 10]");
        }
        if al.questions == 0 {
            return err("allocation.questions", "must be at least 1");
        }
        let d = &c.debate;
        if !(1..=16).contains(&d.depth) {
            return err("debate.depth", "must be 1 to 16");
        }
        if d.pieces.is_empty() || d.pieces.contains(&0) {
            return err(
                "debate.pieces",
                "must be a non-empty list of positive numbers",
            );
        }
        if d.questions == 0 {
            return err("debate.questions", "must be at least 1");
        }
        Ok(())
    }

    fn conditions(&self, c: &Config) -> Vec<Condition> {
        let mut out = Vec::new();
        for &task in &c.depth.tasks {
            for &depth in &c.depth.depths {
                for &correction in &c.depth.corrections {
                    out.push(Condition::Depth {
                        task,
                        depth,
                        correction,
                    });
                }
            }
        }
        for &depth in &c.memes.depths {
            for &tau in &c.memes.taus {
                for &grounding in &c.memes.groundings {
                    out.push(Condition::Memes {
                        depth,
                        tau,
                        grounding,
                    });
                }
            }
        }
        for &rho in &c.stability.rhos {
            for &depth in &c.stability.depths {
                out.push(Condition::Stability { rho, depth });
            }
        }
        for &epsilon in &c.closed_form.epsilons {
            out.push(Condition::ClosedForm { epsilon });
        }
        for &spread in &c.allocation.spreads {
            for mechanism in Mechanism::ALL {
                out.push(Condition::Allocation { spread, mechanism });
            }
        }
        for &pieces in &c.debate.pieces {
            for protocol in Protocol::ALL {
                out.push(Condition::Debate { protocol, pieces });
            }
        }
        out
    }

    fn measure(
        &self,
        config: &Config,
        condition: &Condition,
        seed: u64,
        _: &cruxlab_core::Artifacts,
    ) -> Vec<(String, f64)> {
        match *condition {
            Condition::Depth {
                task,
                depth,
                correction,
            } => Hch::measure_depth(config, task, depth, correction, seed),
            Condition::Memes {
                depth,
                tau,
                grounding,
            } => Hch::measure_memes(config, depth, tau, grounding, seed),
            Condition::Stability { rho, depth } => Hch::measure_stability(config, rho, depth, seed),
            Condition::ClosedForm { epsilon } => Hch::measure_closed_form(config, epsilon, seed),
            Condition::Allocation { spread, mechanism } => {
                Hch::measure_allocation(config, spread, mechanism, seed)
            }
            Condition::Debate { protocol, pieces } => {
                Hch::measure_debate(config, protocol, pieces, seed)
            }
        }
    }

    fn metrics(&self, _: &Config) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for group in [
            &DEPTH_METRICS[..],
            &MEME_METRICS,
            &STABILITY_METRICS,
            &CLOSED_FORM_METRICS,
            &ALLOCATION_METRICS,
            &DEBATE_METRICS,
        ] {
            for m in group {
                if !out.iter().any(|o| o == m) {
                    out.push(m.to_string());
                }
            }
        }
        out
    }

    fn claims(&self, c: &Config) -> Vec<Claim> {
        let part = |p: &str| ("part", json!(p));
        let margin = c.margin;
        let mut claims = Vec::new();
        let (d_lo, d_hi) = (min_of(&c.depth.depths), max_of(&c.depth.depths));
        let has = |x: Correction| c.depth.corrections.contains(&x);
        let correction = |x: Correction| at(&[("correction", json!(x))]);
        let no_error = Control::new(
            &["agent.epsilon=0.0"],
            VerdictKind::Refuted,
            "copies that never err have nothing to compound or correct",
        );
        if has(Correction::None) && d_lo < d_hi {
            claims.push(
                Claim::new(
                    "errors-compound-with-depth",
                    "Errors compound with depth: without a correction rule, the root is right less often in the deepest tree than in the shallowest, for every task.",
                    Effect::contrast("accuracy", at(&[("depth", json!(d_hi))]), at(&[("depth", json!(d_lo))])),
                    Direction::Below,
                    0.0,
                )
                .margin(margin)
                .filter(at(&[part("depth"), ("correction", json!(Correction::None))]))
                .cells(&["task"])
                .control(no_error.clone())
                .plot("accuracy_count.svg"),
            );
        }
        if has(Correction::None) && has(Correction::Majority) {
            claims.push(
                Claim::new(
                    "majority-contains-compounding",
                    "A vote of copies contains the compounding while epsilon is below its threshold: in the deepest tree, votes raise the root's accuracy over single copies, for every task.",
                    Effect::contrast("accuracy", correction(Correction::Majority), correction(Correction::None)),
                    Direction::Above,
                    0.0,
                )
                .margin(margin)
                .filter(at(&[part("depth"), ("depth", json!(d_hi))]))
                .cells(&["task"])
                .control(Control::new(
                    &["agent.epsilon=0.3"],
                    VerdictKind::Refuted,
                    "far above the vote's threshold (about 0.05 for binary trees with votes of three, part `stability`) both trees collapse",
                ))
                .control(Control::new(
                    &["agent.rho=1.0"],
                    VerdictKind::Refuted,
                    "every question in the base's common mode: the copies answer alike and a vote is one run",
                ))
                .plot("accuracy_count.svg"),
            );
        }
        if has(Correction::None) && has(Correction::Grounding) {
            claims.push(
                Claim::new(
                    "grounding-restores-accuracy",
                    "Grounding answers in the world restores accuracy, at a cost reported beside it: in the deepest tree, spot-checks raise the root's accuracy over the uncorrected tree, for every task.",
                    Effect::contrast("accuracy", correction(Correction::Grounding), correction(Correction::None)),
                    Direction::Above,
                    0.0,
                )
                .margin(margin)
                .filter(at(&[part("depth"), ("depth", json!(d_hi))]))
                .cells(&["task"])
                .control(no_error.clone())
                .plot("cost_count.svg"),
            );
        }
        let s = &c.stability;
        let (r_lo, r_hi) = (min_of(&s.rhos), max_of(&s.rhos));
        if r_lo < r_hi {
            claims.push(
                Claim::new(
                    "correlation-lowers-threshold",
                    "Homogeneity is not free: correlated errors among copies lower the largest epsilon a voting tree tolerates (in log10, by more than a factor 10^0.05), at every depth.",
                    Effect::contrast(
                        "critical_epsilon_log10",
                        at(&[("rho", json!(r_hi))]),
                        at(&[("rho", json!(r_lo))]),
                    ),
                    Direction::Below,
                    0.0,
                )
                .margin(THRESHOLD_MARGIN)
                .filter(at(&[part("stability")]))
                .cells(&["depth"])
                .control(Control::new(
                    &["stability.k=1"],
                    VerdictKind::Refuted,
                    "without votes there is nothing for correlated copies to undermine",
                ))
                .plot("stability_boundary.svg"),
            );
        }
        let m = &c.memes;
        let (md_lo, md_hi) = (min_of(&m.depths), max_of(&m.depths));
        let (tau_hi, g_lo, g_hi) = (
            max_of(&m.taus),
            min_of(&m.groundings),
            max_of(&m.groundings),
        );
        if md_lo < md_hi {
            claims.push(
                Claim::new(
                    "memes-climb-with-depth",
                    "Memetic answers reach the root more often as the tree grows: at the fittest meme and the least grounding, contamination of the root is higher in the deepest tree than in the shallowest.",
                    Effect::contrast(
                        "contamination",
                        at(&[("depth", json!(md_hi))]),
                        at(&[("depth", json!(md_lo))]),
                    ),
                    Direction::Above,
                    0.0,
                )
                .margin(margin)
                .filter(at(&[part("memes"), ("tau", json!(tau_hi)), ("grounding", json!(g_lo))]))
                .control(Control::new(
                    &["memes.taus=[0.0]"],
                    VerdictKind::Refuted,
                    "a meme no parent passes on never leaves the node that made it, whatever the depth",
                ))
                .plot("contamination.svg"),
            );
        }
        if g_lo < g_hi {
            claims.push(
                Claim::new(
                    "grounding-curbs-memes",
                    "Grounding keeps memes from the root: in the deepest tree with the fittest meme, contamination is lower with the most grounding than with the least.",
                    Effect::contrast(
                        "contamination",
                        at(&[("grounding", json!(g_lo))]),
                        at(&[("grounding", json!(g_hi))]),
                    ),
                    Direction::Above,
                    0.0,
                )
                .margin(margin)
                .filter(at(&[part("memes"), ("tau", json!(tau_hi)), ("depth", json!(md_hi))]))
                .control(Control::new(
                    &["memes.meme_rate=0.0"],
                    VerdictKind::Refuted,
                    "no memes, nothing to curb",
                ))
                .plot("contamination.svg"),
            );
            claims.push(
                Claim::new(
                    "blame-needs-grounding",
                    "Credit assignment needs grounding: when the root is wrong, blame falls on runs that really erred more often with the most grounding than with none (pooled over tau, deepest tree).",
                    Effect::contrast(
                        "blame_precision",
                        at(&[("grounding", json!(g_hi))]),
                        at(&[("grounding", json!(g_lo))]),
                    ),
                    Direction::Above,
                    0.0,
                )
                .margin(margin)
                .filter(at(&[part("memes"), ("depth", json!(md_hi))]))
                .pool(&["tau"])
                .control(Control::new(
                    &["agent.rho=0.0", "agent.epsilon=0.0"],
                    VerdictKind::Refuted,
                    "only memes go wrong: a fresh copy never repeats one, so blame finds the origin without grounding",
                ))
                .plot("blame_precision.svg"),
            );
        }
        let spread_hi = max_of(&c.allocation.spreads);
        claims.push(
            Claim::new(
                "prices-beat-fixed-splits",
                "Prices carry information even among agents with one goal: a price that lets subtrees of private difficulty bid for copies beats a fixed split of the same budget at the largest spread of difficulty.",
                Effect::contrast(
                    "accuracy",
                    at(&[("mechanism", json!(Mechanism::Price))]),
                    at(&[("mechanism", json!(Mechanism::Fixed))]),
                ),
                Direction::Above,
                0.0,
            )
            .margin(margin)
            .filter(at(&[part("allocation"), ("spread", json!(spread_hi))]))
            .control(Control::new(
                &["allocation.spreads=[0.0]"],
                VerdictKind::Refuted,
                "subtrees of equal difficulty: the price buys the fixed split",
            ))
            .plot("allocation_accuracy.svg"),
        );
        claims.push(
            Claim::new(
                "majority-matches-closed-form",
                "A vote of three independent copies fails with probability 3e^2 - 2e^3 (Christiano's reliability amplification): simulated minus closed form lies within the margin at every epsilon.",
                Effect::gap("majority_error", "majority_closed_form"),
                Direction::Within,
                0.0,
            )
            .margin(margin / 2.0)
            .filter(at(&[part("closed_form")]))
            .cells(&["epsilon"])
            .control(Control::new(
                &["agent.rho=0.5"],
                VerdictKind::Refuted,
                "half the questions in the common mode: the copies are no longer independent",
            ))
            .plot("majority_error.svg"),
        );
        claims.push(
            Claim::new(
                "uncorrected-tree-matches-closed-form",
                "An uncorrected tree is right with probability (1 - e)^questions: simulated minus closed form lies within the margin at every epsilon.",
                Effect::gap("tree_accuracy", "tree_closed_form"),
                Direction::Within,
                0.0,
            )
            .margin(margin)
            .filter(at(&[part("closed_form")]))
            .cells(&["epsilon"])
            .control(Control::new(
                &["closed_form.task=\"path\""],
                VerdictKind::Refuted,
                "a shortest path takes the minimum, which hides overestimates: the tree beats the formula",
            ))
            .plot("tree_accuracy.svg"),
        );
        claims.push(
            Claim::new(
                "debate-beats-consultancy",
                "A judge who reads only a few pieces of evidence is right more often between two debaters than with one consultant, however many pieces it may read.",
                Effect::contrast(
                    "judge_accuracy",
                    at(&[("protocol", json!(Protocol::Debate))]),
                    at(&[("protocol", json!(Protocol::Consultancy))]),
                ),
                Direction::Above,
                0.0,
            )
            .margin(margin)
            .filter(at(&[part("debate")]))
            .cells(&["pieces"])
            .control(Control::new(
                &["debate.liar_skill=0.0", "debate.honest_error=0.0"],
                VerdictKind::Refuted,
                "a liar who cannot keep its numbers consistent is caught at the first question, and an honest side that never slips always passes: the judge is right under either protocol",
            ))
            .plot("judge_accuracy.svg"),
        );
        claims
    }

    fn plots(&self, c: &Config) -> Vec<PlotSpec> {
        let plot = |file: &str,
                    title: &str,
                    metric: &str,
                    x: &str,
                    x_label: &str,
                    series: &[&str],
                    filter: Vec<(&str, Value)>| PlotSpec {
            file: file.into(),
            title: title.into(),
            metric: metric.into(),
            y_label: metric.replace('_', " "),
            x: x.into(),
            x_label: x_label.into(),
            log_x: false,
            series: series.iter().map(|s| s.to_string()).collect(),
            filter: filter
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        };
        let mut plots = Vec::new();
        for &task in &c.depth.tasks {
            let name = task.as_str();
            plots.push(plot(
                &format!("accuracy_{name}.svg"),
                &format!("Root accuracy by depth and correction rule ({name})"),
                "accuracy",
                "depth",
                "depth of decomposition",
                &["correction"],
                vec![("part", json!("depth")), ("task", json!(task))],
            ));
            plots.push(plot(
                &format!("cost_{name}.svg"),
                &format!("Cost per question in node runs ({name})"),
                "cost",
                "depth",
                "depth of decomposition",
                &["correction"],
                vec![("part", json!("depth")), ("task", json!(task))],
            ));
        }
        plots.push(plot(
            "contamination.svg",
            "Memetic answers at the root",
            "contamination",
            "depth",
            "depth of decomposition",
            &["tau", "grounding"],
            vec![("part", json!("memes"))],
        ));
        plots.push(plot(
            "blame_precision.svg",
            "Blame that lands on runs that erred (wrong roots only)",
            "blame_precision",
            "depth",
            "depth of decomposition",
            &["tau", "grounding"],
            vec![("part", json!("memes"))],
        ));
        plots.push(plot(
            "stability_boundary.svg",
            "Stability boundary: the largest epsilon each depth tolerates, by rho",
            "critical_epsilon",
            "rho",
            "share of common-mode questions (rho)",
            &["depth"],
            vec![("part", json!("stability"))],
        ));
        plots.push(plot(
            "stability_depth.svg",
            "log10 of the largest tolerated epsilon by depth, one line per rho",
            "critical_epsilon_log10",
            "depth",
            "depth",
            &["rho"],
            vec![("part", json!("stability"))],
        ));
        plots.push(plot(
            "majority_error.svg",
            "Vote of three: simulated error",
            "majority_error",
            "epsilon",
            "per-copy error epsilon",
            &[],
            vec![("part", json!("closed_form"))],
        ));
        plots.push(plot(
            "tree_accuracy.svg",
            "Uncorrected tree: simulated accuracy",
            "tree_accuracy",
            "epsilon",
            "per-node error epsilon",
            &[],
            vec![("part", json!("closed_form"))],
        ));
        plots.push(plot(
            "allocation_accuracy.svg",
            "Root accuracy by spread of private difficulty",
            "accuracy",
            "spread",
            "spread of log difficulty",
            &["mechanism"],
            vec![("part", json!("allocation"))],
        ));
        plots.push(plot(
            "judge_accuracy.svg",
            "Judge accuracy by pieces of evidence it may read",
            "judge_accuracy",
            "pieces",
            "pieces of evidence the judge reads",
            &["protocol"],
            vec![("part", json!("debate"))],
        ));
        plots.push(plot(
            "allocation_messages.svg",
            "Messages per question",
            "messages",
            "spread",
            "spread of log difficulty",
            &["mechanism"],
            vec![("part", json!("allocation"))],
        ));
        plots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_config_validates_and_conditions_serialize_flat() {
        let e = Hch;
        for quick in [true, false] {
            let config = e.default_config(quick);
            e.validate(&config).unwrap();
            for c in e.conditions(&config) {
                let v = serde_json::to_value(&c).unwrap();
                assert!(
                    v.as_object()
                        .unwrap()
                        .values()
                        .all(|x| !x.is_object() && !x.is_array())
                );
                let back: Condition = serde_json::from_value(v).unwrap();
                assert_eq!(back, c);
            }
        }
        assert_eq!(
            cruxlab_core::checked_claims(&e, &e.default_config(true))
                .unwrap()
                .len(),
            11
        );
    }

    #[test]
    fn measure_emits_exactly_the_declared_metrics() {
        let e = Hch;
        let mut config = e.default_config(true);
        config.questions = 5;
        config.allocation.questions = 20;
        config.debate.questions = 5;
        config.closed_form.trials = 20;
        config.closed_form.questions = 5;
        config.stability.pool = 50;
        cruxlab_core::check_metrics_emitted(&e, &config, 0).unwrap_or_else(|err| panic!("{err}"));
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = Hch;
        let mut c = e.default_config(true);
        c.agent.k = 2;
        assert_eq!(e.validate(&c).unwrap_err().0, "agent.k");
        let mut c = e.default_config(true);
        c.depth.depths = vec![12];
        assert_eq!(e.validate(&c).unwrap_err().0, "depth.depths");
        let mut c = e.default_config(true);
        c.memes.taus = vec![1.5];
        assert_eq!(e.validate(&c).unwrap_err().0, "memes.taus");
    }
}
