//! Levels: a rectangle of floor and wall, one agent, and objects lying on the floor.
//!
//! Text format, one character a cell, one line a row (all rows the same width):
//!
//! | char | meaning |
//! |------|---------|
//! | `#`  | wall |
//! | `.`  | floor |
//! | `A`  | the agent (exactly one), standing on floor |
//! | `D`  | a diamond |
//! | `C`  | a piece of cheese |
//! | `K`  | a key |
//!
//! Lines starting with `;` are comments and blank lines at the end are ignored. Bystanders, vases and
//! doors fit later as further [`ObjectKind`] variants with their own characters.

use std::fmt;

/// A cell position, row-major from the top-left corner.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Pos {
    pub row: usize,
    pub col: usize,
}

impl Pos {
    pub const fn new(row: usize, col: usize) -> Self {
        Pos { row, col }
    }

    /// Manhattan distance: the shortest path length once walls are relaxed away.
    pub fn manhattan(self, other: Pos) -> usize {
        self.row.abs_diff(other.row) + self.col.abs_diff(other.col)
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.row, self.col)
    }
}

/// Kinds of object that lie on the floor. The first three are targets an agent can be asked to reach.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    Diamond,
    Cheese,
    Key,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 3] = [ObjectKind::Diamond, ObjectKind::Cheese, ObjectKind::Key];

    /// The one kind whose objects emit the cue field (a scent that diffuses along corridors).
    pub const CUE_SOURCE: ObjectKind = ObjectKind::Diamond;

    pub fn symbol(self) -> char {
        match self {
            ObjectKind::Diamond => 'D',
            ObjectKind::Cheese => 'C',
            ObjectKind::Key => 'K',
        }
    }

    pub fn from_symbol(c: char) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.symbol() == c)
    }

    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Diamond => "diamond",
            ObjectKind::Cheese => "cheese",
            ObjectKind::Key => "key",
        }
    }

    /// Index of this kind among [`ObjectKind::ALL`] (used for observation planes).
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::str::FromStr for ObjectKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ObjectKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown object kind '{s}' (expected diamond, cheese or key)"))
    }
}

/// An object lying on a floor cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Object {
    pub kind: ObjectKind,
    pub pos: Pos,
}

/// A level could not be read. Line and column are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelError {
    #[error(
        "line {line}, column {column}: unexpected character '{found}' (expected one of # . A D C K)"
    )]
    StrayCharacter {
        line: usize,
        column: usize,
        found: char,
    },
    #[error("line {line}: row has {found} cells but the first row has {expected}")]
    RaggedRow {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error(
        "line {line}, column {column}: a second agent 'A' (the first is at line {first_line}, column {first_column})"
    )]
    SecondAgent {
        line: usize,
        column: usize,
        first_line: usize,
        first_column: usize,
    },
    #[error("no agent 'A' in the level")]
    NoAgent,
    #[error("the level has no rows")]
    Empty,
}

/// A gridworld level. Cells are indexed row-major: `index = row * width + col`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Level {
    height: usize,
    width: usize,
    walls: Vec<bool>,
    agent: Pos,
    objects: Vec<Object>,
}

impl Level {
    /// An all-floor level of the given size with the agent at `agent` and no objects.
    pub fn open(height: usize, width: usize, agent: Pos) -> Level {
        assert!(height > 0 && width > 0, "a level needs at least one cell");
        assert!(
            agent.row < height && agent.col < width,
            "agent outside the level"
        );
        Level {
            height,
            width,
            walls: vec![false; height * width],
            agent,
            objects: Vec::new(),
        }
    }

