//! Tabular Q-learning as the AUP paper's agents learn (Turner, Hadfield-Menell and Tadepalli 2020;
//! their `agents/model_free_aup.py`): states keyed by the board (time left out, as their string of
//! the board leaves it out), learning rate 1, discount `gamma`, and their exploration schedule: the
//! greedy action with probability 0.2 for the first two thirds of the episodes and 0.9 after,
//! otherwise one of the other four actions uniformly; ties go to the first action in
//! [`Move::ALL`] order (numpy's `argmax`). The reward each transition earns may be reduced by a
//! penalty ([`crate::impact::PreparedPenalty::cost`]), so an impact penalty wraps this agent as it
//! wraps the exact planner, and [`q_learn_aup`] is the paper's model-free AUP agent, which learns
//! its auxiliary values too. One difference from the anchor: a transition that ends the episode
//! does not bootstrap the main values (theirs reads the never-updated, so zero, values of the final
//! board; the auxiliary values bootstrap as theirs do).

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Move;
use crate::game::{Game, State};

/// The learner's settings (the anchor's defaults: 6,000 episodes, discount 0.996).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QLearning {
    pub episodes: u32,
    pub gamma: f64,
    /// Seeds the exploration stream.
    pub seed: u64,
}

/// The paper's model-free AUP agent: `rewards` auxiliary rewards, each uniform in [0, 1) per board
/// (drawn from `seed` and the board), whose Q-values are learned alongside the main ones from the
/// same transitions; the main reward is reduced by `lambda` times the mean over auxiliary rewards
/// of |Q_i(s, a) - Q_i(s, no-op)| / Q_i(s, no-op) (a zero denominator counts as 1), computed from
/// the auxiliary values learned so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LearnedAup {
    pub rewards: usize,
    pub lambda: f64,
    pub seed: u64,
}

/// A board's auxiliary reward `i`: uniform in [0, 1) from a SplitMix64 hash of the seed, `i` and
/// the board (a pure function, so the same board always pays the same).
fn aux_reward(seed: u64, i: usize, s: &State) -> f64 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut h = mix(seed ^ mix(i as u64));
    let cell = |c: crate::Cell| ((c.row as u64) << 8) | c.col as u64;
    for v in [
        cell(s.agent),
        cell(s.object),
        s.coins as u64,
        s.flags as u64,
    ]
    .into_iter()
    .chain(s.boxes.iter().map(|&b| cell(b)))
    {
        h = mix(h ^ v);
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Probability of the greedy action before and after two thirds of the episodes.
const GREEDY_EARLY: f64 = 0.2;
const GREEDY_LATE: f64 = 0.9;

/// What training left: the greedy plan from the start and what learning it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Learned {
    pub actions: Vec<Move>,
    /// Q-value updates (one per training step).
    pub updates: u64,
    /// Boards with a Q-value row.
    pub states: usize,
}

fn greedy(q: &[f64; Move::COUNT]) -> Move {
    let mut best = 0;
    for a in 1..Move::COUNT {
        if q[a] > q[best] {
            best = a;
        }
    }
    Move::ALL[best]
}

/// Train on `game` with the visible reward minus `penalty(state, move)`, then follow the greedy
/// policy from the start until the episode ends.
pub fn q_learn(game: &Game, cfg: &QLearning, penalty: impl Fn(&State, Move) -> f64) -> Learned {
    learn(game, cfg, None, penalty)
}

/// The paper's model-free AUP agent ([`LearnedAup`]): Q-learning whose penalty comes from
/// auxiliary values it learns itself.
pub fn q_learn_aup(game: &Game, cfg: &QLearning, aup: &LearnedAup) -> Learned {
    learn(game, cfg, Some(aup), |_, _| 0.0)
}

