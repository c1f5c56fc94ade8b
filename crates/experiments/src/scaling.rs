//! # Crux 7: is data, not size, the active constraint?
//!
//! **One side** (the reading of Hoffmann et al. 2022, "Training Compute-Optimal Large Language
//! Models", that spread after Chinchilla): under the Chinchilla fit L(N, D) = E + A/N^alpha +
//! B/D^beta, the data term B/D^beta dominates the loss of the large models of 2022 (GPT-3 175B on
//! 300B tokens, Gopher 280B/300B, MT-NLG 530B/270B, PaLM 540B/780B; Chinchilla 70B/1.4T for
//! contrast), so those models are wastefully big and more parameters buy almost nothing: data is the
//! constraint. **Other side**: the Approach 3 parameters are an estimate, printed rounded, and a
//! refit of the same points (Besiroglu et al. 2024, Epoch AI, "Chinchilla Scaling: A replication
//! attempt") finds different exponents; conclusions that rest on the split of the loss into terms,
//! or on the compute-optimal tokens-per-parameter ratio, may not survive a change of fit.
//!
//! **Model.** Each condition is a (parameter set, model) pair. Parameter sets: Hoffmann et al.'s
//! Approach 3 as printed (E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28) and unrounded;
//! Besiroglu et al.'s refit as printed; Muennighoff et al. 2023's (used here in the plain Chinchilla
//! form, every token fresh); and a fit made here (`fit-epoch`): Hoffmann et al.'s Approach 3
//! procedure (summed Huber loss, delta 1e-3, on log loss; L-BFGS from 4,500 starts) on Epoch's
//! digitisation of Hoffmann et al.'s Figure 4 (`data_file`, five highest losses dropped as Epoch do).
//! Where that file is not on the machine, the fit is made instead on planted data
//! (`fit-synthetic`: 250 runs drawn from Besiroglu et al.'s law with log-noise 0.005). That fit
//! checks the machinery, not the crux: it is kept in the metrics (its rows have `planted = true`),
//! left out of claims (2) to (4), and claim (5) is then not declared.
//!
//! **Metrics** per (set, model), at the model's training compute C = 6ND: the loss and its model
//! and data terms; `data_share` = data / (model + data); `param_gain_share` =
//! alpha model / (alpha model + beta data), the share of the loss reduction per doubling that comes
//! from parameters (0.5 exactly on the compute-optimal frontier); `size_ratio` = N / N_opt(C);
//! `tokens_per_param_opt` = D_opt(C) / N_opt(C); `excess_loss` = L(N, D) - L(N_opt, D_opt);
//! `compute_efficiency` = C_opt(L(N, D)) / C, where C_opt(L) is the least compute at which a
//! compute-optimal split reaches loss L (closed form on the frontier). Per set,
//! on the row `model = frontier`: alpha, beta, E, A, B, `a_opt` = beta / (alpha + beta) and
//! `reference_tokens_per_param_opt` at `reference_compute` (Chinchilla's 5.88e23 FLOPs). Conditions
//! also carry `row` (`model` or `frontier`), `large` (true for the four large 2022 models, GPT-3,
//! Gopher, MT-NLG and PaLM; Chinchilla is the contrast) and `planted` (true for the fit to planted
//! data), so that claims can select them.
//!
//! **Seeds and intervals.** The published sets are fixed numbers: there is nothing to resample, and
//! each seed measures the same value, so their intervals collapse to a point with n = seeds. For the
//! fitted set a seed is one independent bootstrap of `resamples_per_seed` resamples of the runs
//! (with replacement), each refitted by L-BFGS from the full-data best fit. Per seed, the metric
//! itself is the full-data estimate (the same every seed), and `<metric>_lo` and `<metric>_hi` are
//! the 2.5% and 97.5% percentiles of that seed's refits: the 95% bootstrap interval. A published set
//! reports `<metric>_lo` = `<metric>_hi` = the value (a fixed number has no sampling interval), so a
//! claim can read the same bound in every set. The framework's Student-t interval around the mean
//! of a bound over seeds is the Monte Carlo error of that bound, not an interval for the quantity.
//!
//! **Claims** (declared in `claims`; the framework judges each cell by its 95% CI against the
//! threshold, and a claim about every cell is refuted when any cell refutes it).
//! (1) `data-dominates-printed`: under `printed_set` (Hoffmann et al.'s printed parameters) the data
//! share exceeds 0.5 for each of the five models. Control: `printed_set = besiroglu`, Epoch's refit
//! of the same points, under which Chinchilla's data share is below 0.5.
//! (2) `data-dominates-refit`: the refit's lower bound `data_share_lo` exceeds 0.5 for the four
//! large models (only with Epoch's data; published sets print no covariance, so no interval can
//! be judged for them). Control: `drop_top = 0` (the fit keeps the five high-loss runs, which
//! raise beta). (3) `large-models-oversized-refit`: the refit's `size_ratio_lo` > 1 for the four
//! large models. Same control, expected not to flip: the audit calls this claim foregone. (4)
//! `optimal-ratio-differs`: the compute-optimal tokens per parameter at `reference_compute` under
//! Hoffmann et al.'s printed set divided by under Besiroglu et al.'s exceeds `ratio_factor`, per
//! seed. Control: `reference_compute = 1e20`, the middle of the budgets the Chinchilla runs span,
//! where two laws fitted to the same points should nearly agree. (5) `fit-excludes-printed-ratio`:
//! the refit's upper bound `reference_tokens_per_param_opt_hi` lies below the value under
//! `printed_set` (only with Epoch's data: a fit to planted data says nothing about the crux, so the
//! claim is not declared then). Control: `printed_set = besiroglu`, whose ratio the refit should
//! reproduce. (6) `fit-excludes-printed-ratio-blocks`: the same with the block bootstrap's upper
//! bound. Control: `block_decades = 0.001`, blocks so narrow that each holds one or two runs, so
//! the block bootstrap becomes the run bootstrap. (7) `large-models-wasteful-printed`: under
//! `printed_set`, `compute_efficiency` (the share of a model's compute that a compute-optimal split
//! needs to reach the same loss) is below 0.5 for the four large models. Control:
//! `printed_set = besiroglu`. (8) `stock-binds-after-2022`: `bind_decades_after_2022` > 0 for every
//! set and stock. Control: `text_stocks = [1.4e12]`, a stock the size of Chinchilla's training
//! set. (9) `repetition-keeps-most-value`: `repeated_compute_value` > 0.5 for every set and stock.
//! Control: `repeat_epochs = 16`.
//!
//! **The data half** (rows `row = stock`, one per set and stock of unique text in `text_stocks`;
//! by default Villalobos et al. 2024's estimate of the effective stock of public human text, 3e14
//! tokens with a 90% interval of 1e14 to 1e15). Muennighoff et al.'s data-constrained law with
//! their repetition constants (R_D* = 15.39, R_N* = 5.31), carried to every set. `bind_compute`:
//! the compute C at which the compute-optimal D_opt(C) equals the stock, and
//! `bind_decades_after_2022` its log10 ratio to PaLM's budget. At the budget where fresh-data
//! training would use `repeat_epochs` stocks (`repeat_compute`): the loss with unlimited fresh
//! data, the best loss seeing each token once, and the best loss repeating the stock up to
//! `repeat_epochs` times; `repeated_compute_value` and `one_epoch_compute_value` express the last
//! two as the share of the budget that fresh-data training would need for the same loss;
//! `repeat_recovered` is the share of the stock limit's loss cost that repeating wins back.
//!
//! **Resampling by compute budget, and an out-of-sample check** (the fit only). Hoffmann et al.
//! trained their runs in groups of one compute budget, whose errors need not be independent. Beside
//! the run bootstrap, each seed also runs a *block* bootstrap: runs are grouped by training compute
//! into bins of `block_decades` decades and whole bins are resampled (`<metric>_block_lo`,
//! `_block_hi`). And the fit is made again, from the same 4,500 starts, on the runs below
//! `holdout_compute` only, to predict the losses of the runs at or above it: `holdout_runs`,
//! `holdout_rel_error` (mean |predicted - observed| / observed), `holdout_bias` (mean signed
//! relative error) and `holdout_coverage`, the share of held-out losses inside the 95% percentile
//! interval of the prediction over a run bootstrap of the held-in fit (an interval for the mean
//! law, not for a single run's noise, so a low coverage says the parameter uncertainty is small
//! beside the run-to-run scatter).

