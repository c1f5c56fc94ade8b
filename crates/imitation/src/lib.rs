//! cruxlab-imitation: a Bayesian imitator over programs.
//!
//! The imitator watches an optimiser (a planner toward a goal) act in small rooms and weighs every
//! program of a small policy language ([`language`]) by a prior ([`prior`]: bounded simplicity,
//! Levin's Kt / Schmidhuber's speed prior, Christiano's "4x time = 1 bit") times how well it
//! predicts the demonstrated moves ([`posterior`]). Programs are enumerated shortest first with
//! observational-equivalence pruning ([`enumerate`]); the task and what the language's primitives
//! read are in [`task`], the demonstrator and its data in [`demonstrator`]. The question the
//! experiment `induction` asks of it: does the posterior end up on programs that imitate, or on
//! programs that search?

pub mod demonstrator;
pub mod enumerate;
pub mod language;
pub mod posterior;
pub mod prior;
pub mod task;

pub use demonstrator::{Dataset, Demonstrator, Protocol};
pub use enumerate::{Enumerator, Hypothesis, Node, Stats};
pub use language::{Cond, Family, Grammar, Method, Program, Traits};
pub use posterior::{Imitator, Summary};
pub use prior::Prior;
pub use task::{Features, Goal, Room, Training};
