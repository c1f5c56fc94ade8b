//! The fit file: the JSON record of one fit ([`FitRecord`], what `cruxlab scaling fit --json`
//! prints and writes as `fit.json`), and the parameter file that `predict` and `plan` read back
//! ([`LawFile`]).
//!
//! A parameter file is any JSON object with a `params` section holding positive numbers `E`, `A`,
//! `B`, `alpha` and `beta`, and optionally a `repetition` section holding `r_d_star` and `r_n_star`
//! (Muennighoff et al.'s constants); other keys are ignored, so a fit record is a parameter file:
//!
//! ```json
//! {"params": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28},
//!  "repetition": {"r_d_star": 15.4, "r_n_star": 5.3}}
//! ```
//!
//! JSON is written with keys in sorted order at every level (through `serde_json::Value`), so a
//! record's text does not depend on the order of the fields here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnostics::ResidualSummary;
use crate::law::{Repetition, ScalingLaw};
use crate::lbfgs::Stop;

/// Everything a fit produced, as recorded in `fit.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitRecord {
    /// The fitted law, in linear notation.
    pub params: ScalingLaw,
    pub log_params: LogCoefficients,
    /// 95% bootstrap intervals `[lo, hi]` by statistic name (see
    /// [`crate::diagnostics::STATISTICS`]); empty without a bootstrap.
    pub ci95: BTreeMap<String, [f64; 2]>,
    /// The summed Huber objective at the fit.
    pub objective: f64,
    /// Runs fitted.
    pub n_points: usize,
    /// Exponents of the compute-optimal frontier, N_opt ~ C^a_opt and D_opt ~ C^b_opt.
    pub a_opt: f64,
    pub b_opt: f64,
    pub fit: SearchRecord,
    pub bootstrap: Option<BootstrapRecord>,
    /// Of ln fitted - ln observed.
    pub residuals: ResidualSummary,
    pub data: DataRecord,
    /// The diagnostics' warnings, as text.
    pub warnings: Vec<String>,
}

/// The log-space coefficients `a = ln A`, `b = ln B`, `e = ln E`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogCoefficients {
    pub a: f64,
    pub b: f64,
    pub e: f64,
}

/// How the optimum was searched for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchRecord {
    /// The objective, in words.
    pub loss: String,
    pub starts: usize,
    pub best_start_index: usize,
    /// The winning start, as `[a, b, e, alpha, beta]`.
    pub best_start: [f64; 5],
    pub starts_at_best: usize,
    pub iterations: usize,
    pub stop: Stop,
}

/// How the intervals were made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BootstrapRecord {
    pub resamples: usize,
    pub seed: u64,
    /// Where each resample's refit starts, in words.
    pub refit_from: String,
    /// The kind of interval, in words.
    pub interval: String,
    /// The correlation of alpha and beta over the refits.
    pub corr_alpha_beta: Option<f64>,
}

/// Where the runs came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRecord {
    pub file: String,
    pub n_col: String,
    /// Where D came from, in words.
    pub tokens: String,
    pub loss_col: String,
    /// Highest-loss runs dropped before fitting.
    pub drop_top: usize,
}

impl FitRecord {
    /// Pretty JSON, keys sorted, without a final newline.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        pretty_json(self)
    }

    pub fn from_json(text: &str) -> Result<FitRecord, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// `value` as pretty JSON with keys sorted at every level, without a final newline.
pub fn pretty_json(value: &impl Serialize) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&serde_json::to_value(value)?)
}

/// Why a parameter file could not be read. Keys are dotted paths (`params.B`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LawFileError {
    #[error("not valid JSON: {0}")]
    NotJson(String),
    #[error("missing key '{0}'")]
    MissingKey(String),
    #[error("key '{key}' must be a positive number, found {found}")]
    NotPositive { key: String, found: String },
}

/// A law read from a parameter file, with its repetition constants if the file has them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LawFile {
    pub law: ScalingLaw,
    pub repetition: Option<Repetition>,
}

