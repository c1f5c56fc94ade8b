//! One interface for every game, in the style of OpenSpiel's `State`: whose turn it is (one player,
//! or all players at once at a simultaneous node), the legal actions, applying actions, whether the
//! game is over, and the returns. Actions are integers in `0..num_distinct_actions()`, as in
//! OpenSpiel and PettingZoo, so that a policy, an action mask or a Python binding needs nothing
//! game-specific; each game offers typed constructors for its own actions.
//!
//! The one-shot [`PrisonersDilemma`] lives here as the smallest example of the interface.

use rand_chacha::ChaCha8Rng;

/// An action id, in `0..num_distinct_actions()`.
pub type Action = usize;

/// Who moves next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Turn {
    /// One player moves: use [`GameState::apply_action`].
    Player(usize),
    /// Every player moves at once: use [`GameState::apply_actions`] with one action per player
    /// (a player with nothing to decide has exactly one legal action, a no-op).
    Simultaneous,
    /// The game is over.
    Terminal,
}

/// An action that was not allowed where it was played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GameError {
    #[error("action {action} is not legal for player {player} here")]
    Illegal { player: usize, action: Action },
    #[error("it is not a single player's turn (the node is {0:?})")]
    NotSequential(Turn),
    #[error("this node is not simultaneous (it is {0:?})")]
    NotSimultaneous(Turn),
    #[error("expected {expected} actions, got {got}")]
    ActionCount { expected: usize, got: usize },
}

/// A position in a game.
pub trait GameState: Clone + std::fmt::Debug {
    fn num_players(&self) -> usize;
    /// The size of the action space (the same in every state of a game).
    fn num_distinct_actions(&self) -> usize;
    fn turn(&self) -> Turn;
    /// The legal actions of `player`, ascending; empty when the player does not move here.
    fn legal_actions(&self, player: usize) -> Vec<Action>;
    /// Play `action` at a node where one player moves.
    fn apply_action(&mut self, action: Action) -> Result<(), GameError>;
    /// Play one action per player at a simultaneous node.
    fn apply_actions(&mut self, actions: &[Action]) -> Result<(), GameError>;
    fn is_terminal(&self) -> bool {
        self.turn() == Turn::Terminal
    }
    /// Each player's total payoff so far (the final payoffs once terminal).
    fn returns(&self) -> Vec<f64>;
    fn action_to_string(&self, player: usize, action: Action) -> String;
    /// What `player` observes, as text.
    fn observation_string(&self, player: usize) -> String;
    /// What `player` observes, as a fixed-length vector (see [`Game::observation_len`]).
    fn observation_tensor(&self, player: usize) -> Vec<f32>;
}

/// A game: a factory of initial states (chance, such as drawing a bargaining instance, is done
/// with the generator passed in).
pub trait Game {
    type State: GameState;
    fn name(&self) -> &'static str;
    fn num_players(&self) -> usize;
    fn num_distinct_actions(&self) -> usize;
    fn observation_len(&self) -> usize;
    fn new_initial_state(&self, rng: &mut ChaCha8Rng) -> Self::State;
}

/// Check that `actions` are one legal action per player at a simultaneous node.
pub(crate) fn check_joint<S: GameState>(state: &S, actions: &[Action]) -> Result<(), GameError> {
    if state.turn() != Turn::Simultaneous {
        return Err(GameError::NotSimultaneous(state.turn()));
    }
    if actions.len() != state.num_players() {
        return Err(GameError::ActionCount {
            expected: state.num_players(),
            got: actions.len(),
        });
    }
    for (player, &action) in actions.iter().enumerate() {
        if !state.legal_actions(player).contains(&action) {
            return Err(GameError::Illegal { player, action });
        }
    }
    Ok(())
}

/// The one-shot prisoner's dilemma; payoffs with `temptation > reward > punishment > sucker`.
/// Action 0 cooperates, 1 defects.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrisonersDilemma {
    pub temptation: f64,
    pub reward: f64,
    pub punishment: f64,
    pub sucker: f64,
}

impl Default for PrisonersDilemma {
    /// The common (5, 3, 1, 0).
    fn default() -> Self {
        PrisonersDilemma {
            temptation: 5.0,
            reward: 3.0,
            punishment: 1.0,
            sucker: 0.0,
        }
    }
}

