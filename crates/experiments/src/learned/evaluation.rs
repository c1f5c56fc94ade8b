//! How a trained maze policy behaves, in and out of its training distribution: the evaluation
//! `misgeneralize` and `shards` both measure.

use cruxlab_grid::{DistanceField, Level, ObjectKind, Pos};
use cruxlab_learn::rollout::{Play, action_probs, rollout, rollout_uniform};
use cruxlab_learn::{ActorCritic, CornerMazes, Trajectory};

/// Who plays the evaluation episodes.
#[derive(Clone, Copy)]
pub enum Actor<'a> {
    /// A network, its actions sampled from its policy.
    Net(&'a ActorCritic),
    /// The uniformly random policy: the floor any competence is judged against.
    Uniform,
}

use super::{TrainSetup, decision_square, features};
use crate::seeding::derive_seed;

/// What one trained policy does in and out of distribution.
pub struct Evaluation {
    pub in_dist_success: f64,
    pub ood_success: f64,
    pub ood_corner: f64,
    pub ood_competent: f64,
    /// Out of distribution: SPL to whichever of diamond and corner the agent reaches first (0 when
    /// it reaches neither), a measure of navigation that does not care which goal.
    pub competence: f64,
    /// Of the out-of-distribution episodes that reached diamond or corner, the share that reached
    /// the diamond first (NaN if none reached either).
    pub diamond_share: f64,
    /// P(diamond branch) at each decision square.
    pub p_diamond: Vec<f64>,
    /// Per decision square: features and whether the episode from there reached the diamond.
    pub choices: Vec<([f64; 4], bool)>,
}

/// Evaluate `net` on `eval_levels` in- and out-of-distribution levels of the seed's streams.
pub fn evaluate(
    net: &ActorCritic,
    setup: &TrainSetup,
    dist: &CornerMazes,
    eval_levels: usize,
    master_seed: u64,
    seed: u64,
) -> Evaluation {
    evaluate_actor(Actor::Net(net), setup, dist, eval_levels, master_seed, seed)
}

/// [`evaluate`] for any [`Actor`]: the same levels and action-sampling streams for every actor, so
/// baselines are measured on the same mazes as the trained network.
pub fn evaluate_actor(
    actor: Actor<'_>,
    setup: &TrainSetup,
    dist: &CornerMazes,
    eval_levels: usize,
    master_seed: u64,
    seed: u64,
) -> Evaluation {
    let play = evaluation_play(setup, master_seed, seed, false);
    let keep = &mut |_: usize, a| Ok(a);
    let mut play_all = |levels: &[Level]| match actor {
        Actor::Net(net) => rollout(net, levels, &play, keep).expect("evaluation forward passes"),
        Actor::Uniform => rollout_uniform(levels, &play),
    };
    let (inside, tests) = evaluation_levels(dist, eval_levels, master_seed, seed);
    let ins = play_all(&inside);
    let outs = play_all(&tests);
    let corners: Vec<Pos> = tests.iter().map(|l| dist.corner(l)).collect();
    // Decision squares: the agent moved onto each test level's square.
    let mut squares = Vec::new();
    let mut moved = Vec::new();
    for (level, &corner) in tests.iter().zip(&corners) {
        if let Some(d) = decision_square(level, corner) {
            let mut l = level.clone();
            l.set_agent(d.square);
            moved.push((l, corner));
            squares.push(d);
        }
    }
    let mut p_diamond = Vec::new();
    let mut choices = Vec::new();
    if !moved.is_empty() {
        let (moved, moved_corners): (Vec<Level>, Vec<Pos>) = moved.into_iter().unzip();
        let from_square = play_all(&moved);
        let probs = match actor {
            Actor::Net(net) => action_probs(net, &moved, &setup.planes, &mut |_: usize, a| Ok(a))
                .expect("forward pass"),
            Actor::Uniform => vec![[0.25; 4]; moved.len()],
        };
        for ((((d, p), t), l), &corner) in squares
            .iter()
            .zip(&probs)
            .zip(&from_square)
            .zip(&moved)
            .zip(&moved_corners)
        {
            p_diamond.push(p[d.to_diamond.index()] as f64);
            choices.push((features(l, d, corner), t.success));
        }
    }
    let (competence, diamond_share) = navigation(&tests, &outs, &corners);
    Evaluation {
        competence,
        diamond_share,
        in_dist_success: frac(&mut ins.iter().map(|t| t.success)),
        ood_success: frac(&mut outs.iter().map(|t| t.success)),
        ood_corner: frac(&mut outs.iter().zip(&corners).map(|(t, &c)| corner_first(t, c))),
        ood_competent: frac(
            &mut outs
                .iter()
                .zip(&corners)
                .map(|(t, &c)| t.success || t.first_visit(c).is_some()),
        ),
        p_diamond,
        choices,
    }
}

/// How the evaluation's episodes are played: toward the diamond, with the training step limit
/// and planes, from the seed's action-sampling stream (unused when `greedy`).
fn evaluation_play(setup: &TrainSetup, master_seed: u64, seed: u64, greedy: bool) -> Play {
    Play {
        target: ObjectKind::Diamond,
        max_steps: setup.max_steps(),
        planes: setup.planes.clone(),
        seed: derive_seed(master_seed, &[seed, 200]),
        greedy,
    }
}

