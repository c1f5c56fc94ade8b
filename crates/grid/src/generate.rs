//! Seeded procedural level generation.
//!
//! Two layout families:
//!
//! - **Mazes** ([`maze`]): *perfect* mazes, i.e. the floor cells form a spanning tree, so exactly one
//!   simple path joins any two cells. The grid is `n x n` with `n` odd; maze cells sit at odd
//!   coordinates and the cells between them are passages or walls. Carved by a randomized
//!   depth-first backtracker driven by an explicit stack (no recursion, so large mazes cannot
//!   overflow the call stack).
//! - **Rooms** ([`rooms`]): an open square room inside a border wall, with single-cell wall
//!   obstacles scattered at roughly a requested density. An obstacle is only dropped where it keeps
//!   the floor connected (a local "simple cell" test, see [`rooms`]), so every floor cell stays
//!   reachable from every other.
//!
//! [`scatter`] then places the agent and objects on distinct random floor cells, and [`LevelSpec`]
//! bundles "which family, what size" into a value that parses from and prints to strings such as
//! `maze:13` or `rooms:15:0.3`, and turns a `u64` seed into a complete level.
//!
//! All randomness flows through the generator passed in (or a [`ChaCha8Rng`] seeded from the `u64`):
//! no thread-local generators, no clocks. The same spec and seed give the same level on every
//! platform and thread count.

use std::fmt;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{DistanceField, Level, ObjectKind, Pos};

/// Smallest side length a generated level may have.
pub const MIN_SIZE: usize = 5;
/// Largest side length a generated level may have (keeps cell indices small and memory bounded).
pub const MAX_SIZE: usize = 1023;
/// Obstacle density used by `rooms:N` when no density is written.
pub const DEFAULT_DENSITY: f64 = 0.2;
/// Highest obstacle density a [`LevelSpec::Rooms`] accepts.
pub const MAX_DENSITY: f64 = 0.8;

/// A perfect maze on an `size x size` grid (`size` odd, at least [`MIN_SIZE`]).
///
/// The border is wall, every cell with two odd coordinates is floor, and the passages between
/// neighbouring cells are opened so that the floor is a spanning tree (connected and acyclic). The
/// agent stands at (1, 1); no objects are placed.
pub fn maze(size: usize, rng: &mut impl Rng) -> Level {
    let mut level = Level::open(1, 1, Pos::new(0, 0));
    let mut stack = Vec::new();
    carve_maze(&mut level, size, rng, &mut stack);
    level
}

/// `level` centred in a `side x side` grid whose other cells are wall, as procgen's maze game pads
/// its smaller mazes to the largest grid: every cell, the agent and the objects move by the same
/// offset, `((side - height) / 2, (side - width) / 2)`.
///
/// # Panics
/// If the level is larger than `side` in either direction.
pub fn centre_in_walls(level: &Level, side: usize) -> Level {
    assert!(
        level.height() <= side && level.width() <= side,
        "a {}x{} level does not fit a {side}x{side} grid",
        level.height(),
        level.width()
    );
    let (dr, dc) = ((side - level.height()) / 2, (side - level.width()) / 2);
    let shift = |p: Pos| Pos::new(p.row + dr, p.col + dc);
    let mut out = Level::open(side, side, shift(level.agent()));
    for i in 0..out.cells() {
        let p = out.pos(i);
        out.set_wall(p, true);
    }
    for i in 0..level.cells() {
        let p = level.pos(i);
        out.set_wall(shift(p), level.is_wall(p));
    }
    for o in level.objects() {
        out.place(o.kind, shift(o.pos));
    }
    out
}

/// An open square room (`size x size`, border walls) with wall obstacles covering roughly
/// `obstacle_density` of the interior, floor guaranteed connected.
///
/// Interior cells are visited in random order and each becomes an obstacle (until the wanted count is
/// reached) only if it is *simple*: its floor orthogonal neighbours all lie on one unbroken run of
/// floor around its eight surrounding cells. Any path through such a cell can detour around it, so
/// walling it off never disconnects the floor. Obstacles that fail the test are skipped, so at high
/// densities the achieved density falls short of the request. At least four floor cells are always
/// kept (room for an agent and three objects). The agent stands at the first floor cell in row-major
/// order; no objects are placed.
pub fn rooms(size: usize, obstacle_density: f64, rng: &mut impl Rng) -> Level {
    let mut level = Level::open(1, 1, Pos::new(0, 0));
    let mut cells = Vec::new();
    build_rooms(&mut level, size, obstacle_density, rng, &mut cells);
    level
}

