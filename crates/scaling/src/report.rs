//! The report of a fit: a text table, the JSON record ([`FitRecord`]), a residuals CSV, figures and
//! an HTML page, all as strings (the caller writes them; [`FitReport::files`] lists the report
//! folder).
//!
//! Numbers for people are written with four significant digits ([`format_number`], the same rule as
//! the experiment framework's reports, so a number reads the same in both).

use std::fmt::Write as _;

use crate::diagnostics::{
    FitWarning, ResidualSummary, STATISTICS, diagnose, exponent_correlation, largest_residual,
};
use crate::figure::{self, FigureError};
use crate::fit::{Bootstrap, HuberFit, a_opt, b_opt};
use crate::fit_file::{
    BootstrapRecord, DataRecord, FitRecord, LogCoefficients, SearchRecord, pretty_json,
};
use crate::objective::HuberObjective;
use crate::observations::{Columns, Observation, TokenColumn};
use crate::optimal::ComputeOptimal;

/// A number with four significant digits, for people; `NaN` as `n/a`, and scientific notation
/// outside [1e-4, 1e6).
pub fn format_number(x: f64) -> String {
    if x.is_nan() {
        return "n/a".to_owned();
    }
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&magnitude) {
        return format!("{x:.3e}");
    }
    let decimals = (3 - magnitude).max(0) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

use format_number as num;

/// Escape text for HTML element content and attribute values.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Why a report could not be drawn or serialised.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Figure(#[from] FigureError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Where D came from, in words.
pub fn tokens_description(columns: &Columns) -> String {
    match &columns.tokens {
        TokenColumn::Tokens(d) => format!("D from column '{d}'"),
        TokenColumn::Compute(c) => format!("D = C / 6N with C from column '{c}'"),
    }
}

/// What a fit produced, ready to print or write.
#[derive(Clone, Debug, PartialEq)]
pub struct FitReport {
    /// Where the runs came from, as the reader should see it (a file path).
    pub source: String,
    pub columns: Columns,
    /// Highest-loss runs dropped before fitting.
    pub drop_top: usize,
    /// The runs fitted.
    pub runs: Vec<Observation>,
    pub fit: HuberFit,
    pub bootstrap: Option<Bootstrap>,
    /// ln fitted - ln observed, per run.
    pub residuals: Vec<f64>,
    pub warnings: Vec<FitWarning>,
}

impl FitReport {
    /// The report of `fit` (and its bootstrap) to `runs`: computes the residuals and diagnostics.
    pub fn new(
        source: String,
        columns: Columns,
        drop_top: usize,
        runs: Vec<Observation>,
        fit: HuberFit,
        bootstrap: Option<Bootstrap>,
    ) -> Self {
        let residuals = HuberObjective::new(&runs).residuals(&fit.params);
        let warnings = diagnose(&fit, bootstrap.as_ref());
        FitReport {
            source,
            columns,
            drop_top,
            runs,
            fit,
            bootstrap,
            residuals,
            warnings,
        }
    }

    /// The fit as a table for a terminal: what was fitted, how, estimates with intervals, the
    /// frontier and the residuals.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let p = self.fit.params;
        let law = p.to_law();
        let _ = writeln!(
            out,
            "Fit of L(N, D) = E + A/N^alpha + B/D^beta to {} runs from {} (N from '{}', {}, loss from '{}'{})",
            self.fit.n_points,
            self.source,
            self.columns.n,
            tokens_description(&self.columns),
            self.columns.loss,
            if self.drop_top > 0 {
                format!("; {} highest losses dropped", self.drop_top)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            out,
            "Huber loss (delta 1e-3) on log loss, summed; L-BFGS from {} starts, best from start {} ({} starts reached it); objective {:.10}",
            self.fit.starts, self.fit.start_index, self.fit.starts_at_best, self.fit.objective
        );
        match &self.bootstrap {
            Some(b) => {
                let _ = writeln!(
                    out,
                    "95% intervals: bootstrap percentiles over {} resamples of the runs (seed {}), each refitted from the best fit\n",
                    b.replicates.len(),
                    b.seed
                );
            }
            None => out.push_str("no bootstrap (--bootstrap 0): no intervals\n\n"),
        }
        let _ = writeln!(out, "{:<8} {:>12}   {:<28}", "", "estimate", "95% CI");
        for (name, statistic) in STATISTICS {
            let ci = self
                .bootstrap
                .as_ref()
                .and_then(|b| b.interval(statistic))
                .map_or_else(
                    || "-".to_owned(),
                    |(lo, hi)| format!("[{}, {}]", num(lo), num(hi)),
                );
            let _ = writeln!(out, "{name:<8} {:>12}   {ci:<28}", num(statistic(&p)));
        }
        let _ = writeln!(
            out,
            "\nlog-space: a = ln A = {:.6}, b = ln B = {:.6}, e = ln E = {:.6}",
            p.log_a, p.log_b, p.log_e
        );
        if let Some(r) = self.bootstrap.as_ref().and_then(exponent_correlation) {
            let _ = writeln!(out, "bootstrap correlation of alpha and beta: {r:.3}");
        }
        if law.is_valid() {
            let g = ComputeOptimal::new(&law);
            let _ = writeln!(
                out,
                "compute-optimal: N_opt = {} (C/6)^{}, D_opt = {} (C/6)^{}",
                num(g.g),
                num(g.a),
                num(1.0 / g.g),
                num(g.b)
            );
        }
        let stats = ResidualSummary::of(&self.residuals);
        let worst = largest_residual(&self.residuals).map(|(i, v)| (self.runs[i].line, v));
        let _ = writeln!(
            out,
            "residuals (ln fitted - ln observed): mean {}, sd {}, mean |r| {}{}",
            num(stats.mean),
            num(stats.sd),
            num(stats.mean_abs),
            worst.map_or_else(String::new, |(line, v)| format!(
                ", largest {} (line {line})",
                num(v)
            ))
        );
        out
    }

