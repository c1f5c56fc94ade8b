//! A tree of bounded imitators answering one task, and the one rule every node follows.
//!
//! A node (one copy's *run* on a question) answers directly when the question fits its context;
//! otherwise it asks each sub-question of `k` copies of the base agent, takes their vote, and
//! combines the voted sub-answers by the task's rule. Then, in this order:
//!
//! 1. **Own mistake**: with probability `epsilon` it answers one of the question's lures instead.
//! 2. **Memetic answers**: if any sub-answer it received is memetic, it is fooled with probability
//!    `tau` and passes that memetic answer up as its own (the "urgent" message outcompetes the
//!    work); otherwise, with probability `meme_rate`, it ignores its task and emits a new memetic
//!    answer. A memetic answer is always wrong for the question it answers.
//! 3. **Verifier** (optional): flags a wrong answer with probability `power` and a right one with
//!    probability `false_alarm`, at `cost` per check; a flagged node runs again from scratch (a
//!    fresh copy, fresh sub-questions) and that second answer stands.
//! 4. **Grounding**: with probability `grounding` the answer is spot-checked against the world
//!    (the task's truth) at `check_cost`; a wrong answer is replaced by the truth.
//!
//! A vote among `k` copies: with probability `rho` the question falls in the base's common mode and
//! every copy gives the same answer (one run, repeated); otherwise the copies run independently.
//! If any copy's answer is memetic the asker is fooled with probability `tau`; otherwise the
//! plurality value wins (ties: the first copy's among the tied).
//!
//! Every draw comes from the node's identity ([`crate::draw`]), so two parameter settings see the
//! same random numbers node by node.

use crate::draw::{Draws, Purpose, child};
use crate::task::{MAX_ARITY, Question, Task};
use serde::{Deserialize, Serialize};

/// A verifier: a second opinion with its own accuracy and cost.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verifier {
    /// Probability of flagging a wrong answer.
    pub power: f64,
    /// Probability of flagging a right one.
    pub false_alarm: f64,
    /// Cost of one check, in node runs.
    pub cost: f64,
}

impl Verifier {
    pub const NONE: Verifier = Verifier {
        power: 0.0,
        false_alarm: 0.0,
        cost: 0.0,
    };

    fn present(&self) -> bool {
        self.power > 0.0 || self.false_alarm > 0.0
    }
}

/// The agents of a tree: copies of one base, with its error model and the tree's correction rules.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    /// Probability that a run answers wrongly on its own account.
    pub epsilon: f64,
    /// Share of questions on which every copy of the base answers alike (common-mode errors).
    pub rho: f64,
    /// Copies asked per sub-question (1: no vote).
    pub k: u32,
    /// Distinct wrong answers a mistake picks among (1: all mistakes agree).
    pub lures: u32,
    /// Probability that a run ignores its task and emits a memetic answer.
    pub meme_rate: f64,
    /// Probability that a node passes a memetic sub-answer up as its own (its fitness).
    pub tau: f64,
    /// Probability that a run's answer is spot-checked against the world.
    pub grounding: f64,
    /// Cost of one spot-check, in node runs.
    pub check_cost: f64,
    pub verifier: Verifier,
}

impl Agent {
    /// A perfect base: no mistakes, no memes, no corrections.
    pub const PERFECT: Agent = Agent {
        epsilon: 0.0,
        rho: 0.0,
        k: 1,
        lures: 1,
        meme_rate: 0.0,
        tau: 0.0,
        grounding: 0.0,
        check_cost: 1.0,
        verifier: Verifier::NONE,
    };
}

/// An answer as it travels up the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    pub value: u32,
    /// Selected for how well it spreads, not for truth.
    pub meme: bool,
}

/// What answering cost and what happened on the way.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    /// Node runs (each copy's answer to a question counts once).
    pub runs: u64,
    /// Spot-checks against the world.
    pub checks: u64,
    /// Verifier checks.
    pub verifications: u64,
    /// Verifier-triggered re-runs.
    pub retries: u64,
}

impl Tally {
    /// Total cost in node runs.
    pub fn cost(&self, agent: &Agent) -> f64 {
        self.runs as f64
            + self.checks as f64 * agent.check_cost
            + self.verifications as f64 * agent.verifier.cost
    }
}

