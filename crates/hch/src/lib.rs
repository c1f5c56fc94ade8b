//! Trees of bounded imitators (HCH, factored cognition) answering questions with checkable answers.
//!
//! * [`task`]: four generated tasks with known answers and natural decompositions.
//! * [`tree`]: the one rule every node follows (its own mistakes, votes of copies with a
//!   common-mode share, memetic answers, a verifier, grounding) and blame for a wrong root.
//! * [`amplify`]: the reliability-amplification closed forms and a population-dynamics simulation
//!   of the same trees to depth 20 and beyond.
//! * [`allocation`]: one budget of copies shared among subtrees by a fixed split, a price or
//!   negotiation.
//! * [`debate`]: a judge who reads a few pieces of evidence, alone, with one consultant, or between
//!   two debaters.
//! * [`draw`]: counter-based random draws (the same numbers at the same node whatever the
//!   parameters).

pub mod allocation;
pub mod amplify;
pub mod debate;
pub mod draw;
pub mod task;
pub mod tree;

pub use allocation::{Allocation, Mechanism, allocate};
pub use amplify::PoolSimulation;
pub use task::{AnyTask, Question, Task, TaskKind, TaskShape};
pub use tree::{Agent, Answer, Blame, Tally, Tree, Verifier, assign_blame};
