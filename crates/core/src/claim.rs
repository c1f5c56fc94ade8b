//! The one decision grammar every experiment's claims are written in.
//!
//! A [`Claim`] declares an *effect* (a metric, a paired-by-seed contrast between two sets of
//! conditions, the gap between two metrics of the same condition, or a per-seed ratio), the
//! *direction* it is claimed to go (above or below a reference value, or equivalent to it), a
//! *margin* of practical significance, the *scope* (which conditions, which keys make separate
//! cells, which keys are pooled inside a cell) and how the cells *combine*. The framework evaluates
//! every claim with the same rule:
//!
//! * per cell, the effect is computed per seed and summarised as a mean with a Student-t 95% CI;
//! * the cell **supports** the claim when the whole CI lies beyond the threshold (reference plus or
//!   minus the margin) in the claimed direction, **refutes** it when the whole CI lies on the other
//!   side (an effect inside the margin band counts as no effect), and is **inconclusive** when the
//!   CI straddles the threshold or there is no CI (n < 2). For an equivalence claim the cell
//!   supports when the CI lies inside reference +- margin and refutes when it lies wholly outside;
//! * cells combine as *every cell* (supported when all support, refuted when any refutes), *at
//!   least k* (supported when k support, refuted when more than `cells - k` refute) or *pooled*
//!   (per seed, the mean over cells, then one CI and the cell rule).
//!
//! A claim also declares its [`Control`]s: config overrides under which the model itself should
//! give another outcome. `cruxlab audit` runs them (see [`AuditStatus`]).

use crate::experiment::{MetricSummary, Results, VerdictKind};
use crate::stats::{Summary, format_number, mean_ci};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A filter on conditions: every `(key, value)` must match.
pub type Where = Vec<(String, Value)>;

/// What a claim is about, computed per seed inside each cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Effect {
    /// The metric itself.
    Metric { metric: String },
    /// `metric` under the conditions matching `a` minus under those matching `b`, paired by seed.
    Contrast { metric: String, a: Where, b: Where },
    /// Metric `a` minus metric `b`, in the same conditions, paired by seed.
    Gap { a: String, b: String },
    /// `metric` under `a` divided by under `b`, paired by seed (seeds with a zero divisor are left
    /// out).
    Ratio { metric: String, a: Where, b: Where },
}

impl Effect {
    pub fn metric(metric: &str) -> Effect {
        Effect::Metric {
            metric: metric.into(),
        }
    }

    pub fn contrast(metric: &str, a: Where, b: Where) -> Effect {
        Effect::Contrast {
            metric: metric.into(),
            a,
            b,
        }
    }

    pub fn gap(a: &str, b: &str) -> Effect {
        Effect::Gap {
            a: a.into(),
            b: b.into(),
        }
    }

    pub fn ratio(metric: &str, a: Where, b: Where) -> Effect {
        Effect::Ratio {
            metric: metric.into(),
            a,
            b,
        }
    }

    /// Every metric the effect reads.
    pub fn metrics(&self) -> Vec<&str> {
        match self {
            Effect::Metric { metric }
            | Effect::Contrast { metric, .. }
            | Effect::Ratio { metric, .. } => vec![metric],
            Effect::Gap { a, b } => vec![a, b],
        }
    }

    /// The two sides' extra filters (`None` for effects read in one set of conditions).
    fn sides(&self) -> Option<(&Where, &Where)> {
        match self {
            Effect::Contrast { a, b, .. } | Effect::Ratio { a, b, .. } => Some((a, b)),
            _ => None,
        }
    }

    /// The effect in words.
    pub fn describe(&self) -> String {
        match self {
            Effect::Metric { metric } => format!("`{metric}`"),
            Effect::Contrast { metric, a, b } => format!(
                "`{metric}` at {} minus at {}, paired by seed",
                where_text(a),
                where_text(b)
            ),
            Effect::Gap { a, b } => format!("`{a}` minus `{b}`, paired by seed"),
            Effect::Ratio { metric, a, b } => format!(
                "`{metric}` at {} divided by at {}, per seed",
                where_text(a),
                where_text(b)
            ),
        }
    }
}

/// Which way the effect is claimed to go, relative to the claim's reference value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Above `reference + margin`.
    Above,
    /// Below `reference - margin`.
    Below,
    /// Within `reference +- margin`.
    Within,
}

