//! Sharing one budget of copies among subtrees whose difficulty only they know.
//!
//! A root question splits into `subtrees` sub-questions; subtree `i` is answered by a vote of
//! `k_i` copies (odd), each wrong with the subtree's private per-run error `epsilon_i`, a share
//! `rho` of questions in the base's common mode. The budget is `subtrees * base_k` copies. All
//! subtrees share one goal (the root's accuracy, the product of their chances of being right); what
//! they do not share is information about their own difficulty. Three ways to split the budget:
//!
//! * **fixed**: every subtree gets `base_k`; no messages.
//! * **price**: a sealed-bid uniform-price auction. Each subtree sends one message, its demand
//!   schedule (the gain in log-accuracy of each further pair of copies), and the auctioneer sends
//!   back the clearing price, the lowest at which demand fits the budget: `2 * subtrees` messages.
//!   Each subtree then buys every pair whose gain is above the price.
//! * **negotiation**: from the fixed split, pairs of subtrees meet in turn, each telling the other
//!   what a pair of copies is worth to it (2 messages a meeting), and hand a pair over when that
//!   raises their joint accuracy; sweeps over all pairs continue until one sweep changes nothing
//!   or `max_sweeps` is reached.
//!
//! A subtree's gain from a pair of copies, `ln(1 - V(k + 2)) - ln(1 - V(k))`, falls as `k` grows
//! (below an error of 1/2), so the auction's allocation is the one that maximises the product, and
//! negotiation reaches it when it runs to the end.

use crate::amplify::vote_error;
use crate::draw::{Draws, Purpose, child};
use serde::{Deserialize, Serialize};

/// How the budget is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    Fixed,
    Price,
    Negotiation,
}

impl Mechanism {
    pub const ALL: [Mechanism; 3] = [Mechanism::Fixed, Mechanism::Negotiation, Mechanism::Price];

    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Fixed => "fixed",
            Mechanism::Price => "price",
            Mechanism::Negotiation => "negotiation",
        }
    }
}

/// An allocation and what arriving at it cost in messages.
#[derive(Clone, Debug, PartialEq)]
pub struct Allocation {
    pub copies: Vec<u32>,
    pub messages: u64,
}

/// The gain in log-accuracy of going from `k` to `k + 2` copies.
pub fn pair_gain(epsilon: f64, k: u32, rho: f64) -> f64 {
    (1.0 - vote_error(epsilon, k + 2, rho)).ln() - (1.0 - vote_error(epsilon, k, rho)).ln()
}

/// Split `subtrees.len() * base_k` copies among subtrees with private errors `epsilons`.
pub fn allocate(
    mechanism: Mechanism,
    epsilons: &[f64],
    base_k: u32,
    rho: f64,
    max_sweeps: u32,
) -> Allocation {
    let n = epsilons.len();
    let budget = n as u32 * base_k;
    match mechanism {
        Mechanism::Fixed => Allocation {
            copies: vec![base_k; n],
            messages: 0,
        },
        Mechanism::Price => {
            // The schedules: every subtree's gain for each further pair it could hold.
            let pairs = (budget - n as u32) / 2;
            let mut bids: Vec<(f64, usize)> = Vec::new();
            for (i, &e) in epsilons.iter().enumerate() {
                for p in 0..pairs {
                    bids.push((pair_gain(e, 1 + 2 * p, rho), i));
                }
            }
            // The clearing price is the highest losing bid: at any price above it, demand fits.
            bids.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let price = bids.get(pairs as usize).map_or(0.0, |b| b.0);
            let mut copies = vec![1u32; n];
            for &(gain, i) in &bids {
                if gain > price {
                    copies[i] += 2;
                }
            }
            Allocation {
                copies,
                messages: 2 * n as u64,
            }
        }
        Mechanism::Negotiation => {
            let mut copies = vec![base_k; n];
            let mut messages = 0;
            for _ in 0..max_sweeps {
                let mut changed = false;
                for i in 0..n {
                    for j in i + 1..n {
                        messages += 2;
                        let trade = |to: usize, from: usize, copies: &[u32]| {
                            copies[from] >= 3
                                && pair_gain(epsilons[to], copies[to], rho)
                                    > pair_gain(epsilons[from], copies[from] - 2, rho)
                        };
                        if trade(i, j, &copies) {
                            copies[i] += 2;
                            copies[j] -= 2;
                            changed = true;
                        } else if trade(j, i, &copies) {
                            copies[j] += 2;
                            copies[i] -= 2;
                            changed = true;
                        }
                    }
                }
                if !changed {
                    break;
                }
            }
            Allocation { copies, messages }
        }
    }
}

/// Whether the vote of `k` copies on subtree `i` of question `id` is right: copy `c` errs when its
/// own draw falls below `epsilon`; in the common mode every copy gives copy 0's answer. The draws
/// of copy `c` are the same whatever `k` is, so allocations are compared on the same luck.
pub fn vote_right(seed: u64, id: u64, epsilon: f64, k: u32, rho: f64) -> bool {
    let d = Draws::at(seed, id);
    let wrong = |c: u32| Draws::at(seed, child(id, c as u64)).chance(Purpose::Error, epsilon);
    if k <= 1 || d.chance(Purpose::Common, rho) {
        return !wrong(0);
    }
    let bad = (0..k).filter(|&c| wrong(c)).count() as u32;
    2 * bad < k
}

/// Total utility (log of the product of the subtrees' chances of being right).
pub fn log_accuracy(epsilons: &[f64], copies: &[u32], rho: f64) -> f64 {
    epsilons
        .iter()
        .zip(copies)
        .map(|(&e, &k)| (1.0 - vote_error(e, k, rho)).ln())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_difficulty_gets_the_fixed_split() {
        let eps = [0.1; 4];
        for m in Mechanism::ALL {
            assert_eq!(allocate(m, &eps, 3, 0.0, 10).copies, vec![3; 4], "{m:?}");
        }
    }

    #[test]
    fn price_spends_the_budget_on_the_hard_subtree_and_negotiation_agrees() {
        let eps = [0.3, 0.01, 0.01, 0.01];
        let price = allocate(Mechanism::Price, &eps, 3, 0.0, 50);
        assert_eq!(price.copies.iter().sum::<u32>(), 12);
        assert!(price.copies[0] > 3, "{:?}", price.copies);
        assert_eq!(price.messages, 8);
        let talk = allocate(Mechanism::Negotiation, &eps, 3, 0.0, 50);
        assert!(
            (log_accuracy(&eps, &talk.copies, 0.0) - log_accuracy(&eps, &price.copies, 0.0)).abs()
                < 1e-12
        );
        assert!(log_accuracy(&eps, &price.copies, 0.0) > log_accuracy(&eps, &[3, 3, 3, 3], 0.0));
    }
}
