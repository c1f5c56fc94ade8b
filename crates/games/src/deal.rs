//! Multi-issue bargaining in the style of Deal or No Deal (Lewis et al. 2017) as OpenSpiel's
//! `bargaining` game frames it: a pool of items of 3 types (5 to 7 items, at least one of each
//! type), each player with private integer values per type such that the whole pool is worth 10 to
//! each; players alternate offers, starting with player 0, and either may instead accept the
//! standing offer (Agree). An offer names the bundle the proposer keeps; the rest goes to the
//! other player. An accepted offer pays each player the value of its bundle to it; after
//! `max_turns` offers without agreement both get 0.
//!
//! Action ids: an offer of `(a, b, c)` items is `a + 6 b + 36 c` (counts up to 5 per type, so the
//! action space is the same for every instance), and Agree is [`DealGame::AGREE`].

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::game::{Action, Game, GameError, GameState, Turn};

/// Item types.
pub const TYPES: usize = 3;
/// The most items of one type in a pool (7 items, at least one of each type).
pub const MAX_PER_TYPE: u32 = 5;
/// What the whole pool is worth to each player.
pub const TOTAL_VALUE: u32 = 10;

/// The game: instance sizes and the turn limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DealGame {
    pub min_items: u32,
    pub max_items: u32,
    /// Offers allowed before the game ends without a deal.
    pub max_turns: usize,
}

impl Default for DealGame {
    fn default() -> Self {
        DealGame {
            min_items: 5,
            max_items: 7,
            max_turns: 10,
        }
    }
}

/// One instance: the pool and each player's private values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DealInstance {
    pub pool: [u32; TYPES],
    pub values: [[u32; TYPES]; 2],
}

impl DealInstance {
    /// What `bundle` is worth to `player`.
    pub fn value(&self, player: usize, bundle: [u32; TYPES]) -> u32 {
        (0..TYPES).map(|t| self.values[player][t] * bundle[t]).sum()
    }

    /// The pool minus `bundle`.
    pub fn rest(&self, bundle: [u32; TYPES]) -> [u32; TYPES] {
        [0, 1, 2].map(|t| self.pool[t] - bundle[t])
    }

    /// Every bundle that fits in the pool, in action-id order.
    pub fn bundles(&self) -> Vec<[u32; TYPES]> {
        let mut out = Vec::new();
        for c in 0..=self.pool[2] {
            for b in 0..=self.pool[1] {
                for a in 0..=self.pool[0] {
                    out.push([a, b, c]);
                }
            }
        }
        out
    }
}

impl DealGame {
    pub const AGREE: Action =
        ((MAX_PER_TYPE + 1) * (MAX_PER_TYPE + 1) * (MAX_PER_TYPE + 1)) as Action;

    pub fn offer_action(bundle: [u32; TYPES]) -> Action {
        let base = (MAX_PER_TYPE + 1) as usize;
        bundle[0] as usize + base * bundle[1] as usize + base * base * bundle[2] as usize
    }

    pub fn offer_of(action: Action) -> Option<[u32; TYPES]> {
        if action >= Self::AGREE {
            return None;
        }
        let base = (MAX_PER_TYPE + 1) as usize;
        Some([
            (action % base) as u32,
            (action / base % base) as u32,
            (action / (base * base)) as u32,
        ])
    }

    /// Draw an instance: a pool uniform over the count vectors with every type present and a total
    /// in `min_items..=max_items`, and for each player values uniform over the non-negative integer
    /// vectors that make the pool worth [`TOTAL_VALUE`].
    pub fn sample_instance(&self, rng: &mut ChaCha8Rng) -> DealInstance {
        let mut pools = Vec::new();
        for a in 1..=MAX_PER_TYPE {
            for b in 1..=MAX_PER_TYPE {
                for c in 1..=MAX_PER_TYPE {
                    let n = a + b + c;
                    if (self.min_items..=self.max_items).contains(&n) {
                        pools.push([a, b, c]);
                    }
                }
            }
        }
        assert!(
            !pools.is_empty(),
            "no pool has between {} and {} items",
            self.min_items,
            self.max_items
        );
        loop {
            let pool = pools[rng.random_range(0..pools.len())];
            let valuations = valuations(pool);
            if valuations.is_empty() {
                continue;
            }
            let values = [
                valuations[rng.random_range(0..valuations.len())],
                valuations[rng.random_range(0..valuations.len())],
            ];
            return DealInstance { pool, values };
        }
    }

    pub fn start(&self, instance: DealInstance) -> DealState {
        DealState {
            game: *self,
            instance,
            offers: Vec::new(),
            agreed: false,
        }
    }
}

/// Every value vector that makes `pool` worth [`TOTAL_VALUE`].
pub fn valuations(pool: [u32; TYPES]) -> Vec<[u32; TYPES]> {
    let mut out = Vec::new();
    for a in 0..=TOTAL_VALUE / pool[0] {
        for b in 0..=TOTAL_VALUE / pool[1] {
            let used = a * pool[0] + b * pool[1];
            if used <= TOTAL_VALUE && (TOTAL_VALUE - used).is_multiple_of(pool[2]) {
                out.push([a, b, (TOTAL_VALUE - used) / pool[2]]);
            }
        }
    }
    out
}

