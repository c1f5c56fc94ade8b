//! The discrete action space: four compass moves (Gymnasium `Discrete(4)`).

use crate::Pos;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Action {
    Up = 0,
    Down = 1,
    Left = 2,
    Right = 3,
}

impl Action {
    pub const COUNT: usize = 4;
    pub const MOVES: [Action; 4] = [Action::Up, Action::Down, Action::Left, Action::Right];

    /// The action with this index; `None` outside `0..4`.
    pub fn from_index(i: usize) -> Option<Action> {
        Action::MOVES.get(i).copied()
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The cell this move leads to, ignoring walls; `None` when it would leave the top or left edge.
    pub fn apply(self, pos: Pos) -> Option<Pos> {
        match self {
            Action::Up => pos.row.checked_sub(1).map(|row| Pos::new(row, pos.col)),
            Action::Down => Some(Pos::new(pos.row + 1, pos.col)),
            Action::Left => pos.col.checked_sub(1).map(|col| Pos::new(pos.row, col)),
            Action::Right => Some(Pos::new(pos.row, pos.col + 1)),
        }
    }

    /// The move that takes `from` to the adjacent cell `to`, if they are adjacent.
    pub fn between(from: Pos, to: Pos) -> Option<Action> {
        Action::MOVES
            .into_iter()
            .find(|a| a.apply(from) == Some(to))
    }
}
