//! Breadth-first distance fields equal true shortest-path lengths.

use cruxlab_grid::{DistanceField, Level, LevelSpec, ObjectKind, Pos};
use proptest::prelude::*;

/// Shortest distances by Bellman-Ford relaxation: a different algorithm with the same answer.
fn relaxed(level: &Level, sources: &[Pos]) -> Vec<u32> {
    const INF: u32 = u32::MAX;
    let mut dist = vec![INF; level.cells()];
    for &s in sources {
        dist[level.index(s)] = 0;
    }
    loop {
        let mut changed = false;
        for i in 0..level.cells() {
            let p = level.pos(i);
            if level.is_wall(p) {
                continue;
            }
            for n in level.floor_neighbours(p) {
                let dn = dist[level.index(n)];
                if dn != INF && dn + 1 < dist[i] {
                    dist[i] = dn + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            return dist;
        }
    }
}

fn spec_strategy() -> impl Strategy<Value = LevelSpec> {
    prop_oneof![
        (2usize..=8).prop_map(|k| LevelSpec::Maze { size: 2 * k + 1 }),
        (5usize..=15, 0.0f64..=0.6).prop_map(|(size, density)| LevelSpec::Rooms { size, density }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn bfs_equals_relaxation(spec in spec_strategy(), seed in any::<u64>(), kind_index in 0usize..3) {
        let level = spec.generate(seed);
        let kind = ObjectKind::ALL[kind_index];
        let sources: Vec<Pos> = level.positions_of(kind).chain([level.agent()]).collect();
        let field = DistanceField::from_sources(&level, sources.iter().copied());
        prop_assert_eq!(field.as_slice(), &relaxed(&level, &sources)[..]);
        // Every floor cell was expanded exactly once (the generated floor is connected).
        prop_assert_eq!(field.expansions(), level.floor_cells() as u64);
    }

    #[test]
    fn distances_satisfy_the_bellman_equation(spec in spec_strategy(), seed in any::<u64>()) {
        let level = spec.generate(seed);
        let field = DistanceField::from_sources(&level, level.positions_of(ObjectKind::Diamond));
        for i in 0..level.cells() {
            let p = level.pos(i);
            match field.get(p) {
                None => prop_assert!(level.is_wall(p)),
                Some(0) => prop_assert_eq!(level.first_of(ObjectKind::Diamond), Some(p)),
                Some(d) => {
                    let best = level.floor_neighbours(p).filter_map(|n| field.get(n)).min().unwrap();
                    prop_assert_eq!(d, best + 1);
                }
            }
        }
    }
}

#[test]
fn hand_computed_distances() {
    // The diamond sits behind a wall; the path goes around the bottom.
    let level = Level::parse("######\n#A#D.#\n#.##.#\n#....#\n######\n").unwrap();
    let field = DistanceField::from_sources(&level, level.positions_of(ObjectKind::Diamond));
    let expect = [
        (Pos::new(1, 3), 0),
        (Pos::new(1, 4), 1),
        (Pos::new(2, 4), 2),
        (Pos::new(3, 4), 3),
        (Pos::new(3, 1), 6),
        (Pos::new(1, 1), 8),
    ];
    for (p, d) in expect {
        assert_eq!(field.get(p), Some(d), "at {p}");
    }
    assert_eq!(field.get(Pos::new(1, 2)), None);
}