/// How the cells' outcomes make one verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule", content = "k")]
pub enum Combine {
    /// Supported when every cell supports, refuted when any cell refutes.
    Every,
    /// Supported when at least k cells support, refuted when so many refute that k cannot.
    AtLeast(usize),
    /// Per seed, the mean effect over cells; one interval, one outcome.
    Pooled,
}

/// Inside each cell, narrow the conditions to the first value of `key` (in numeric order) at which
/// the mean of `metric`, under the cell's conditions that also match `at`, reaches `reaches`. A
/// cell where no value reaches it is inconclusive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    pub key: String,
    pub metric: String,
    pub at: Where,
    pub reaches: f64,
}

/// Which conditions a claim reads and how they form cells.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    /// Conditions must match all of these.
    pub filter: Where,
    /// Each distinct combination of these keys' values is one cell.
    pub cells: Vec<String>,
    /// Keys averaged over (per seed) inside a cell. Any other key that varies inside a cell side
    /// is an error in the claim, never silently pooled.
    pub pool: Vec<String>,
    pub anchor: Option<Anchor>,
}

/// A config override under which the model itself should give `expect`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Control {
    /// `key=value` overrides, as `--set` takes them.
    pub set: Vec<String>,
    /// The verdict the model should give under the override.
    pub expect: VerdictKind,
    /// One line on why.
    pub why: String,
}

impl Control {
    pub fn new(set: &[&str], expect: VerdictKind, why: &str) -> Control {
        Control {
            set: set.iter().map(|s| s.to_string()).collect(),
            expect,
            why: why.into(),
        }
    }
}

/// A claim, declared as data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// Short stable id (`swap-loses-competence`), unique within the experiment: controls are
    /// matched to the main run by it.
    pub id: String,
    /// The claim in words.
    pub statement: String,
    pub effect: Effect,
    pub direction: Direction,
    /// The value of "no effect" (0 for a difference, 1 for a ratio, a level for a metric).
    pub reference: f64,
    /// The margin of practical significance (>= 0).
    pub margin: f64,
    pub scope: Scope,
    pub combine: Combine,
    pub controls: Vec<Control>,
    /// A plot of the experiment (its file name) to show beside the verdict.
    pub plot: Option<String>,
}

impl Claim {
    /// A claim with an empty scope, every-cell combination, no margin, no controls and no plot.
    pub fn new(
        id: &str,
        statement: impl Into<String>,
        effect: Effect,
        direction: Direction,
        reference: f64,
    ) -> Claim {
        Claim {
            id: id.into(),
            statement: statement.into(),
            effect,
            direction,
            reference,
            margin: 0.0,
            scope: Scope::default(),
            combine: Combine::Every,
            controls: Vec::new(),
            plot: None,
        }
    }

    pub fn margin(mut self, margin: f64) -> Claim {
        self.margin = margin;
        self
    }

    pub fn filter(mut self, filter: Where) -> Claim {
        self.scope.filter = filter;
        self
    }