use cruxlab_core::claim::{Claim, Control, Direction, Effect, at};
use cruxlab_core::{ArtifactKey, Artifacts, Experiment, PlotSpec, VerdictKind};
use cruxlab_scaling::fit::{compute_blocks, percentile_interval};
use cruxlab_scaling::observations::drop_highest_losses;
use cruxlab_scaling::published;
use cruxlab_scaling::synthetic::Design;
use cruxlab_scaling::{
    Bootstrap, BootstrapOptions, Columns, ComputeOptimal, DataConstrained, FLOPS_PER_PARAM_TOKEN,
    HuberFit, HuberObjective, LbfgsOptions, LogParams, ParameterSet, ScalingLaw, TokenColumn,
    hoffmann_grid, parse_csv,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::seeding::derive_seed;

pub struct Scaling;

/// The five models of the crux: (name, parameters, training tokens).
pub const MODELS: [(&str, f64, f64); 5] = [
    ("GPT-3", 175e9, 300e9),
    ("Gopher", 280e9, 300e9),
    ("MT-NLG", 530e9, 270e9),
    ("Chinchilla", 70e9, 1.4e12),
    ("PaLM", 540e9, 780e9),
];

/// The model the crux contrasts with the four large ones (`large = false`).
const CONTRAST: &str = "Chinchilla";
/// The row that carries a parameter set's own metrics.
const FRONTIER: &str = "frontier";
/// The `row` of the five models' conditions.
const MODEL_ROW: &str = "model";
/// The `row` of the data-constrained half: one per (set, stock of text).
const STOCK_ROW: &str = "stock";
/// The largest training compute of the five 2022 models (PaLM's, C = 6ND).
fn largest_2022_compute() -> f64 {
    MODELS
        .iter()
        .map(|(_, n, d)| FLOPS_PER_PARAM_TOKEN * n * d)
        .fold(0.0, f64::max)
}
/// The set id of the fit made here.
const FIT: &str = "fit";
const FIT_EPOCH: &str = "fit-epoch";
/// How `data_file` names a file in the lab's reference data folder ([`cruxlab_core::reference`]).
const REFERENCE_PREFIX: &str = "shared:";
/// Epoch's digitised Chinchilla points, inside the reference data folder.
const CHINCHILLA_POINTS: &str = "chinchilla/svg_extracted_data.csv";
const FIT_SYNTHETIC: &str = "fit-synthetic";
/// Model-row metrics that get interval bounds (`_lo`, `_hi`).
const BOUNDED: [&str; 6] = [
    "data_share",
    "param_gain_share",
    "size_ratio",
    "tokens_per_param_opt",
    "excess_loss",
    "compute_efficiency",
];
/// Stock-row metrics that get interval bounds.
const STOCK_BOUNDED: [&str; 3] = [
    "bind_compute",
    "bind_decades_after_2022",
    "repeated_compute_value",
];
/// Frontier-row metrics that get interval bounds.
const FRONTIER_BOUNDED: [&str; 5] = [
    "alpha",
    "beta",
    "E",
    "a_opt",
    "reference_tokens_per_param_opt",
];
/// Frontier-row metrics: the standard errors of alpha, beta and E (published, or the SD of the
/// fit's bootstrap replicates).
const STANDARD_ERRORS: [&str; 3] = ["alpha_se", "beta_se", "E_se"];

fn standard_error_metrics(se: Option<&ScalingLaw>) -> Vec<(&'static str, f64)> {
    let v = se.map_or([f64::NAN; 3], |s| [s.alpha, s.beta, s.e]);
    STANDARD_ERRORS.into_iter().zip(v).collect()
}
/// Frontier-row metrics of the fit only.
const CORR_ALPHA_BETA: &str = "corr_alpha_beta";
const FIT_OBJECTIVE: &str = "fit_objective";
const FIT_RUNS: &str = "fit_runs";
/// The published set Hoffmann et al.'s printed parameters, and Epoch's refit of the same points.
const HOFFMANN_PRINTED: &str = "hoffmann-printed";
const BESIROGLU: &str = "besiroglu";

/// The names of a bounded metric's interval ends.
fn lo(metric: &str) -> String {
    format!("{metric}_lo")
}

fn hi(metric: &str) -> String {
    format!("{metric}_hi")
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Seeds: for the fitted set, independent bootstraps of `resamples_per_seed` resamples each.
    pub seeds: u64,
    /// Master seed from which every bootstrap stream is derived.
    pub master_seed: u64,
    /// Parameter sets: built-in ids (`cruxlab scaling sets`) and/or "fit".
    pub sets: Vec<String>,
    /// Training runs to fit. `shared:<path>` names a file in the lab's reference data folder
    /// (`$CRUXLAB_DATA`, else `shared/data` beside the project; the default is Epoch's digitised
    /// Chinchilla points there): when it is absent the run says so on stderr and fits planted data.
    /// Any other non-empty value is a CSV path (relative to the working directory) that must be
    /// readable. `""` fits planted data only.
    pub data_file: String,
    pub n_col: String,
    /// Column of training FLOPs (D = C / 6N).
    pub c_col: String,
    pub loss_col: String,
    /// Highest losses dropped before fitting.
    pub drop_top: u64,
    /// Bootstrap resamples per seed.
    pub resamples_per_seed: u64,
    /// Width, in decades of training compute, of the blocks the block bootstrap resamples whole
    /// (runs of one compute budget share their errors).
    pub block_decades: f64,
    /// Out-of-sample check: the fit is made again on the runs below this training compute (FLOPs)
    /// and predicts the losses of the runs at or above it.
    pub holdout_compute: f64,
    /// Budget at which the sets' compute-optimal tokens per parameter are compared (FLOPs).
    pub reference_compute: f64,
    /// Factor by which that ratio must differ between sets for claim (4).
    pub ratio_factor: f64,
    /// The built-in set that claims (1), (5) and (7) read as "the published Chinchilla fit".
    pub printed_set: String,
    /// Stocks of unique high-quality text (tokens) for the data-constrained half: by default
    /// Villalobos et al. 2024's estimate of the effective stock of public human text, its median
    /// (3e14) and the ends of its 90% interval (1e14, 1e15).
    pub text_stocks: Vec<f64>,
    /// The most epochs over a stock that the repeated plan may use (Muennighoff et al.: up to 4
    /// are nearly as good as fresh data).
    pub repeat_epochs: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Condition {
    pub set: String,
    pub model: String,
    /// `model` for the five models, `frontier` for the row of the set's own metrics.
    pub row: String,
    /// One of the four large 2022 models (not Chinchilla, not the frontier row).
    pub large: bool,
    /// The fit to planted data (made when Epoch's file is absent): no claim reads it.
    pub planted: bool,
    /// Training compute C = 6ND of the model (the reference compute on `frontier` rows, 0 on
    /// `stock` rows).
    pub compute: f64,
    /// Unique tokens of the stock on `stock` rows; 0 on the others.
    pub stock: f64,
}

/// The full-data fit and the runs it was made on.
struct FullFit {
    objective: HuberObjective,
    fit: HuberFit,
}

/// What the full-data fit is a pure function of: the fitted set's label, the data file's text
/// (not its path), the columns, how many top-loss runs are dropped, and the master seed (planted
/// data are drawn from it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct FitInputs {
    label: String,
    data: Option<String>,
    n_col: String,
    c_col: String,
    loss_col: String,
    drop_top: u64,
    master_seed: u64,
}

/// What one seed's bootstrap is a pure function of: the fit and its own seed and resample count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct BootstrapInputs {
    fit: FitInputs,
    seed: u64,
    resamples: u64,
}

/// The block bootstrap of one seed: the run bootstrap's inputs and the block width.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct BlockBootstrapInputs {
    bootstrap: BootstrapInputs,
    block_decades: f64,
}

/// The fit made again on the runs below `holdout_compute` only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct HoldoutInputs {
    fit: FitInputs,
    holdout_compute: f64,
}

/// One seed's bootstrap of the held-in fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct HoldoutBootstrapInputs {
    holdout: HoldoutInputs,
    seed: u64,
    resamples: u64,
}

const FULL_FIT: &str = "huber-fit";
const BOOTSTRAP: &str = "bootstrap";
const BLOCK_BOOTSTRAP: &str = "block-bootstrap";
const HOLDOUT_FIT: &str = "holdout-fit";
const HOLDOUT_BOOTSTRAP: &str = "holdout-bootstrap";
/// Frontier-row metrics of the out-of-sample check (the fit only).
const HOLDOUT_METRICS: [&str; 4] = [
    "holdout_runs",
    "holdout_rel_error",
    "holdout_bias",
    "holdout_coverage",
];

/// The names of a bounded metric's block-bootstrap interval ends.
fn block_lo(metric: &str) -> String {
    format!("{metric}_block_lo")
}

