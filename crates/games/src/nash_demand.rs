//! The Nash demand game with a commitment stage and value-destroying threats.
//!
//! A pie of `units` units is to be divided between two players (their principals).
//!
//! 1. **Commitment** (simultaneous, skipped when `commitment_stage` is off): each player either makes
//!    no commitment or publicly commits to a demand `x` backed by a threat: "if my demand is not
//!    met, I destroy `threat_damage` of your principal's value".
//! 2. **Demands** (simultaneous): each player demands a number of units; a committed player can
//!    only demand what it committed to. If the demands fit in the pie (`d0 + d1 <= units`) it is an
//!    agreement: each gets its demand and the rest is split evenly. Otherwise bargaining fails and
//!    nobody gets anything.
//! 3. **Execution** (simultaneous, only after a failure with a commitment on the table): each
//!    committed player executes its threat or refrains. Executing costs the executor
//!    `threat_cost` and costs the other side `threat_damage`, unless a surrogate goal absorbs it
//!    (`surrogate_shield`: the threat is redirected at a goal whose frustration costs the principal
//!    nothing; Oesterheld & Conitzer's safe Pareto improvements).
//!
//! Payoffs are in pies (a whole pie is 1.0). The welfare lost in a play is `1 - (sum of returns)`:
//! the pie if bargaining failed, plus the damage and costs of executed threats.

use rand_chacha::ChaCha8Rng;

use crate::game::{Action, Game, GameError, GameState, Turn, check_joint};

/// The game's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NashDemandGame {
    /// The pie, in demand units (demands are integers `0..=units`).
    pub units: u32,
    /// Whether the game opens with the commitment stage.
    pub commitment_stage: bool,
    /// What an executed threat destroys of the target principal's value, in pies.
    pub threat_damage: f64,
    /// What executing a threat costs the executor, in pies.
    pub threat_cost: f64,
    /// Executed threats hit surrogate goals instead of what the principals value.
    pub surrogate_shield: bool,
}

impl Default for NashDemandGame {
    fn default() -> Self {
        NashDemandGame {
            units: 100,
            commitment_stage: true,
            threat_damage: 0.5,
            threat_cost: 0.05,
            surrogate_shield: false,
        }
    }
}

/// A move of the Nash demand game; [`NashDemandGame::action`] gives its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemandMove {
    Demand(u32),
    Commit(u32),
    NoCommit,
    Execute,
    Refrain,
}

/// Where a play stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Commit,
    Demand,
    Execute,
    Over,
}

impl NashDemandGame {
    /// The id of a move: demands `0..=units`, commitments `units+1..=2 units+1`, then no
    /// commitment, execute, refrain.
    pub fn action(&self, m: DemandMove) -> Action {
        let u = self.units as usize;
        match m {
            DemandMove::Demand(d) => d as usize,
            DemandMove::Commit(d) => u + 1 + d as usize,
            DemandMove::NoCommit => 2 * u + 2,
            DemandMove::Execute => 2 * u + 3,
            DemandMove::Refrain => 2 * u + 4,
        }
    }

    /// The move an id stands for.
    pub fn decode(&self, action: Action) -> Option<DemandMove> {
        let u = self.units as usize;
        Some(match action {
            a if a <= u => DemandMove::Demand(a as u32),
            a if a <= 2 * u + 1 => DemandMove::Commit((a - u - 1) as u32),
            a if a == 2 * u + 2 => DemandMove::NoCommit,
            a if a == 2 * u + 3 => DemandMove::Execute,
            a if a == 2 * u + 4 => DemandMove::Refrain,
            _ => return None,
        })
    }

    /// A fresh play.
    pub fn start(&self) -> NashDemandState {
        NashDemandState {
            game: *self,
            phase: if self.commitment_stage {
                Phase::Commit
            } else {
                Phase::Demand
            },
            commitments: [None; 2],
            demands: [None; 2],
            executed: [false; 2],
        }
    }
}

impl Game for NashDemandGame {
    type State = NashDemandState;

    fn name(&self) -> &'static str {
        "nash_demand"
    }

    fn num_players(&self) -> usize {
        2
    }

    fn num_distinct_actions(&self) -> usize {
        2 * self.units as usize + 5
    }

    fn observation_len(&self) -> usize {
        OBSERVATION_LEN
    }

    fn new_initial_state(&self, _rng: &mut ChaCha8Rng) -> NashDemandState {
        self.start()
    }
}