    pub fn cells(mut self, keys: &[&str]) -> Claim {
        self.scope.cells = keys.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn pool(mut self, keys: &[&str]) -> Claim {
        self.scope.pool = keys.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn anchor(mut self, anchor: Anchor) -> Claim {
        self.scope.anchor = Some(anchor);
        self
    }

    pub fn combine(mut self, combine: Combine) -> Claim {
        self.combine = combine;
        self
    }

    pub fn control(mut self, control: Control) -> Claim {
        self.controls.push(control);
        self
    }

    pub fn plot(mut self, file: &str) -> Claim {
        self.plot = Some(file.into());
        self
    }

    /// The threshold(s) a cell's interval is compared with: (low, high) of the no-effect band
    /// for `Within`, the single threshold twice otherwise.
    fn band(&self) -> (f64, f64) {
        match self.direction {
            Direction::Above => (self.reference + self.margin, self.reference + self.margin),
            Direction::Below => (self.reference - self.margin, self.reference - self.margin),
            Direction::Within => (self.reference - self.margin, self.reference + self.margin),
        }
    }

    /// The decision rule in words, as the report prints it.
    pub fn rule(&self) -> String {
        let (lo, hi) = self.band();
        let test = match self.direction {
            Direction::Above => format!(
                "supported where the 95% CI lies wholly above {}, refuted where it lies wholly below",
                format_number(hi)
            ),
            Direction::Below => format!(
                "supported where the 95% CI lies wholly below {}, refuted where it lies wholly above",
                format_number(lo)
            ),
            Direction::Within => format!(
                "supported where the 95% CI lies inside [{}, {}], refuted where it lies wholly outside",
                format_number(lo),
                format_number(hi)
            ),
        };
        let margin = if self.margin > 0.0 && self.direction != Direction::Within {
            format!(
                " (reference {} with a margin of practical significance of {})",
                format_number(self.reference),
                format_number(self.margin)
            )
        } else {
            String::new()
        };
        let mut scope = Vec::new();
        if !self.scope.filter.is_empty() {
            scope.push(format!("at {}", where_text(&self.scope.filter)));
        }
        if !self.scope.cells.is_empty() {
            scope.push(format!("one cell per {}", self.scope.cells.join(" x ")));
        }
        if !self.scope.pool.is_empty() {
            scope.push(format!(
                "averaged per seed over {}",
                self.scope.pool.join(", ")
            ));
        }
        if let Some(a) = &self.scope.anchor {
            scope.push(format!(
                "each cell read at the smallest {} where the mean `{}`{} reaches {}",
                a.key,
                a.metric,
                if a.at.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", where_text(&a.at))
                },
                format_number(a.reaches)
            ));
        }
        let combine = match self.combine {
            Combine::Every => {
                "supported when every cell supports it, refuted when any cell refutes it".to_owned()
            }
            Combine::AtLeast(k) => format!(
                "supported when at least {k} cells support it, refuted when too many refute it for {k} to"
            ),
            Combine::Pooled => "cells pooled per seed into one interval".to_owned(),
        };
        let scope = if scope.is_empty() {
            String::new()
        } else {
            format!(" {};", scope.join("; "))
        };
        format!(
            "Effect: {}{margin}; {test}; otherwise inconclusive.{scope} {combine}.",
            self.effect.describe()
        )
    }
}

fn where_text(w: &Where) -> String {
    if w.is_empty() {
        return "all conditions".into();
    }
    w.iter()
        .map(|(k, v)| format!("{k}={}", value_text(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The numbers one cell's outcome rests on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellEvidence {
    /// The cell's keys and values (with the anchor's pick, when the claim has one).
    pub cell: Map<String, Value>,
    /// NaN (JSON null) when nothing was measured.
    #[serde(deserialize_with = "crate::stats::deserialize_nan_as_null")]
    pub estimate: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub n: usize,
    pub outcome: VerdictKind,
    /// Why a cell could not be judged, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Everything a verdict was computed from: results.json holds this under each verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub effect: Effect,
    pub direction: Direction,
    pub reference: f64,
    pub margin: f64,
    pub combine: Combine,
    /// The interval every estimate carries.
    pub interval: String,
    /// One entry per cell; for a pooled claim the cells come first and the pooled estimate last
    /// (its `cell` is `{"pooled": true}`).
    pub cells: Vec<CellEvidence>,
}

/// What a control run said about one claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlOutcome {
    pub set: Vec<String>,
    pub why: String,
    pub expect: VerdictKind,
    /// `None` when the claim is not declared under the control's config.
    pub verdict: Option<VerdictKind>,
    /// The control's run folder, relative to the main run folder.
    pub folder: String,
}

impl ControlOutcome {
    /// A decisive verdict other than the main one.
    pub fn flips(&self, main: VerdictKind) -> bool {
        matches!(
            self.verdict,
            Some(v) if v != main && v != VerdictKind::Inconclusive
        )
    }
}

/// Whether the model could have given another verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditStatus {
    /// Some control's run gave a decisive verdict other than the main run's.
    Falsifiable,
    /// Controls ran, and none gave a decisive verdict other than the main run's.
    Foregone,
    /// The claim declares no control.
    Untested,
}

impl AuditStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditStatus::Falsifiable => "falsifiable",
            AuditStatus::Foregone => "foregone",
            AuditStatus::Untested => "untested",
        }
    }
}

/// The audit of one claim: its controls' verdicts and the status they add up to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    pub status: AuditStatus,
    pub controls: Vec<ControlOutcome>,
}

impl Audit {
    pub fn from_controls(main: VerdictKind, controls: Vec<ControlOutcome>) -> Audit {
        let status = if controls.is_empty() {
            AuditStatus::Untested
        } else if controls.iter().any(|c| c.flips(main)) {
            AuditStatus::Falsifiable
        } else {
            AuditStatus::Foregone
        };
        Audit { status, controls }
    }
}