/// What one run did, for blame: its sub-answers, which copy gave each, and whether its own step
/// went wrong.
#[derive(Clone, Debug)]
pub struct RunDetail {
    pub answer: Answer,
    /// Per sub-question: the question, the voted answer and the identity of a copy that gave it.
    pub sub: Vec<(Question, Answer, u64)>,
    /// The run's own step made a mistake or started a meme, and it was not corrected here.
    pub faulty: bool,
    /// The run was replaced by a verifier-triggered re-run (identity of the re-run).
    pub replaced_by: Option<u64>,
}

/// A tree answering questions of one task.
pub struct Tree<'a, T: Task> {
    pub task: &'a T,
    pub agent: Agent,
    pub seed: u64,
    pub tally: Tally,
}

/// The identity of a root run.
pub const ROOT: u64 = 0x5eed;

impl<'a, T: Task> Tree<'a, T> {
    pub fn new(task: &'a T, agent: Agent, seed: u64) -> Tree<'a, T> {
        Tree {
            task,
            agent,
            seed,
            tally: Tally::default(),
        }
    }

    /// The root's answer: one run on the task's root question.
    pub fn answer(&mut self) -> Answer {
        self.run(self.task.root(), ROOT)
    }

    /// `k` copies answer `q`; their vote.
    pub fn ask(&mut self, q: Question, id: u64) -> (Answer, u64) {
        let k = self.agent.k.max(1);
        let d = Draws::at(self.seed, id);
        if k == 1 || d.chance(Purpose::Common, self.agent.rho) {
            let copy = child(id, 0);
            return (self.run(q, copy), copy);
        }
        let mut answers = [Answer {
            value: 0,
            meme: false,
        }; MAX_ARITY];
        let k = (k as usize).min(MAX_ARITY);
        for (c, slot) in answers.iter_mut().enumerate().take(k) {
            *slot = self.run(q, child(id, c as u64));
        }
        let answers = &answers[..k];
        if let Some(m) = answers.iter().position(|a| a.meme)
            && d.chance(Purpose::Fooled, self.agent.tau)
        {
            return (answers[m], child(id, m as u64));
        }
        let mut best = 0;
        let mut best_votes = 0;
        for (i, a) in answers.iter().enumerate() {
            // A memetic answer only ever agrees with other memetic answers.
            let votes = answers.iter().filter(|b| *b == a).count();
            if votes > best_votes {
                best = i;
                best_votes = votes;
            }
        }
        (answers[best], child(id, best as u64))
    }

    /// One run on `q`.
    pub fn run(&mut self, q: Question, id: u64) -> Answer {
        self.run_detail(q, id, false).answer
    }

    /// One run on `q`, with what blame needs to know when `detail` is set.
    pub fn run_detail(&mut self, q: Question, id: u64, detail: bool) -> RunDetail {
        self.step(q, id, true, detail)
    }

    fn step(&mut self, q: Question, id: u64, may_retry: bool, detail: bool) -> RunDetail {
        self.tally.runs += 1;
        let task = self.task;
        let agent = self.agent;
        let n = task.arity(q);
        let mut sub = Vec::new();
        let (mut value, incoming) = if n == 0 {
            (task.truth(q), false)
        } else {
            let mut values = [0u32; MAX_ARITY];
            let mut incoming = false;
            for i in 0..n {
                let s = task.sub_question(q, i, &values[..i]);
                let (a, copy) = self.ask(s, child(id, i as u64 + 100));
                values[i] = a.value;
                incoming |= a.meme;
                if detail {
                    sub.push((s, a, copy));
                }
            }
            (task.combine(q, &values[..n]), incoming)
        };
        let d = Draws::at(self.seed, id);
        let mut faulty = false;
        if d.chance(Purpose::Error, agent.epsilon) {
            value = task.lure(q, d.index(Purpose::Lure, agent.lures.max(1)));
            faulty = true;
        }
        let mut answer = Answer { value, meme: false };
        if incoming && d.chance(Purpose::Fooled, agent.tau) {
            // The memetic message climbs: the node's own work is set aside.
            answer = Answer {
                value: task.lure(q, 0),
                meme: true,
            };
            faulty = false;
        } else if d.chance(Purpose::Meme, agent.meme_rate) {
            answer = Answer {
                value: task.lure(q, 0),
                meme: true,
            };
            faulty = true;
        }
        let mut replaced_by = None;
        if may_retry && agent.verifier.present() {
            self.tally.verifications += 1;
            let wrong = answer.meme || answer.value != task.truth(q);
            let p = if wrong {
                agent.verifier.power
            } else {
                agent.verifier.false_alarm
            };
            if d.chance(Purpose::Verify, p) {
                self.tally.retries += 1;
                let again = child(id, 7);
                let r = self.step(q, again, false, detail);
                answer = r.answer;
                faulty = r.faulty;
                sub = r.sub;
                replaced_by = Some(again);
            }
        }
        if d.chance(Purpose::Ground, agent.grounding) {
            self.tally.checks += 1;
            let truth = task.truth(q);
            if answer.meme || answer.value != truth {
                answer = Answer {
                    value: truth,
                    meme: false,
                };
                faulty = false;
            }
        }
        RunDetail {
            answer,
            sub,
            faulty,
            replaced_by,
        }
    }
}

/// How blame for a wrong root answer was assigned.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Blame {
    /// Runs blamed.
    pub blamed: u64,
    /// Blamed runs whose own step really went wrong.
    pub faulty_blamed: u64,
    /// Runs of fresh copies asked to re-answer sub-questions.
    pub recheck_runs: u64,
    /// Sub-answers checked against the world.
    pub checks: u64,
}