const OBSERVATION_LEN: usize = 17;

/// A play of the Nash demand game.
#[derive(Clone, Debug, PartialEq)]
pub struct NashDemandState {
    pub game: NashDemandGame,
    pub phase: Phase,
    /// The demand each player committed to, if any.
    pub commitments: [Option<u32>; 2],
    pub demands: [Option<u32>; 2],
    pub executed: [bool; 2],
}

/// How a finished play ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DemandOutcome {
    pub agreement: bool,
    pub demands: [u32; 2],
    /// Each player's share of the pie (zero after a failure).
    pub shares: [f64; 2],
    pub executed: [bool; 2],
    /// Value destroyed by executed threats, summed over the principals.
    pub damage_to_principals: f64,
    /// Value destroyed by executed threats that surrogate goals absorbed.
    pub damage_to_surrogates: f64,
    /// What executing threats cost the executors.
    pub execution_costs: f64,
}

impl DemandOutcome {
    /// `1 - (sum of returns)`: the pie lost to failure plus threat damage and costs.
    pub fn welfare_lost(&self) -> f64 {
        1.0 - self.shares[0] - self.shares[1] + self.damage_to_principals + self.execution_costs
    }
}

impl NashDemandState {
    fn compatible(&self) -> Option<bool> {
        match self.demands {
            [Some(a), Some(b)] => Some(a + b <= self.game.units),
            _ => None,
        }
    }

    /// The outcome, once the play is over.
    pub fn outcome(&self) -> Option<DemandOutcome> {
        if self.phase != Phase::Over {
            return None;
        }
        let demands = [self.demands[0]?, self.demands[1]?];
        let units = self.game.units as f64;
        let agreement = self.compatible()?;
        let shares = if agreement {
            let rest = units - demands[0] as f64 - demands[1] as f64;
            [
                (demands[0] as f64 + rest / 2.0) / units,
                (demands[1] as f64 + rest / 2.0) / units,
            ]
        } else {
            [0.0, 0.0]
        };
        let n = self.executed.iter().filter(|&&e| e).count() as f64;
        let damage = n * self.game.threat_damage;
        let (to_principals, to_surrogates) = if self.game.surrogate_shield {
            (0.0, damage)
        } else {
            (damage, 0.0)
        };
        Some(DemandOutcome {
            agreement,
            demands,
            shares,
            executed: self.executed,
            damage_to_principals: to_principals,
            damage_to_surrogates: to_surrogates,
            execution_costs: n * self.game.threat_cost,
        })
    }

    fn all_demands(&self) -> Vec<Action> {
        (0..=self.game.units as usize).collect()
    }
}

impl GameState for NashDemandState {
    fn num_players(&self) -> usize {
        2
    }

    fn num_distinct_actions(&self) -> usize {
        self.game.num_distinct_actions()
    }

    fn turn(&self) -> Turn {
        match self.phase {
            Phase::Over => Turn::Terminal,
            _ => Turn::Simultaneous,
        }
    }

    fn legal_actions(&self, player: usize) -> Vec<Action> {
        let g = &self.game;
        match self.phase {
            Phase::Commit => {
                let mut out: Vec<Action> = (0..=g.units)
                    .map(|d| g.action(DemandMove::Commit(d)))
                    .collect();
                out.push(g.action(DemandMove::NoCommit));
                out
            }
            Phase::Demand => match self.commitments[player] {
                Some(x) => vec![g.action(DemandMove::Demand(x))],
                None => self.all_demands(),
            },
            Phase::Execute => {
                if self.commitments[player].is_some() {
                    vec![g.action(DemandMove::Execute), g.action(DemandMove::Refrain)]
                } else {
                    vec![g.action(DemandMove::Refrain)]
                }
            }
            Phase::Over => Vec::new(),
        }
    }

    fn apply_action(&mut self, _action: Action) -> Result<(), GameError> {
        Err(GameError::NotSequential(self.turn()))
    }

