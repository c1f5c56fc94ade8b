//! A judge who may read only a few pieces of evidence, alone, with one consultant, or between two
//! debaters (after Irving, Christiano & Amodei 2018's sparse-pixel judge and Michael et al. 2023's
//! consultancy baseline).
//!
//! The question is a count over a long list (a [`Count`] task of the given shape); the two
//! candidate answers are the truth and the truth plus one. Evidence is the list itself: reading an
//! item is one piece.
//!
//! * **judge alone** reads `pieces` random items, estimates the count and picks the nearer
//!   candidate.
//! * **consultancy**: one consultant, honest or lying with equal chance, argues for its answer.
//!   The judge interrogates it down the decomposition: at every question it visits, the consultant
//!   states the sub-answers, which must add up to its claim; the judge picks a sub-question at
//!   random and goes down until a question small enough to read (`context` items), which it reads.
//!   It repeats while its pieces last. Any inconsistency or misread leaf and the judge answers the
//!   other candidate; otherwise it believes the consultant.
//! * **debate**: both argue; at every question both state sub-answers, and the judge goes down
//!   where they disagree (one path, `context` pieces at its end). A side whose statements do not
//!   add up loses.
//!
//! Imperfection on both sides: the honest side misstates a sub-answer with probability
//! `honest_error`; a liar keeps its statements consistent (pushing its lie into one sub-question)
//! with probability `liar_skill` at each question, and otherwise states numbers that do not add up.

use crate::draw::{Draws, Purpose, child, mix};
use crate::task::{COUNT_MODULUS, Count, Question, Task, TaskShape};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Who the judge hears.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    JudgeAlone,
    Consultancy,
    Debate,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [
        Protocol::JudgeAlone,
        Protocol::Consultancy,
        Protocol::Debate,
    ];
}

/// The judge's situation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setting {
    pub shape: TaskShape,
    /// Items the judge may read.
    pub pieces: u32,
    pub honest_error: f64,
    pub liar_skill: f64,
}

fn question_id(q: Question) -> u64 {
    mix(((q.a as u64) << 32) | q.b as u64)
}

/// What a side states about the sub-questions of `q`, given its claim for `q`: the sub-answers,
/// or `None` when they do not add up to the claim.
fn statements(
    task: &Count,
    setting: &Setting,
    seed: u64,
    q: Question,
    claim: u32,
    honest: bool,
) -> Option<Vec<u32>> {
    let n = task.arity(q);
    let subs: Vec<Question> = (0..n).map(|i| task.sub_question(q, i, &[])).collect();
    let mut values: Vec<u32> = subs.iter().map(|&s| task.truth(s)).collect();
    let d = Draws::at(seed ^ (honest as u64), question_id(q));
    let excess = claim.wrapping_sub(task.truth(q));
    if honest {
        // An honest side's claim is the truth; a misstated sub-answer breaks the sum.
        let slip = (0..n).any(|i| {
            Draws::at(seed, child(question_id(q), i as u64))
                .chance(Purpose::Error, setting.honest_error)
        });
        return if slip { None } else { Some(values) };
    }
    if excess == 0 {
        return Some(values);
    }
    if !d.chance(Purpose::Verify, setting.liar_skill) {
        return None;
    }
    let lie = d.index(Purpose::Lure, n as u32) as usize;
    values[lie] = values[lie].wrapping_add(excess);
    Some(values)
}