/// A play of the deal game.
#[derive(Clone, Debug, PartialEq)]
pub struct DealState {
    pub game: DealGame,
    pub instance: DealInstance,
    /// Offers so far (the bundle the proposer keeps), player 0's first.
    pub offers: Vec<[u32; TYPES]>,
    pub agreed: bool,
}

const OBSERVATION_LEN: usize = 12;

impl DealState {
    fn proposer_of(&self, offer_index: usize) -> usize {
        offer_index % 2
    }
}

impl Game for DealGame {
    type State = DealState;

    fn name(&self) -> &'static str {
        "deal"
    }

    fn num_players(&self) -> usize {
        2
    }

    fn num_distinct_actions(&self) -> usize {
        Self::AGREE + 1
    }

    fn observation_len(&self) -> usize {
        OBSERVATION_LEN
    }

    fn new_initial_state(&self, rng: &mut ChaCha8Rng) -> DealState {
        self.start(self.sample_instance(rng))
    }
}

impl GameState for DealState {
    fn num_players(&self) -> usize {
        2
    }

    fn num_distinct_actions(&self) -> usize {
        DealGame::AGREE + 1
    }

    fn turn(&self) -> Turn {
        if self.agreed || self.offers.len() >= self.game.max_turns {
            Turn::Terminal
        } else {
            Turn::Player(self.offers.len() % 2)
        }
    }

    fn legal_actions(&self, player: usize) -> Vec<Action> {
        if self.turn() != Turn::Player(player) {
            return Vec::new();
        }
        let mut out: Vec<Action> = self
            .instance
            .bundles()
            .into_iter()
            .map(DealGame::offer_action)
            .collect();
        out.sort_unstable();
        if !self.offers.is_empty() {
            out.push(DealGame::AGREE);
        }
        out
    }

    fn apply_action(&mut self, action: Action) -> Result<(), GameError> {
        let Turn::Player(player) = self.turn() else {
            return Err(GameError::NotSequential(self.turn()));
        };
        if !self.legal_actions(player).contains(&action) {
            return Err(GameError::Illegal { player, action });
        }
        match DealGame::offer_of(action) {
            Some(bundle) => self.offers.push(bundle),
            None => self.agreed = true,
        }
        Ok(())
    }

    fn apply_actions(&mut self, _actions: &[Action]) -> Result<(), GameError> {
        Err(GameError::NotSimultaneous(self.turn()))
    }

    fn returns(&self) -> Vec<f64> {
        if !self.agreed {
            return vec![0.0, 0.0];
        }
        let last = self.offers.len() - 1;
        let proposer = self.proposer_of(last);
        let kept = self.offers[last];
        let mut bundles = [[0; TYPES]; 2];
        bundles[proposer] = kept;
        bundles[1 - proposer] = self.instance.rest(kept);
        (0..2)
            .map(|p| self.instance.value(p, bundles[p]) as f64)
            .collect()
    }

    fn action_to_string(&self, _player: usize, action: Action) -> String {
        match DealGame::offer_of(action) {
            Some(b) => format!("offer: I keep {b:?}"),
            None => "agree".into(),
        }
    }

    fn observation_string(&self, player: usize) -> String {
        format!(
            "pool {:?}; your values {:?}; offers so far {:?}; agreed {}",
            self.instance.pool, self.instance.values[player], self.offers, self.agreed
        )
    }

    /// Pool counts / 5 (3); own values / 10 (3); the standing offer as what this player would get,
    /// per type / 5 (3); whether there is a standing offer; turns used / max; agreed.
    fn observation_tensor(&self, player: usize) -> Vec<f32> {
        let mut v = vec![0.0f32; OBSERVATION_LEN];
        for t in 0..TYPES {
            v[t] = self.instance.pool[t] as f32 / MAX_PER_TYPE as f32;
            v[3 + t] = self.instance.values[player][t] as f32 / TOTAL_VALUE as f32;
        }
        if let Some(&last) = self.offers.last() {
            let proposer = self.proposer_of(self.offers.len() - 1);
            let mine = if proposer == player {
                last
            } else {
                self.instance.rest(last)
            };
            for t in 0..TYPES {
                v[6 + t] = mine[t] as f32 / MAX_PER_TYPE as f32;
            }
            v[9] = 1.0;
        }
        v[10] = self.offers.len() as f32 / self.game.max_turns as f32;
        v[11] = self.agreed as u8 as f32;
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_ids_round_trip() {
        for a in 0..=MAX_PER_TYPE {
            for b in 0..=MAX_PER_TYPE {
                for c in 0..=MAX_PER_TYPE {
                    let id = DealGame::offer_action([a, b, c]);
                    assert!(id < DealGame::AGREE);
                    assert_eq!(DealGame::offer_of(id), Some([a, b, c]));
                }
            }
        }
        assert_eq!(DealGame::offer_of(DealGame::AGREE), None);
    }

    #[test]
    fn valuations_are_worth_ten() {
        for v in valuations([2, 3, 1]) {
            assert_eq!(2 * v[0] + 3 * v[1] + v[2], 10);
        }
        assert!(valuations([2, 3, 1]).contains(&[2, 2, 0]));
    }
}