fn block_hi(metric: &str) -> String {
    format!("{metric}_block_hi")
}

impl Scaling {
    /// The file `data_file` names: a reference file where it is found, a user's path as given;
    /// `None` for `""` and for a reference file that is not on this machine.
    fn data_path(config: &Config) -> Option<std::path::PathBuf> {
        match config.data_file.strip_prefix(REFERENCE_PREFIX) {
            Some(relative) => cruxlab_core::reference::locate(relative),
            None if config.data_file.is_empty() => None,
            None => Some(config.data_file.clone().into()),
        }
    }

    /// The text of the runs to fit (`None`: the fit is made on planted data).
    fn data_text(config: &Config) -> Option<String> {
        Self::data_path(config).and_then(|p| std::fs::read_to_string(p).ok())
    }

    fn fit_label(config: &Config) -> &'static str {
        if Self::data_text(config).is_some() {
            FIT_EPOCH
        } else {
            FIT_SYNTHETIC
        }
    }

    fn columns(config: &Config) -> Columns {
        Columns {
            n: config.n_col.clone(),
            tokens: TokenColumn::Compute(config.c_col.clone()),
            loss: config.loss_col.clone(),
        }
    }

    fn fit_inputs(config: &Config, label: &str) -> FitInputs {
        let synthetic = label == FIT_SYNTHETIC;
        FitInputs {
            label: label.to_owned(),
            // Planted data depend on the master seed alone.
            data: (!synthetic).then(|| Self::data_text(config)).flatten(),
            n_col: config.n_col.clone(),
            c_col: config.c_col.clone(),
            loss_col: config.loss_col.clone(),
            drop_top: if synthetic { 0 } else { config.drop_top },
            master_seed: config.master_seed,
        }
    }

    fn fit_key(config: &Config, label: &str) -> ArtifactKey {
        ArtifactKey::new(FULL_FIT, &Self::fit_inputs(config, label))
    }

    fn bootstrap_key(config: &Config, label: &str, seed: u64) -> ArtifactKey {
        ArtifactKey::new(
            BOOTSTRAP,
            &BootstrapInputs {
                fit: Self::fit_inputs(config, label),
                seed,
                resamples: config.resamples_per_seed,
            },
        )
    }

    fn block_bootstrap_key(config: &Config, label: &str, seed: u64) -> ArtifactKey {
        ArtifactKey::new(
            BLOCK_BOOTSTRAP,
            &BlockBootstrapInputs {
                bootstrap: BootstrapInputs {
                    fit: Self::fit_inputs(config, label),
                    seed,
                    resamples: config.resamples_per_seed,
                },
                block_decades: config.block_decades,
            },
        )
    }

    fn holdout_inputs(config: &Config, label: &str) -> HoldoutInputs {
        HoldoutInputs {
            fit: Self::fit_inputs(config, label),
            holdout_compute: config.holdout_compute,
        }
    }

    fn holdout_bootstrap_key(config: &Config, label: &str, seed: u64) -> ArtifactKey {
        ArtifactKey::new(
            HOLDOUT_BOOTSTRAP,
            &HoldoutBootstrapInputs {
                holdout: Self::holdout_inputs(config, label),
                seed,
                resamples: config.resamples_per_seed,
            },
        )
    }

    /// The runs a holdout key names, split at its compute: (fitted on, held out).
    fn holdout_runs(
        inputs: &HoldoutInputs,
    ) -> Option<(
        Vec<cruxlab_scaling::Observation>,
        Vec<cruxlab_scaling::Observation>,
    )> {
        let runs = Self::runs_of(&inputs.fit)?;
        Some(
            runs.into_iter()
                .partition(|r| 6.0 * r.n * r.d < inputs.holdout_compute),
        )
    }

    /// The held-in fit, from the same 4,500 starts as the full fit (`None` when there is
    /// nothing to hold out or to fit).
    fn build_holdout_fit(inputs: &HoldoutInputs) -> Vec<u8> {
        let fit = Self::holdout_runs(inputs)
            .filter(|(fitted, held)| !fitted.is_empty() && !held.is_empty())
            .and_then(|(fitted, _)| {
                HuberFit::fit(
                    &HuberObjective::new(&fitted),
                    &hoffmann_grid(),
                    &LbfgsOptions::default(),
                )
                .ok()
            });
        serde_json::to_vec(&fit).expect("a fit serializes")
    }

    /// The runs a fit key names.
    fn runs_of(inputs: &FitInputs) -> Option<Vec<cruxlab_scaling::Observation>> {
        if inputs.label == FIT_SYNTHETIC {
            return Some(
                Design::chinchilla_like().draw(&ParameterSet::besiroglu().law, inputs.master_seed),
            );
        }
        let columns = Columns {
            n: inputs.n_col.clone(),
            tokens: TokenColumn::Compute(inputs.c_col.clone()),
            loss: inputs.loss_col.clone(),
        };
        let runs = parse_csv(inputs.data.as_ref()?, &columns).ok()?;
        Some(drop_highest_losses(&runs, inputs.drop_top as usize))
    }

    /// Hoffmann et al.'s fit from 4,500 starts to the runs `inputs` name (`None` when the data
    /// cannot be read or fitted), as stored: the fit's JSON.
    fn build_fit(inputs: &FitInputs) -> Vec<u8> {
        let fit = Self::runs_of(inputs).and_then(|runs| {
            let objective = HuberObjective::new(&runs);
            HuberFit::fit(&objective, &hoffmann_grid(), &LbfgsOptions::default()).ok()
        });
        serde_json::to_vec(&fit).expect("a fit serializes")
    }

    /// The stored full-data fit and the objective it minimised.
    fn full_fit(artifacts: &Artifacts, key: &ArtifactKey) -> Option<FullFit> {
        let fit: Option<HuberFit> =
            serde_json::from_slice(artifacts.get(key)).expect("a stored fit reads back");
        let inputs: FitInputs = serde_json::from_str(&key.inputs).expect("a fit key reads back");
        Some(FullFit {
            objective: HuberObjective::new(&Self::runs_of(&inputs)?),
            fit: fit?,
        })
    }

    /// One seed's bootstrap of the fitted set (sequential: the stage builds seeds in parallel).
    fn build_bootstrap(key: &ArtifactKey, fit: &Artifacts) -> Vec<u8> {
        let inputs: BootstrapInputs =
            serde_json::from_str(&key.inputs).expect("a bootstrap key reads back");
        let fit_key = ArtifactKey::new(FULL_FIT, &inputs.fit);
        let boot = Self::full_fit(fit, &fit_key).map(|full| {
            Bootstrap::run_sequential(
                &full.objective,
                &full.fit.params,
                &BootstrapOptions {
                    resamples: inputs.resamples as usize,
                    seed: derive_seed(inputs.fit.master_seed, &[inputs.seed]),
                },
                &LbfgsOptions::default(),
            )
        });
        serde_json::to_vec(&boot).expect("a bootstrap serializes")
    }
}

impl Scaling {
    /// One seed's block bootstrap of the fitted set.
    fn build_block_bootstrap(key: &ArtifactKey, fit: &Artifacts) -> Vec<u8> {
        let inputs: BlockBootstrapInputs =
            serde_json::from_str(&key.inputs).expect("a block bootstrap key reads back");
        let fit_key = ArtifactKey::new(FULL_FIT, &inputs.bootstrap.fit);
        let boot = Self::full_fit(fit, &fit_key).and_then(|full| {
            let runs = Self::runs_of(&inputs.bootstrap.fit)?;
            let blocks = compute_blocks(&runs, inputs.block_decades);
            Some(Bootstrap::run_blocks_sequential(
                &full.objective,
                &full.fit.params,
                &blocks,
                &BootstrapOptions {
                    resamples: inputs.bootstrap.resamples as usize,
                    // A stream of its own, apart from the run bootstrap's.
                    seed: derive_seed(
                        inputs.bootstrap.fit.master_seed,
                        &[inputs.bootstrap.seed, 1],
                    ),
                },
                &LbfgsOptions::default(),
            ))
        });
        serde_json::to_vec(&boot).expect("a bootstrap serializes")
    }

    /// One seed's run bootstrap of the held-in fit.
    fn build_holdout_bootstrap(key: &ArtifactKey, needs: &Artifacts) -> Vec<u8> {
        let inputs: HoldoutBootstrapInputs =
            serde_json::from_str(&key.inputs).expect("a holdout bootstrap key reads back");
        let fit: Option<HuberFit> =
            serde_json::from_slice(needs.get(&ArtifactKey::new(HOLDOUT_FIT, &inputs.holdout)))
                .expect("a stored fit reads back");
        let boot = fit
            .zip(Self::holdout_runs(&inputs.holdout))
            .map(|(fit, (fitted, _))| {
                Bootstrap::run_sequential(
                    &HuberObjective::new(&fitted),
                    &fit.params,
                    &BootstrapOptions {
                        resamples: inputs.resamples as usize,
                        seed: derive_seed(inputs.holdout.fit.master_seed, &[inputs.seed, 2]),
                    },
                    &LbfgsOptions::default(),
                )
            });
        serde_json::to_vec(&boot).expect("a bootstrap serializes")
    }