/// Whether the judge ends up with the true answer.
pub fn judge(setting: &Setting, protocol: Protocol, task_seed: u64, judge_seed: u64) -> bool {
    let task = Count::generate(
        setting.shape,
        COUNT_MODULUS,
        &mut ChaCha8Rng::seed_from_u64(task_seed),
    );
    let root = task.root();
    let truth = task.truth(root);
    let lie = truth + 1;
    let d = Draws::at(judge_seed, 0);
    let coin = d.chance(Purpose::Fooled, 0.5);
    let context = setting.shape.context;
    match protocol {
        Protocol::JudgeAlone => {
            let n = root.b;
            let read = setting.pieces.min(n);
            let marked = (0..read)
                .map(|i| {
                    let at = Draws::at(judge_seed, child(1, i as u64)).index(Purpose::Lure, n);
                    task.truth(Question { a: at, b: at + 1 })
                })
                .sum::<u32>();
            let estimate = n as f64 * marked as f64 / read.max(1) as f64;
            let (dt, dl) = (
                (estimate - truth as f64).abs(),
                (estimate - lie as f64).abs(),
            );
            if dt == dl { coin } else { dt < dl }
        }
        Protocol::Consultancy => {
            let honest = d.chance(Purpose::Meme, 0.5);
            let claim = if honest { truth } else { lie };
            let descents = setting.pieces / context;
            let mut caught = false;
            'paths: for j in 0..descents {
                let (mut q, mut c) = (root, claim);
                let mut level = 0u64;
                while task.arity(q) > 0 {
                    let Some(values) = statements(&task, setting, judge_seed, q, c, honest) else {
                        caught = true;
                        break 'paths;
                    };
                    let pick = Draws::at(judge_seed, child(child(2, j as u64), level))
                        .index(Purpose::Lure, values.len() as u32)
                        as usize;
                    q = task.sub_question(q, pick, &[]);
                    c = values[pick];
                    level += 1;
                }
                if c != task.truth(q) {
                    caught = true;
                    break;
                }
            }
            if caught { !honest } else { honest }
        }
        Protocol::Debate => {
            let (mut q, mut ct, mut cl) = (root, truth, lie);
            while task.arity(q) > 0 {
                let h = statements(&task, setting, judge_seed, q, ct, true);
                let l = statements(&task, setting, judge_seed, q, cl, false);
                match (h, l) {
                    (None, None) => return coin,
                    (None, Some(_)) => return false,
                    (Some(_), None) => return true,
                    (Some(h), Some(l)) => {
                        let Some(i) = (0..h.len()).find(|&i| h[i] != l[i]) else {
                            return coin;
                        };
                        q = task.sub_question(q, i, &[]);
                        (ct, cl) = (h[i], l[i]);
                    }
                }
            }
            if setting.pieces < context {
                return coin;
            }
            let read = task.truth(q);
            match (ct == read, cl == read) {
                (true, false) => true,
                (false, true) => false,
                _ => coin,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(honest_error: f64, liar_skill: f64, pieces: u32) -> Setting {
        Setting {
            shape: TaskShape {
                depth: 4,
                branching: 2,
                context: 2,
                width: 2,
            },
            pieces,
            honest_error,
            liar_skill,
        }
    }

    fn rate(s: &Setting, p: Protocol) -> f64 {
        (0..4000u64).filter(|&i| judge(s, p, i, i * 3 + 1)).count() as f64 / 4000.0
    }

    #[test]
    fn perfect_debate_always_finds_the_truth_and_an_unskilled_liar_is_always_caught() {
        assert_eq!(rate(&setting(0.0, 1.0, 2), Protocol::Debate), 1.0);
        assert_eq!(rate(&setting(0.0, 0.0, 2), Protocol::Consultancy), 1.0);
    }

    #[test]
    fn consultancy_catches_a_skilled_liar_only_on_its_path() {
        // 16 leaves; one descent follows the lie with probability 1/16: accuracy
        // 1/2 + 1/2 * 1/16 = 0.531 with one descent (2 pieces), up to 1/2 + 1/2 * (1 - (15/16)^k)
        // for k descents, since the liar's statements are fixed per question (descents may repeat).
        let one = rate(&setting(0.0, 1.0, 2), Protocol::Consultancy);
        assert!((one - 0.531).abs() < 0.03, "{one}");
        let alone = rate(&setting(0.0, 1.0, 8), Protocol::JudgeAlone);
        assert!((0.4..0.65).contains(&alone), "{alone}");
    }
}