/// A claim problem the experiment's author must fix: a metric or key that does not exist, or a
/// scope that reads an ambiguous set of conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimError {
    pub claim: String,
    pub message: String,
}

impl std::fmt::Display for ClaimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "claim '{}': {}", self.claim, self.message)
    }
}

/// Check a claim against the experiment's declared metrics and its conditions (as JSON maps):
/// every metric is declared, every key names a condition key, ids are well formed, and every
/// side of every cell matches at least one condition.
pub fn check(
    claim: &Claim,
    metrics: &[&str],
    conditions: &[Map<String, Value>],
) -> Result<(), ClaimError> {
    let fail = |message: String| {
        Err(ClaimError {
            claim: claim.id.clone(),
            message,
        })
    };
    if claim.id.is_empty()
        || !claim
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return fail("the id must be non-empty letters, digits, '-' or '_'".into());
    }
    if !(claim.margin >= 0.0 && claim.margin.is_finite() && claim.reference.is_finite()) {
        return fail("margin must be finite and >= 0, reference finite".into());
    }
    let mut named: Vec<&str> = claim.effect.metrics();
    if let Some(a) = &claim.scope.anchor {
        named.push(&a.metric);
    }
    for m in named {
        if !metrics.contains(&m) {
            return fail(format!(
                "names metric '{m}', which the experiment does not declare (declared: {})",
                metrics.join(", ")
            ));
        }
    }
    let known = |k: &str| conditions.iter().any(|c| c.contains_key(k));
    let mut keys: Vec<&str> = Vec::new();
    keys.extend(claim.scope.filter.iter().map(|(k, _)| k.as_str()));
    keys.extend(claim.scope.cells.iter().map(String::as_str));
    keys.extend(claim.scope.pool.iter().map(String::as_str));
    if let Some((a, b)) = claim.effect.sides() {
        keys.extend(a.iter().chain(b).map(|(k, _)| k.as_str()));
    }
    if let Some(anchor) = &claim.scope.anchor {
        keys.push(&anchor.key);
        keys.extend(anchor.at.iter().map(|(k, _)| k.as_str()));
    }
    if let Some(k) = keys.iter().find(|k| !known(k)) {
        return fail(format!("names condition key '{k}', which no condition has"));
    }
    if let Combine::AtLeast(0) = claim.combine {
        return fail("at least 0 cells is no claim".into());
    }
    let cells = cells_of(claim, conditions);
    if cells.is_empty() {
        return fail(format!(
            "no condition matches its filter {}",
            where_text(&claim.scope.filter)
        ));
    }
    if let Combine::AtLeast(k) = claim.combine
        && k > cells.len()
    {
        return fail(format!(
            "asks for {k} cells but its scope has {}",
            cells.len()
        ));
    }
    for (key, members) in &cells {
        let sides: Vec<Vec<&Map<String, Value>>> = match claim.effect.sides() {
            Some((a, b)) => vec![matching(members, a), matching(members, b)],
            None => vec![members.clone()],
        };
        for side in sides {
            if side.is_empty() {
                return fail(format!(
                    "in cell {}, one side of the effect matches no condition",
                    Value::Object(key.clone())
                ));
            }
            if claim.scope.anchor.is_none() {
                ambiguity(claim, &side).map_or(Ok(()), fail)?;
            }
        }
    }
    Ok(())
}

/// Conditions matching `w`.
fn matching<'c>(conditions: &[&'c Map<String, Value>], w: &Where) -> Vec<&'c Map<String, Value>> {
    conditions
        .iter()
        .copied()
        .filter(|c| w.iter().all(|(k, v)| c.get(k) == Some(v)))
        .collect()
}

/// A message when the conditions of one side differ in a key the claim neither cells, filters,
/// contrasts nor pools.
fn ambiguity(claim: &Claim, side: &[&Map<String, Value>]) -> Option<String> {
    let first = side.first()?;
    for c in &side[1..] {
        for (k, v) in c.iter() {
            if first.get(k) != Some(v) && !claim.scope.pool.contains(k) {
                return Some(format!(
                    "conditions inside one cell differ in '{k}' ({} vs {}): add it to the claim's cells, filter or pool",
                    first.get(k).map_or("absent".into(), value_text),
                    value_text(v)
                ));
            }
        }
    }
    None
}

