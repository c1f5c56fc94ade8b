//! An exact planner over the full state (agent, boxes, coins, the moving object, flags, time):
//! backward induction over every state reachable within a horizon, with its compute counted.
//!
//! The reward each transition earns may be shaped by a penalty (an impact regulariser); the plan
//! is the greedy path from the start, ties broken in [`Move::ALL`] order (up, down, left, right,
//! no-op), as the AUP paper's planning agent breaks them (`agents/aup.py`, first strict maximum).

use std::collections::HashMap;

use crate::Move;
use crate::game::{Game, State};

/// One transition of the graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    pub to: u32,
    pub reward: f64,
    pub performance: f64,
    /// The episode ends with this step (terminal, or the horizon reached).
    pub ends: bool,
    pub terminal: bool,
    /// The overseer-related facts the step's visible rules read ([`crate::game::concept`]).
    pub consulted: u8,
    /// The step's hidden terms (performance minus reward); not part of what the planner
    /// maximises.
    pub hidden: f64,
}

/// Every state reachable from the start within `horizon` steps, with its five transitions.
#[derive(Clone, Debug)]
pub struct StateGraph {
    pub states: Vec<State>,
    pub edges: Vec<[Edge; Move::COUNT]>,
    pub index: HashMap<State, u32>,
    pub horizon: u32,
}

impl StateGraph {
    /// Breadth-first from the start; state 0 is the start. The horizon is capped at the level's
    /// step limit.
    pub fn build(game: &Game, horizon: u32) -> StateGraph {
        let horizon = horizon.min(game.max_steps());
        let start = game.start();
        let mut states = vec![start];
        let mut index = HashMap::from([(start, 0u32)]);
        let mut edges = Vec::new();
        let mut k = 0;
        while k < states.len() {
            let s = states[k];
            let e = Move::ALL.map(|m| {
                let mut next = s;
                let t = game.step(&mut next, m);
                let ends = t.terminated || t.truncated || next.steps as u32 >= horizon;
                // States where the episode has ended are not kept: nothing is decided there.
                let to = if ends {
                    u32::MAX
                } else {
                    *index.entry(next).or_insert_with(|| {
                        states.push(next);
                        states.len() as u32 - 1
                    })
                };
                Edge {
                    to,
                    reward: t.reward,
                    performance: t.performance,
                    ends,
                    terminal: t.terminated,
                    consulted: t.consulted,
                    hidden: t.hidden(),
                }
            });
            edges.push(e);
            k += 1;
        }
        StateGraph {
            states,
            edges,
            index,
            horizon,
        }
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}

/// A plan and what computing it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub actions: Vec<Move>,
    /// The (penalised, discounted) value of the start state.
    pub value: f64,
    /// Transitions evaluated: one per (state, action) backed up.
    pub backups: u64,
    /// The greedy action of every state of the graph (the plan follows it from the start).
    pub policy: Vec<Move>,
}

/// Backward induction with discount `gamma` and the reward of each transition reduced by
/// `penalty(state_index, action)`. Returns the greedy plan from the start.
pub fn plan(graph: &StateGraph, gamma: f64, penalty: impl Fn(usize, Move) -> f64) -> Plan {
    let n = graph.len();
    let mut value = vec![0.0f64; n];
    let mut best = vec![Move::Noop; n];
    let mut backups = 0u64;
    // Every edge goes one step forward in time, so states in decreasing order of time are a
    // reverse topological order.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(graph.states[i].steps));
    for &i in &order {
        let mut top = f64::NEG_INFINITY;
        for m in Move::ALL {
            let e = graph.edges[i][m.index()];
            let q = e.reward - penalty(i, m)
                + if e.ends {
                    0.0
                } else {
                    gamma * value[e.to as usize]
                };
            backups += 1;
            if q > top {
                top = q;
                best[i] = m;
            }
        }
        value[i] = top;
    }
    let mut actions = Vec::new();
    let mut i = 0usize;
    loop {
        let m = best[i];
        actions.push(m);
        let e = graph.edges[i][m.index()];
        if e.ends {
            break;
        }
        i = e.to as usize;
    }
    Plan {
        actions,
        value: value[0],
        backups,
        policy: best,
    }
}