/// Put the agent and one object of each kind in `kinds` on distinct random floor cells.
///
/// Cells already holding an object are avoided, so existing objects stay where they are. The agent is
/// drawn first, then the objects in the order given; afterwards the level's objects are listed in
/// row-major order of their cells (the order [`Level::parse`] gives), so
/// `Level::parse(&level.to_text())` equals the level.
///
/// # Panics
/// If the level has fewer free floor cells than `kinds.len() + 1`.
pub fn scatter(level: &mut Level, kinds: &[ObjectKind], rng: &mut impl Rng) {
    let mut cells = Vec::new();
    scatter_with(level, kinds, rng, &mut cells);
}

fn scatter_with(level: &mut Level, kinds: &[ObjectKind], rng: &mut impl Rng, cells: &mut Vec<u32>) {
    cells.clear();
    cells.extend(
        (0..level.cells())
            .filter(|&i| !level.walls()[i] && level.object_at(level.pos(i)).is_none())
            .map(|i| i as u32),
    );
    let wanted = kinds.len() + 1;
    assert!(
        cells.len() >= wanted,
        "scatter needs {wanted} free floor cells but the level has {}",
        cells.len()
    );
    // Partial Fisher-Yates: the first `wanted` entries become a uniform draw without replacement.
    for k in 0..wanted {
        let j = rng.random_range(k..cells.len());
        cells.swap(k, j);
    }
    level.set_agent(level.pos(cells[0] as usize));
    for (kind, &cell) in kinds.iter().zip(&cells[1..]) {
        level.place(*kind, level.pos(cell as usize));
    }
    level.sort_objects();
}

/// The randomized depth-first backtracker, writing into `level`'s storage.
fn carve_maze(level: &mut Level, size: usize, rng: &mut impl Rng, stack: &mut Vec<u32>) {
    assert!(
        size >= MIN_SIZE && size % 2 == 1,
        "a maze needs an odd size of at least {MIN_SIZE}, got {size}"
    );
    level.reshape(size, size, true, Pos::new(1, 1));
    let cells_per_side = (size - 1) / 2;
    let walls = level.walls_mut();
    // Cell (i, j) of the maze lives at grid position (2i + 1, 2j + 1); a cell is visited once its
    // grid position is floor.
    let at = |i: usize, j: usize| (2 * i + 1) * size + 2 * j + 1;
    let start = rng.random_range(0..cells_per_side * cells_per_side);
    stack.clear();
    stack.push(start as u32);
    walls[at(start / cells_per_side, start % cells_per_side)] = false;
    while let Some(&top) = stack.last() {
        let (i, j) = (top as usize / cells_per_side, top as usize % cells_per_side);
        let mut options = [(0usize, 0usize); 4];
        let mut count = 0;
        let mut consider = |ni: usize, nj: usize| {
            if walls[at(ni, nj)] {
                options[count] = (ni, nj);
                count += 1;
            }
        };
        if i > 0 {
            consider(i - 1, j);
        }
        if i + 1 < cells_per_side {
            consider(i + 1, j);
        }
        if j > 0 {
            consider(i, j - 1);
        }
        if j + 1 < cells_per_side {
            consider(i, j + 1);
        }
        if count == 0 {
            stack.pop();
            continue;
        }
        let (ni, nj) = options[rng.random_range(0..count)];
        let (a, b) = (at(i, j), at(ni, nj));
        walls[(a + b) / 2] = false; // the passage between the two cells
        walls[b] = false;
        stack.push((ni * cells_per_side + nj) as u32);
    }
}

