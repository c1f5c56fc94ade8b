//! Bargaining games and open-source game theory.
//!
//! | module | what |
//! |--------|------|
//! | [`modal`] | modal agents (FairBot, PrudentBot, ...) decided by provability logic on the linear GL Kripke frame; a text syntax for user agents |
//! | [`divergence`] | modal agents whose source is perturbed by tuning: provably equivalent (or not) rewrites, and how cooperation survives them |
//! | [`bounded`] | Critch's bounded Löb: FairBot_k, which searches for proofs up to length k, under a proof-length model |
//! | [`simulation`] | program agents that simulate each other: epsilon-grounded FairBot, similarity-based cooperation |
//! | [`game`] | the [`GameState`] trait (OpenSpiel style) and the one-shot prisoner's dilemma |
//! | [`nash_demand`] | the Nash demand game with a commitment stage and value-destroying threats |
//! | [`deal`] | multi-issue Deal-or-No-Deal bargaining (OpenSpiel's `bargaining`) |
//! | [`population`] | a base bargainer, copies tuned toward their principals, surrogate goals, one encounter |
//! | [`parallel`] | PettingZoo-style parallel and AEC environments over any game |
//!
//! ```
//! use cruxlab_games::modal::Roster;
//! let roster = Roster::classic();
//! let m = roster.matchup("PrudentBot", "CooperateBot").unwrap();
//! assert!(!m.row_cooperates && m.column_cooperates);
//! ```
//!
//! Randomness only comes from the seeded generators passed in; nothing here reads the clock or
//! a thread-local generator.

pub mod bounded;
pub mod deal;
pub mod divergence;
pub mod game;
pub mod modal;
pub mod nash_demand;
pub mod parallel;
pub mod population;
pub mod simulation;

pub use deal::{DealGame, DealInstance, DealState};
pub use game::{Action, Game, GameError, GameState, PrisonersDilemma, Turn};
pub use modal::{Formula, Matchup, ModalAgent, ModalError, ModalSystem, ParseError, Roster};
pub use nash_demand::{DemandMove, DemandOutcome, NashDemandGame, NashDemandState};
pub use parallel::{AecEnv, EnvError, ParallelEnv};
pub use population::{
    Adoption, Bargainer, BaseAgent, Commitment, Encounter, EncounterDraws, Pairing, Population,
    PrincipalKind, Protocol, SurrogatePolicy, ThreatPolicy, Verification,
};
pub use simulation::ProgramAgent;