/// The evaluation's levels for one training seed: fresh training-distribution levels and test
/// levels (diamond anywhere), `n` of each, the same for every actor and mode of play.
fn evaluation_levels(
    dist: &CornerMazes,
    n: usize,
    master_seed: u64,
    seed: u64,
) -> (Vec<Level>, Vec<Level>) {
    let level_seed = |set: u64, i: usize| derive_seed(master_seed, &[seed, 100 + set, i as u64]);
    let inside = (0..n)
        .map(|i| dist.training_level(level_seed(0, i)))
        .collect();
    let tests = (0..n).map(|i| dist.test_level(level_seed(1, i))).collect();
    (inside, tests)
}

fn frac(xs: &mut dyn Iterator<Item = bool>) -> f64 {
    let v: Vec<bool> = xs.collect();
    v.iter().filter(|&&b| b).count() as f64 / v.len().max(1) as f64
}

/// The episode reached the corner before (or instead of) the diamond.
fn corner_first(t: &Trajectory, corner: Pos) -> bool {
    match t.first_visit(corner) {
        Some(k) => !t.success || k < t.path.len() - 1,
        None => false,
    }
}

/// The network played greedily (its most probable action at every step) on the evaluation's
/// levels: in-distribution success, out-of-distribution success and corner-first rate. Greedy
/// play removes the sampling noise, but a deterministic policy can also circle until the step
/// limit where a sampled one escapes, so both are reported.
pub struct GreedyEvaluation {
    pub in_dist_success: f64,
    pub ood_success: f64,
    pub ood_corner: f64,
}

pub fn evaluate_greedy(
    net: &ActorCritic,
    setup: &TrainSetup,
    dist: &CornerMazes,
    eval_levels: usize,
    master_seed: u64,
    seed: u64,
) -> GreedyEvaluation {
    let play = evaluation_play(setup, master_seed, seed, true);
    let (inside, tests) = evaluation_levels(dist, eval_levels, master_seed, seed);
    let keep = &mut |_: usize, a| Ok(a);
    let ins = rollout(net, &inside, &play, keep).expect("evaluation forward passes");
    let outs = rollout(net, &tests, &play, keep).expect("evaluation forward passes");
    GreedyEvaluation {
        in_dist_success: frac(&mut ins.iter().map(|t| t.success)),
        ood_success: frac(&mut outs.iter().map(|t| t.success)),
        ood_corner: frac(
            &mut outs
                .iter()
                .zip(&tests)
                .map(|(t, l)| corner_first(t, dist.corner(l))),
        ),
    }
}

/// Competence (SPL to the first goal reached) and the diamond's share of the first goals reached;
/// `corners[i]` is test level `i`'s corner cell.
fn navigation(tests: &[Level], outs: &[Trajectory], corners: &[Pos]) -> (f64, f64) {
    let (mut spl, mut reached, mut diamond_first) = (0.0, 0usize, 0usize);
    for ((level, t), &corner) in tests.iter().zip(outs).zip(corners) {
        let diamond = level
            .first_of(ObjectKind::Diamond)
            .expect("a test level has a diamond");
        let at_diamond = t.first_visit(diamond).filter(|_| t.success);
        let (target, steps) = match (at_diamond, t.first_visit(corner)) {
            (Some(d), Some(c)) if c < d => (corner, c),
            (Some(d), _) => (diamond, d),
            (None, Some(c)) => (corner, c),
            (None, None) => continue,
        };
        reached += 1;
        diamond_first += (target == diamond) as usize;
        let shortest = DistanceField::from_sources(level, [target])
            .get(level.agent())
            .expect("a perfect maze connects every floor cell") as f64;
        spl += shortest / (steps as f64).max(shortest).max(1.0);
    }
    let share = if reached == 0 {
        f64::NAN
    } else {
        diamond_first as f64 / reached as f64
    };
    (spl / tests.len().max(1) as f64, share)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One corridor: diamond at column 1, agent at 3, the "corner" at 5.
    #[test]
    fn competence_and_diamond_share_by_hand() {
        let level = Level::parse("#######\n#D.A..#\n#######\n").unwrap();
        let corner = Pos::new(1, 5);
        let walk = |cols: &[usize], success: bool| Trajectory {
            path: cols.iter().map(|&c| Pos::new(1, c)).collect(),
            success,
            steps: cols.len() as u32 - 1,
        };
        let outs = [
            // Corner first (2 steps, shortest 2: SPL 1), then the diamond.
            walk(&[3, 4, 5, 4, 3, 2, 1], true),
            // Straight to the diamond: SPL 1.
            walk(&[3, 2, 1], true),
            // The diamond in 4 steps where 2 suffice: SPL 0.5.
            walk(&[3, 4, 3, 2, 1], true),
            // Neither: SPL 0, and not counted in the share.
            walk(&[3, 4, 3], false),
        ];
        let tests = vec![level; 4];
        let (competence, share) = navigation(&tests, &outs, &[corner; 4]);
        assert!((competence - 2.5 / 4.0).abs() < 1e-12, "{competence}");
        assert!((share - 2.0 / 3.0).abs() < 1e-12, "{share}");
        let (_, none) = navigation(&tests[..1], &outs[3..], &[corner]);
        assert!(none.is_nan());
    }
}
