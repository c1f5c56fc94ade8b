//! The HTML pages: a run's `report.html` (claim, setup, verdicts, plots, metric tables) and the
//! `index.html` over several runs. Both are self-contained (inline CSS, no scripts, no external
//! assets) and link plots and reports by relative paths, so a folder can be moved or served as is.

use crate::error::Error;
use crate::experiment::{Figure, MetricSummary, PlotSpec, Results, Verdict, VerdictKind};
use crate::finalize::{ReportText, condition_text};
use crate::stats::format_number;
use crate::store;
use std::fmt::Write;
use std::path::Path;

/// Escape text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
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

const STYLE: &str = "
body { font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; max-width: 62rem;
  margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; line-height: 1.5; }
h1 { margin-bottom: 0.2rem; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.2rem; }
.claim { font-size: 1.15rem; color: #333; margin-top: 0; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; padding: 0.8rem; overflow-x: auto; font-size: 0.85rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1.4rem; font-size: 0.92rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.65rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { display: inline-block; padding: 0.1rem 0.55rem; border-radius: 0.8rem; font-weight: 600;
  font-size: 0.85rem; white-space: nowrap; }
.supported { background: #dcfce7; color: #166534; }
.refuted { background: #fee2e2; color: #991b1b; }
.inconclusive { background: #fef3c7; color: #92400e; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figure.picture img { image-rendering: pixelated; max-width: 520px; }
figure.picture { display: inline-block; vertical-align: top; margin-right: 1.5rem; max-width: 520px; }
figcaption { color: #555; font-size: 0.9rem; }
.muted { color: #777; }
";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape_html(title)
    )
}

fn verdict_badge(kind: VerdictKind) -> &'static str {
    match kind {
        VerdictKind::Supported => "<span class=\"verdict supported\">supported</span>",
        VerdictKind::Refuted => "<span class=\"verdict refuted\">refuted</span>",
        VerdictKind::Inconclusive => "<span class=\"verdict inconclusive\">inconclusive</span>",
    }
}

fn verdict_table(out: &mut String, verdicts: &[Verdict]) {
    if verdicts.is_empty() {
        out.push_str("<p class=\"muted\">No verdicts.</p>\n");
        return;
    }
    out.push_str("<table>\n<tr><th>Claim</th><th>Verdict</th><th>Evidence</th></tr>\n");
    for v in verdicts {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(&v.claim),
            verdict_badge(v.verdict),
            escape_html(&v.evidence)
        );
    }
    out.push_str("</table>\n");
}

/// Plain text paragraphs (separated by blank lines) as HTML paragraphs.
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>\n", escape_html(p)))
        .collect()
}

fn ci_text(m: &MetricSummary) -> String {
    match (m.ci_low, m.ci_high) {
        (Some(low), Some(high)) => format!("[{}, {}]", format_number(low), format_number(high)),
        _ => "n/a".to_owned(),
    }
}

fn metric_tables(out: &mut String, results: &Results, keys: &[String]) {
    let mut names: Vec<&str> = Vec::new();
    for m in &results.metrics {
        if !names.contains(&m.metric.as_str()) {
            names.push(&m.metric);
        }
    }
    if names.is_empty() {
        out.push_str("<p class=\"muted\">No metrics.</p>\n");
    }
    for name in names {
        let _ = writeln!(out, "<h3 id=\"metric-{0}\">{0}</h3>", escape_html(name));
        out.push_str("<table>\n<tr>");
        for key in keys {
            let _ = write!(out, "<th>{}</th>", escape_html(key));
        }
        out.push_str("<th>mean</th><th>95% CI</th><th>n</th></tr>\n");
        for m in results.metrics.iter().filter(|m| m.metric == name) {
            out.push_str("<tr>");
            for key in keys {
                let _ = write!(
                    out,
                    "<td>{}</td>",
                    escape_html(&condition_text(m.condition.get(key)))
                );
            }
            let _ = writeln!(
                out,
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                format_number(m.mean),
                ci_text(m),
                m.n
            );
        }
        out.push_str("</table>\n");
    }
}

