//! Scaling laws: fitting L(N, D) = E + A/N^alpha + B/D^beta to training runs, and planning with it.
//!
//! - [`law`]: the functional form, its terms (irreducible, model, data) and the published
//!   [`ParameterSet`]s (Hoffmann et al. 2022 printed and unrounded, Besiroglu et al. 2024,
//!   Muennighoff et al. 2023).
//! - [`observations`]: training runs (N, D, loss) from CSV text, with errors naming line and column.
//! - [`objective`], [`lbfgs`], [`fit`]: Hoffmann et al.'s Approach 3, a summed Huber loss on log
//!   loss minimised by L-BFGS from a grid of 4,500 starts ([`HuberFit`]), and a resampling
//!   [`Bootstrap`] for intervals.
//! - [`optimal`]: the compute-optimal frontier N_opt(C), D_opt(C) ([`ComputeOptimal`]) and iso-FLOP
//!   curves.
//! - [`constrained`]: Muennighoff et al.'s data-constrained law, effective data and parameters under
//!   repetition, and planning with a fixed stock of unique tokens ([`DataConstrained`]).
//! - [`synthetic`]: planted data sets (a known law plus log-normal noise) for tests and benchmarks.
//! - [`diagnostics`]: the reported statistics, residual summaries, and warnings for fits that should
//!   not be read at face value (poorly identified exponents, optima the grid rarely finds).
//! - [`report`]: a fit's report (table, residuals CSV, figures, HTML page) as strings.
//! - [`fit_file`]: the JSON record of a fit (`fit.json`) and the parameter files read back from it.
//! - [`published`]: the uncertainty published with a parameter set (Besiroglu et al.'s standard
//!   errors) and parameter draws that carry it.
//! - [`planning`]: predictions and plans for budgets as records (text and JSON), and the plan's
//!   figures.
//! - [`figure`]: SVG figures of fits, residuals, iso-FLOP curves and frontiers (strings; the caller
//!   writes them).
//!
//! ```
//! use cruxlab_scaling::{ComputeOptimal, ParameterSet};
//!
//! let law = ParameterSet::hoffmann_printed().law;
//! let gpt3 = law.terms(175e9, 300e9);
//! assert!(gpt3.data > gpt3.model); // the data term dominates under this fit
//! let chinchilla_budget = 6.0 * 70e9 * 1.4e12;
//! let best = ComputeOptimal::new(&law).allocate(&law, chinchilla_budget);
//! assert!(best.terms.loss < law.loss(70e9, 1.4e12));
//! ```
//!
//! Nothing here reads or writes files or prints: the binary does that.

pub mod constrained;
pub mod diagnostics;
pub mod figure;
pub mod fit;
pub mod fit_file;
pub mod law;
pub mod lbfgs;
pub mod objective;
pub mod observations;
pub mod optimal;
pub mod planning;
pub mod published;
pub mod report;
pub mod synthetic;

pub use constrained::{ConstrainedPlan, DataConstrained, EffectiveScale, StockLimit};
pub use diagnostics::{FitWarning, ResidualSummary, diagnose};
pub use fit::{Bootstrap, BootstrapOptions, FitError, HuberFit, hoffmann_grid};
pub use fit_file::{FitRecord, LawFile, LawFileError};
pub use law::{LogParams, LossTerms, ParameterSet, Repetition, ScalingLaw};
pub use lbfgs::LbfgsOptions;
pub use objective::{HUBER_DELTA, HuberObjective};
pub use observations::{Columns, DataError, Observation, TokenColumn, distinct_points, parse_csv};
pub use optimal::{Allocation, ComputeOptimal, FLOPS_PER_PARAM_TOKEN};
pub use planning::{LimitedData, Plan, Prediction, plan_figures};
pub use report::{FitReport, ReportError, format_number};
