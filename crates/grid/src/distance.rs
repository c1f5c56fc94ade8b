//! Shortest-path distance fields over floor cells (breadth-first, unit step cost).
//!
//! The cue field the environment shows is one such field, grown from every cue-source object; a
//! planner that wants the same help for another target must pay for growing its own.

use std::collections::VecDeque;

use crate::{Level, Pos};

/// Breadth-first distances from a set of source cells to every floor cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistanceField {
    width: usize,
    dist: Vec<u32>,
    /// Cells popped from the queue while growing the field: the compute it cost.
    expansions: u64,
}

impl DistanceField {
    /// Distance value of a cell no source can reach.
    pub const UNREACHABLE: u32 = u32::MAX;

    /// Grow the field from `sources` (floor cells) through floor cells.
    pub fn from_sources(level: &Level, sources: impl IntoIterator<Item = Pos>) -> DistanceField {
        let mut dist = vec![Self::UNREACHABLE; level.cells()];
        let mut queue = VecDeque::new();
        for s in sources {
            if !level.is_wall(s) && dist[level.index(s)] == Self::UNREACHABLE {
                dist[level.index(s)] = 0;
                queue.push_back(s);
            }
        }
        let mut expansions = 0;
        while let Some(p) = queue.pop_front() {
            expansions += 1;
            let d = dist[level.index(p)];
            for n in level.floor_neighbours(p) {
                let i = level.index(n);
                if dist[i] == Self::UNREACHABLE {
                    dist[i] = d + 1;
                    queue.push_back(n);
                }
            }
        }
        DistanceField {
            width: level.width(),
            dist,
            expansions,
        }
    }

    /// A field over no cells, to be filled later with [`DistanceField::refill`].
    pub(crate) fn empty() -> DistanceField {
        DistanceField {
            width: 1,
            dist: Vec::new(),
            expansions: 0,
        }
    }

    /// Regrow this field in place for `level` (same result as [`DistanceField::from_sources`]),
    /// reusing its storage and the caller's `queue`, so a batched reset allocates nothing.
    pub(crate) fn refill(
        &mut self,
        level: &Level,
        sources: impl IntoIterator<Item = Pos>,
        queue: &mut Vec<u32>,
    ) {
        let width = level.width();
        let walls = level.walls();
        self.width = width;
        self.dist.clear();
        self.dist.resize(level.cells(), Self::UNREACHABLE);
        queue.clear();
        for s in sources {
            if !level.is_wall(s) && self.dist[level.index(s)] == Self::UNREACHABLE {
                self.dist[level.index(s)] = 0;
                queue.push(level.index(s) as u32);
            }
        }
        // The queue is a vector read from `head`: breadth-first order without a ring buffer.
        let mut head = 0;
        while let Some(&i) = queue.get(head) {
            head += 1;
            let i = i as usize;
            let d = self.dist[i] + 1;
            let (row, col) = (i / width, i % width);
            let mut visit = |n: usize| {
                if !walls[n] && self.dist[n] == Self::UNREACHABLE {
                    self.dist[n] = d;
                    queue.push(n as u32);
                }
            };
            // Same neighbour order as `Level::floor_neighbours`: up, down, left, right.
            if row > 0 {
                visit(i - width);
            }
            if row + 1 < level.height() {
                visit(i + width);
            }
            if col > 0 {
                visit(i - 1);
            }
            if col + 1 < width {
                visit(i + 1);
            }
        }
        self.expansions = head as u64;
    }

    /// Distance from `pos` to the nearest source; `None` if unreachable (or a wall).
    pub fn get(&self, pos: Pos) -> Option<u32> {
        let d = *self.dist.get(pos.row * self.width + pos.col)?;
        (d != Self::UNREACHABLE).then_some(d)
    }

    /// Raw row-major distances, [`DistanceField::UNREACHABLE`] where no source reaches.
    pub fn as_slice(&self) -> &[u32] {
        &self.dist
    }

    pub fn expansions(&self) -> u64 {
        self.expansions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_follow_corridors() {
        let level = Level::parse("#####\n#A#D#\n#.#.#\n#...#\n#####\n").unwrap();
        let d = DistanceField::from_sources(&level, level.first_of(crate::ObjectKind::Diamond));
        assert_eq!(d.get(Pos::new(1, 3)), Some(0));
        assert_eq!(d.get(Pos::new(1, 1)), Some(6));
        assert_eq!(d.get(Pos::new(0, 0)), None);
        assert_eq!(d.expansions(), 7);
    }
}
