//! Generated levels: mazes are perfect, rooms are connected, specs are deterministic and levels
//! survive the text round trip.

use cruxlab_grid::{DistanceField, Level, LevelSpec, ObjectKind, Pos, maze, rooms, scatter};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Number of floor cells and of edges between orthogonally adjacent floor cells.
fn floor_graph(level: &Level) -> (usize, usize) {
    let mut cells = 0;
    let mut edges = 0;
    for row in 0..level.height() {
        for col in 0..level.width() {
            let p = Pos::new(row, col);
            if level.is_wall(p) {
                continue;
            }
            cells += 1;
            edges += usize::from(!level.is_wall(Pos::new(row + 1, col)));
            edges += usize::from(!level.is_wall(Pos::new(row, col + 1)));
        }
    }
    (cells, edges)
}

/// Whether every floor cell is reachable from the agent.
fn connected(level: &Level) -> bool {
    let field = DistanceField::from_sources(level, [level.agent()]);
    (0..level.cells())
        .all(|i| level.walls()[i] || field.as_slice()[i] != DistanceField::UNREACHABLE)
}

fn border_is_wall(level: &Level) -> bool {
    let (h, w) = (level.height(), level.width());
    (0..w).all(|c| level.is_wall(Pos::new(0, c)) && level.is_wall(Pos::new(h - 1, c)))
        && (0..h).all(|r| level.is_wall(Pos::new(r, 0)) && level.is_wall(Pos::new(r, w - 1)))
}

fn spec_strategy() -> impl Strategy<Value = LevelSpec> {
    prop_oneof![
        (2usize..=15).prop_map(|k| LevelSpec::Maze { size: 2 * k + 1 }),
        (5usize..=25, 0.0f64..=0.8).prop_map(|(size, density)| LevelSpec::Rooms { size, density }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mazes_are_perfect(k in 2usize..=20, seed in any::<u64>()) {
        let size = 2 * k + 1;
        let level = maze(size, &mut ChaCha8Rng::seed_from_u64(seed));
        prop_assert_eq!((level.height(), level.width()), (size, size));
        prop_assert!(border_is_wall(&level));
        // Every cell at odd coordinates is floor; every cell at two even coordinates is wall.
        for r in 0..size {
            for c in 0..size {
                let p = Pos::new(r, c);
                if r % 2 == 1 && c % 2 == 1 {
                    prop_assert!(!level.is_wall(p));
                }
                if r % 2 == 0 && c % 2 == 0 {
                    prop_assert!(level.is_wall(p));
                }
            }
        }
        let (cells, edges) = floor_graph(&level);
        prop_assert_eq!(edges + 1, cells, "a spanning tree has one edge fewer than cells");
        prop_assert!(connected(&level));
        prop_assert_eq!(level.agent(), Pos::new(1, 1));
    }

    #[test]
    fn rooms_are_connected(size in 5usize..=30, density in 0.0f64..=1.0, seed in any::<u64>()) {
        let level = rooms(size, density, &mut ChaCha8Rng::seed_from_u64(seed));
        prop_assert!(border_is_wall(&level));
        prop_assert!(connected(&level), "{}", level);
        let interior = (size - 2) * (size - 2);
        prop_assert!(level.floor_cells() >= 4);
        let obstacles = interior - level.floor_cells();
        let wanted = ((density * interior as f64).round() as usize).min(interior - 4);
        prop_assert!(obstacles <= wanted);
        // At modest densities the local connectivity test rarely refuses: the density is roughly met.
        if density <= 0.3 && interior >= 100 {
            prop_assert!(obstacles as f64 >= 0.8 * wanted as f64, "{} of {} obstacles", obstacles, wanted);
        }
    }

    #[test]
    fn generation_is_deterministic_and_complete(spec in spec_strategy(), seed in any::<u64>()) {
        let level = spec.generate(seed);
        prop_assert_eq!(&level, &spec.generate(seed));
        prop_assert!(connected(&level));
        prop_assert!(!level.is_wall(level.agent()));
        for kind in ObjectKind::ALL {
            prop_assert_eq!(level.positions_of(kind).count(), 1);
        }
        let mut cells: Vec<Pos> = level.objects().iter().map(|o| o.pos).chain([level.agent()]).collect();
        cells.sort();
        cells.dedup();
        prop_assert_eq!(cells.len(), 4, "agent and objects on distinct cells");
        prop_assert_eq!(Level::parse(&level.to_text()).unwrap(), level);
    }

    #[test]
    fn spec_text_round_trips(spec in spec_strategy()) {
        prop_assert_eq!(spec.to_string().parse::<LevelSpec>().unwrap(), spec);
    }
}

#[test]
fn different_seeds_give_different_levels() {
    let spec: LevelSpec = "maze:9".parse().unwrap();
    let distinct: std::collections::HashSet<String> =
        (0..20).map(|s| spec.generate(s).to_text()).collect();
    assert!(
        distinct.len() >= 18,
        "only {} distinct levels from 20 seeds",
        distinct.len()
    );
}

#[test]
fn scatter_avoids_existing_objects_and_walls() {
    let mut level = Level::parse("#####\n#A.D#\n#.#.#\n#...#\n#####\n").unwrap();
    for seed in 0..50 {
        let mut l = level.clone();
        scatter(
            &mut l,
            &[ObjectKind::Cheese, ObjectKind::Key],
            &mut ChaCha8Rng::seed_from_u64(seed),
        );
        assert_eq!(l.first_of(ObjectKind::Diamond), Some(Pos::new(1, 3)));
        assert_ne!(l.agent(), Pos::new(1, 3));
        assert_eq!(l.objects().len(), 3);
        for o in l.objects() {
            assert!(!l.is_wall(o.pos));
            assert_ne!(o.pos, l.agent());
        }
        assert_eq!(Level::parse(&l.to_text()).unwrap(), l);
    }
    level.place(ObjectKind::Key, Pos::new(3, 3));
    let too_many = std::panic::catch_unwind(move || {
        let mut l = level;
        scatter(
            &mut l,
            &[ObjectKind::Cheese; 6],
            &mut ChaCha8Rng::seed_from_u64(0),
        );
    });
    assert!(too_many.is_err());
}