/// One cell of a claim: its keys and values, and its member conditions.
type Cell<'c> = (Map<String, Value>, Vec<&'c Map<String, Value>>);

/// The claim's cells, in order of first appearance.
fn cells_of<'c>(claim: &Claim, conditions: &'c [Map<String, Value>]) -> Vec<Cell<'c>> {
    let all: Vec<&Map<String, Value>> = conditions.iter().collect();
    let mut cells: Vec<Cell<'c>> = Vec::new();
    for c in matching(&all, &claim.scope.filter) {
        let key: Map<String, Value> = claim
            .scope
            .cells
            .iter()
            .map(|k| (k.clone(), c.get(k).cloned().unwrap_or(Value::Null)))
            .collect();
        match cells.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(c),
            None => cells.push((key, vec![c])),
        }
    }
    cells
}

/// The distinct conditions of a results set, in order of first appearance.
fn conditions_of(results: &Results) -> Vec<Map<String, Value>> {
    let mut out: Vec<Map<String, Value>> = Vec::new();
    for m in &results.metrics {
        if !out.contains(&m.condition) {
            out.push(m.condition.clone());
        }
    }
    out
}

/// Per seed, the mean of `metric` over `conditions` (seeds measured in all of them).
fn per_seed_mean(
    results: &Results,
    metric: &str,
    conditions: &[&Map<String, Value>],
) -> BTreeMap<u64, f64> {
    let summaries: Vec<&MetricSummary> = conditions
        .iter()
        .filter_map(|c| {
            results
                .metrics
                .iter()
                .find(|m| m.metric == metric && m.condition == **c)
        })
        .collect();
    if summaries.len() < conditions.len() || summaries.is_empty() {
        return BTreeMap::new();
    }
    let mut sums: BTreeMap<u64, (f64, usize)> = BTreeMap::new();
    for s in &summaries {
        for (seed, v) in s.seeds.iter().zip(&s.values) {
            let e = sums.entry(*seed).or_default();
            e.0 += v;
            e.1 += 1;
        }
    }
    sums.into_iter()
        .filter(|(_, (_, k))| *k == summaries.len())
        .map(|(seed, (sum, k))| (seed, sum / k as f64))
        .collect()
}

fn paired(
    a: &BTreeMap<u64, f64>,
    b: &BTreeMap<u64, f64>,
    f: impl Fn(f64, f64) -> f64,
) -> BTreeMap<u64, f64> {
    a.iter()
        .filter_map(|(seed, va)| b.get(seed).map(|vb| (*seed, f(*va, *vb))))
        .filter(|(_, v)| v.is_finite())
        .collect()
}

/// Per seed, the effect in one cell.
fn effect_per_seed(
    results: &Results,
    effect: &Effect,
    members: &[&Map<String, Value>],
) -> BTreeMap<u64, f64> {
    match effect {
        Effect::Metric { metric } => per_seed_mean(results, metric, members),
        Effect::Gap { a, b } => paired(
            &per_seed_mean(results, a, members),
            &per_seed_mean(results, b, members),
            |x, y| x - y,
        ),
        Effect::Contrast { metric, a, b } => paired(
            &per_seed_mean(results, metric, &matching(members, a)),
            &per_seed_mean(results, metric, &matching(members, b)),
            |x, y| x - y,
        ),
        Effect::Ratio { metric, a, b } => paired(
            &per_seed_mean(results, metric, &matching(members, a)),
            &per_seed_mean(results, metric, &matching(members, b)),
            |x, y| if y == 0.0 { f64::NAN } else { x / y },
        ),
    }
}

/// The outcome of one interval under the claim's rule.
fn judge(claim: &Claim, s: &Summary) -> VerdictKind {
    let (Some(lo), Some(hi)) = (s.ci_low, s.ci_high) else {
        return VerdictKind::Inconclusive;
    };
    let (band_lo, band_hi) = claim.band();
    let (support, refute) = match claim.direction {
        Direction::Above => (lo > band_hi, hi < band_hi),
        Direction::Below => (hi < band_lo, lo > band_lo),
        Direction::Within => (lo > band_lo && hi < band_hi, hi < band_lo || lo > band_hi),
    };
    if support {
        VerdictKind::Supported
    } else if refute {
        VerdictKind::Refuted
    } else {
        VerdictKind::Inconclusive
    }
}

