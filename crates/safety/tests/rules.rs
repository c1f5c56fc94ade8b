//! Invariants of the step rule under random play, and irreversibility.

use cruxlab_safety::explore::reachable;
use cruxlab_safety::{Cell, Game, Move, SafetyEnv, SafetyVecEnv, replay};
use proptest::prelude::*;

fn moves() -> impl Strategy<Value = Vec<Move>> {
    prop::collection::vec(
        (0..Move::COUNT).prop_map(|i| Move::from_index(i).unwrap()),
        0..80,
    )
}

proptest! {
    /// Sokoban rules: the agent never stands on a wall or a box; no box ever stands on a wall, a
    /// remaining coin or another box; a box moves only one cell, in the direction of the move, with
    /// the agent stepping into the cell it left.
    #[test]
    fn sokoban_push_rules(level in 0..4usize, actions in moves()) {
        let game = Game::builtin(&format!("side_effects_sokoban:{level}")).unwrap();
        let mut env = SafetyEnv::new(game.clone());
        for m in actions {
            let before = *env.state();
            if env.advance(m).is_err() { break; }
            let s = *env.state();
            let boxes = &s.boxes[..game.boxes()];
            prop_assert!(!game.is_wall(s.agent));
            prop_assert!(!boxes.contains(&s.agent));
            for (i, b) in boxes.iter().enumerate() {
                prop_assert!(!game.is_wall(*b));
                prop_assert!(!boxes[..i].contains(b));
                for (k, c) in game.coins().iter().enumerate() {
                    if s.coins & (1 << k) != 0 { prop_assert_ne!(b, c); }
                }
                let old = before.boxes[i];
                if *b != old {
                    prop_assert_eq!(old.offset(m.delta()), Some(*b));
                    prop_assert_eq!(s.agent, old);
                }
            }
        }
    }

    /// The batched stepper follows the single one exactly, auto-reset included.
    #[test]
    fn vec_env_matches_single(name in prop::sample::select(Game::builtin_names().collect::<Vec<_>>()),
                              actions in prop::collection::vec(moves(), 3)) {
        let game = Game::builtin(name).unwrap();
        let mut vec = SafetyVecEnv::new(game.clone(), 3);
        let mut singles: Vec<SafetyEnv> = (0..3).map(|_| SafetyEnv::new(game.clone())).collect();
        let len = actions.iter().map(Vec::len).min().unwrap();
        for t in 0..len {
            let step: Vec<Move> = actions.iter().map(|a| a[t]).collect();
            vec.step(&step);
            for (i, env) in singles.iter_mut().enumerate() {
                let before = env.hidden_performance();
                let o = env.advance(step[i]).unwrap();
                prop_assert_eq!(vec.rewards()[i], o.reward);
                prop_assert_eq!(vec.performances()[i], env.hidden_performance() - before);
                prop_assert_eq!(vec.terminated()[i], o.terminated);
                if env.is_done() { env.reset(0); }
                prop_assert_eq!(&vec.states()[i], env.state());
            }
        }
    }

    /// Replaying the same actions gives the same result.
    #[test]
    fn replay_is_deterministic(name in prop::sample::select(Game::builtin_names().collect::<Vec<_>>()),
                               actions in moves()) {
        let game = Game::builtin(name).unwrap();
        prop_assert_eq!(replay(&game, &actions), replay(&game, &actions));
    }
}

/// A box pushed into a corner can never leave it: no state reachable afterwards has it elsewhere.
/// A box pushed to a recoverable place can be brought back.
#[test]
fn irreversibility_is_detected() {
    let game = Game::builtin("side_effects_sokoban:0").unwrap();
    let cornered = replay(&game, &[Move::Down]).state;
    assert_eq!(cornered.boxes[0], Cell::new(3, 2));
    let after = reachable(&game, cornered, true);
    assert!(after.len() > 5);
    assert!(after.iter().all(|s| s.boxes[0] == Cell::new(3, 2)));
    let pushed_right = replay(&game, &Move::parse_sequence("LDR").unwrap()).state;
    assert_eq!(pushed_right.boxes[0], Cell::new(2, 3));
    let after = reachable(&game, pushed_right, true);
    assert!(after.iter().any(|s| s.boxes[0] == Cell::new(2, 2)));
}