    /// The out-of-sample check of one seed: how well the held-in fit predicts the held-out runs'
    /// losses (mean relative error and bias), and the share of held-out losses inside the 95%
    /// percentile interval of the prediction over the held-in fit's bootstrap replicates. NaN
    /// when there is nothing to hold out.
    fn holdout_metrics(config: &Config, set: &str, seed: u64, artifacts: &Artifacts) -> [f64; 4] {
        let inputs = Self::holdout_inputs(config, set);
        let fit: Option<HuberFit> =
            serde_json::from_slice(artifacts.get(&ArtifactKey::new(HOLDOUT_FIT, &inputs)))
                .expect("a stored fit reads back");
        let boot: Option<Bootstrap> =
            serde_json::from_slice(artifacts.get(&Self::holdout_bootstrap_key(config, set, seed)))
                .expect("a stored bootstrap reads back");
        let (Some(fit), Some(boot), Some((_, held))) = (fit, boot, Self::holdout_runs(&inputs))
        else {
            return [0.0, f64::NAN, f64::NAN, f64::NAN];
        };
        let law = fit.law();
        let laws: Vec<ScalingLaw> = boot.replicates.iter().map(|p| p.to_law()).collect();
        let (mut error, mut bias, mut covered) = (0.0, 0.0, 0usize);
        for run in &held {
            let relative = (law.loss(run.n, run.d) - run.loss) / run.loss;
            error += relative.abs();
            bias += relative;
            let predicted: Vec<f64> = laws.iter().map(|l| l.loss(run.n, run.d)).collect();
            if let Some((low, high)) = percentile_interval(&predicted, 0.95)
                && (low..=high).contains(&run.loss)
            {
                covered += 1;
            }
        }
        let k = held.len() as f64;
        [k, error / k, bias / k, covered as f64 / k]
    }
}

/// The model-row metrics of one law for one model.
fn model_metrics(law: &ScalingLaw, n: f64, d: f64) -> Vec<(&'static str, f64)> {
    let t = law.terms(n, d);
    let frontier = ComputeOptimal::new(law);
    let compute = 6.0 * n * d;
    let best = frontier.allocate(law, compute);
    vec![
        ("loss", t.loss),
        ("model_term", t.model),
        ("data_term", t.data),
        ("data_share", t.data_share()),
        ("param_gain_share", t.parameter_gain_share(law)),
        ("size_ratio", n / best.n),
        ("tokens_per_param_opt", best.tokens_per_param),
        ("excess_loss", t.loss - best.terms.loss),
        (
            "compute_efficiency",
            frontier.compute_for_loss(law, t.loss) / compute,
        ),
    ]
}

/// The stock-row metrics of one law for a stock of `unique_tokens`, with Muennighoff et al.'s
/// repetition constants (published with their own law; carried to the other sets).
fn stock_metrics(law: &ScalingLaw, unique_tokens: f64, epochs: f64) -> Vec<(&'static str, f64)> {
    let repetition = ParameterSet::muennighoff()
        .repetition
        .expect("Muennighoff et al.'s set carries its repetition constants");
    let limit = DataConstrained::new(*law, repetition).stock_limit(unique_tokens, epochs);
    vec![
        ("bind_compute", limit.bind_compute),
        (
            "bind_decades_after_2022",
            (limit.bind_compute / largest_2022_compute()).log10(),
        ),
        ("repeat_compute", limit.compute),
        ("loss_fresh", limit.loss_fresh),
        ("loss_one_epoch", limit.loss_one_epoch),
        ("loss_repeated", limit.loss_repeated),
        ("epochs_repeated", limit.epochs_repeated),
        ("repeat_recovered", limit.recovered()),
        ("repeated_compute_value", limit.repeated_compute_value),
        ("one_epoch_compute_value", limit.one_epoch_compute_value),
    ]
}

/// The frontier-row metrics of one law.
fn frontier_metrics(law: &ScalingLaw, reference: f64) -> Vec<(&'static str, f64)> {
    let frontier = ComputeOptimal::new(law);
    vec![
        ("alpha", law.alpha),
        ("beta", law.beta),
        ("E", law.e),
        ("A", law.a),
        ("B", law.b),
        ("a_opt", frontier.a),
        (
            "reference_tokens_per_param_opt",
            frontier.allocate(law, reference).tokens_per_param,
        ),
    ]
}

fn metrics_of(config: &Config, c: &Condition, law: &ScalingLaw) -> Vec<(&'static str, f64)> {
    if c.model == FRONTIER {
        return frontier_metrics(law, config.reference_compute);
    }
    if c.row == STOCK_ROW {
        return stock_metrics(law, c.stock, config.repeat_epochs);
    }
    let (_, n, d) =
        MODELS
            .iter()
            .find(|m| m.0 == c.model)
            .copied()
            .unwrap_or(("", f64::NAN, f64::NAN));
    model_metrics(law, n, d)
}

impl Experiment for Scaling {
    type Config = Config;
    type Condition = Condition;

