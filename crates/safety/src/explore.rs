//! The state graph of a level: successors and the states reachable from one.
//!
//! Used to check irreversibility (a box in a corner can never leave it) and by the planners.
//! With `timeless`, states are keyed as the board shows them ([`Game::timeless`]), so states that
//! differ only in time merge: right for rules whose dynamics ignore time (everything but `conveyor`'s late end
//! and `survival`'s shutdown) and for questions about which arrangements can ever recur.

use std::collections::{BTreeSet, VecDeque};

use crate::Move;
use crate::game::{Game, Outcome, State};

/// The five successors of `s`, one per action (in [`Move::ALL`] order).
pub fn successors(game: &Game, s: &State) -> [(State, Outcome); Move::COUNT] {
    Move::ALL.map(|m| {
        let mut next = *s;
        let t = game.step(&mut next, m);
        (next, t)
    })
}

/// Every state reachable from `from` without passing through a terminal step (terminal states
/// themselves are included), ignoring the step limit. With `timeless`, states are compared as
/// [`Game::timeless`] keys them.
pub fn reachable(game: &Game, from: State, timeless: bool) -> BTreeSet<State> {
    let norm = |s: State| if timeless { game.timeless(&s) } else { s };
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::new();
    seen.insert(norm(from));
    queue.push_back(norm(from));
    while let Some(s) = queue.pop_front() {
        for m in Move::ALL {
            let mut next = s;
            let t = game.step(&mut next, m);
            let next = norm(next);
            if seen.insert(next) && !t.terminated {
                queue.push_back(next);
            }
        }
    }
    seen
}