/// Propagate blame down from a wrong root answer. At each run, every sub-answer is compared with
/// the world (a grounded comparison, with probability `agent.grounding`) or else with a fresh
/// copy's answer to the same sub-question (which repeats the original with probability `rho`: the
/// base's common mode). Sub-answers found wrong are followed down to the copy that gave them; a run
/// none of whose sub-answers is found wrong is blamed for its own step.
pub fn assign_blame<T: Task>(tree: &mut Tree<'_, T>) -> Blame {
    let mut blame = Blame::default();
    let root = tree.task.root();
    descend(tree, root, ROOT, &mut blame, 0);
    blame
}

fn descend<T: Task>(tree: &mut Tree<'_, T>, q: Question, id: u64, blame: &mut Blame, depth: u32) {
    let mut r = tree.run_detail(q, id, true);
    let mut id = id;
    while let Some(again) = r.replaced_by {
        id = again;
        r = tree.step(q, again, false, true);
    }
    let mut suspects = Vec::new();
    for (i, (s, a, copy)) in r.sub.iter().enumerate() {
        let d = Draws::at(tree.seed, child(id, 1000 + i as u64));
        let found_wrong = if d.chance(Purpose::BlameGround, tree.agent.grounding) {
            blame.checks += 1;
            a.meme || a.value != tree.task.truth(*s)
        } else if d.chance(Purpose::BlameCommon, tree.agent.rho) {
            false
        } else {
            let before = tree.tally.runs;
            let fresh = tree.run(*s, child(id, 2000 + i as u64));
            blame.recheck_runs += tree.tally.runs - before;
            fresh.meme != a.meme || fresh.value != a.value
        };
        if found_wrong {
            suspects.push((*s, *copy));
        }
    }
    if suspects.is_empty() || depth > 64 {
        blame.blamed += 1;
        blame.faulty_blamed += r.faulty as u64;
        return;
    }
    for (s, copy) in suspects {
        descend(tree, s, copy, blame, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{AnyTask, TaskKind, TaskShape};

    fn shape(depth: u32) -> TaskShape {
        TaskShape {
            depth,
            branching: 2,
            context: 2,
            width: 2,
        }
    }

    #[test]
    fn runs_by_hand() {
        // A binary count of depth 2 has 7 questions; with k = 3 and no common mode every
        // sub-question is answered by 3 copies: 1 + 3 * 2 * (1 + 3 * 2) = 43 runs.
        let t = AnyTask::generate(TaskKind::Count, shape(2), 1);
        let agent = Agent {
            k: 3,
            ..Agent::PERFECT
        };
        let mut tree = Tree::new(&t, agent, 9);
        let a = tree.answer();
        assert_eq!(a.value, t.truth(t.root()));
        assert_eq!(tree.tally.runs, 43);
        let mut single = Tree::new(&t, Agent::PERFECT, 9);
        single.answer();
        assert_eq!(single.tally.runs, 7);
    }

    #[test]
    fn a_certain_mistake_at_every_node_is_caught_by_full_grounding() {
        let t = AnyTask::generate(TaskKind::Arithmetic, shape(3), 2);
        let agent = Agent {
            epsilon: 1.0,
            grounding: 1.0,
            ..Agent::PERFECT
        };
        let mut tree = Tree::new(&t, agent, 3);
        assert_eq!(tree.answer().value, t.truth(t.root()));
        assert_eq!(tree.tally.checks, 15);
        let wrong = Agent {
            grounding: 0.0,
            ..agent
        };
        assert_ne!(Tree::new(&t, wrong, 3).answer().value, t.truth(t.root()));
    }
}
