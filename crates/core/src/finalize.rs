//! Turning the stored units of a complete sweep into results: per (metric, condition) summaries
//! over seeds, the per-seed CSV, and the files of a finished run folder.
//!
//! Everything here is computed from the unit records in sweep order, never from the order in
//! which units finished, so the output is byte-identical however the sweep was run.

use crate::condition::{condition_keys, condition_text};
use crate::error::Error;
use crate::experiment::{Figure, MetricSummary, PlotSpec, Results};
use crate::plot;
use crate::report::{self, ReportText};
use crate::store::{self, UnitRecord};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Metric names in order of first appearance (units in sweep order, metrics in measured order).
fn metric_names(records: &[UnitRecord]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for record in records {
        for (name, _) in &record.metrics {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    names
}

/// Summaries of every metric under every condition that reported it (metric-major, conditions in
/// sweep order), with no verdicts yet. NaN values are left out of the mean and of n.
pub(crate) fn summarise(
    experiment: &str,
    config: Value,
    conditions: &[Map<String, Value>],
    records: &[UnitRecord],
    robust: bool,
) -> Results {
    let names = metric_names(records);
    // (metric index, condition index) -> (seed, value) in seed order.
    type Cell = Vec<(u64, Option<f64>)>;
    let mut cells: BTreeMap<(usize, usize), Cell> = BTreeMap::new();
    for record in records {
        for (name, value) in &record.metrics {
            let metric = names
                .iter()
                .position(|n| n == name)
                .expect("metric was collected");
            cells
                .entry((metric, record.condition_index))
                .or_default()
                .push((record.seed, *value));
        }
    }
    let metrics = cells
        .into_iter()
        .map(|((metric, condition), cell)| {
            let (seeds, values): (Vec<u64>, Vec<f64>) = cell
                .into_iter()
                .filter_map(|(seed, value)| value.map(|v| (seed, v)))
                .unzip();
            let m = MetricSummary::from_seeds(
                &names[metric],
                conditions[condition].clone(),
                seeds,
                values,
            );
            if robust { m.with_robust() } else { m }
        })
        .collect();
    Results {
        experiment: experiment.to_owned(),
        config,
        metrics,
        verdicts: Vec::new(),
        warnings: Vec::new(),
    }
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, quote, line break or edge whitespace.
fn csv_field(text: &str) -> String {
    let needs_quotes = text.contains([',', '"', '\n', '\r']) || text.trim() != text;
    if needs_quotes {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// One row per (condition, seed) in sweep order: condition keys, `seed`, then one column per
/// metric (empty for NaN or not measured).
pub(crate) fn per_seed_csv(conditions: &[Map<String, Value>], records: &[UnitRecord]) -> String {
    let keys = condition_keys(conditions);
    let names = metric_names(records);
    let mut out = String::new();
    let header: Vec<String> = keys
        .iter()
        .map(String::as_str)
        .chain(["seed"])
        .chain(names.iter().map(String::as_str))
        .map(csv_field)
        .collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for record in records {
        let condition = &conditions[record.condition_index];
        let mut row: Vec<String> = keys
            .iter()
            .map(|k| csv_field(&condition_text(condition.get(k))))
            .collect();
        row.push(record.seed.to_string());
        for name in &names {
            let value = record
                .metrics
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| *v);
            row.push(value.map(|v| v.to_string()).unwrap_or_default());
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Write `per_seed.csv`, the plots, `report.html` and, last, `results.json` into `dir`.
pub(crate) fn write_outputs(
    dir: &Path,
    results: &Results,
    records: &[UnitRecord],
    conditions: &[Map<String, Value>],
    plots: &[PlotSpec],
    figures: &[Figure],
    text: &ReportText,
) -> Result<(), Error> {
    store::write_atomic(
        &dir.join(store::PER_SEED_FILE),
        per_seed_csv(conditions, records).as_bytes(),
    )?;
    for spec in plots {
        let valid = spec.file.ends_with(".svg")
            && !spec.file.contains(['/', '\\'])
            && !spec.file.starts_with('.')
            && spec.file.len() > 4;
        if !valid {
            return Err(Error::Contract {
                experiment: text.id.to_owned(),
                message: format!(
                    "plot file '{}' must be a plain file name ending in .svg",
                    spec.file
                ),
            });
        }
        let path = dir.join(&spec.file);
        let svg = plot::render_svg(spec, results).map_err(|message| Error::Plot {
            path: path.clone(),
            message,
        })?;
        store::write_atomic(&path, svg.as_bytes())?;
    }
    for figure in figures {
        let valid = (figure.file.ends_with(".png") || figure.file.ends_with(".svg"))
            && !figure.file.contains(['/', '\\'])
            && !figure.file.starts_with('.')
            && !plots.iter().any(|p| p.file == figure.file);
        if !valid {
            return Err(Error::Contract {
                experiment: text.id.to_owned(),
                message: format!(
                    "figure file '{}' must be a plain, unused file name ending in .png or .svg",
                    figure.file
                ),
            });
        }
        store::write_atomic(&dir.join(&figure.file), &figure.bytes)?;
    }
    let html = report::render_report(text, results, plots, figures, &condition_keys(conditions));
    store::write_atomic(&dir.join(store::REPORT_FILE), html.as_bytes())?;
    store::write_json(&dir.join(store::RESULTS_FILE), results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn condition(p: f64, label: &str) -> Map<String, Value> {
        json!({"label": label, "p": p}).as_object().unwrap().clone()
    }

    fn record(condition_index: usize, seed: u64, metrics: &[(&str, Option<f64>)]) -> UnitRecord {
        UnitRecord {
            experiment: "t".into(),
            condition_index,
            seed,
            condition: Value::Null,
            metrics: metrics.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
            config: String::new(),
        }
    }

    #[test]
    fn summaries_leave_out_nan_and_keep_seed_order() {
        let conditions = vec![condition(0.2, "a"), condition(0.8, "b")];
        let records = vec![
            record(0, 0, &[("x", Some(1.0)), ("y", None)]),
            record(0, 1, &[("x", None), ("y", None)]),
            record(0, 2, &[("x", Some(3.0)), ("y", None)]),
            record(1, 0, &[("x", Some(5.0)), ("z", Some(1.0))]),
            record(1, 1, &[("x", Some(7.0)), ("z", Some(2.0))]),
            record(1, 2, &[("x", Some(9.0))]),
        ];
        let results = summarise("t", json!({}), &conditions, &records, false);
        let order: Vec<(&str, &Value)> = results
            .metrics
            .iter()
            .map(|m| (m.metric.as_str(), &m.condition["p"]))
            .collect();
        assert_eq!(
            order,
            vec![
                ("x", &json!(0.2)),
                ("x", &json!(0.8)),
                ("y", &json!(0.2)),
                ("z", &json!(0.8))
            ]
        );
        let x = &results.metrics[0];
        assert_eq!(
            (x.mean, x.n, &x.values, &x.seeds),
            (2.0, 2, &vec![1.0, 3.0], &vec![0, 2])
        );
        let y = &results.metrics[2];
        assert!(y.mean.is_nan());
        assert_eq!((y.n, y.ci_low), (0, None));
        let z = &results.metrics[3];
        assert_eq!((z.n, &z.seeds), (2, &vec![0, 1]));
    }

    #[test]
    fn csv_quotes_and_blanks() {
        let conditions = vec![condition(0.5, "plain"), condition(1.0, "with, comma \"q\"")];
        let records = vec![
            record(0, 0, &[("x", Some(0.25))]),
            record(1, 0, &[("x", None), ("y,1", Some(2.0))]),
        ];
        let csv = per_seed_csv(&conditions, &records);
        assert_eq!(
            csv,
            "label,p,seed,x,\"y,1\"\nplain,0.5,0,0.25,\n\"with, comma \"\"q\"\"\",1.0,0,,2\n"
        );
    }
}
