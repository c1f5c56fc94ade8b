//! Game payoffs against hand-computed cases, the multi-agent interfaces, and invariants of random
//! legal play.

use std::collections::BTreeMap;

use cruxlab_games::deal::{DealGame, DealInstance};
use cruxlab_games::nash_demand::Phase;
use cruxlab_games::parallel::{AecEnv, EnvError, ParallelEnv};
use cruxlab_games::{
    DemandMove, Game, GameError, GameState, NashDemandGame, PrisonersDilemma, Turn,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use DemandMove::*;

fn play(game: NashDemandGame, moves: &[[DemandMove; 2]]) -> cruxlab_games::NashDemandState {
    let mut s = game.start();
    for m in moves {
        s.apply_actions(&[game.action(m[0]), game.action(m[1])])
            .unwrap();
    }
    s
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
}

#[test]
fn nash_demand_payoffs_by_hand() {
    let g = NashDemandGame::default(); // 100 units, damage 0.5, cost 0.05
    // Compatible demands: each gets its demand, the 10 left over are split evenly.
    let s = play(g, &[[NoCommit, NoCommit], [Demand(40), Demand(50)]]);
    assert!(s.is_terminal());
    assert!(close(&s.returns(), &[0.45, 0.55]));
    assert!((s.outcome().unwrap().welfare_lost()).abs() < 1e-12);
    // Incompatible demands without commitments: nobody gets anything, no execution stage.
    let s = play(g, &[[NoCommit, NoCommit], [Demand(60), Demand(50)]]);
    assert_eq!(s.phase, Phase::Over);
    assert!(close(&s.returns(), &[0.0, 0.0]));
    assert!((s.outcome().unwrap().welfare_lost() - 1.0).abs() < 1e-12);
    // A commitment met by a concession.
    let s = play(g, &[[Commit(70), NoCommit], [Demand(70), Demand(30)]]);
    assert!(close(&s.returns(), &[0.7, 0.3]));
    // A commitment refused and executed: the target loses 0.5, the executor pays 0.05.
    let s = play(
        g,
        &[
            [Commit(70), NoCommit],
            [Demand(70), Demand(40)],
            [Execute, Refrain],
        ],
    );
    assert!(close(&s.returns(), &[-0.05, -0.5]));
    let o = s.outcome().unwrap();
    assert!((o.welfare_lost() - 1.55).abs() < 1e-12);
    assert_eq!(o.executed, [true, false]);
    // The same with surrogate goals in place: the damage hits the surrogate.
    let shielded = NashDemandGame {
        surrogate_shield: true,
        ..g
    };
    let s = play(
        shielded,
        &[
            [Commit(70), NoCommit],
            [Demand(70), Demand(40)],
            [Execute, Refrain],
        ],
    );
    assert!(close(&s.returns(), &[-0.05, 0.0]));
    let o = s.outcome().unwrap();
    assert!((o.damage_to_surrogates - 0.5).abs() < 1e-12);
    assert!((o.welfare_lost() - 1.05).abs() < 1e-12);
    // A commitment race: both commit to 70, both execute.
    let s = play(
        g,
        &[
            [Commit(70), Commit(70)],
            [Demand(70), Demand(70)],
            [Execute, Execute],
        ],
    );
    assert!(close(&s.returns(), &[-0.55, -0.55]));
    // A refused threat that its maker does not carry out.
    let s = play(
        g,
        &[
            [Commit(70), NoCommit],
            [Demand(70), Demand(40)],
            [Refrain, Refrain],
        ],
    );
    assert!(close(&s.returns(), &[0.0, 0.0]));
}

#[test]
fn nash_demand_legality() {
    let g = NashDemandGame::default();
    let mut s = play(g, &[[Commit(70), NoCommit]]);
    assert_eq!(
        s.apply_actions(&[g.action(Demand(60)), g.action(Demand(30))]),
        Err(GameError::Illegal {
            player: 0,
            action: 60
        })
    );
    s.apply_actions(&[g.action(Demand(70)), g.action(Demand(40))])
        .unwrap();
    assert_eq!(s.phase, Phase::Execute);
    // Only the committed player may execute.
    assert_eq!(s.legal_actions(1), vec![g.action(Refrain)]);
    assert_eq!(
        s.apply_actions(&[g.action(Refrain), g.action(Execute)]),
        Err(GameError::Illegal {
            player: 1,
            action: g.action(Execute)
        })
    );
    assert_eq!(
        s.apply_action(0),
        Err(GameError::NotSequential(Turn::Simultaneous))
    );
    // Without the commitment stage the game opens with demands.
    let plain = NashDemandGame {
        commitment_stage: false,
        ..g
    };
    let s = plain.start();
    assert_eq!(s.phase, Phase::Demand);
    assert_eq!(s.legal_actions(0).len(), 101);
}

#[test]
fn prisoners_dilemma_state() {
    let pd = PrisonersDilemma::default();
    let mut s = pd.new_initial_state(&mut ChaCha8Rng::seed_from_u64(0));
    s.apply_actions(&[PrisonersDilemma::DEFECT, PrisonersDilemma::DEFECT])
        .unwrap();
    assert_eq!(s.returns(), vec![1.0, 1.0]);
}

fn instance() -> DealInstance {
    DealInstance {
        pool: [1, 2, 3],
        values: [[4, 0, 2], [0, 2, 2]],
    }
}

#[test]
fn deal_payoffs_by_hand() {
    let g = DealGame::default();
    let inst = instance();
    assert_eq!(inst.value(0, inst.pool), 10);
    assert_eq!(inst.value(1, inst.pool), 10);
    // Player 0 keeps one of type 0 and one of type 2 (worth 6 to it); player 1 gets the rest
    // ([0, 2, 2], worth 8 to it) and agrees.
    let mut s = g.start(inst);
    assert_eq!(s.turn(), Turn::Player(0));
    assert!(!s.legal_actions(0).contains(&DealGame::AGREE));
    assert_eq!(s.legal_actions(0).len(), 2 * 3 * 4);
    assert!(s.legal_actions(1).is_empty());
    s.apply_action(DealGame::offer_action([1, 0, 1])).unwrap();
    assert_eq!(s.turn(), Turn::Player(1));
    s.apply_action(DealGame::AGREE).unwrap();
    assert!(s.is_terminal());
    assert_eq!(s.returns(), vec![6.0, 8.0]);

    // A counter-offer: player 1 keeps [0, 2, 3] (worth 10 to it), player 0 gets [1, 0, 0] (4).
    let mut s = g.start(inst);
    s.apply_action(DealGame::offer_action([1, 0, 1])).unwrap();
    s.apply_action(DealGame::offer_action([0, 2, 3])).unwrap();
    s.apply_action(DealGame::AGREE).unwrap();
    assert_eq!(s.returns(), vec![4.0, 10.0]);

    // An offer outside the pool is illegal.
    let mut s = g.start(inst);
    assert_eq!(
        s.apply_action(DealGame::offer_action([2, 0, 0])),
        Err(GameError::Illegal {
            player: 0,
            action: DealGame::offer_action([2, 0, 0])
        })
    );

    // No deal within the turn limit: both get nothing.
    let mut s = g.start(inst);
    for _ in 0..g.max_turns {
        s.apply_action(DealGame::offer_action([1, 2, 3])).unwrap();
    }
    assert!(s.is_terminal());
    assert_eq!(s.returns(), vec![0.0, 0.0]);
}

#[test]
fn deal_instances_follow_the_rules() {
    let g = DealGame::default();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..500 {
        let inst = g.sample_instance(&mut rng);
        let n: u32 = inst.pool.iter().sum();
        assert!((5..=7).contains(&n), "{inst:?}");
        assert!(inst.pool.iter().all(|&c| c >= 1));
        for p in 0..2 {
            assert_eq!(inst.value(p, inst.pool), 10, "{inst:?}");
        }
    }
}

#[test]
fn parallel_env_over_the_nash_demand_game() {
    let g = NashDemandGame::default();
    let mut env = ParallelEnv::new(g, 10);
    let obs = env.reset(0);
    assert_eq!(env.agents(), ["player_0", "player_1"]);
    let o = &obs["player_0"];
    assert_eq!(o.observation.len(), g.observation_len());
    assert_eq!(o.action_mask.len(), g.num_distinct_actions());
    assert_eq!(o.action_mask.iter().filter(|&&m| m).count(), 102);
    assert_eq!(env.acting_agents(), ["player_0", "player_1"]);

    let mut only_one = BTreeMap::new();
    only_one.insert("player_0".to_owned(), g.action(NoCommit));
    assert_eq!(
        env.step(&only_one),
        Err(EnvError::MissingAction("player_1".into()))
    );

    let joint = |a: DemandMove, b: DemandMove| {
        BTreeMap::from([
            ("player_0".to_owned(), g.action(a)),
            ("player_1".to_owned(), g.action(b)),
        ])
    };
    let step = env.step(&joint(Commit(70), NoCommit)).unwrap();
    assert!(!step.terminations["player_0"]);
    assert_eq!(
        step.observations["player_0"]
            .action_mask
            .iter()
            .filter(|&&m| m)
            .count(),
        1,
        "a committed player can only demand its commitment"
    );
    let step = env.step(&joint(Demand(70), Demand(40))).unwrap();
    assert!(!step.terminations["player_1"], "execution stage next");
    let step = env.step(&joint(Execute, Refrain)).unwrap();
    assert!(step.terminations["player_0"] && step.terminations["player_1"]);
    assert!((step.rewards["player_0"] + 0.05).abs() < 1e-12);
    assert!((step.rewards["player_1"] + 0.5).abs() < 1e-12);
    assert!(env.agents().is_empty());
    assert_eq!(env.step(&joint(Refrain, Refrain)), Err(EnvError::Done));
}

#[test]
fn aec_env_over_the_deal_game() {
    let mut env = AecEnv::new(DealGame::default(), 100);
    env.reset(11);
    let inst = env.state().unwrap().instance;
    assert_eq!(env.agent_selection().as_deref(), Some("player_0"));
    let (obs, reward, terminated, truncated, _) = env.last("player_0").unwrap();
    assert_eq!(obs.observation.len(), 12);
    assert!(!obs.action_mask[DealGame::AGREE]);
    assert_eq!((reward, terminated, truncated), (0.0, false, false));
    // Player 0 asks for everything; player 1 accepts.
    env.step(DealGame::offer_action(inst.pool)).unwrap();
    assert_eq!(env.agent_selection().as_deref(), Some("player_1"));
    env.step(DealGame::AGREE).unwrap();
    assert_eq!(env.agent_selection(), None);
    let (_, r0, terminated, _, _) = env.last("player_0").unwrap();
    let (_, r1, _, _, _) = env.last("player_1").unwrap();
    assert!(terminated);
    assert_eq!((r0, r1), (10.0, 0.0));
    assert_eq!(env.step(0), Err(EnvError::Done));
}

#[test]
fn aec_env_collects_simultaneous_moves() {
    let g = NashDemandGame {
        commitment_stage: false,
        ..NashDemandGame::default()
    };
    let mut env = AecEnv::new(g, 10);
    env.reset(0);
    assert_eq!(env.agent_selection().as_deref(), Some("player_0"));
    env.step(g.action(Demand(50))).unwrap();
    assert_eq!(env.agent_selection().as_deref(), Some("player_1"));
    env.step(g.action(Demand(50))).unwrap();
    assert_eq!(env.agent_selection(), None);
    let (_, r, terminated, _, info) = env.last("player_1").unwrap();
    assert!(terminated);
    assert!((r - 0.5).abs() < 1e-12);
    assert!((info.cumulative_return - 0.5).abs() < 1e-12);
}

#[test]
fn parallel_env_truncates() {
    let mut env = ParallelEnv::new(DealGame::default(), 2);
    env.reset(5);
    let inst = env.state().unwrap().instance;
    let offer = DealGame::offer_action(inst.pool);
    let s = env
        .step(&BTreeMap::from([("player_0".to_owned(), offer)]))
        .unwrap();
    assert!(!s.truncations["player_0"]);
    assert_eq!(env.acting_agents(), ["player_1"]);
    let s = env
        .step(&BTreeMap::from([("player_1".to_owned(), offer)]))
        .unwrap();
    assert!(s.truncations["player_0"] && !s.terminations["player_0"]);
    assert!(env.agents().is_empty());
    assert!(env.acting_agents().is_empty());
}

/// Play uniformly random legal actions to the end.
fn random_play<S: GameState>(mut s: S, rng: &mut ChaCha8Rng) -> S {
    while !s.is_terminal() {
        match s.turn() {
            Turn::Simultaneous => {
                let actions: Vec<usize> = (0..s.num_players())
                    .map(|p| {
                        let legal = s.legal_actions(p);
                        legal[rng.random_range(0..legal.len())]
                    })
                    .collect();
                s.apply_actions(&actions).unwrap();
            }
            Turn::Player(p) => {
                let legal = s.legal_actions(p);
                s.apply_action(legal[rng.random_range(0..legal.len())])
                    .unwrap();
            }
            Turn::Terminal => unreachable!(),
        }
    }
    s
}

proptest! {
    #[test]
    fn nash_demand_payoffs_never_exceed_the_pie(
        seed in any::<u64>(),
        units in 2u32..200,
        damage in 0.0f64..2.0,
        cost in 0.0f64..1.0,
        shield in any::<bool>(),
        commitments in any::<bool>(),
    ) {
        let g = NashDemandGame {
            units,
            commitment_stage: commitments,
            threat_damage: damage,
            threat_cost: cost,
            surrogate_shield: shield,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let s = random_play(g.start(), &mut rng);
        let r = s.returns();
        let o = s.outcome().unwrap();
        prop_assert!(r[0] + r[1] <= 1.0 + 1e-12);
        prop_assert!(o.welfare_lost() >= -1e-12);
        prop_assert!((o.welfare_lost() - (1.0 - r[0] - r[1])).abs() < 1e-9);
        prop_assert!(o.shares.iter().all(|&x| (0.0..=1.0).contains(&x)));
        // Threats are only executed by those who made them, after a failure.
        for p in 0..2 {
            if o.executed[p] {
                prop_assert!(s.commitments[p].is_some() && !o.agreement);
            }
        }
    }

    #[test]
    fn deal_payoffs_lie_between_zero_and_ten(seed in any::<u64>()) {
        let g = DealGame::default();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let s = random_play(g.new_initial_state(&mut rng), &mut rng);
        for r in s.returns() {
            prop_assert!((0.0..=10.0).contains(&r));
        }
    }
}