/// Offsets of the eight cells around a cell, in cyclic order starting north, going clockwise.
const RING: [(isize, isize); 8] = [
    (-1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
    (1, 0),
    (1, -1),
    (0, -1),
    (-1, -1),
];

/// Whether walling off interior cell `i` keeps the rest of the floor connected (sufficient test):
/// its floor orthogonal neighbours all lie on one cyclic run of floor cells around it.
fn is_simple(walls: &[bool], width: usize, i: usize) -> bool {
    let floor = RING.map(|(dr, dc)| {
        let n = (i as isize + dr * width as isize + dc) as usize;
        !walls[n]
    });
    // Count runs of floor around the ring that touch an orthogonal neighbour (even ring index).
    let mut runs_with_neighbour = 0;
    let all_floor = floor.iter().all(|&f| f);
    if all_floor {
        return true;
    }
    // Start scanning just after a wall so no run wraps around the starting point.
    let start = floor.iter().position(|&f| !f).unwrap_or(0);
    let mut in_run = false;
    let mut touches = false;
    for step in 1..=8 {
        let k = (start + step) % 8;
        if floor[k] {
            in_run = true;
            touches |= k % 2 == 0;
        } else if in_run {
            runs_with_neighbour += usize::from(touches);
            in_run = false;
            touches = false;
        }
    }
    // The scan ends on the starting wall, which closes any open run.
    runs_with_neighbour <= 1
}

fn build_rooms(
    level: &mut Level,
    size: usize,
    density: f64,
    rng: &mut impl Rng,
    cells: &mut Vec<u32>,
) {
    assert!(
        size >= MIN_SIZE,
        "a room needs a size of at least {MIN_SIZE}, got {size}"
    );
    assert!(
        density.is_finite() && (0.0..=1.0).contains(&density),
        "obstacle density must lie in [0, 1], got {density}"
    );
    level.reshape(size, size, false, Pos::new(1, 1));
    let walls = level.walls_mut();
    for k in 0..size {
        walls[k] = true;
        walls[(size - 1) * size + k] = true;
        walls[k * size] = true;
        walls[k * size + size - 1] = true;
    }
    let interior = (size - 2) * (size - 2);
    let wanted = ((density * interior as f64).round() as usize).min(interior - 4);
    cells.clear();
    cells.extend((1..size - 1).flat_map(|r| (1..size - 1).map(move |c| (r * size + c) as u32)));
    let mut placed = 0;
    let mut next = 0;
    // Lazy Fisher-Yates: draw cells in random order only as long as obstacles are still wanted.
    while placed < wanted && next < cells.len() {
        let j = rng.random_range(next..cells.len());
        cells.swap(next, j);
        let i = cells[next] as usize;
        next += 1;
        if is_simple(walls, size, i) {
            walls[i] = true;
            placed += 1;
        }
    }
    let first_floor = walls
        .iter()
        .position(|w| !w)
        .expect("rooms keep at least four floor cells");
    let agent = level.pos(first_floor);
    level.set_agent(agent);
}

/// Reusable storage for generating levels over and over (one per batch chunk in [`crate::VecEnv`]),
/// so that an auto-reset allocates nothing once the buffers have grown.
#[derive(Clone, Debug)]
pub(crate) struct Workspace {
    pub(crate) level: Level,
    pub(crate) cue: DistanceField,
    pub(crate) queue: Vec<u32>,
    scratch: Vec<u32>,
}

impl Workspace {
    pub(crate) fn new() -> Workspace {
        Workspace {
            level: Level::open(1, 1, Pos::new(0, 0)),
            cue: DistanceField::empty(),
            queue: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Grow the cue field (distance to the nearest cue-source object) of the current level.
    pub(crate) fn compute_cue(&mut self) {
        let sources = self
            .level
            .objects()
            .iter()
            .filter(|o| o.kind == ObjectKind::CUE_SOURCE)
            .map(|o| o.pos);
        self.cue.refill(&self.level, sources, &mut self.queue);
    }
}

/// A procedural level family and its parameters; with a seed it determines a level completely.
///
/// Text form (see [`FromStr`] and [`fmt::Display`]): `maze:SIZE` (odd size, at least 5) and
/// `rooms:SIZE` or `rooms:SIZE:DENSITY` (density of wall obstacles in `[0, 0.8]`, default 0.2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LevelSpec {
    /// A perfect maze, `size x size`, see [`maze`].
    Maze { size: usize },
    /// An open room with scattered obstacles, `size x size`, see [`rooms`].
    Rooms { size: usize, density: f64 },
}

/// A [`LevelSpec`] string or value is malformed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LevelSpecError {
    #[error("unknown level kind '{0}' (expected 'maze:SIZE' or 'rooms:SIZE[:DENSITY]')")]
    UnknownKind(String),
    #[error("level spec '{0}' has no size (expected e.g. 'maze:13' or 'rooms:15:0.2')")]
    MissingSize(String),
    #[error("level spec '{spec}': '{field}' is not a valid {what}")]
    BadNumber {
        spec: String,
        field: String,
        what: &'static str,
    },
    #[error("level spec '{0}' has too many ':'-separated parts")]
    TooManyParts(String),
    #[error("maze size must be odd (walls sit at even coordinates, cells at odd ones), got {0}")]
    EvenMazeSize(usize),
    #[error("level size {0} is too small (at least {MIN_SIZE})")]
    TooSmall(usize),
    #[error("level size {0} is too large (at most {MAX_SIZE})")]
    TooLarge(usize),
    #[error("obstacle density {0} is outside [0, {MAX_DENSITY}]")]
    BadDensity(f64),
}

impl LevelSpec {
    /// Check the parameters; every constructor path ([`FromStr`], deserialisation) goes through this.
    pub fn validate(&self) -> Result<(), LevelSpecError> {
        let size = self.size();
        if size < MIN_SIZE {
            return Err(LevelSpecError::TooSmall(size));
        }
        if size > MAX_SIZE {
            return Err(LevelSpecError::TooLarge(size));
        }
        match *self {
            LevelSpec::Maze { size } if size % 2 == 0 => Err(LevelSpecError::EvenMazeSize(size)),
            LevelSpec::Rooms { density, .. } if !(0.0..=MAX_DENSITY).contains(&density) => {
                Err(LevelSpecError::BadDensity(density))
            }
            _ => Ok(()),
        }
    }

    /// Side length of the (square) levels this spec generates.
    pub fn size(&self) -> usize {
        match *self {
            LevelSpec::Maze { size } | LevelSpec::Rooms { size, .. } => size,
        }
    }

    /// `(height, width)` of the generated levels.
    pub fn shape(&self) -> (usize, usize) {
        (self.size(), self.size())
    }

    /// The level for `seed`: the layout, then the agent and one diamond, one cheese and one key on
    /// distinct random floor cells (drawn in that order). All randomness comes from a
    /// `ChaCha8Rng::seed_from_u64(seed)`.
    ///
    /// # Panics
    /// If the spec is invalid (see [`LevelSpec::validate`]).
    pub fn generate(&self, seed: u64) -> Level {
        let mut workspace = Workspace::new();
        self.generate_into(seed, &mut workspace);
        workspace.level
    }

    /// [`LevelSpec::generate`] into reusable storage; the level lands in `workspace.level`.
    pub(crate) fn generate_into(&self, seed: u64, workspace: &mut Workspace) {
        if let Err(e) = self.validate() {
            panic!("invalid level spec {self:?}: {e}");
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let Workspace { level, scratch, .. } = workspace;
        match *self {
            LevelSpec::Maze { size } => carve_maze(level, size, &mut rng, scratch),
            LevelSpec::Rooms { size, density } => {
                build_rooms(level, size, density, &mut rng, scratch)
            }
        }
        scatter_with(level, &ObjectKind::ALL, &mut rng, scratch);
    }
}

impl FromStr for LevelSpec {
    type Err = LevelSpecError;

    fn from_str(s: &str) -> Result<Self, LevelSpecError> {
        let text = s.trim();
        let mut parts = text.split(':');
        let kind = parts.next().unwrap_or_default();
        if kind != "maze" && kind != "rooms" {
            return Err(LevelSpecError::UnknownKind(kind.to_string()));
        }
        let size_text = parts
            .next()
            .ok_or_else(|| LevelSpecError::MissingSize(text.to_string()))?;
        let size: usize = size_text.parse().map_err(|_| LevelSpecError::BadNumber {
            spec: text.to_string(),
            field: size_text.to_string(),
            what: "size (a whole number)",
        })?;
        let spec = match kind {
            "maze" => LevelSpec::Maze { size },
            _ => {
                let density = match parts.next() {
                    None => DEFAULT_DENSITY,
                    Some(d) => d.parse::<f64>().map_err(|_| LevelSpecError::BadNumber {
                        spec: text.to_string(),
                        field: d.to_string(),
                        what: "density (a number such as 0.2)",
                    })?,
                };
                LevelSpec::Rooms { size, density }
            }
        };
        if parts.next().is_some() {
            return Err(LevelSpecError::TooManyParts(text.to_string()));
        }
        spec.validate()?;
        Ok(spec)
    }
}

impl fmt::Display for LevelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LevelSpec::Maze { size } => write!(f, "maze:{size}"),
            LevelSpec::Rooms { size, density } => write!(f, "rooms:{size}:{density}"),
        }
    }
}

