//! Impact penalties: attainable utility preservation (Turner, Hadfield-Menell and Tadepalli 2020)
//! and relative reachability (Krakovna et al. 2019), as penalties on the reward of a transition
//! that any planner over [`crate::plan::StateGraph`] can subtract.
//!
//! Both compare the world after the agent's action with a baseline world, through a set of
//! auxiliary values: AUP through the optimal Q-values of random auxiliary rewards, relative
//! reachability through how reachable every state remains. The values live on the *timeless* state
//! graph ([`Game::timeless`]: states as the board shows them), as the anchors key their tables by
//! the board.

use std::collections::{HashMap, VecDeque};

use crate::Move;
use crate::explore::reachable;
use crate::game::{Game, State};

/// AUP's penalty for one action: `lambda` times the mean over auxiliary functions `i` of
/// `|Q_i(s,a) - Q_i(s,noop)| / Q_i(s,noop)`, where a zero denominator counts as 1 (as
/// `agents/model_free_aup.py` does).
pub fn aup_penalty(q_action: &[f64], q_noop: &[f64], lambda: f64) -> f64 {
    assert_eq!(
        q_action.len(),
        q_noop.len(),
        "one value per auxiliary function"
    );
    if q_action.is_empty() {
        return 0.0;
    }
    let sum: f64 = q_action
        .iter()
        .zip(q_noop)
        .map(|(&a, &n)| (a - n).abs() / if n == 0.0 { 1.0 } else { n })
        .sum();
    lambda * sum / q_action.len() as f64
}

/// How a shortfall from the baseline is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deviation {
    /// Only decreases count (relative reachability's truncated difference).
    Truncated,
    /// Increases count too.
    Absolute,
}

/// Relative reachability's deviation: the mean over target states `x` of the (truncated or
/// absolute) difference `R(baseline; x) - R(current; x)`. The attainable-utility deviation is the
/// same mean over auxiliary values `V_r(baseline) - V_r(current)` ([`Measure`]).
pub fn relative_reachability(baseline: &[f64], current: &[f64], deviation: Deviation) -> f64 {
    assert_eq!(baseline.len(), current.len(), "one value per target state");
    if baseline.is_empty() {
        return 0.0;
    }
    let sum: f64 = baseline
        .iter()
        .zip(current)
        .map(|(&b, &c)| match deviation {
            Deviation::Truncated => (b - c).max(0.0),
            Deviation::Absolute => (b - c).abs(),
        })
        .sum();
    sum / baseline.len() as f64
}

/// The states of a level without their step counter, every one reachable from the start, with
/// their successors (`None` where the step ends the episode).
#[derive(Clone, Debug)]
pub struct Timeless {
    pub states: Vec<State>,
    pub index: HashMap<State, u32>,
    pub next: Vec<[Option<u32>; Move::COUNT]>,
}