impl PrisonersDilemma {
    pub const COOPERATE: Action = 0;
    pub const DEFECT: Action = 1;

    /// (row payoff, column payoff) given whether each cooperates.
    pub fn payoffs(&self, row_cooperates: bool, column_cooperates: bool) -> (f64, f64) {
        match (row_cooperates, column_cooperates) {
            (true, true) => (self.reward, self.reward),
            (true, false) => (self.sucker, self.temptation),
            (false, true) => (self.temptation, self.sucker),
            (false, false) => (self.punishment, self.punishment),
        }
    }
}

/// A play of the prisoner's dilemma: one simultaneous node.
#[derive(Clone, Debug, PartialEq)]
pub struct PrisonersDilemmaState {
    pub game: PrisonersDilemma,
    pub moves: Option<[Action; 2]>,
}

impl Game for PrisonersDilemma {
    type State = PrisonersDilemmaState;

    fn name(&self) -> &'static str {
        "prisoners_dilemma"
    }

    fn num_players(&self) -> usize {
        2
    }

    fn num_distinct_actions(&self) -> usize {
        2
    }

    fn observation_len(&self) -> usize {
        4
    }

    fn new_initial_state(&self, _rng: &mut ChaCha8Rng) -> PrisonersDilemmaState {
        PrisonersDilemmaState {
            game: *self,
            moves: None,
        }
    }
}

impl GameState for PrisonersDilemmaState {
    fn num_players(&self) -> usize {
        2
    }

    fn num_distinct_actions(&self) -> usize {
        2
    }

    fn turn(&self) -> Turn {
        if self.moves.is_some() {
            Turn::Terminal
        } else {
            Turn::Simultaneous
        }
    }

    fn legal_actions(&self, _player: usize) -> Vec<Action> {
        if self.moves.is_some() {
            Vec::new()
        } else {
            vec![PrisonersDilemma::COOPERATE, PrisonersDilemma::DEFECT]
        }
    }

    fn apply_action(&mut self, _action: Action) -> Result<(), GameError> {
        Err(GameError::NotSequential(self.turn()))
    }

    fn apply_actions(&mut self, actions: &[Action]) -> Result<(), GameError> {
        check_joint(self, actions)?;
        self.moves = Some([actions[0], actions[1]]);
        Ok(())
    }

    fn returns(&self) -> Vec<f64> {
        match self.moves {
            None => vec![0.0, 0.0],
            Some([a, b]) => {
                let (x, y) = self.game.payoffs(
                    a == PrisonersDilemma::COOPERATE,
                    b == PrisonersDilemma::COOPERATE,
                );
                vec![x, y]
            }
        }
    }

    fn action_to_string(&self, _player: usize, action: Action) -> String {
        match action {
            PrisonersDilemma::COOPERATE => "C".into(),
            _ => "D".into(),
        }
    }

    fn observation_string(&self, player: usize) -> String {
        match self.moves {
            None => "choose C or D".into(),
            Some(m) => format!(
                "you played {}, they played {}",
                self.action_to_string(player, m[player]),
                self.action_to_string(1 - player, m[1 - player])
            ),
        }
    }

    /// [done, own move is C, other's move is C, other's move is D].
    fn observation_tensor(&self, player: usize) -> Vec<f32> {
        match self.moves {
            None => vec![0.0; 4],
            Some(m) => vec![
                1.0,
                (m[player] == 0) as u8 as f32,
                (m[1 - player] == 0) as u8 as f32,
                (m[1 - player] == 1) as u8 as f32,
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn prisoners_dilemma_payoffs() {
        let pd = PrisonersDilemma::default();
        let mut s = pd.new_initial_state(&mut ChaCha8Rng::seed_from_u64(0));
        assert_eq!(s.turn(), Turn::Simultaneous);
        assert_eq!(
            s.apply_actions(&[0, 2]),
            Err(GameError::Illegal {
                player: 1,
                action: 2
            })
        );
        s.apply_actions(&[PrisonersDilemma::COOPERATE, PrisonersDilemma::DEFECT])
            .unwrap();
        assert!(s.is_terminal());
        assert_eq!(s.returns(), vec![0.0, 5.0]);
        assert_eq!(pd.payoffs(true, true), (3.0, 3.0));
        assert_eq!(pd.payoffs(false, false), (1.0, 1.0));
    }
}