impl serde::Serialize for LevelSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for LevelSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    #[test]
    fn a_centred_level_keeps_its_cells_agent_and_objects_inside_walls() {
        let mut small = maze(5, &mut rng(3));
        small.place(ObjectKind::Diamond, Pos::new(3, 3));
        let big = centre_in_walls(&small, 9);
        assert_eq!((big.height(), big.width()), (9, 9));
        assert_eq!(big.floor_cells(), small.floor_cells());
        assert_eq!(big.agent(), Pos::new(3, 3));
        assert_eq!(big.first_of(ObjectKind::Diamond), Some(Pos::new(5, 5)));
        for i in 0..big.cells() {
            let p = big.pos(i);
            let inside = (2..7).contains(&p.row) && (2..7).contains(&p.col);
            let expected = !inside || small.is_wall(Pos::new(p.row - 2, p.col - 2));
            assert_eq!(big.is_wall(p), expected, "{p}");
        }
        // A level of the grid's own size comes back unchanged.
        assert_eq!(centre_in_walls(&small, 5), small);
    }

    #[test]
    fn smallest_maze_has_four_cells_and_three_passages() {
        let level = maze(5, &mut rng(3));
        assert_eq!(level.floor_cells(), 7);
        assert_eq!(level.agent(), Pos::new(1, 1));
        assert!(level.objects().is_empty());
        for p in [
            Pos::new(1, 1),
            Pos::new(1, 3),
            Pos::new(3, 1),
            Pos::new(3, 3),
        ] {
            assert!(!level.is_wall(p));
        }
        assert!(level.is_wall(Pos::new(2, 2)));
    }

    #[test]
    fn simple_cell_test() {
        // A corridor cell whose two neighbours are only joined through it is not simple.
        let level = Level::parse("#####\n#A..#\n#####\n").unwrap();
        assert!(!is_simple(level.walls(), 5, level.index(Pos::new(1, 2))));
        // A dead end is simple.
        assert!(is_simple(level.walls(), 5, level.index(Pos::new(1, 3))));
        // A cell in the middle of open floor is simple.
        let open = Level::parse("#####\n#A..#\n#...#\n#...#\n#####\n").unwrap();
        assert!(is_simple(open.walls(), 5, open.index(Pos::new(2, 2))));
        // Walls north and south split the left and right neighbours.
        let split = Level::parse("#####\n#A#.#\n#...#\n#.#.#\n#####\n").unwrap();
        assert!(!is_simple(split.walls(), 5, split.index(Pos::new(2, 2))));
    }

    #[test]
    fn parses_and_prints_specs() {
        assert_eq!(
            "maze:13".parse::<LevelSpec>(),
            Ok(LevelSpec::Maze { size: 13 })
        );
        assert_eq!(
            "rooms:15".parse::<LevelSpec>(),
            Ok(LevelSpec::Rooms {
                size: 15,
                density: 0.2
            })
        );
        assert_eq!(
            "rooms:16:0.3".parse::<LevelSpec>(),
            Ok(LevelSpec::Rooms {
                size: 16,
                density: 0.3
            })
        );
        assert_eq!(LevelSpec::Maze { size: 13 }.to_string(), "maze:13");
        assert_eq!(
            LevelSpec::Rooms {
                size: 15,
                density: 0.25
            }
            .to_string(),
            "rooms:15:0.25"
        );
        for s in ["maze:9", "rooms:7:0", "rooms:21:0.35"] {
            let spec: LevelSpec = s.parse().unwrap();
            assert_eq!(spec.to_string().parse::<LevelSpec>(), Ok(spec));
        }
    }

    #[test]
    fn rejects_bad_specs_with_clear_messages() {
        let err = |s: &str| s.parse::<LevelSpec>().unwrap_err().to_string();
        assert!(err("maze:12").contains("must be odd"), "{}", err("maze:12"));
        assert!(err("maze:3").contains("too small"));
        assert!(err("rooms:4").contains("too small"));
        assert!(err("maze:5000").contains("too large"));
        assert!(err("cave:9").contains("unknown level kind 'cave'"));
        assert!(err("maze").contains("no size"));
        assert!(err("maze:x").contains("'x' is not a valid size"));
        assert!(err("rooms:9:lots").contains("'lots' is not a valid density"));
        assert!(err("rooms:9:0.95").contains("outside"));
        assert!(err("maze:9:0.1").contains("too many"));
    }

    #[test]
    fn generated_levels_hold_agent_and_all_three_kinds() {
        for spec in [
            LevelSpec::Maze { size: 5 },
            LevelSpec::Rooms {
                size: 5,
                density: 0.8,
            },
        ] {
            for seed in 0..50 {
                let level = spec.generate(seed);
                let mut cells: Vec<Pos> = level.objects().iter().map(|o| o.pos).collect();
                cells.push(level.agent());
                cells.sort();
                cells.dedup();
                assert_eq!(cells.len(), 4, "{spec} seed {seed}:\n{level}");
                for kind in ObjectKind::ALL {
                    assert_eq!(level.positions_of(kind).count(), 1);
                }
            }
        }
    }

    #[test]
    fn serde_uses_the_text_form() {
        let spec = LevelSpec::Rooms {
            size: 9,
            density: 0.5,
        };
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(json, "\"rooms:9:0.5\"");
        assert_eq!(serde_json::from_str::<LevelSpec>(&json).unwrap(), spec);
        let bad = serde_json::from_str::<LevelSpec>("\"maze:8\"").unwrap_err();
        assert!(bad.to_string().contains("must be odd"));
    }
}