impl Timeless {
    pub fn build(game: &Game) -> Timeless {
        let states: Vec<State> = reachable(game, game.start(), true).into_iter().collect();
        let index: HashMap<State, u32> = states
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, i as u32))
            .collect();
        let next = states
            .iter()
            .map(|s| {
                Move::ALL.map(|m| {
                    let mut n = *s;
                    let t = game.step(&mut n, m);
                    // A state entered by a terminal step is a dead end: its own
                    // successors were never explored and lie outside the set.
                    if t.terminated {
                        None
                    } else {
                        index.get(&game.timeless(&n)).copied()
                    }
                })
            })
            .collect();
        Timeless {
            states,
            index,
            next,
        }
    }

    /// The index of a state's timeless key.
    pub fn of(&self, game: &Game, s: &State) -> usize {
        self.index[&game.timeless(s)] as usize
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Optimal Q-values of the state reward `reward` (earned on entering a state; nothing after a
    /// terminal step), by value iteration to a fixed point within 1e-9 or 5,000 sweeps.
    pub fn attainable_q(&self, reward: &[f64], gamma: f64) -> Vec<[f64; Move::COUNT]> {
        let n = self.len();
        let mut v = vec![0.0f64; n];
        let mut q = vec![[0.0; Move::COUNT]; n];
        for _ in 0..5000 {
            let mut change = 0.0f64;
            for i in 0..n {
                for (qm, next) in q[i].iter_mut().zip(&self.next[i]) {
                    *qm = match next {
                        Some(j) => reward[*j as usize] + gamma * v[*j as usize],
                        None => 0.0,
                    };
                }
                let best = q[i].iter().copied().fold(f64::NEG_INFINITY, f64::max);
                change = change.max((best - v[i]).abs());
                v[i] = best;
            }
            if change < 1e-9 {
                break;
            }
        }
        q
    }

    /// Discounted reachability `R(s; x) = gamma^d(s, x)` of every state from `s` (deterministic
    /// dynamics: the shortest number of steps; 0 when unreachable). With `gamma = 1`, whether `x`
    /// can be reached at all.
    pub fn reachability_from(&self, s: usize, gamma: f64) -> Vec<f64> {
        let mut dist = vec![u32::MAX; self.len()];
        dist[s] = 0;
        let mut queue = VecDeque::from([s]);
        while let Some(i) = queue.pop_front() {
            for j in self.next[i].iter().flatten() {
                let j = *j as usize;
                if dist[j] == u32::MAX {
                    dist[j] = dist[i] + 1;
                    queue.push_back(j);
                }
            }
        }
        dist.iter()
            .map(|&d| {
                if d == u32::MAX {
                    0.0
                } else {
                    gamma.powi(d as i32)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two states, a and b; from a the agent may stay (no-op) or move to b, where it is stuck.
    /// Auxiliary reward 1 in a, 0 in b, gamma 0.5: Q(a, noop) = 1 + 0.5 * Q(a, noop) = 2;
    /// Q(a, move) = 0 (b earns nothing forever). Penalty = lambda * |0 - 2| / 2 = lambda.
    /// A second auxiliary reward, 1 in b: Q(a, noop) = 0 + 0.5 * 2 = 1 (it can still go to b
    /// later), Q(a, move) = 1 + 0.5 * 2 = 2; its term |2 - 1| / 1 = 1; the mean stays 1.
    #[test]
    fn aup_on_a_two_state_case() {
        assert_eq!(aup_penalty(&[0.0], &[2.0], 0.5), 0.5);
        assert_eq!(aup_penalty(&[0.0, 2.0], &[2.0, 1.0], 0.5), 0.5);
        // A zero no-op value counts as a denominator of 1.
        assert_eq!(aup_penalty(&[0.3], &[0.0], 1.0), 0.3);
    }

    /// Three states in a line, 0 <-> 1 -> 2 (2 is a dead end), gamma_r = 0.5. From 0:
    /// R = [1, 0.5, 0.25]; from 1: [0.5, 1, 0.5]; from 2: [0, 0, 1]. Moving from the baseline 0 to
    /// 2 loses [1, 0.5, 0.25] - [0, 0, 1] = [1, 0.5, -0.75]: truncated mean 0.5, absolute 0.75.
    #[test]
    fn relative_reachability_on_a_three_state_case() {
        let from0 = [1.0, 0.5, 0.25];
        let from2 = [0.0, 0.0, 1.0];
        assert_eq!(
            relative_reachability(&from0, &from2, Deviation::Truncated),
            0.5
        );
        assert_eq!(
            relative_reachability(&from0, &from2, Deviation::Absolute),
            0.75
        );
        assert_eq!(
            relative_reachability(&from0, &from0, Deviation::Truncated),
            0.0
        );
    }

    /// Unreachability against the starting state on Options (whose board shows no clock; on
    /// Correction's the countdown makes the start unreachable after any step), reachability
    /// discounted by 0.5: the no-op at the start leaves the start where it was (0); a move that
    /// leaves the box alone is undone in one step (1 - 0.5 = 0.5). Attainable utility: the no-op at the start changes no value (0),
    /// and the absolute deviation is never below the truncated one.
    #[test]
    fn unreachability_and_attainable_utility_by_hand() {
        let game = Game::builtin("aup:options").unwrap();
        let start = game.start();
        let penalty = |measure, deviation| {
            PreparedPenalty::new(
                &game,
                Penalty::Reachability {
                    baseline: Baseline::Start,
                    deviation,
                    beta: 1.0,
                    gamma: 0.5,
                    measure,
                    rollouts: 0,
                },
            )
        };
        let ur = penalty(Measure::Unreachability, Deviation::Truncated);
        assert_eq!(ur.cost(&start, Move::Noop), 0.0);
        let mut reversible = 0;
        for m in [Move::Up, Move::Down, Move::Left, Move::Right] {
            let mut after = start;
            game.step(&mut after, m);
            if after.agent != start.agent && after.boxes == start.boxes {
                assert_eq!(ur.cost(&start, m), 0.5, "{m:?}");
                reversible += 1;
            }
        }
        assert!(reversible > 0);
        let au = |deviation| {
            penalty(
                Measure::AttainableUtility {
                    rewards: 5,
                    seed: 3,
                },
                deviation,
            )
        };
        let (truncated, absolute) = (au(Deviation::Truncated), au(Deviation::Absolute));
        assert_eq!(truncated.cost(&start, Move::Noop), 0.0);
        for m in Move::ALL {
            let (t, a) = (truncated.cost(&start, m), absolute.cost(&start, m));
            assert!(t >= 0.0 && a >= t, "{m:?}: {t} {a}");
        }
    }

    /// With or without inaction rollouts the relative-reachability penalty is a (weighted) mean of
    /// truncated deviations, so it stays within [0, beta]; the no-op is its own baseline, and its
    /// rollouts are the baseline's, so it costs nothing.
    #[test]
    fn inaction_rollouts_extend_the_stepwise_penalty() {
        for name in ["aup:damage", "aup:offset", "aup:options"] {
            let game = Game::builtin(name).unwrap();
            let rr = |rollouts| {
                PreparedPenalty::new(
                    &game,
                    Penalty::Reachability {
                        baseline: Baseline::Stepwise,
                        deviation: Deviation::Truncated,
                        beta: 1.0,
                        gamma: 0.95,
                        measure: Measure::Relative,
                        rollouts,
                    },
                )
            };
            let (none, some) = (rr(0), rr(5));
            let start = game.start();
            for m in Move::ALL {
                let (c0, c5) = (none.cost(&start, m), some.cost(&start, m));
                assert!((0.0..=1.0).contains(&c0), "{name} {m:?}: {c0}");
                assert!((0.0..=1.0).contains(&c5), "{name} {m:?}: {c5}");
            }
            assert_eq!(some.cost(&start, Move::Noop), 0.0, "{name}");
        }
    }

    #[test]
    fn reachability_on_a_level_matches_the_shortest_paths() {
        let game = Game::builtin("aup:correction").unwrap();
        let t = Timeless::build(&game);
        let start = t.of(&game, &game.start());
        let r = t.reachability_from(start, 0.5);
        assert_eq!(r[start], 1.0);
        // The button-pressed states are reachable; from one of them the unpressed ones are not.
        let pressed = t
            .states
            .iter()
            .position(|s| s.has(crate::game::flag::DISABLED))
            .unwrap();
        assert!(r[pressed] > 0.0);
        assert_eq!(t.reachability_from(pressed, 0.5)[start], 0.0);
    }
}

/// Which impact penalty a planner pays, and its settings.
#[derive(Clone, Debug, PartialEq)]
pub enum Penalty {
    /// No penalty: the reward-maximising agent.
    None,
    /// AUP with `rewards` auxiliary state rewards drawn uniformly from [0, 1) by `seed`, the
    /// no-op as the baseline action (stepwise inaction), discount `gamma`. With `rollout: None`
    /// the action and the no-op are compared from the same state, `Q_i(s, a)` against
    /// `Q_i(s, noop)` (the model-free agent's penalty, `agents/model_free_aup.py`); with
    /// `rollout: Some(horizon)` as the AUP paper's planning agent compares them (`agents/aup.py`):
    /// the state reached by the action followed by no-ops until the plan's horizon, valued by
    /// `max_b Q_i(., b)`, against the state reached by no-ops alone, valued by `Q_i(., noop)`
    /// (a rollout that ends the episode is worth 0, as the anchor's never-updated table of the
    /// last board gives).
    Aup {
        rewards: usize,
        lambda: f64,
        gamma: f64,
        seed: u64,
        rollout: Option<u32>,
    },
    /// Krakovna et al.'s deviation from a baseline world, scaled by `beta`: relative
    /// reachability (reachability discounted by `gamma`), unreachability or attainable utility
    /// ([`Measure`]).
    Reachability {
        baseline: Baseline,
        deviation: Deviation,
        beta: f64,
        gamma: f64,
        measure: Measure,
        /// With the stepwise baseline: inaction rollouts of this many steps (0: none). The
        /// deviation is then the `gamma`-weighted mean, over `k = 0..=rollouts`, of the deviation
        /// between the state reached and the baseline state each followed by `k` no-ops (after
        /// Krakovna et al.'s inaction rollouts, which see the delayed effects of an action).
        rollouts: u32,
    },
}

/// How far the state reached lies from the baseline state (Krakovna et al. 2019, section 2.2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Measure {
    /// Relative reachability: the mean over every state `x` of the (truncated or absolute)
    /// difference `R(baseline; x) - R(current; x)`.
    Relative,
    /// Unreachability: `1 - R(current; baseline)`, how hard it has become to get back to the
    /// baseline state (the deviation setting does not apply).
    Unreachability,
    /// Attainable utility: the mean over `rewards` random state rewards (uniform in [0, 1), drawn
    /// by `seed`) of the (truncated or absolute) difference `V_r(baseline) - V_r(current)`, with
    /// `V_r` the optimal value discounted by the penalty's `gamma`.
    AttainableUtility { rewards: usize, seed: u64 },
}

/// The world a penalty compares with (Krakovna et al.'s baselines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// The starting state.
    Start,
    /// The state the no-op policy would have reached by now from the start.
    Inaction,
    /// The state the no-op would have reached from the previous state.
    Stepwise,
}

/// A penalty made ready for one level: `cost(state, action)` is what the planner subtracts.
pub struct PreparedPenalty {
    timeless: Timeless,
    game: Game,
    penalty: Penalty,
    aup_q: Vec<Vec<[f64; Move::COUNT]>>,
    reach: HashMap<usize, Vec<f64>>,
    /// Auxiliary values computed (Q-table entries or reachability rows): the penalty's compute.
    pub compute: u64,
}

impl PreparedPenalty {
    pub fn new(game: &Game, penalty: Penalty) -> PreparedPenalty {
        use rand::{Rng, SeedableRng};
        let timeless = Timeless::build(game);
        let mut compute = 0;
        let auxiliary = match &penalty {
            Penalty::Aup {
                rewards,
                gamma,
                seed,
                ..
            }
            | Penalty::Reachability {
                gamma,
                measure: Measure::AttainableUtility { rewards, seed },
                ..
            } => Some((*rewards, *gamma, *seed)),
            _ => None,
        };
        let aup_q = match auxiliary {
            Some((rewards, gamma, seed)) => {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                (0..rewards)
                    .map(|_| {
                        let r: Vec<f64> =
                            (0..timeless.len()).map(|_| rng.random::<f64>()).collect();
                        compute += (timeless.len() * Move::COUNT) as u64;
                        timeless.attainable_q(&r, gamma)
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        let mut reach = HashMap::new();
        if let Penalty::Reachability {
            gamma,
            measure: Measure::Relative | Measure::Unreachability,
            ..
        } = &penalty
        {
            for i in 0..timeless.len() {
                reach.insert(i, timeless.reachability_from(i, *gamma));
                compute += timeless.len() as u64;
            }
        }
        PreparedPenalty {
            timeless,
            game: game.clone(),
            penalty,
            aup_q,
            reach,
            compute,
        }
    }

    /// The penalty for taking `m` in `s`.
    pub fn cost(&self, s: &State, m: Move) -> f64 {
        match &self.penalty {
            Penalty::None => 0.0,
            Penalty::Aup {
                lambda,
                rollout: Some(horizon),
                ..
            } => {
                let left = horizon.saturating_sub(s.steps as u32).max(1);
                let acted = self.rollout(s, m, left);
                let idle = self.rollout(s, Move::Noop, left);
                let value = |end: Option<usize>, q: &Vec<[f64; Move::COUNT]>, of: Option<Move>| {
                    end.map_or(0.0, |i| match of {
                        Some(b) => q[i][b.index()],
                        None => q[i].iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    })
                };
                let qa: Vec<f64> = self.aup_q.iter().map(|q| value(acted, q, None)).collect();
                let qn: Vec<f64> = self
                    .aup_q
                    .iter()
                    .map(|q| value(idle, q, Some(Move::Noop)))
                    .collect();
                aup_penalty(&qa, &qn, *lambda)
            }
            Penalty::Aup { lambda, .. } => {
                let i = self.timeless.of(&self.game, s);
                let qa: Vec<f64> = self.aup_q.iter().map(|q| q[i][m.index()]).collect();
                let qn: Vec<f64> = self
                    .aup_q
                    .iter()
                    .map(|q| q[i][Move::Noop.index()])
                    .collect();
                aup_penalty(&qa, &qn, *lambda)
            }
            Penalty::Reachability {
                baseline,
                deviation,
                beta,
                measure,
                gamma,
                rollouts,
            } => {
                let mut after = *s;
                self.game.step(&mut after, m);
                let base = match baseline {
                    Baseline::Start => self.game.start(),
                    Baseline::Inaction => {
                        let mut b = self.game.start();
                        for _ in 0..after.steps {
                            self.game.step(&mut b, Move::Noop);
                        }
                        b
                    }
                    Baseline::Stepwise => {
                        let mut b = *s;
                        self.game.step(&mut b, Move::Noop);
                        b
                    }
                };
                let between = |a: usize, b: usize| match measure {
                    Measure::Relative => {
                        relative_reachability(&self.reach[&b], &self.reach[&a], *deviation)
                    }
                    Measure::Unreachability => 1.0 - self.reach[&a][b],
                    Measure::AttainableUtility { .. } => {
                        let value = |i: usize| -> Vec<f64> {
                            self.aup_q
                                .iter()
                                .map(|q| q[i].iter().copied().fold(f64::NEG_INFINITY, f64::max))
                                .collect()
                        };
                        relative_reachability(&value(b), &value(a), *deviation)
                    }
                };
                let (Some(a), Some(b)) = (self.lookup(&after), self.lookup(&base)) else {
                    return 0.0;
                };
                if *baseline != Baseline::Stepwise || *rollouts == 0 {
                    return beta * between(a, b);
                }
                // Inaction rollouts from both states; a side whose episode has ended stays put.
                let (mut x, mut y) = (after, base);
                let (mut x_live, mut y_live) = (true, true);
                let (mut sum, mut weights, mut w) = (between(a, b), 1.0, 1.0);
                for _ in 0..*rollouts {
                    for (state, live) in [(&mut x, &mut x_live), (&mut y, &mut y_live)] {
                        if *live {
                            let t = self.game.step(state, Move::Noop);
                            *live = !(t.terminated || t.truncated);
                        }
                    }
                    let (Some(a), Some(b)) = (self.lookup(&x), self.lookup(&y)) else {
                        break;
                    };
                    w *= gamma;
                    sum += w * between(a, b);
                    weights += w;
                }
                beta * sum / weights
            }
        }
    }

    /// Take `first`, then no-ops, `steps` steps in all or until the episode ends: the index of the
    /// state reached, or `None` when a step ended the episode.
    fn rollout(&self, s: &State, first: Move, steps: u32) -> Option<usize> {
        let mut x = *s;
        for k in 0..steps {
            let t = self
                .game
                .step(&mut x, if k == 0 { first } else { Move::Noop });
            if t.terminated {
                return None;
            }
            if t.truncated {
                break;
            }
        }
        self.lookup(&x)
    }

    fn lookup(&self, s: &State) -> Option<usize> {
        self.timeless
            .index
            .get(&self.game.timeless(s))
            .map(|&i| i as usize)
    }
}

/// One episode of a penalised planner: its plan replayed in the environment.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedEpisode {
    pub actions: Vec<crate::Move>,
    pub reward: f64,
    pub performance: f64,
    /// (state, action) backups of the planner.
    pub backups: u64,
    /// Auxiliary values the penalty computed.
    pub penalty_compute: u64,
}

impl PlannedEpisode {
    /// Replay `actions` on `game` and record what they earned and what choosing them cost.
    fn replayed(
        game: &Game,
        actions: Vec<crate::Move>,
        backups: u64,
        penalty_compute: u64,
    ) -> Self {
        let r = crate::replay(game, &actions);
        PlannedEpisode {
            actions,
            reward: r.reward,
            performance: r.hidden_performance,
            backups,
            penalty_compute,
        }
    }

    /// The hidden terms' cost: reward minus performance (positive when the episode did harm the
    /// reward does not see).
    pub fn harm(&self) -> f64 {
        self.reward - self.performance
    }
}

/// Plan with backward induction over `horizon` steps, discount `gamma`, paying `penalty`, and
/// replay the plan.
pub fn planned_episode(game: &Game, penalty: Penalty, horizon: u32, gamma: f64) -> PlannedEpisode {
    planned(game, penalty, horizon, gamma, |_, _| ()).0
}

/// Train a tabular Q-learner ([`crate::qlearn`]) on the reward minus `penalty` and replay its
/// greedy plan; `backups` counts its Q-value updates.
pub fn learned_episode(
    game: &Game,
    penalty: Penalty,
    learning: &crate::qlearn::QLearning,
) -> PlannedEpisode {
    let prepared = PreparedPenalty::new(game, penalty);
    let learned = crate::qlearn::q_learn(game, learning, |s, m| prepared.cost(s, m));
    PlannedEpisode::replayed(game, learned.actions, learned.updates, prepared.compute)
}

/// Train the paper's model-free AUP agent ([`crate::qlearn::q_learn_aup`]) and replay its greedy
/// plan; `penalty_compute` counts its auxiliary value updates.
pub fn learned_aup_episode(
    game: &Game,
    learning: &crate::qlearn::QLearning,
    aup: &crate::qlearn::LearnedAup,
) -> PlannedEpisode {
    let learned = crate::qlearn::q_learn_aup(game, learning, aup);
    let compute = learned.updates * aup.rewards as u64;
    PlannedEpisode::replayed(game, learned.actions, learned.updates, compute)
}

/// [`planned_episode`] and the planner's decisive thoughts ([`crate::thoughts`]).
pub fn planned_with_thoughts(
    game: &Game,
    penalty: Penalty,
    horizon: u32,
    gamma: f64,
) -> (PlannedEpisode, Vec<crate::thoughts::Thought>) {
    planned(
        game,
        penalty,
        horizon,
        gamma,
        crate::thoughts::decisive_thoughts,
    )
}

fn planned<T>(
    game: &Game,
    penalty: Penalty,
    horizon: u32,
    gamma: f64,
    inspect: impl Fn(&crate::plan::StateGraph, &crate::plan::Plan) -> T,
) -> (PlannedEpisode, T) {
    let graph = crate::plan::StateGraph::build(game, horizon);
    let prepared = PreparedPenalty::new(game, penalty);
    let p = crate::plan::plan(&graph, gamma, |i, m| prepared.cost(&graph.states[i], m));
    let seen = inspect(&graph, &p);
    let episode = PlannedEpisode::replayed(game, p.actions, p.backups, prepared.compute);
    (episode, seen)
}