impl LawFile {
    /// Read a parameter file's text. The first missing or bad key (in the order E, A, B, alpha,
    /// beta, then r_d_star, r_n_star) is the error.
    pub fn parse(text: &str) -> Result<LawFile, LawFileError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| LawFileError::NotJson(e.to_string()))?;
        let number = |section: &str, key: &str| -> Result<f64, LawFileError> {
            let dotted = format!("{section}.{key}");
            let v = value
                .get(section)
                .and_then(|s| s.get(key))
                .ok_or_else(|| LawFileError::MissingKey(dotted.clone()))?;
            match v.as_f64() {
                Some(x) if x.is_finite() && x > 0.0 => Ok(x),
                _ => Err(LawFileError::NotPositive {
                    key: dotted,
                    found: v.to_string(),
                }),
            }
        };
        let law = ScalingLaw {
            e: number("params", "E")?,
            a: number("params", "A")?,
            b: number("params", "B")?,
            alpha: number("params", "alpha")?,
            beta: number("params", "beta")?,
        };
        let repetition = if value.get("repetition").is_some() {
            Some(Repetition {
                r_d_star: number("repetition", "r_d_star")?,
                r_n_star: number("repetition", "r_n_star")?,
            })
        } else {
            None
        };
        Ok(LawFile { law, repetition })
    }
}

