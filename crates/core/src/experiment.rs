//! What an experiment declares, and the shape of what a run measures.

use crate::artifact::{ArtifactKey, Artifacts, Progress};
use crate::claim::{Audit, Claim, Control, Evidence};
use serde::{Serialize, de::DeserializeOwned};

/// One experiment: a crux turned into a sweep (config grid x seeds), a measurement per cell of the
/// sweep, and verdicts computed from the measurements.
///
/// The framework owns everything around it: resolving the config (defaults, file, `--set`), the sweep
/// (parallel, deterministic, sharded, resumable), statistics, files and the report.
pub trait Experiment: Send + Sync {
    /// The resolved configuration. Every config has a top-level integer `seeds` key (the number
    /// of seeds per condition, read by the framework); unknown keys are rejected by the framework
    /// before `validate` is called.
    type Config: Serialize + DeserializeOwned + Clone + Send + Sync;
    /// One cell of the swept grid. Must serialize to a flat JSON object of scalars (string, number or
    /// bool): its keys become columns of the CSV and of the report's tables.
    type Condition: Serialize + DeserializeOwned + Clone + Send + Sync;

    /// Short name used on the command line (`cruxlab run ID`).
    fn id(&self) -> &'static str;
    /// The claim under test, one line.
    fn claim(&self) -> &'static str;
    /// The model, the metrics and the anchors, a paragraph or two of plain text (the report's Setup).
    fn model(&self) -> &'static str;
    /// Defaults; `quick` gives a configuration sized to finish in seconds.
    fn default_config(&self, quick: bool) -> Self::Config;
    /// Semantic checks beyond types (sizes odd, lists non-empty, ...). Err is (dotted key, message).
    fn validate(&self, config: &Self::Config) -> Result<(), (String, String)>;
    /// The swept grid, in a fixed order.
    fn conditions(&self, config: &Self::Config) -> Vec<Self::Condition>;
    /// Measure one condition under one seed: (metric name, value) pairs. Must depend only on its
    /// arguments (no global state, no clock), so that runs are reproducible whatever the thread
    /// count. A NaN value means "not applicable for this seed" and is left out of that metric's n.
    ///
    /// `artifacts` holds the shared artifacts [`Experiment::artifacts`] named for this unit.
    fn measure(
        &self,
        config: &Self::Config,
        condition: &Self::Condition,
        seed: u64,
        artifacts: &Artifacts,
    ) -> Vec<(String, f64)>;
    /// The shared artifacts (a trained network, a fit) this unit reads, each a pure function of
    /// its key. The framework builds each missing one once, before the units run, with
    /// [`Experiment::build_artifact`], and stores it content-addressed ([`crate::artifact`]).
    fn artifacts(
        &self,
        _config: &Self::Config,
        _condition: &Self::Condition,
        _seed: u64,
    ) -> Vec<ArtifactKey> {
        Vec::new()
    }
    /// The artifacts building `key` reads (built before it, handed to `build_artifact`).
    fn artifact_needs(&self, _config: &Self::Config, _key: &ArtifactKey) -> Vec<ArtifactKey> {
        Vec::new()
    }
    /// Build the artifact `key` (one this experiment's `artifacts` named), given the artifacts
    /// `artifact_needs` named for it. Must depend only on the key: it is built once and shared by
    /// every unit, run and experiment that names it. A long build may save its progress in
    /// `progress` and go on from the last save there; what it returns must not depend on whether
    /// it did.
    fn build_artifact(
        &self,
        _config: &Self::Config,
        key: &ArtifactKey,
        _needs: &Artifacts,
        _progress: &Progress,
    ) -> Vec<u8> {
        panic!(
            "experiment '{}' names artifact {} but does not build artifacts",
            self.id(),
            key.file_name()
        )
    }
    /// Every metric `measure` may emit, declared once. A claim or plot naming another metric, or a
    /// `measure` emitting one, is an error in the experiment (checked before anything runs, and
    /// when a unit is measured).
    fn metrics(&self, config: &Self::Config) -> Vec<String>;
    /// The claims under test, declared as data in the framework's one decision grammar
    /// ([`crate::claim`]); the framework computes their verdicts from the summarised metrics.
    fn claims(&self, config: &Self::Config) -> Vec<Claim>;
    /// The plots the report shows.
    fn plots(&self, config: &Self::Config) -> Vec<PlotSpec>;
    /// Pictures drawn from the config alone (example episodes, what an agent looked at), shown in
    /// the report's "Inside the agents" section. They must be deterministic, like the metrics.
    fn figures(&self, _config: &Self::Config) -> Vec<Figure> {
        Vec::new()
    }
    /// Whether every metric summary also carries the interquartile mean over seeds with its
    /// stratified-bootstrap interval (Agarwal et al. 2021), beside the Student-t interval: for
    /// experiments whose seeds are training runs with heavy-tailed outcomes.
    fn robust_intervals(&self) -> bool {
        false
    }

