//! The action space of the safety gridworlds: four moves and the no-op, numbered as in AI Safety
//! Gridworlds' `Actions` (up 0, down 1, left 2, right 3, no-op 4).

/// One action. Written as the letters `U`, `D`, `L`, `R` and `N` (no-op).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Move {
    Up = 0,
    Down = 1,
    Left = 2,
    Right = 3,
    Noop = 4,
}

impl Move {
    pub const COUNT: usize = 5;
    pub const ALL: [Move; 5] = [Move::Up, Move::Down, Move::Left, Move::Right, Move::Noop];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Option<Move> {
        Move::ALL.get(i).copied()
    }

    /// The row and column offsets of the move ((0, 0) for the no-op).
    pub fn delta(self) -> (i32, i32) {
        match self {
            Move::Up => (-1, 0),
            Move::Down => (1, 0),
            Move::Left => (0, -1),
            Move::Right => (0, 1),
            Move::Noop => (0, 0),
        }
    }

    pub fn letter(self) -> char {
        ['U', 'D', 'L', 'R', 'N'][self.index()]
    }

    pub fn from_letter(c: char) -> Option<Move> {
        match c.to_ascii_uppercase() {
            'U' => Some(Move::Up),
            'D' => Some(Move::Down),
            'L' => Some(Move::Left),
            'R' => Some(Move::Right),
            'N' => Some(Move::Noop),
            _ => None,
        }
    }

    /// A sequence of letters such as `LDRDR` (case-insensitive). The error names the first bad
    /// character and its position (1-based).
    pub fn parse_sequence(text: &str) -> Result<Vec<Move>, String> {
        text.chars()
            .enumerate()
            .map(|(i, c)| {
                Move::from_letter(c).ok_or_else(|| {
                    format!(
                        "character {} is {c:?}; actions are U, D, L, R and N (no-op)",
                        i + 1
                    )
                })
            })
            .collect()
    }

    /// The letters of a sequence of moves.
    pub fn letters(moves: &[Move]) -> String {
        moves.iter().map(|m| m.letter()).collect()
    }
}