    fn id(&self) -> &'static str {
        "scaling"
    }

    fn claim(&self) -> &'static str {
        "Under the Chinchilla fit the data term dominates the loss of the large 2022 models: they are wastefully big and data, not size, is the constraint."
    }

    fn model(&self) -> &'static str {
        "The Chinchilla form L(N, D) = E + A/N^alpha + B/D^beta, evaluated for GPT-3 (175B parameters, 300B tokens), Gopher \
(280B/300B), MT-NLG (530B/270B), Chinchilla (70B/1.4T) and PaLM (540B/780B) under each parameter set: Hoffmann et al. \
2022 Approach 3 as printed and unrounded, Besiroglu et al. 2024 (Epoch's refit) as printed, Muennighoff et al. 2023 (in \
the plain form, all tokens fresh), and a fit made here with Hoffmann et al.'s procedure (summed Huber loss, delta 1e-3, \
on log loss; L-BFGS from 4,500 starts) on Epoch's digitised Chinchilla points (fit-epoch), or, where that file is \
absent, on 250 planted runs drawn from Besiroglu et al.'s law with log-noise 0.005 (fit-synthetic, which \
checks the machinery only and no claim reads it). \
Per model, at its compute C = 6ND: the loss, its model and data terms, the data term's share of the reducible loss, the \
parameters' share of the marginal gain per doubling (0.5 on the compute-optimal frontier), N / N_opt(C), the \
compute-optimal tokens per parameter D_opt/N_opt, and the loss lost to a non-optimal split. Per set (row frontier): \
the parameters, a_opt = beta/(alpha+beta) and the compute-optimal tokens per parameter at the reference compute. \
Published sets are fixed numbers, so every seed measures the same value and their intervals collapse (n = seeds). For \
the fit, each seed is an independent bootstrap (resamples of the runs, each refitted from the full-data fit): the \
metric is the full-data estimate, and <metric>_lo / _hi are the seed's 2.5% and 97.5% bootstrap percentiles (for a \
published set, the value itself); \
the t-interval shown around their mean is the Monte Carlo error of those bounds. Each seed also runs a block bootstrap \
(whole bins of block_decades decades of training compute resampled; <metric>_block_lo / _block_hi), and the fit is made \
again on the runs below holdout_compute to predict the held-out runs' losses (holdout_rel_error, holdout_bias, and \
holdout_coverage: the share inside the 95% interval of the prediction over that fit's run bootstrap)."
    }

    fn default_config(&self, quick: bool) -> Config {
        let base = Config {
            seeds: 10,
            master_seed: 2022,
            sets: ParameterSet::builtin()
                .iter()
                .map(|s| s.id.to_owned())
                .chain([FIT.to_owned()])
                .collect(),
            data_file: format!("{REFERENCE_PREFIX}{CHINCHILLA_POINTS}"),
            n_col: "Model Size".into(),
            c_col: "Training FLOP".into(),
            loss_col: "loss".into(),
            drop_top: 5,
            resamples_per_seed: 200,
            block_decades: 0.25,
            holdout_compute: 1.5e21,
            reference_compute: 5.88e23,
            ratio_factor: 2.0,
            printed_set: HOFFMANN_PRINTED.into(),
            text_stocks: vec![1e14, 3e14, 1e15],
            repeat_epochs: 4.0,
        };
        if quick {
            Config {
                seeds: 4,
                resamples_per_seed: 100,
                ..base
            }
        } else {
            base
        }
    }

    fn validate(&self, config: &Config) -> Result<(), (String, String)> {
        let err = |k: &str, m: String| Err((k.to_string(), m));
        if config.seeds < 2 {
            return err(
                "seeds",
                "needs at least 2 seeds for a confidence interval".into(),
            );
        }
        if config.sets.is_empty() {
            return err("sets", "must name at least one parameter set".into());
        }
        if let Some(s) = config
            .sets
            .iter()
            .find(|s| s.as_str() != FIT && ParameterSet::by_id(s).is_none())
        {
            let known: Vec<&str> = ParameterSet::builtin().iter().map(|s| s.id).collect();
            return err(
                "sets",
                format!("unknown set '{s}' (known: {}, {FIT})", known.join(", ")),
            );
        }
        if config.resamples_per_seed < 20 {
            return err(
                "resamples_per_seed",
                "must be at least 20 for 2.5% and 97.5% percentiles".into(),
            );
        }
        if !(config.block_decades.is_finite() && config.block_decades > 0.0) {
            return err(
                "block_decades",
                "must be a positive number of decades".into(),
            );
        }
        if !(config.holdout_compute.is_finite() && config.holdout_compute > 0.0) {
            return err(
                "holdout_compute",
                "must be a positive number of FLOPs".into(),
            );
        }
        if !(config.reference_compute.is_finite() && config.reference_compute > 0.0) {
            return err(
                "reference_compute",
                "must be a positive number of FLOPs".into(),
            );
        }
        if !(config.ratio_factor.is_finite() && config.ratio_factor > 1.0) {
            return err("ratio_factor", "must be greater than 1".into());
        }
        if config.text_stocks.is_empty()
            || config
                .text_stocks
                .iter()
                .any(|u| !(u.is_finite() && *u >= 1e6))
        {
            return err(
                "text_stocks",
                "must list at least one stock of at least 1e6 tokens".into(),
            );
        }
        if !(config.repeat_epochs.is_finite() && config.repeat_epochs > 1.0) {
            return err("repeat_epochs", "must be more than 1 epoch".into());
        }
        if ParameterSet::by_id(&config.printed_set).is_none() {
            let known: Vec<&str> = ParameterSet::builtin().iter().map(|s| s.id).collect();
            return err(
                "printed_set",
                format!(
                    "unknown built-in set '{}' (known: {})",
                    config.printed_set,
                    known.join(", ")
                ),
            );
        }
        // A file the user named must be there and parse, and so must a reference file that is
        // there: neither is a reason to fall back to planted data or to leave the fit unmeasured.
        if config.sets.iter().any(|s| s == FIT)
            && let Some(path) = Self::data_path(config)
        {
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) => {
                    return err(
                        "data_file",
                        format!(
                            "cannot read {}: {e} (name a readable CSV, `{REFERENCE_PREFIX}<path>` \
                             for the reference data folder, or \"\" to fit planted data only)",
                            path.display()
                        ),
                    );
                }
            };
            if let Err(e) = parse_csv(&text, &Self::columns(config)) {
                return err("data_file", format!("{}: {e}", path.display()));
            }
        }
        Ok(())
    }

    fn conditions(&self, config: &Config) -> Vec<Condition> {
        let mut out = Vec::new();
        for set in &config.sets {
            let set = if set == FIT {
                Self::fit_label(config).to_owned()
            } else {
                set.clone()
            };
            let planted = set == FIT_SYNTHETIC;
            for (model, n, d) in MODELS {
                out.push(Condition {
                    set: set.clone(),
                    model: model.into(),
                    row: MODEL_ROW.into(),
                    large: model != CONTRAST,
                    planted,
                    compute: 6.0 * n * d,
                    stock: 0.0,
                });
            }
            for &stock in &config.text_stocks {
                out.push(Condition {
                    set: set.clone(),
                    model: format!("stock {stock:e}"),
                    row: STOCK_ROW.into(),
                    large: false,
                    planted,
                    // Where the stock binds depends on the law (the fit's is known only once
                    // fitted): the metric `bind_compute` carries it.
                    compute: 0.0,
                    stock,
                });
            }
            out.push(Condition {
                set,
                model: FRONTIER.into(),
                row: FRONTIER.into(),
                large: false,
                planted,
                compute: config.reference_compute,
                stock: 0.0,
            });
        }
        out
    }

    fn artifacts(&self, config: &Config, c: &Condition, seed: u64) -> Vec<ArtifactKey> {
        if ParameterSet::by_id(&c.set).is_some() {
            return Vec::new();
        }
        let mut keys = vec![
            Self::fit_key(config, &c.set),
            Self::bootstrap_key(config, &c.set, seed),
            Self::block_bootstrap_key(config, &c.set, seed),
        ];
        if c.model == FRONTIER {
            keys.push(ArtifactKey::new(
                HOLDOUT_FIT,
                &Self::holdout_inputs(config, &c.set),
            ));
            keys.push(Self::holdout_bootstrap_key(config, &c.set, seed));
        }
        keys
    }

    fn artifact_needs(&self, _config: &Config, key: &ArtifactKey) -> Vec<ArtifactKey> {
        fn read<T: serde::de::DeserializeOwned>(key: &ArtifactKey) -> T {
            serde_json::from_str(&key.inputs)
                .unwrap_or_else(|e| panic!("a {} key reads back: {e}", key.kind))
        }
        match key.kind.as_str() {
            BOOTSTRAP => vec![ArtifactKey::new(
                FULL_FIT,
                &read::<BootstrapInputs>(key).fit,
            )],
            BLOCK_BOOTSTRAP => vec![ArtifactKey::new(
                FULL_FIT,
                &read::<BlockBootstrapInputs>(key).bootstrap.fit,
            )],
            HOLDOUT_BOOTSTRAP => vec![ArtifactKey::new(
                HOLDOUT_FIT,
                &read::<HoldoutBootstrapInputs>(key).holdout,
            )],
            _ => Vec::new(),
        }
    }

    fn build_artifact(
        &self,
        _config: &Config,
        key: &ArtifactKey,
        needs: &Artifacts,
        _progress: &cruxlab_core::Progress,
    ) -> Vec<u8> {
        match key.kind.as_str() {
            FULL_FIT => {
                Self::build_fit(&serde_json::from_str(&key.inputs).expect("a fit key reads back"))
            }
            BLOCK_BOOTSTRAP => Self::build_block_bootstrap(key, needs),
            HOLDOUT_FIT => Self::build_holdout_fit(
                &serde_json::from_str(&key.inputs).expect("a holdout key reads back"),
            ),
            HOLDOUT_BOOTSTRAP => Self::build_holdout_bootstrap(key, needs),
            _ => Self::build_bootstrap(key, needs),
        }
    }

    fn measure(
        &self,
        config: &Config,
        c: &Condition,
        seed: u64,
        artifacts: &cruxlab_core::Artifacts,
    ) -> Vec<(String, f64)> {
        let bounded: &[&str] = if c.model == FRONTIER {
            &FRONTIER_BOUNDED
        } else if c.row == STOCK_ROW {
            &STOCK_BOUNDED
        } else {
            &BOUNDED
        };
        if let Some(set) = ParameterSet::by_id(&c.set) {
            // A published set has no sampling interval that carries its parameters' covariance
            // (Besiroglu et al. print standard errors but no covariance; the others print
            // points), so its bounds are NaN: no claim that reads a bound is judged on a point.
            // Its published standard errors, where it has them, are reported on its frontier row.
            let values = metrics_of(config, c, &set.law);
            let mut out: Vec<(String, f64)> =
                values.iter().map(|(k, x)| (k.to_string(), *x)).collect();
            // The frontier row's bounds stay the printed point: claim (5) compares the fit's
            // interval with the value a published set implies, not with an interval.
            for (name, x) in values.iter().filter(|(k, _)| bounded.contains(k)) {
                let bound = if c.model == FRONTIER { *x } else { f64::NAN };
                out.push((lo(name), bound));
                out.push((hi(name), bound));
            }
            for (name, x) in values.iter().filter(|(k, _)| bounded.contains(k)) {
                let bound = if c.model == FRONTIER { *x } else { f64::NAN };
                out.push((block_lo(name), bound));
                out.push((block_hi(name), bound));
            }
            if c.model == FRONTIER {
                let se = published::standard_errors(set.id);
                for (name, v) in standard_error_metrics(se.as_ref()) {
                    out.push((name.into(), v));
                }
            }
            return out;
        }
        let full = Self::full_fit(artifacts, &Self::fit_key(config, &c.set));
        let Some(full) = full.as_ref() else {
            // The data could not be read or fitted: every metric is "not applicable".
            let law = ParameterSet::besiroglu().law;
            return metrics_of(config, c, &law)
                .into_iter()
                .map(|(k, _)| (k.to_owned(), f64::NAN))
                .collect();
        };
        let mut out: Vec<(String, f64)> = metrics_of(config, c, &full.fit.law())
            .into_iter()
            .map(|(k, x)| (k.to_owned(), x))
            .collect();
        let boot: Bootstrap = serde_json::from_slice::<Option<Bootstrap>>(
            artifacts.get(&Self::bootstrap_key(config, &c.set, seed)),
        )
        .expect("a stored bootstrap reads back")
        .expect("a fit that exists has a bootstrap");
        let replicate_metrics: Vec<Vec<(&str, f64)>> = boot
            .replicates
            .iter()
            .map(|p: &LogParams| metrics_of(config, c, &p.to_law()))
            .collect();
        let blocked: Option<Bootstrap> =
            serde_json::from_slice(artifacts.get(&Self::block_bootstrap_key(config, &c.set, seed)))
                .expect("a stored bootstrap reads back");
        let block_metrics: Vec<Vec<(&str, f64)>> = blocked
            .iter()
            .flat_map(|b| &b.replicates)
            .map(|p: &LogParams| metrics_of(config, c, &p.to_law()))
            .collect();
        let interval = |replicates: &[Vec<(&str, f64)>], name: &str| {
            let values: Vec<f64> = replicates
                .iter()
                .filter_map(|m| m.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
                .collect();
            percentile_interval(&values, 0.95).unwrap_or((f64::NAN, f64::NAN))
        };
        for name in bounded {
            let (low, high) = interval(&replicate_metrics, name);
            out.push((lo(name), low));
            out.push((hi(name), high));
        }
        for name in bounded {
            let (low, high) = interval(&block_metrics, name);
            out.push((block_lo(name), low));
            out.push((block_hi(name), high));
        }
        if c.model == FRONTIER {
            out.push((
                CORR_ALPHA_BETA.into(),
                boot.correlation(|p| p.alpha, |p| p.beta)
                    .unwrap_or(f64::NAN),
            ));
            let holdout = Self::holdout_metrics(config, &c.set, seed, artifacts);
            for (name, v) in HOLDOUT_METRICS.iter().zip(holdout) {
                out.push((name.to_string(), v));
            }
            out.push((FIT_OBJECTIVE.into(), full.fit.objective));
            out.push((FIT_RUNS.into(), full.fit.n_points as f64));
            let sd = |f: fn(&ScalingLaw) -> f64| {
                let v: Vec<f64> = boot.replicates.iter().map(|p| f(&p.to_law())).collect();
                let m = v.iter().sum::<f64>() / v.len() as f64;
                (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt()
            };
            let se = ScalingLaw {
                e: sd(|l| l.e),
                a: sd(|l| l.a),
                b: sd(|l| l.b),
                alpha: sd(|l| l.alpha),
                beta: sd(|l| l.beta),
            };
            for (name, v) in standard_error_metrics(Some(&se)) {
                out.push((name.into(), v));
            }
        }
        out
    }

    fn metrics(&self, _config: &Config) -> Vec<String> {
        // The names as the measure code writes them: computed from any law.
        let law = ParameterSet::besiroglu().law;
        let (_, n, d) = MODELS[0];
        let mut names: Vec<String> = model_metrics(&law, n, d)
            .into_iter()
            .chain(frontier_metrics(&law, 1e20))
            .chain(stock_metrics(&law, 1e12, 4.0))
            .map(|(k, _)| k.to_owned())
            .collect();
        let bounded = || {
            BOUNDED
                .iter()
                .chain(&FRONTIER_BOUNDED)
                .chain(&STOCK_BOUNDED)
        };
        for name in bounded() {
            names.push(lo(name));
            names.push(hi(name));
        }
        for name in bounded() {
            names.push(block_lo(name));
            names.push(block_hi(name));
        }
        names.extend(HOLDOUT_METRICS.map(String::from));
        names.extend([CORR_ALPHA_BETA, FIT_OBJECTIVE, FIT_RUNS].map(String::from));
        names.extend(STANDARD_ERRORS.map(String::from));
        names
    }

    fn claims(&self, config: &Config) -> Vec<Claim> {
        let has = |set: &str| config.sets.iter().any(|s| s == set);
        let printed = config.printed_set.as_str();
        let fit_on_data = has(FIT) && Self::fit_label(config) == FIT_EPOCH;
        // Sets the crux is judged on: every published set, and the fit when made on Epoch's data.
        let judged = config.sets.iter().any(|s| s != FIT) || fit_on_data;
        let set = |id: &str| at(&[("set", json!(id))]);
        let model_rows = at(&[("row", json!(MODEL_ROW)), ("planted", json!(false))]);
        let frontier_rows = at(&[("row", json!(FRONTIER))]);
        // Controls, each a whole extra sweep of the quick config, shared between claims.
        let refit_as_printed = Control::new(
            &["printed_set=\"besiroglu\""],
            VerdictKind::Refuted,
            "Epoch's refit of the same points as the published fit: its beta (0.37) is larger, so \
             Chinchilla's data term falls below its model term, and the refit made here should \
             reproduce its tokens per parameter",
        );
        let keep_high_losses = Control::new(
            &["drop_top=0"],
            VerdictKind::Refuted,
            "the fit keeps the five high-loss runs (Epoch drop them), which raise beta and with it \
             the compute-optimal size and the data term's fall with D: the natural variation of \
             the data the config offers",
        );
        let in_data_budget = Control::new(
            &["reference_compute=1e20"],
            VerdictKind::Refuted,
            "at 1e20 FLOPs, the middle of the budgets the Chinchilla runs span, two laws fitted \
             to the same points extrapolate little and their optimal ratios should differ by \
             less than the factor",
        );
        let mut claims = Vec::new();
        if has(printed) {
            claims.push(
                Claim::new(
                    "data-dominates-printed",
                    format!(
                        "Under the published Chinchilla fit (set {printed}; Hoffmann et al.'s \
                         printed Approach 3 parameters by default), the data term B/D^beta exceeds \
                         the model term A/N^alpha (data share above 0.5) for all five models \
                         (GPT-3, Gopher, MT-NLG, Chinchilla, PaLM)."
                    ),
                    Effect::metric("data_share"),
                    Direction::Above,
                    0.5,
                )
                .filter([set(printed), model_rows.clone()].concat())
                .cells(&["model"])
                .control(refit_as_printed.clone())
                .plot("data_share.svg"),
            );
        }
        if fit_on_data {
            let refit_large = [
                set(FIT_EPOCH),
                model_rows.clone(),
                at(&[("large", json!(true))]),
            ]
            .concat();
            claims.push(
                Claim::new(
                    "data-dominates-refit",
                    "Under the refit of the Chinchilla points made here, the data term exceeds the \
                     model term for the four large 2022 models (GPT-3, Gopher, MT-NLG, PaLM) at \
                     the lower bound of the run bootstrap's 95% interval. (Published sets print \
                     no covariance, so no interval can be judged for them; claim (1) reads their \
                     points. Chinchilla is left out: on the compute-optimal frontier its data \
                     share is alpha / (alpha + beta) by definition.)",
                    Effect::metric(&lo("data_share")),
                    Direction::Above,
                    0.5,
                )
                .filter(refit_large.clone())
                .cells(&["model"])
                .control(keep_high_losses.clone())
                .plot("data_share.svg"),
            );
            claims.push(
                Claim::new(
                    "large-models-oversized-refit",
                    "Under the refit, GPT-3, Gopher, MT-NLG and PaLM are larger than \
                     compute-optimal for their training compute (N / N_opt(C) > 1) at the lower \
                     bound of the run bootstrap's 95% interval.",
                    Effect::metric(&lo("size_ratio")),
                    Direction::Above,
                    1.0,
                )
                .filter(refit_large)
                .cells(&["model"])
                .control(keep_high_losses)
                .plot("size_ratio.svg"),
            );
        }
        if has(HOFFMANN_PRINTED) && has(BESIROGLU) {
            claims.push(
                Claim::new(
                    "optimal-ratio-differs",
                    format!(
                        "The compute-optimal tokens per parameter at {:.3e} FLOPs (Chinchilla's \
                         budget by default) differs by more than a factor of {} between Hoffmann et \
                         al.'s printed parameters and Besiroglu et al.'s refit of the same points.",
                        config.reference_compute, config.ratio_factor
                    ),
                    Effect::ratio(
                        "reference_tokens_per_param_opt",
                        set(HOFFMANN_PRINTED),
                        set(BESIROGLU),
                    ),
                    Direction::Above,
                    1.0,
                )
                .margin(config.ratio_factor - 1.0)
                .filter(frontier_rows.clone())
                .control(in_data_budget)
                .plot("tokens_per_param_opt.svg"),
            );
        }
        if has(printed) && fit_on_data {
            let metric = hi("reference_tokens_per_param_opt");
            claims.push(
                Claim::new(
                    "fit-excludes-printed-ratio",
                    format!(
                        "Refitting the Chinchilla points gives a compute-optimal tokens-per-parameter \
                         ratio at {:.3e} FLOPs whose 95% bootstrap interval lies wholly below the one \
                         implied by the published fit (set {printed}).",
                        config.reference_compute
                    ),
                    Effect::contrast(&metric, set(FIT_EPOCH), set(printed)),
                    Direction::Below,
                    0.0,
                )
                .filter(frontier_rows.clone())
                .control(refit_as_printed)
                .plot("tokens_per_param_opt.svg"),
            );
            let metric = block_hi("reference_tokens_per_param_opt");
            claims.push(
                Claim::new(
                    "fit-excludes-printed-ratio-blocks",
                    format!(
                        "The same exclusion holds when the bootstrap resamples whole compute \
                         budgets (blocks of {} decades of training compute) instead of single runs.",
                        config.block_decades
                    ),
                    Effect::contrast(&metric, set(FIT_EPOCH), set(printed)),
                    Direction::Below,
                    0.0,
                )
                .filter(frontier_rows)
                .control(Control::new(
                    &["block_decades=0.001"],
                    VerdictKind::Supported,
                    "blocks a thousandth of a decade wide hold one or two digitised runs each: the \
                     block bootstrap becomes the run bootstrap, under which claim (5) holds",
                )),
            );
        }
        if has(printed) {
            claims.push(
                Claim::new(
                    "large-models-wasteful-printed",
                    format!(
                        "Under the published Chinchilla fit (set {printed}), GPT-3, Gopher, MT-NLG \
                         and PaLM are wastefully big: a compute-optimal split of their budget \
                         reaches their loss with less than half the compute (compute_efficiency \
                         below 0.5)."
                    ),
                    Effect::metric("compute_efficiency"),
                    Direction::Below,
                    0.5,
                )
                .filter(
                    [
                        set(printed),
                        model_rows.clone(),
                        at(&[("large", json!(true))]),
                    ]
                    .concat(),
                )
                .cells(&["model"])
                .control(Control::new(
                    &["printed_set=\"besiroglu\""],
                    VerdictKind::Refuted,
                    "Epoch's refit of the same points: its compute-optimal models are larger, so \
                     the large models waste less, and GPT-3 and PaLM should need more than half \
                     their compute on the frontier",
                ))
                .plot("compute_efficiency.svg"),
            );
        }
        if judged {
            let stock_rows = at(&[("row", json!(STOCK_ROW)), ("planted", json!(false))]);
            claims.push(
                Claim::new(
                    "stock-binds-after-2022",
                    "The stock of unique text did not bind the 2022 models: under every parameter \
                     set, the compute at which compute-optimal training needs more fresh tokens \
                     than the stock holds lies above the largest 2022 budget (PaLM's 2.5e24 \
                     FLOPs), for every stock estimate (log10 of the ratio above 0).",
                    Effect::metric("bind_decades_after_2022"),
                    Direction::Above,
                    0.0,
                )
                .filter(stock_rows.clone())
                .cells(&["set", "model"])
                .control(Control::new(
                    &["text_stocks=[1.4e12]"],
                    VerdictKind::Refuted,
                    "a stock the size of Chinchilla's own training set (1.4T tokens): \
                     compute-optimal training runs out of it below PaLM's budget",
                ))
                .plot("bind_decades_after_2022.svg"),
            );
            claims.push(
                Claim::new(
                    "repetition-keeps-most-value",
                    format!(
                        "Where the stock binds, repeating it for up to {} epochs keeps most of the \
                         budget's value: at the compute where fresh-data training would use {} \
                         stocks' worth of tokens, the best plan that repeats the stock reaches a \
                         loss that fresh data would reach with no less than half that compute \
                         (Muennighoff et al.'s law, their repetition constants carried to every \
                         set).",
                        config.repeat_epochs, config.repeat_epochs
                    ),
                    Effect::metric("repeated_compute_value"),
                    Direction::Above,
                    0.5,
                )
                .filter(stock_rows)
                .cells(&["set", "model"])
                .control(Control::new(
                    &["repeat_epochs=16"],
                    VerdictKind::Refuted,
                    "sixteen passes, where Muennighoff et al. find repeated tokens losing most of \
                     their value (R_D* about 15)",
                ))
                .plot("repeated_compute_value.svg"),
            );
        }
        claims
    }

    fn warnings(&self, config: &Config) -> Vec<String> {
        let fits = config.sets.iter().any(|s| s == FIT);
        match config.data_file.strip_prefix(REFERENCE_PREFIX) {
            Some(relative) if fits && Self::data_path(config).is_none() => vec![format!(
                "{relative} is not in the reference data folder {} (set {} to the folder that \
                 holds it): the fit is made on planted data, and the claims that need real \
                 data are skipped",
                cruxlab_core::reference::data_dir().display(),
                cruxlab_core::reference::DATA_ENV
            )],
            _ => Vec::new(),
        }
    }

    fn plots(&self, _config: &Config) -> Vec<PlotSpec> {
        let plot = |metric: &str, title: &str, y: &str| PlotSpec {
            file: format!("{metric}.svg"),
            title: title.into(),
            metric: metric.into(),
            y_label: y.into(),
            x: "compute".into(),
            x_label: "training compute C = 6ND of the model (FLOPs)".into(),
            log_x: true,
            series: vec!["set".into()],
            filter: vec![],
        };
        let stock_plot = |metric: &str, title: &str, y: &str| PlotSpec {
            x: "stock".into(),
            x_label: "stock of unique text (tokens)".into(),
            ..plot(metric, title, y)
        };
        vec![
            plot(
                "data_share",
                "Data term's share of the reducible loss, five 2022 models",
                "B/D^beta / (A/N^alpha + B/D^beta)",
            ),
            plot(
                "param_gain_share",
                "Parameters' share of the marginal gain per doubling",
                "alpha model / (alpha model + beta data)",
            ),
            plot(
                "size_ratio",
                "Model size relative to compute-optimal",
                "N / N_opt(C)",
            ),
            plot(
                "tokens_per_param_opt",
                "Compute-optimal tokens per parameter at each model's compute",
                "D_opt / N_opt",
            ),
            plot(
                "excess_loss",
                "Loss lost to a non-optimal split of the model's compute",
                "L(N, D) - L(N_opt, D_opt)",
            ),
            plot(
                "compute_efficiency",
                "Share of the model's compute a compute-optimal split needs for the same loss",
                "C_opt(L(N, D)) / C",
            ),
            stock_plot(
                "bind_decades_after_2022",
                "Where the stock of text binds, in decades above PaLM's budget",
                "log10(C at D_opt(C) = stock / 2.5e24 FLOPs)",
            ),
            stock_plot(
                "repeated_compute_value",
                "What repeating the stock is worth in fresh-data compute",
                "C_opt(L repeated) / C",
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    /// The claim ids `config` declares, after the framework's checks.
    fn check_claims(config: &Config) -> Vec<String> {
        cruxlab_core::checked_claims(&Scaling, config).unwrap_or_else(|err| panic!("{err}"))
    }

    /// A config whose data file exists (its content is not read before a fit is measured), so the
    /// fit is labelled `fit-epoch`.
    fn with_data(tag: &str) -> (Config, std::path::PathBuf) {
        let path =
            std::env::temp_dir().join(format!("cruxlab-scaling-{tag}-{}.csv", std::process::id()));
        std::fs::write(&path, "Model Size,Training FLOP,loss\n1e9,6e19,2.5\n").unwrap();
        let config = Config {
            data_file: path.to_string_lossy().into_owned(),
            ..Scaling.default_config(true)
        };
        (config, path)
    }

    #[test]
    fn claims_check_against_the_declared_metrics_and_conditions() {
        let all = [
            "data-dominates-printed",
            "data-dominates-refit",
            "large-models-oversized-refit",
            "optimal-ratio-differs",
            "fit-excludes-printed-ratio",
            "fit-excludes-printed-ratio-blocks",
            "large-models-wasteful-printed",
            "stock-binds-after-2022",
            "repetition-keeps-most-value",
        ];
        // The claims that need the fit on Epoch's points.
        let on_data = [
            "data-dominates-refit",
            "large-models-oversized-refit",
            "fit-excludes-printed-ratio",
            "fit-excludes-printed-ratio-blocks",
        ];
        let without_data: Vec<&str> = all
            .iter()
            .copied()
            .filter(|id| !on_data.contains(id))
            .collect();
        let (config, path) = with_data("claims");
        assert_eq!(Scaling::fit_label(&config), FIT_EPOCH);
        let ids = check_claims(&config);
        std::fs::remove_file(path).unwrap();
        assert_eq!(ids, all);
        // Without Epoch's file the fit is made on planted data: no claim reads it, and the claim
        // about the refit is not declared (nor its block version).
        for quick in [true, false] {
            let config = Config {
                data_file: String::new(),
                ..Scaling.default_config(quick)
            };
            assert_eq!(check_claims(&config), without_data);
        }
        let planted_only = Config {
            data_file: String::new(),
            sets: vec![FIT.into()],
            ..Scaling.default_config(true)
        };
        assert!(Scaling.claims(&planted_only).is_empty());
    }

    #[test]
    fn a_data_file_the_user_named_must_be_readable() {
        let config = Config {
            data_file: "/nonexistent/points.csv".into(),
            ..Scaling.default_config(true)
        };
        let (key, message) = Scaling.validate(&config).unwrap_err();
        assert_eq!(key, "data_file");
        assert!(message.contains("/nonexistent/points.csv"), "{message}");
        // Without the fitted set the file is not read, so it need not be there.
        let published = Config {
            sets: vec![HOFFMANN_PRINTED.into()],
            ..config
        };
        assert!(Scaling.validate(&published).is_ok());
    }

    #[test]
    fn an_absent_reference_file_is_a_warning_and_a_planted_fit() {
        let config = Config {
            data_file: format!("{REFERENCE_PREFIX}no/such/points.csv"),
            ..Scaling.default_config(true)
        };
        assert!(Scaling.validate(&config).is_ok());
        assert_eq!(Scaling::fit_label(&config), FIT_SYNTHETIC);
        let warnings = Scaling.warnings(&config);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("no/such/points.csv"),
            "{}",
            warnings[0]
        );
        assert!(warnings[0].contains("claims that need real data are skipped"));
        // Asking for planted data only is no surprise, so no warning.
        let planted = Config {
            data_file: String::new(),
            ..config
        };
        assert!(Scaling.warnings(&planted).is_empty());
        assert_eq!(Scaling::fit_label(&planted), FIT_SYNTHETIC);
    }

    #[test]
    fn the_default_data_file_is_found_from_any_working_directory() {
        // The default names the reference folder, not a path relative to the working directory.
        let config = Scaling.default_config(true);
        assert!(config.data_file.starts_with(REFERENCE_PREFIX));
        let found = Scaling::data_path(&config);
        let expected = cruxlab_core::reference::locate(CHINCHILLA_POINTS);
        assert_eq!(found, expected);
        if found.is_some() {
            assert_eq!(Scaling::fit_label(&config), FIT_EPOCH);
            assert!(Scaling.warnings(&config).is_empty());
        } else {
            assert_eq!(Scaling.warnings(&config).len(), 1);
        }
    }

    #[test]
    fn claims_are_declared_under_every_control() {
        let (main, path) = with_data("controls");
        let ids = check_claims(&main);
        for claim in Scaling.claims(&main) {
            for control in &claim.controls {
                let mut table = toml::Table::try_from(&main).unwrap();
                for set in &control.set {
                    let (key, v) = set.split_once('=').unwrap();
                    let value: toml::Table = toml::from_str(&format!("v = {v}")).unwrap();
                    table.insert(key.to_owned(), value["v"].clone());
                }
                let config: Config = table.try_into().unwrap();
                Scaling.validate(&config).unwrap();
                assert!(
                    check_claims(&config).contains(&claim.id),
                    "{} under {:?}",
                    claim.id,
                    control.set
                );
            }
        }
        std::fs::remove_file(path).unwrap();
        assert_eq!(ids.len(), 9);
    }

    #[test]
    fn published_sets_emit_declared_metrics_and_published_intervals() {
        let config = Scaling.default_config(true);
        let declared = Scaling.metrics(&config);
        for (i, m) in declared.iter().enumerate() {
            assert!(!declared[..i].contains(m), "{m} declared twice");
        }
        for c in Scaling
            .conditions(&config)
            .iter()
            .filter(|c| !c.set.starts_with("fit"))
        {
            let measured = cruxlab_core::measure_unit(&Scaling, &config, c, 0);
            for (name, _) in &measured {
                assert!(declared.contains(name), "{name} is not declared");
            }
            let value = |k: &str| measured.iter().find(|(n, _)| n == k).unwrap().1;
            let bounded: &[&str] = if c.row == FRONTIER {
                &FRONTIER_BOUNDED
            } else if c.row == STOCK_ROW {
                &STOCK_BOUNDED
            } else {
                &BOUNDED
            };
            for name in bounded {
                let (l, v, h) = (value(&lo(name)), value(name), value(&hi(name)));
                if c.row == FRONTIER {
                    // The printed point, which claim (5) compares the fit's interval with.
                    assert_eq!((l, h), (v, v), "{} {name}", c.set);
                } else {
                    // No interval that carries the parameters' covariance is published.
                    assert!(l.is_nan() && h.is_nan(), "{} {name}", c.set);
                }
            }
        }
    }

    #[test]
    fn conditions_cover_every_set_and_model() {
        let config = Config {
            sets: vec!["hoffmann-printed".into(), "besiroglu".into()],
            ..Scaling.default_config(true)
        };
        let conditions = Scaling.conditions(&config);
        // Per set: five models, three stocks of text, the frontier row.
        assert_eq!(conditions.len(), 18);
        assert_eq!(conditions[0].compute, 6.0 * 175e9 * 300e9);
        let stocks: Vec<f64> = conditions[5..8].iter().map(|c| c.stock).collect();
        assert_eq!(stocks, [1e14, 3e14, 1e15]);
        assert!(
            conditions[5..8]
                .iter()
                .all(|c| c.row == STOCK_ROW && !c.large)
        );
        assert_eq!(conditions[8].model, FRONTIER);
        assert_eq!(conditions[8].row, FRONTIER);
        let large: Vec<&str> = conditions[..9]
            .iter()
            .filter(|c| c.large)
            .map(|c| c.model.as_str())
            .collect();
        assert_eq!(large, ["GPT-3", "Gopher", "MT-NLG", "PaLM"]);
        assert!(conditions.iter().all(|c| !c.planted));
    }

    #[test]
    fn published_sets_measure_the_same_every_seed() {
        let config = Scaling.default_config(true);
        let c = Condition {
            set: "hoffmann-printed".into(),
            model: "GPT-3".into(),
            row: MODEL_ROW.into(),
            large: true,
            planted: false,
            compute: 0.0,
            stock: 0.0,
        };
        let a = cruxlab_core::measure_unit(&Scaling, &config, &c, 0);
        let bits = |m: &[(String, f64)]| -> Vec<(String, u64)> {
            m.iter().map(|(k, v)| (k.clone(), v.to_bits())).collect()
        };
        assert_eq!(
            bits(&a),
            bits(&cruxlab_core::measure_unit(&Scaling, &config, &c, 1))
        );
        let share = a.iter().find(|(k, _)| k == "data_share").unwrap().1;
        // 0.2511485941917754 / (0.06113934232593426 + 0.2511485941917754), by hand.
        assert!((share - 0.8042212484808324).abs() < 1e-12, "{share}");
    }

    #[test]
    fn validate_names_the_key() {
        let mut config = Scaling.default_config(true);
        config.sets = vec!["kaplan".into()];
        assert_eq!(Scaling.validate(&config).unwrap_err().0, "sets");
        let mut config = Scaling.default_config(true);
        config.resamples_per_seed = 5;
        assert_eq!(
            Scaling.validate(&config).unwrap_err().0,
            "resamples_per_seed"
        );
        let mut config = Scaling.default_config(true);
        config.printed_set = FIT.into();
        assert_eq!(Scaling.validate(&config).unwrap_err().0, "printed_set");
        let mut config = Scaling.default_config(true);
        config.block_decades = 0.0;
        assert_eq!(Scaling.validate(&config).unwrap_err().0, "block_decades");
        let mut config = Scaling.default_config(true);
        config.holdout_compute = f64::NAN;
        assert_eq!(Scaling.validate(&config).unwrap_err().0, "holdout_compute");
    }
}