fn cell_evidence(
    claim: &Claim,
    cell: Map<String, Value>,
    values: &BTreeMap<u64, f64>,
    note: Option<String>,
) -> CellEvidence {
    let v: Vec<f64> = values.values().copied().collect();
    let s = mean_ci(&v);
    let note = note.or_else(|| match s.n {
        0 => Some("no seed measured every condition the effect reads".into()),
        1 => Some("one seed: no interval".into()),
        _ => None,
    });
    CellEvidence {
        cell,
        estimate: s.mean,
        ci_low: s.ci_low,
        ci_high: s.ci_high,
        n: s.n,
        outcome: judge(claim, &s),
        note,
    }
}

/// Narrow a cell's members to the anchor's pick; `Err` with a note when nothing reaches it.
fn anchored<'c>(
    results: &Results,
    anchor: &Anchor,
    cell: &mut Map<String, Value>,
    members: Vec<&'c Map<String, Value>>,
) -> Result<Vec<&'c Map<String, Value>>, String> {
    let mut values: Vec<&Value> = Vec::new();
    for c in &members {
        if let Some(v) = c.get(&anchor.key)
            && !values.contains(&v)
        {
            values.push(v);
        }
    }
    values.sort_by(|a, b| {
        let (x, y) = (
            a.as_f64().unwrap_or(f64::NAN),
            b.as_f64().unwrap_or(f64::NAN),
        );
        x.total_cmp(&y)
    });
    for v in values {
        let at: Vec<&Map<String, Value>> = members
            .iter()
            .copied()
            .filter(|c| c.get(&anchor.key) == Some(v))
            .collect();
        let reference = matching(&at, &anchor.at);
        let means = per_seed_mean(results, &anchor.metric, &reference);
        let mean = mean_ci(&means.values().copied().collect::<Vec<_>>()).mean;
        if mean >= anchor.reaches {
            cell.insert(anchor.key.clone(), v.clone());
            return Ok(at);
        }
    }
    Err(format!(
        "mean `{}` never reaches {} at any {}",
        anchor.metric,
        format_number(anchor.reaches),
        anchor.key
    ))
}

/// Evaluate a claim against summarised results: the verdict and the evidence it rests on.
pub fn evaluate(claim: &Claim, results: &Results) -> (VerdictKind, Evidence) {
    let conditions = conditions_of(results);
    let mut cells = Vec::new();
    let mut per_cell_values = Vec::new();
    for (mut key, members) in cells_of(claim, &conditions) {
        let (members, note) = match &claim.scope.anchor {
            Some(anchor) => match anchored(results, anchor, &mut key, members) {
                Ok(m) => (m, None),
                Err(note) => (Vec::new(), Some(note)),
            },
            None => (members, None),
        };
        let values = if members.is_empty() {
            BTreeMap::new()
        } else {
            effect_per_seed(results, &claim.effect, &members)
        };
        cells.push(cell_evidence(claim, key, &values, note));
        per_cell_values.push(values);
    }
    let supported = cells
        .iter()
        .filter(|c| c.outcome == VerdictKind::Supported)
        .count();
    let refuted = cells
        .iter()
        .filter(|c| c.outcome == VerdictKind::Refuted)
        .count();
    let verdict = match claim.combine {
        _ if cells.is_empty() => VerdictKind::Inconclusive,
        Combine::Every | Combine::AtLeast(_) => {
            let k = match claim.combine {
                Combine::AtLeast(k) => k.min(cells.len()),
                _ => cells.len(),
            };
            if supported >= k {
                VerdictKind::Supported
            } else if refuted > cells.len() - k {
                VerdictKind::Refuted
            } else {
                VerdictKind::Inconclusive
            }
        }
        Combine::Pooled => {
            let mut sums: BTreeMap<u64, (f64, usize)> = BTreeMap::new();
            for values in &per_cell_values {
                for (seed, v) in values {
                    let e = sums.entry(*seed).or_default();
                    e.0 += v;
                    e.1 += 1;
                }
            }
            let pooled: BTreeMap<u64, f64> = sums
                .into_iter()
                .filter(|(_, (_, k))| *k == per_cell_values.len())
                .map(|(seed, (sum, k))| (seed, sum / k as f64))
                .collect();
            let mut key = Map::new();
            key.insert("pooled".into(), Value::Bool(true));
            let evidence = cell_evidence(claim, key, &pooled, None);
            let verdict = evidence.outcome;
            cells.push(evidence);
            verdict
        }
    };
    let evidence = Evidence {
        effect: claim.effect.clone(),
        direction: claim.direction,
        reference: claim.reference,
        margin: claim.margin,
        combine: claim.combine,
        interval: "Student-t 95% CI of the mean over seeds".into(),
        cells,
    };
    (verdict, evidence)
}

