//! Scaling laws: fitting L(N, D) = E + A/N^alpha + B/D^beta and planning with it.