/// The whole `report.html` of a finished run.
pub(crate) fn render_report(
    text: &ReportText,
    results: &Results,
    plots: &[PlotSpec],
    figures: &[Figure],
    keys: &[String],
) -> String {
    let mut body = String::new();
    let _ = writeln!(body, "<h1>{}</h1>", escape_html(text.id));
    let _ = writeln!(
        body,
        "<p class=\"claim\"><strong>Claim:</strong> {}</p>",
        escape_html(text.claim)
    );

    body.push_str("<h2>Setup</h2>\n");
    body.push_str(&paragraphs(text.model));
    body.push_str("<h3>Resolved config</h3>\n");
    let _ = writeln!(body, "<pre>{}</pre>", escape_html(text.config.trim_end()));

    body.push_str("<h2>Verdicts</h2>\n");
    verdict_table(&mut body, &results.verdicts);

    if !plots.is_empty() {
        body.push_str("<h2>Plots</h2>\n");
        body.push_str("<p class=\"muted\">Points are means over seeds; bars are 95% confidence intervals.</p>\n");
        for spec in plots {
            let _ = writeln!(
                body,
                "<figure><img src=\"{file}\" alt=\"{title}\" width=\"800\" height=\"480\">\
                 <figcaption>{title}: {metric} against {x}.</figcaption></figure>",
                file = escape_html(&spec.file),
                title = escape_html(&spec.title),
                metric = escape_html(&spec.y_label),
                x = escape_html(&spec.x_label),
            );
        }
    }

    if !figures.is_empty() {
        body.push_str("<h2>Inside the agents</h2>\n");
        for figure in figures {
            let _ = writeln!(
                body,
                "<figure class=\"picture\"><img src=\"{file}\" alt=\"{caption}\">\
                 <figcaption>{caption}</figcaption></figure>",
                file = escape_html(&figure.file),
                caption = escape_html(&figure.caption),
            );
        }
    }

    body.push_str("<h2>Metrics</h2>\n");
    body.push_str(
        "<p class=\"muted\">Mean over seeds with a Student t 95% confidence interval; n counts the seeds \
         with a value (NaN, \"not applicable\", left out). Per-seed values: \
         <a href=\"per_seed.csv\">per_seed.csv</a>; everything: <a href=\"results.json\">results.json</a>.</p>\n",
    );
    metric_tables(&mut body, results, keys);
    page(&format!("{}: {}", text.id, text.claim), &body)
}

/// Write `out/index.html`: one section per run (`(id, claim, results)`), linking `ID/report.html`,
/// with the claim and the verdicts.
pub fn write_index(out: &Path, runs: &[(String, String, Results)]) -> Result<(), Error> {
    let mut body =
        String::from("<h1>cruxlab</h1>\n<p class=\"claim\">Experiments and their verdicts.</p>\n");
    if runs.is_empty() {
        body.push_str("<p class=\"muted\">No runs.</p>\n");
    }
    for (id, claim, results) in runs {
        let _ = writeln!(
            body,
            "<h2><a href=\"{0}/report.html\">{0}</a></h2>\n<p class=\"claim\">{1}</p>",
            escape_html(id),
            escape_html(claim)
        );
        verdict_table(&mut body, &results.verdicts);
    }
    std::fs::create_dir_all(out).map_err(Error::io(out))?;
    store::write_atomic(&out.join("index.html"), page("cruxlab", &body).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes() {
        assert_eq!(
            escape_html("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;"
        );
    }

    fn results() -> Results {
        Results {
            experiment: "toy".into(),
            config: json!({}),
            metrics: vec![MetricSummary {
                metric: "x<y".into(),
                condition: json!({"p": 0.5}).as_object().unwrap().clone(),
                mean: 0.5,
                ci_low: Some(0.4),
                ci_high: Some(0.6),
                n: 10,
                values: vec![],
                seeds: vec![],
            }],
            verdicts: vec![Verdict {
                claim: "bias <matters>".into(),
                verdict: VerdictKind::Refuted,
                evidence: "0.5 [0.4, 0.6] (n=10)".into(),
            }],
        }
    }

    #[test]
    fn report_holds_every_section() {
        let text = ReportText {
            id: "toy",
            claim: "A & B",
            model: "First.\n\nSecond <p>.",
            config: "seeds = 3\n",
        };
        let html = render_report(&text, &results(), &[], &[], &["p".to_owned()]);
        for needle in [
            "<h1>toy</h1>",
            "A &amp; B",
            "<p>Second &lt;p&gt;.</p>",
            "<pre>seeds = 3</pre>",
            "bias &lt;matters&gt;",
            "verdict refuted",
            "<h3 id=\"metric-x&lt;y\">x&lt;y</h3>",
            "<td class=\"num\">[0.4, 0.6]</td><td class=\"num\">10</td>",
        ] {
            assert!(html.contains(needle), "missing {needle}");
        }
        assert!(!html.contains("http"), "no external assets");
    }

    #[test]
    fn index_links_reports() {
        let dir = tempfile::tempdir().unwrap();
        write_index(
            dir.path(),
            &[("toy".into(), "bias matters".into(), results())],
        )
        .unwrap();
        let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
        assert!(html.contains("<a href=\"toy/report.html\">toy</a>"));
        assert!(html.contains("verdict refuted"));
    }
}