/// `key=value` pairs as a [`Where`]: `at(&[("agent", json!("cue"))])`.
pub fn at(pairs: &[(&str, Value)]) -> Where {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::MetricSummary;
    use serde_json::json;

    fn results(entries: &[(&str, Value, &[f64])]) -> Results {
        Results {
            experiment: "t".into(),
            config: json!({}),
            metrics: entries
                .iter()
                .map(|(m, c, v)| {
                    MetricSummary::from_seeds(
                        m,
                        c.as_object().unwrap().clone(),
                        (0..v.len() as u64).collect(),
                        v.to_vec(),
                    )
                })
                .collect(),
            verdicts: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn conditions(r: &Results) -> Vec<Map<String, Value>> {
        conditions_of(r)
    }

    #[test]
    fn the_rule_by_hand() {
        // Values 1, 2, 3: mean 2, s = 1, t(0.975, 2) = 4.303, half width 4.303 / sqrt(3) = 2.484.
        let r = results(&[("x", json!({"g": "a"}), &[1.0, 2.0, 3.0])]);
        let claim = |direction, reference, margin| {
            Claim::new("c", "x", Effect::metric("x"), direction, reference).margin(margin)
        };
        let (_, e) = evaluate(&claim(Direction::Above, 0.0, 0.0), &r);
        assert!((e.cells[0].ci_low.unwrap() - (2.0 - 2.484)).abs() < 1e-3);
        let v = |c: &Claim| evaluate(c, &r).0;
        assert_eq!(
            v(&claim(Direction::Above, -0.6, 0.0)),
            VerdictKind::Supported
        );
        assert_eq!(
            v(&claim(Direction::Above, -0.4, 0.0)),
            VerdictKind::Inconclusive
        );
        // The margin band counts as no effect: CI [-0.48, 4.48] is wholly below 4.5 + 0.1.
        assert_eq!(v(&claim(Direction::Above, 4.5, 0.1)), VerdictKind::Refuted);
        assert_eq!(
            v(&claim(Direction::Below, 5.0, 0.0)),
            VerdictKind::Supported
        );
        assert_eq!(
            v(&claim(Direction::Below, 4.4, 0.0)),
            VerdictKind::Inconclusive
        );
        assert_eq!(
            v(&claim(Direction::Within, 2.0, 2.6)),
            VerdictKind::Supported
        );
        assert_eq!(
            v(&claim(Direction::Within, 2.0, 2.4)),
            VerdictKind::Inconclusive
        );
        assert_eq!(
            v(&claim(Direction::Within, 10.0, 1.0)),
            VerdictKind::Refuted
        );
    }

    #[test]
    fn contrasts_pair_by_seed_and_cells_combine() {
        // Per seed, b - a = 1 in cell u; in cell v, differences 1, -1, 1 (inconclusive).
        let r = results(&[
            ("y", json!({"cell": "u", "arm": "a"}), &[1.0, 2.0, 3.0]),
            ("y", json!({"cell": "u", "arm": "b"}), &[2.0, 3.0, 4.0]),
            ("y", json!({"cell": "v", "arm": "a"}), &[1.0, 2.0, 3.0]),
            ("y", json!({"cell": "v", "arm": "b"}), &[2.0, 1.0, 4.0]),
        ]);
        let base = Claim::new(
            "c",
            "b beats a",
            Effect::contrast("y", at(&[("arm", json!("b"))]), at(&[("arm", json!("a"))])),
            Direction::Above,
            0.0,
        )
        .cells(&["cell"]);
        check(&base, &["y"], &conditions(&r)).unwrap();
        let (v, e) = evaluate(&base, &r);
        assert_eq!(v, VerdictKind::Inconclusive);
        assert_eq!(e.cells[0].outcome, VerdictKind::Supported);
        assert_eq!((e.cells[0].estimate, e.cells[0].ci_low), (1.0, Some(1.0)));
        let one = base.clone().combine(Combine::AtLeast(1));
        assert_eq!(evaluate(&one, &r).0, VerdictKind::Supported);
        // Pooled: per seed (1 + 1)/2, (1 - 1)/2, (1 + 1)/2 = 1, 0, 1.
        let pooled = base.clone().combine(Combine::Pooled);
        let (_, e) = evaluate(&pooled, &r);
        let last = e.cells.last().unwrap();
        assert!((last.estimate - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(last.n, 3);
        // Any refuting cell refutes a claim about every cell.
        let reversed = Claim {
            direction: Direction::Below,
            ..base
        };
        assert_eq!(evaluate(&reversed, &r).0, VerdictKind::Refuted);
    }

    #[test]
    fn a_misspelt_metric_or_key_or_an_ambiguous_scope_fails_the_check() {
        let r = results(&[
            ("y", json!({"cell": "u", "arm": "a"}), &[1.0, 2.0]),
            ("y", json!({"cell": "u", "arm": "b"}), &[2.0, 3.0]),
        ]);
        let c = conditions(&r);
        let misspelt = Claim::new("c", "", Effect::metric("yy"), Direction::Above, 0.0);
        let err = check(&misspelt, &["y"], &c).unwrap_err();
        assert!(err.message.contains("metric 'yy'"), "{err}");
        let key = Claim::new("c", "", Effect::metric("y"), Direction::Above, 0.0).cells(&["cel"]);
        assert!(
            check(&key, &["y"], &c)
                .unwrap_err()
                .message
                .contains("'cel'")
        );
        // Two arms in one cell, neither contrasted nor pooled: ambiguous.
        let loose = Claim::new("c", "", Effect::metric("y"), Direction::Above, 0.0);
        let err = check(&loose, &["y"], &c).unwrap_err();
        assert!(err.message.contains("differ in 'arm'"), "{err}");
        assert!(check(&loose.pool(&["arm"]), &["y"], &c).is_ok());
        let empty = Claim::new("c", "", Effect::metric("y"), Direction::Above, 0.0)
            .filter(at(&[("arm", json!("z"))]));
        assert!(check(&empty, &["y"], &c).is_err());
    }

    #[test]
    fn anchors_pick_the_first_value_that_reaches() {
        let r = results(&[
            ("s", json!({"b": 1, "who": "x"}), &[0.2, 0.4, 0.3]),
            ("s", json!({"b": 4, "who": "x"}), &[0.9, 1.0, 0.95]),
            ("s", json!({"b": 1, "who": "y"}), &[0.1, 0.1, 0.1]),
            ("s", json!({"b": 4, "who": "y"}), &[0.5, 0.6, 0.55]),
        ]);
        let claim = Claim::new(
            "c",
            "",
            Effect::contrast("s", at(&[("who", json!("x"))]), at(&[("who", json!("y"))])),
            Direction::Above,
            0.1,
        )
        .anchor(Anchor {
            key: "b".into(),
            metric: "s".into(),
            at: at(&[("who", json!("x"))]),
            reaches: 0.9,
        });
        check(&claim, &["s"], &conditions(&r)).unwrap();
        let (v, e) = evaluate(&claim, &r);
        assert_eq!(e.cells[0].cell["b"], json!(4));
        assert!((e.cells[0].estimate - 0.4).abs() < 1e-12);
        assert_eq!(v, VerdictKind::Supported);
        let never = Claim {
            scope: Scope {
                anchor: Some(Anchor {
                    reaches: 2.0,
                    ..claim.scope.anchor.clone().unwrap()
                }),
                ..claim.scope.clone()
            },
            ..claim
        };
        let (v, e) = evaluate(&never, &r);
        assert_eq!(v, VerdictKind::Inconclusive);
        assert!(e.cells[0].note.as_ref().unwrap().contains("never reaches"));
    }

    #[test]
    fn audit_status_follows_the_controls() {
        let outcome = |verdict| ControlOutcome {
            set: vec![],
            why: String::new(),
            expect: VerdictKind::Refuted,
            verdict,
            folder: String::new(),
        };
        use VerdictKind::*;
        assert_eq!(
            Audit::from_controls(Supported, vec![]).status,
            AuditStatus::Untested
        );
        assert_eq!(
            Audit::from_controls(Supported, vec![outcome(Some(Refuted))]).status,
            AuditStatus::Falsifiable
        );
        assert_eq!(
            Audit::from_controls(Supported, vec![outcome(Some(Inconclusive)), outcome(None)])
                .status,
            AuditStatus::Foregone
        );
    }
}