/// Assert that `after` (read back from JSON) is `before`: the same structure, strings and integers,
/// and floats within 4 ulp. serde_json parses floats best-effort (its `float_roundtrip` feature is off
/// in this workspace), so a number read back can differ from the one written in the last bit.
#[cfg(test)]
pub(crate) fn assert_round_trip<T: Serialize>(before: &T, after: &T) {
    fn same(a: &Value, b: &Value, path: &str) {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!(
                    (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs()),
                    "{path}: {x} != {y}"
                );
            }
            (Value::Array(x), Value::Array(y)) => {
                assert_eq!(x.len(), y.len(), "{path}");
                for (i, (a, b)) in x.iter().zip(y).enumerate() {
                    same(a, b, &format!("{path}[{i}]"));
                }
            }
            (Value::Object(x), Value::Object(y)) => {
                assert!(x.keys().eq(y.keys()), "{path}: {x:?} != {y:?}");
                for (k, a) in x {
                    same(a, &y[k], &format!("{path}.{k}"));
                }
            }
            _ => assert_eq!(a, b, "{path}"),
        }
    }
    same(
        &serde_json::to_value(before).unwrap(),
        &serde_json::to_value(after).unwrap(),
        "",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> FitRecord {
        FitRecord {
            params: ScalingLaw {
                e: 1.8172,
                a: 482.01,
                b: 2085.43,
                alpha: 0.3478,
                beta: 0.3658,
            },
            log_params: LogCoefficients {
                a: 482.01f64.ln(),
                b: 2085.43f64.ln(),
                e: 1.8172f64.ln(),
            },
            ci95: [
                ("alpha".to_owned(), [0.3, 0.4]),
                ("E".to_owned(), [1.7, 1.9]),
            ]
            .into_iter()
            .collect(),
            objective: 1.25e-4,
            n_points: 48,
            a_opt: 0.3658 / (0.3478 + 0.3658),
            b_opt: 0.3478 / (0.3478 + 0.3658),
            fit: SearchRecord {
                loss: "huber(delta=1e-3) on log loss, summed over runs".into(),
                starts: 4500,
                best_start_index: 17,
                best_start: [5.0, 10.0, 0.5, 0.5, 0.0],
                starts_at_best: 900,
                iterations: 41,
                stop: Stop::RelativeDecrease,
            },
            bootstrap: Some(BootstrapRecord {
                resamples: 60,
                seed: 3,
                refit_from: "best fit".into(),
                interval: "percentile, 2.5% and 97.5%".into(),
                corr_alpha_beta: Some(-0.25),
            }),
            residuals: ResidualSummary {
                mean: 1e-4,
                sd: 5e-3,
                mean_abs: 4e-3,
            },
            data: DataRecord {
                file: "runs.csv".into(),
                n_col: "N".into(),
                tokens: "D from column 'D'".into(),
                loss_col: "loss".into(),
                drop_top: 0,
            },
            warnings: vec!["a warning".into()],
        }
    }

    #[test]
    fn a_fit_record_round_trips_through_json() {
        let r = record();
        let text = r.to_json().unwrap();
        assert_round_trip(&r, &FitRecord::from_json(&text).unwrap());
        let none = FitRecord {
            bootstrap: None,
            ci95: BTreeMap::new(),
            warnings: vec![],
            ..r
        };
        let text = none.to_json().unwrap();
        assert!(text.contains("\"bootstrap\": null"), "{text}");
        assert_round_trip(&none, &FitRecord::from_json(&text).unwrap());
    }

    #[test]
    fn a_fit_record_is_written_with_sorted_keys_in_the_published_layout() {
        let text = record().to_json().unwrap();
        let keys: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  \"") && !l.starts_with("   "))
            .map(|l| l.trim().split('"').nth(1).unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "a_opt",
                "b_opt",
                "bootstrap",
                "ci95",
                "data",
                "fit",
                "log_params",
                "n_points",
                "objective",
                "params",
                "residuals",
                "warnings"
            ]
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["params"]["E"], 1.8172);
        assert_eq!(v["ci95"]["alpha"], serde_json::json!([0.3, 0.4]));
        assert_eq!(v["fit"]["stop"], "relative_decrease");
        assert_eq!(v["fit"]["best_start"][1], 10.0);
        assert_eq!(v["n_points"], 48);
    }

    #[test]
    fn a_fit_record_is_a_parameter_file() {
        let r = record();
        let file = LawFile::parse(&r.to_json().unwrap()).unwrap();
        assert_eq!(file.law, r.params);
        assert_eq!(file.repetition, None);
    }

    #[test]
    fn parameter_files_with_repetition_and_errors_naming_the_key() {
        let text = r#"{"params": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28},
                       "repetition": {"r_d_star": 15.4, "r_n_star": 5.3}, "note": "ignored"}"#;
        let file = LawFile::parse(text).unwrap();
        assert_eq!(
            file.law,
            ScalingLaw {
                e: 1.69,
                a: 406.4,
                b: 410.7,
                alpha: 0.34,
                beta: 0.28
            }
        );
        assert_eq!(
            file.repetition,
            Some(Repetition {
                r_d_star: 15.4,
                r_n_star: 5.3
            })
        );
        let missing = LawFile::parse(r#"{"params": {"E": 1.7, "A": 400}}"#).unwrap_err();
        assert_eq!(missing, LawFileError::MissingKey("params.B".into()));
        assert_eq!(missing.to_string(), "missing key 'params.B'");
        let negative = LawFile::parse(
            r#"{"params": {"E": 1.7, "A": 400, "B": -3, "alpha": 0.3, "beta": 0.3}}"#,
        )
        .unwrap_err();
        assert_eq!(
            negative.to_string(),
            "key 'params.B' must be a positive number, found -3"
        );
        let text_value = LawFile::parse(
            r#"{"params": {"E": "1.7", "A": 400, "B": 3, "alpha": 0.3, "beta": 0.3}}"#,
        )
        .unwrap_err();
        assert_eq!(
            text_value.to_string(),
            "key 'params.E' must be a positive number, found \"1.7\""
        );
        let half = LawFile::parse(
            r#"{"params": {"E": 1.7, "A": 400, "B": 3, "alpha": 0.3, "beta": 0.3},
                "repetition": {"r_d_star": 15}}"#,
        )
        .unwrap_err();
        assert_eq!(half, LawFileError::MissingKey("repetition.r_n_star".into()));
        let broken = LawFile::parse("{\"params\": ").unwrap_err();
        assert!(
            matches!(broken, LawFileError::NotJson(_))
                && broken.to_string().starts_with("not valid JSON: "),
            "{broken}"
        );
    }
}