    /// The JSON record of the fit (`fit.json`).
    pub fn record(&self) -> FitRecord {
        let p = self.fit.params;
        let ci95 = match &self.bootstrap {
            Some(b) => STATISTICS
                .iter()
                .filter_map(|(name, statistic)| {
                    b.interval(statistic)
                        .map(|(lo, hi)| ((*name).to_owned(), [lo, hi]))
                })
                .collect(),
            None => Default::default(),
        };
        FitRecord {
            params: p.to_law(),
            log_params: LogCoefficients {
                a: p.log_a,
                b: p.log_b,
                e: p.log_e,
            },
            ci95,
            objective: self.fit.objective,
            n_points: self.fit.n_points,
            a_opt: a_opt(&p),
            b_opt: b_opt(&p),
            fit: SearchRecord {
                loss: "huber(delta=1e-3) on log loss, summed over runs".to_owned(),
                starts: self.fit.starts,
                best_start_index: self.fit.start_index,
                best_start: self.fit.start,
                starts_at_best: self.fit.starts_at_best,
                iterations: self.fit.iterations,
                stop: self.fit.stop,
            },
            bootstrap: self.bootstrap.as_ref().map(|b| BootstrapRecord {
                resamples: b.replicates.len(),
                seed: b.seed,
                refit_from: "best fit".to_owned(),
                interval: "percentile, 2.5% and 97.5%".to_owned(),
                corr_alpha_beta: exponent_correlation(b),
            }),
            residuals: ResidualSummary::of(&self.residuals),
            data: DataRecord {
                file: self.source.clone(),
                n_col: self.columns.n.clone(),
                tokens: tokens_description(&self.columns),
                loss_col: self.columns.loss.clone(),
                drop_top: self.drop_top,
            },
            warnings: self.warnings.iter().map(ToString::to_string).collect(),
        }
    }

    /// One line per run: its CSV line, N, D, observed and fitted loss, and the residual.
    pub fn residuals_csv(&self) -> String {
        let law = self.fit.params.to_law();
        let mut csv = String::from("line,N,D,loss,fitted,residual\n");
        for (run, res) in self.runs.iter().zip(&self.residuals) {
            let _ = writeln!(
                csv,
                "{},{:e},{:e},{},{},{}",
                run.line,
                run.n,
                run.d,
                run.loss,
                law.loss(run.n, run.d),
                res
            );
        }
        csv
    }