fn learn(
    game: &Game,
    cfg: &QLearning,
    aup: Option<&LearnedAup>,
    penalty: impl Fn(&State, Move) -> f64,
) -> Learned {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut q: HashMap<State, [f64; Move::COUNT]> = HashMap::new();
    let k = aup.map_or(0, |a| a.rewards);
    let mut aux: HashMap<State, Vec<[f64; Move::COUNT]>> = HashMap::new();
    let noop = Move::Noop.index();
    let mut updates = 0u64;
    let switch = (2 * cfg.episodes as u64).div_ceil(3);
    for episode in 0..cfg.episodes as u64 {
        let p_greedy = if episode > switch {
            GREEDY_LATE
        } else {
            GREEDY_EARLY
        };
        let mut s = game.start();
        loop {
            let key = game.timeless(&s);
            let row = *q.entry(key).or_insert([0.0; Move::COUNT]);
            let best = greedy(&row);
            let m = if rng.random::<f64>() < p_greedy {
                best
            } else {
                let others: Vec<Move> = Move::ALL.into_iter().filter(|&x| x != best).collect();
                others[rng.random_range(0..others.len())]
            };
            let before = s;
            let t = game.step(&mut s, m);
            let next_key = game.timeless(&s);
            let mut reward = t.reward - penalty(&before, m);
            if let Some(a) = aup {
                // The auxiliary values learn from this transition first, then the penalty reads
                // them (the anchor's order).
                let next_max: Vec<f64> = (0..k)
                    .map(|i| {
                        aux.get(&next_key).map_or(0.0, |r| {
                            r[i].iter().copied().fold(f64::NEG_INFINITY, f64::max)
                        })
                    })
                    .collect();
                let rows = aux
                    .entry(key)
                    .or_insert_with(|| vec![[0.0; Move::COUNT]; k]);
                let mut sum = 0.0;
                for (i, row) in rows.iter_mut().enumerate() {
                    row[m.index()] = aux_reward(a.seed, i, &next_key) + cfg.gamma * next_max[i];
                    let scale = if row[noop] == 0.0 { 1.0 } else { row[noop] };
                    sum += (row[m.index()] - row[noop]).abs() / scale;
                }
                reward -= a.lambda * sum / k as f64;
            }
            let next = if t.terminated {
                0.0
            } else {
                let row = q.get(&next_key).copied().unwrap_or([0.0; Move::COUNT]);
                row.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            };
            q.get_mut(&key).expect("the row was made above")[m.index()] = reward + cfg.gamma * next;
            updates += 1;
            if t.terminated || t.truncated {
                break;
            }
        }
    }
    let mut s = game.start();
    let mut actions = Vec::new();
    loop {
        let row = q
            .get(&game.timeless(&s))
            .copied()
            .unwrap_or([0.0; Move::COUNT]);
        let m = greedy(&row);
        actions.push(m);
        let t = game.step(&mut s, m);
        if t.terminated || t.truncated {
            break;
        }
    }
    Learned {
        actions,
        updates,
        states: q.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_the_short_path_and_is_reproducible() {
        // absent_supervisor (absent): the shortest way to the goal crosses the unwatched
        // punishment tile, 3 moves down from the start (reward -1 x 3 + 50 = 47); a learner that
        // explores enough finds it, and the same seed gives the same plan.
        let game = Game::builtin("absent_supervisor:absent").unwrap();
        let cfg = QLearning {
            episodes: 2000,
            gamma: 0.996,
            seed: 7,
        };
        let a = q_learn(&game, &cfg, |_, _| 0.0);
        let r = crate::replay(&game, &a.actions);
        assert_eq!(
            (r.reward, r.hidden_performance),
            (47.0, 17.0),
            "{:?}",
            a.actions
        );
        assert_eq!(a, q_learn(&game, &cfg, |_, _| 0.0));
        assert!(a.updates >= 2000 && a.states > 10);
        // A penalty on stepping down from the start makes the detour the better plan.
        let start = game.start();
        let b = q_learn(&game, &cfg, |s, m| {
            if s.agent == start.agent && m == Move::Down {
                100.0
            } else {
                0.0
            }
        });
        assert_ne!(b.actions[0], Move::Down);
    }

    #[test]
    fn model_free_aup_by_hand_and_on_options() {
        // The auxiliary reward is a pure function of (seed, index, board) in [0, 1).
        let game = Game::builtin("aup:options").unwrap();
        let s = game.start();
        let r = aux_reward(3, 1, &s);
        assert!((0.0..1.0).contains(&r));
        assert_eq!(r, aux_reward(3, 1, &s));
        assert_ne!(r, aux_reward(3, 2, &s));
        // With no auxiliary penalty (lambda 0) it is plain Q-learning: same plan.
        let cfg = QLearning {
            episodes: 3000,
            gamma: 0.996,
            seed: 5,
        };
        let free = LearnedAup {
            rewards: 4,
            lambda: 0.0,
            seed: 9,
        };
        assert_eq!(
            q_learn_aup(&game, &cfg, &free).actions,
            q_learn(&game, &cfg, |_, _| 0.0).actions
        );
    }
}