    /// Names the code behind the numbers where `config` alone does not fix them: a kernel whose
    /// order of summation trains other weights from the same seed, say. It is folded into the hash
    /// stored with every unit, so a run folder measured by other code is refused on resume instead
    /// of mixed with this code's units. Empty (the default) leaves the hash the config's alone.
    fn code_version(&self, _config: &Self::Config) -> String {
        String::new()
    }

    /// What a user must hear before trusting a run of `config`: reference data that is not on this
    /// machine, so the claims that need it are left out. The command line prints each on stderr
    /// before the run starts, and results.json and the report carry them.
    fn warnings(&self, _config: &Self::Config) -> Vec<String> {
        Vec::new()
    }
}

/// A picture an experiment draws itself: PNG or SVG bytes, a file name and a caption.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// File name inside the run folder, ending in `.png` or `.svg`.
    pub file: String,
    pub caption: String,
    pub bytes: Vec<u8>,
}

/// A metric summarised over seeds for one condition: mean with a 95% confidence interval.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricSummary {
    pub metric: String,
    pub condition: serde_json::Map<String, serde_json::Value>,
    /// NaN when n = 0 (written as `null` in JSON, read back as NaN).
    #[serde(deserialize_with = "crate::stats::deserialize_nan_as_null")]
    pub mean: f64,
    /// `None` when n < 2 (no interval can be given).
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub n: usize,
    /// Per-seed values in seed order (NaN values left out).
    pub values: Vec<f64>,
    /// The seeds the values belong to, in the same order (for paired comparisons).
    pub seeds: Vec<u64>,
    /// The interquartile mean with its stratified-bootstrap interval, for experiments that ask
    /// for it ([`Experiment::robust_intervals`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robust: Option<crate::stats::Robust>,
}

/// The outcome of testing one claim against the numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictKind {
    Supported,
    Refuted,
    Inconclusive,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Supported => "supported",
            VerdictKind::Refuted => "refuted",
            VerdictKind::Inconclusive => "inconclusive",
        }
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    /// The claim's id.
    pub id: String,
    /// The claim in words.
    pub claim: String,
    pub verdict: VerdictKind,
    /// The decision rule in words.
    pub rule: String,
    /// The numbers the verdict rests on: per cell, estimate, CI, n and outcome.
    pub evidence: Evidence,
    /// The controls the claim declares.
    pub controls: Vec<Control>,
    /// What the controls' runs said, when the run was audited (`cruxlab audit`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<Audit>,
    /// The plot shown beside the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plot: Option<String>,
}

/// Everything a finished run measured: what results.json holds.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Results {
    pub experiment: String,
    pub config: serde_json::Value,
    pub metrics: Vec<MetricSummary>,
    pub verdicts: Vec<Verdict>,
    /// The experiment's warnings for this config ([`Experiment::warnings`]); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Results {
    /// The summary of `metric` under the condition whose keys match every `(key, value)` in `filter`;
    /// `None` when no condition or more than one matches.
    pub fn find(
        &self,
        metric: &str,
        filter: &[(&str, serde_json::Value)],
    ) -> Option<&MetricSummary> {
        let mut hits = self.select(metric, filter);
        if hits.len() == 1 { hits.pop() } else { None }
    }

    /// Every summary of `metric` whose condition matches `filter`, in condition order.
    pub fn select(
        &self,
        metric: &str,
        filter: &[(&str, serde_json::Value)],
    ) -> Vec<&MetricSummary> {
        self.metrics
            .iter()
            .filter(|m| {
                m.metric == metric && filter.iter().all(|(k, v)| m.condition.get(*k) == Some(v))
            })
            .collect()
    }
}

/// A line plot: `metric` (y, mean with 95% CI error bars) against the numeric condition key `x`, one
/// line per distinct value of the `series` keys, restricted to conditions matching `filter`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PlotSpec {
    /// File name inside the run folder, ending in `.svg`.
    pub file: String,
    pub title: String,
    pub metric: String,
    pub y_label: String,
    pub x: String,
    pub x_label: String,
    pub log_x: bool,
    pub series: Vec<String>,
    pub filter: Vec<(String, serde_json::Value)>,
}