    /// The report page: the table, the warnings, and the figures and files of [`Self::files`] by
    /// relative link.
    pub fn html(&self) -> String {
        let mut html = String::new();
        let _ = write!(
            html,
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Scaling-law fit</title>\
<style>body{{font-family:sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}}\
pre{{background:#f6f8fa;padding:0.8rem;overflow-x:auto}}.warning{{color:#a40}}img{{max-width:100%}}</style>\
</head><body>\n<h1>Scaling-law fit</h1>\n<pre>{}</pre>\n",
            escape_html(&self.table())
        );
        for w in &self.warnings {
            let _ = writeln!(
                html,
                "<p class=\"warning\">Warning: {}</p>",
                escape_html(&w.to_string())
            );
        }
        html.push_str(
            "<h2>Fit</h2>\n<img src=\"fit.svg\" alt=\"loss against compute, and observed against fitted\">\n\
<h2>Residuals</h2>\n<img src=\"residuals.svg\" alt=\"residuals against N and D\">\n\
<p>Files: <a href=\"fit.json\">fit.json</a> (parameters, intervals; usable as <code>--params</code>), \
<a href=\"residuals.csv\">residuals.csv</a>.</p>\n</body></html>\n",
        );
        html
    }

    /// The report folder, as (file name, contents) in writing order: fit.json, residuals.csv,
    /// fit.svg, residuals.svg, report.html.
    pub fn files(&self) -> Result<Vec<(&'static str, String)>, ReportError> {
        let law = self.fit.params.to_law();
        let mut json = pretty_json(&self.record())?;
        json.push('\n');
        Ok(vec![
            ("fit.json", json),
            ("residuals.csv", self.residuals_csv()),
            (
                "fit.svg",
                figure::render(&figure::fit_panels(&self.runs, &law))?,
            ),
            (
                "residuals.svg",
                figure::render(&figure::residual_panels(&self.runs, &self.residuals))?,
            ),
            ("report.html", self.html()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::ParameterSet;
    use crate::lbfgs::Stop;

    #[test]
    fn numbers_have_four_significant_digits() {
        for (x, text) in [
            (0.0, "0"),
            (1.0, "1"),
            (0.34, "0.34"),
            (1.69337368, "1.693"),
            (406.401018, "406.4"),
            (2085.43, "2085"),
            (123456.0, "123456"),
            (1.5e6, "1.500e6"),
            (-0.006502, "-0.006502"),
            (1.919e-7, "1.919e-7"),
            (f64::NAN, "n/a"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(format_number(x), text, "{x}");
        }
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">R&D's</a>"),
            "&lt;a href=&quot;x&quot;&gt;R&amp;D&#39;s&lt;/a&gt;"
        );
    }

    /// Four runs exactly on a law, fitted by that law: residuals zero, no bootstrap.
    fn exact_report() -> FitReport {
        let law = ParameterSet::hoffmann_printed().law;
        let runs: Vec<Observation> = [(1e8, 2e9), (1e9, 2e10), (1e10, 2e11), (1e11, 2e12)]
            .iter()
            .enumerate()
            .map(|(i, &(n, d))| Observation {
                n,
                d,
                loss: law.loss(n, d),
                line: i as u64 + 2,
            })
            .collect();
        let fit = HuberFit {
            params: law.to_log(),
            objective: 0.0,
            n_points: 4,
            start_index: 7,
            start: [0.0; 5],
            iterations: 12,
            stop: Stop::Gradient,
            starts: 4500,
            starts_at_best: 4,
            evaluations: 99,
        };
        let columns = Columns {
            n: "N".into(),
            tokens: TokenColumn::Compute("C".into()),
            loss: "loss".into(),
        };
        FitReport::new("runs.csv".into(), columns, 1, runs, fit, None)
    }

    #[test]
    fn a_report_computes_residuals_and_diagnostics() {
        let r = exact_report();
        assert_eq!(r.residuals.len(), 4);
        assert!(
            r.residuals.iter().all(|v| v.abs() < 1e-12),
            "{:?}",
            r.residuals
        );
        // Only 4 starts reached the best objective.
        assert_eq!(
            r.warnings,
            vec![FitWarning::RarelyReached {
                starts_at_best: 4,
                starts: 4500
            }]
        );
        let record = r.record();
        assert_eq!(record.data.tokens, "D = C / 6N with C from column 'C'");
        assert_eq!(record.data.drop_top, 1);
        assert!(record.ci95.is_empty() && record.bootstrap.is_none());
        assert_eq!(record.warnings, vec![r.warnings[0].to_string()]);
        assert!((record.a_opt + record.b_opt - 1.0).abs() < 1e-15);
    }

    #[test]
    fn the_table_csv_and_page_say_what_was_fitted() {
        let r = exact_report();
        let table = r.table();
        assert!(
            table.starts_with(
                "Fit of L(N, D) = E + A/N^alpha + B/D^beta to 4 runs from runs.csv (N from 'N', D = C / 6N with C from column 'C', loss from 'loss'; 1 highest losses dropped)\n"
            ),
            "{table}"
        );
        assert!(table.contains("no bootstrap (--bootstrap 0): no intervals\n\n"));
        assert!(table.contains("\nalpha            0.34   -"), "{table}");
        assert!(table.contains("E                1.69   -"), "{table}");
        let csv = r.residuals_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "line,N,D,loss,fitted,residual");
        assert_eq!(lines.len(), 5);
        assert!(lines[1].starts_with("2,1e8,2e9,"), "{}", lines[1]);
        let html = r.html();
        assert!(html.contains("<p class=\"warning\">Warning: only 4 of 4500 starts"));
        assert!(html.contains("(N from &#39;N&#39;"), "the table is escaped");
        let files = r.files().unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.0).collect();
        assert_eq!(
            names,
            [
                "fit.json",
                "residuals.csv",
                "fit.svg",
                "residuals.svg",
                "report.html"
            ]
        );
        // fit.json is the record.
        crate::fit_file::assert_round_trip(
            &r.record(),
            &FitRecord::from_json(&files[0].1).unwrap(),
        );
        assert!(files[0].1.ends_with("}\n"));
    }
}