    fn apply_actions(&mut self, actions: &[Action]) -> Result<(), GameError> {
        check_joint(self, actions)?;
        let moves = [
            self.game.decode(actions[0]).expect("legal"),
            self.game.decode(actions[1]).expect("legal"),
        ];
        match self.phase {
            Phase::Commit => {
                for (p, m) in moves.iter().enumerate() {
                    if let DemandMove::Commit(x) = m {
                        self.commitments[p] = Some(*x);
                    }
                }
                self.phase = Phase::Demand;
            }
            Phase::Demand => {
                for (p, m) in moves.iter().enumerate() {
                    if let DemandMove::Demand(d) = m {
                        self.demands[p] = Some(*d);
                    }
                }
                let failed = self.compatible() == Some(false);
                let threatened = self.commitments.iter().any(Option::is_some);
                self.phase = if failed && threatened {
                    Phase::Execute
                } else {
                    Phase::Over
                };
            }
            Phase::Execute => {
                for (p, m) in moves.iter().enumerate() {
                    self.executed[p] = *m == DemandMove::Execute;
                }
                self.phase = Phase::Over;
            }
            Phase::Over => unreachable!("check_joint refuses terminal states"),
        }
        Ok(())
    }

    fn returns(&self) -> Vec<f64> {
        let Some(o) = self.outcome() else {
            return vec![0.0, 0.0];
        };
        let mut r = o.shares.to_vec();
        for p in 0..2 {
            if o.executed[p] {
                r[p] -= self.game.threat_cost;
                if !self.game.surrogate_shield {
                    r[1 - p] -= self.game.threat_damage;
                }
            }
        }
        r
    }

    fn action_to_string(&self, _player: usize, action: Action) -> String {
        match self.game.decode(action) {
            Some(DemandMove::Demand(d)) => format!("demand {d}"),
            Some(DemandMove::Commit(d)) => format!("commit to {d} with a threat"),
            Some(DemandMove::NoCommit) => "no commitment".into(),
            Some(DemandMove::Execute) => "execute the threat".into(),
            Some(DemandMove::Refrain) => "refrain".into(),
            None => format!("invalid action {action}"),
        }
    }

    fn observation_string(&self, player: usize) -> String {
        let other = 1 - player;
        let show = |x: Option<u32>| x.map_or("-".to_owned(), |v| v.to_string());
        let demands_seen = matches!(self.phase, Phase::Execute | Phase::Over);
        format!(
            "phase {:?}; pie {}; your commitment {}, theirs {}; your demand {}, theirs {}",
            self.phase,
            self.game.units,
            show(self.commitments[player]),
            show(self.commitments[other]),
            show(self.demands[player]),
            if demands_seen {
                show(self.demands[other])
            } else {
                "-".into()
            },
        )
    }

    /// Phase one-hot (4); own commitment flag and size; the other's commitment flag and size; own
    /// demand flag and size; the other's demand flag and size (once revealed); executions (own,
    /// other's); threat damage, threat cost, surrogate shield. Sizes are fractions of the pie.
    fn observation_tensor(&self, player: usize) -> Vec<f32> {
        let other = 1 - player;
        let u = self.game.units as f32;
        let mut v = vec![0.0f32; OBSERVATION_LEN];
        v[self.phase as usize] = 1.0;
        let mut put = |k: usize, x: Option<u32>| {
            if let Some(x) = x {
                v[k] = 1.0;
                v[k + 1] = x as f32 / u;
            }
        };
        put(4, self.commitments[player]);
        put(6, self.commitments[other]);
        put(8, self.demands[player]);
        if matches!(self.phase, Phase::Execute | Phase::Over) {
            put(10, self.demands[other]);
        }
        v[12] = self.executed[player] as u8 as f32;
        v[13] = self.executed[other] as u8 as f32;
        v[14] = self.game.threat_damage as f32;
        v[15] = self.game.threat_cost as f32;
        v[16] = self.game.surrogate_shield as u8 as f32;
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn play(game: NashDemandGame, moves: &[[DemandMove; 2]]) -> NashDemandState {
        let mut s = game.start();
        for m in moves {
            s.apply_actions(&[game.action(m[0]), game.action(m[1])])
                .unwrap();
        }
        s
    }

    #[test]
    fn action_ids_round_trip() {
        let g = NashDemandGame::default();
        for a in 0..g.num_distinct_actions() {
            assert_eq!(g.action(g.decode(a).unwrap()), a);
        }
        assert_eq!(g.decode(g.num_distinct_actions()), None);
    }

    #[test]
    fn committed_player_can_only_demand_its_commitment() {
        let g = NashDemandGame::default();
        let s = play(g, &[[DemandMove::Commit(70), DemandMove::NoCommit]]);
        assert_eq!(s.legal_actions(0), vec![70]);
        assert_eq!(s.legal_actions(1).len(), 101);
    }
}
