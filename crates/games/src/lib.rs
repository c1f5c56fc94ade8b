//! Bargaining games and open-source game theory.