    /// Parse the text format described in the module docs.
    pub fn parse(text: &str) -> Result<Level, LevelError> {
        let mut rows: Vec<(usize, Vec<char>)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.starts_with(';') {
                continue;
            }
            rows.push((i + 1, line.chars().collect()));
        }
        while rows
            .last()
            .is_some_and(|(_, r)| r.iter().all(|c| c.is_whitespace()))
        {
            rows.pop();
        }
        let Some((_, first)) = rows.first() else {
            return Err(LevelError::Empty);
        };
        let width = first.len();
        if width == 0 {
            return Err(LevelError::Empty);
        }
        let height = rows.len();
        let mut walls = vec![false; height * width];
        let mut agent: Option<(Pos, usize, usize)> = None;
        let mut objects = Vec::new();
        for (r, (line, chars)) in rows.iter().enumerate() {
            // Every character is checked first, so a stray one is reported wherever it stands.
            if let Some((c, &found)) = chars.iter().enumerate().find(|(_, ch)| {
                !matches!(ch, '#' | '.' | 'A') && ObjectKind::from_symbol(**ch).is_none()
            }) {
                return Err(LevelError::StrayCharacter {
                    line: *line,
                    column: c + 1,
                    found,
                });
            }
            if chars.len() != width {
                return Err(LevelError::RaggedRow {
                    line: *line,
                    expected: width,
                    found: chars.len(),
                });
            }
            for (c, &ch) in chars.iter().enumerate() {
                let pos = Pos::new(r, c);
                match ch {
                    '#' => walls[r * width + c] = true,
                    '.' => {}
                    'A' => {
                        if let Some((_, fl, fc)) = agent {
                            return Err(LevelError::SecondAgent {
                                line: *line,
                                column: c + 1,
                                first_line: fl,
                                first_column: fc,
                            });
                        }
                        agent = Some((pos, *line, c + 1));
                    }
                    other => {
                        let kind = ObjectKind::from_symbol(other).expect("checked above");
                        objects.push(Object { kind, pos });
                    }
                }
            }
        }
        let (agent, _, _) = agent.ok_or(LevelError::NoAgent)?;
        Ok(Level {
            height,
            width,
            walls,
            agent,
            objects,
        })
    }

    /// The text form; `Level::parse(&level.to_text())` gives the level back.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity((self.width + 1) * self.height);
        for r in 0..self.height {
            for c in 0..self.width {
                out.push(self.symbol_at(Pos::new(r, c)));
            }
            out.push('\n');
        }
        out
    }

    /// The character drawn for a cell (agent over objects over floor).
    pub fn symbol_at(&self, pos: Pos) -> char {
        if pos == self.agent {
            'A'
        } else if let Some(o) = self.object_at(pos) {
            o.kind.symbol()
        } else if self.is_wall(pos) {
            '#'
        } else {
            '.'
        }
    }

    pub fn height(&self) -> usize {
        self.height
    }
    pub fn width(&self) -> usize {
        self.width
    }
    pub fn cells(&self) -> usize {
        self.height * self.width
    }
    pub fn agent(&self) -> Pos {
        self.agent
    }
    pub fn objects(&self) -> &[Object] {
        &self.objects
    }
    /// Row-major wall mask.
    pub fn walls(&self) -> &[bool] {
        &self.walls
    }

    pub fn index(&self, pos: Pos) -> usize {
        pos.row * self.width + pos.col
    }
    pub fn pos(&self, index: usize) -> Pos {
        Pos::new(index / self.width, index % self.width)
    }
    pub fn in_bounds(&self, pos: Pos) -> bool {
        pos.row < self.height && pos.col < self.width
    }
    /// Out-of-bounds cells count as wall.
    pub fn is_wall(&self, pos: Pos) -> bool {
        !self.in_bounds(pos) || self.walls[self.index(pos)]
    }
    pub fn object_at(&self, pos: Pos) -> Option<&Object> {
        self.objects.iter().find(|o| o.pos == pos)
    }
    /// Positions of every object of one kind, in placement order.
    pub fn positions_of(&self, kind: ObjectKind) -> impl Iterator<Item = Pos> + '_ {
        self.objects
            .iter()
            .filter(move |o| o.kind == kind)
            .map(|o| o.pos)
    }
    /// The first object of a kind, if any.
    pub fn first_of(&self, kind: ObjectKind) -> Option<Pos> {
        self.positions_of(kind).next()
    }

    pub fn set_wall(&mut self, pos: Pos, wall: bool) {
        let i = self.index(pos);
        self.walls[i] = wall;
    }
    pub fn set_agent(&mut self, pos: Pos) {
        assert!(!self.is_wall(pos), "agent placed on a wall at {pos}");
        self.agent = pos;
    }
    /// Place an object; any object already on that cell is replaced.
    pub fn place(&mut self, kind: ObjectKind, pos: Pos) {
        assert!(
            !self.is_wall(pos),
            "{} placed on a wall at {pos}",
            kind.name()
        );
        self.objects.retain(|o| o.pos != pos);
        self.objects.push(Object { kind, pos });
    }
    pub fn remove_objects(&mut self, kind: ObjectKind) {
        self.objects.retain(|o| o.kind != kind);
    }

    /// The floor neighbours of a cell, in action order (up, down, left, right).
    pub fn floor_neighbours(&self, pos: Pos) -> impl Iterator<Item = Pos> + '_ {
        crate::Action::MOVES.into_iter().filter_map(move |a| {
            let next = a.apply(pos)?;
            (!self.is_wall(next)).then_some(next)
        })
    }

    /// Number of floor cells.
    pub fn floor_cells(&self) -> usize {
        self.walls.iter().filter(|w| !**w).count()
    }

    /// Reuse this level's storage for a fresh layout: `height x width` cells, all wall or all floor,
    /// no objects, the agent at `agent` (generators move it onto floor before handing the level out).
    pub(crate) fn reshape(&mut self, height: usize, width: usize, wall: bool, agent: Pos) {
        assert!(height > 0 && width > 0, "a level needs at least one cell");
        self.height = height;
        self.width = width;
        self.walls.clear();
        self.walls.resize(height * width, wall);
        self.objects.clear();
        self.agent = agent;
    }

    /// Put the objects in row-major order of their cells, the order [`Level::parse`] yields, so a
    /// level built by hand or by a generator compares equal to its parsed text form.
    pub(crate) fn sort_objects(&mut self) {
        self.objects.sort_by_key(|o| o.pos);
    }

    /// Row-major wall mask, writable (generators carve passages through it).
    pub(crate) fn walls_mut(&mut self) -> &mut [bool] {
        &mut self.walls
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text() {
        let text = "#####\n#A.D#\n#.#C#\n#..K#\n#####\n";
        let level = Level::parse(text).unwrap();
        assert_eq!(level.height(), 5);
        assert_eq!(level.width(), 5);
        assert_eq!(level.agent(), Pos::new(1, 1));
        assert_eq!(level.first_of(ObjectKind::Diamond), Some(Pos::new(1, 3)));
        assert_eq!(level.first_of(ObjectKind::Cheese), Some(Pos::new(2, 3)));
        assert_eq!(level.to_text(), text);
    }

    #[test]
    fn stray_character_names_line_and_column() {
        let err = Level::parse("###\n#A#\n#x#\n###\n").unwrap_err();
        assert_eq!(
            err,
            LevelError::StrayCharacter {
                line: 3,
                column: 2,
                found: 'x'
            }
        );
        assert!(err.to_string().contains("line 3, column 2"));
    }

    #[test]
    fn comments_count_toward_line_numbers() {
        let err = Level::parse("; a comment\n###\n#A?\n").unwrap_err();
        assert_eq!(
            err,
            LevelError::StrayCharacter {
                line: 3,
                column: 3,
                found: '?'
            }
        );
    }

    #[test]
    fn long_rows_are_errors_not_panics() {
        assert!(matches!(
            Level::parse("#####\n#A.D######\n"),
            Err(LevelError::RaggedRow {
                line: 2,
                expected: 5,
                found: 10
            })
        ));
        assert!(matches!(
            Level::parse("#####\n#A.D#####\n#####\n"),
            Err(LevelError::RaggedRow { line: 2, .. })
        ));
        assert_eq!(
            Level::parse("###\n#A#..x\n###\n"),
            Err(LevelError::StrayCharacter {
                line: 2,
                column: 6,
                found: 'x'
            })
        );
    }

    #[test]
    fn ragged_rows_and_missing_agent_are_errors() {
        assert!(matches!(
            Level::parse("###\n#A\n"),
            Err(LevelError::RaggedRow { line: 2, .. })
        ));
        assert_eq!(Level::parse("###\n#.#\n"), Err(LevelError::NoAgent));
        assert!(matches!(
            Level::parse("AA\n"),
            Err(LevelError::SecondAgent {
                line: 1,
                column: 2,
                ..
            })
        ));
        assert_eq!(Level::parse(""), Err(LevelError::Empty));
    }
}
