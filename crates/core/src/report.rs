//! The HTML pages: a run's `report.html` (claim, setup, verdicts, plots, metric tables) and the
//! `index.html` over several runs. Both are self-contained (inline CSS, no scripts, no external
//! assets) and link plots and reports by relative paths, so a folder can be moved or served as is.

use crate::claim::{AuditStatus, CellEvidence};
use crate::condition::condition_text;
use crate::error::Error;
use crate::experiment::{Figure, MetricSummary, PlotSpec, Results, Verdict, VerdictKind};
use crate::stats::format_number;
use crate::store;
use std::fmt::Write;
use std::path::Path;

/// The texts the report shows besides the numbers.
pub(crate) struct ReportText<'a> {
    pub id: &'a str,
    pub claim: &'a str,
    pub model: &'a str,
    /// The resolved config as TOML.
    pub config: &'a str,
}

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
body { font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; max-width: 72rem;
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
.answer { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 26rem); gap: 1.2rem;
  border: 1px solid #e5e7eb; border-radius: 0.5rem; padding: 0.9rem 1.1rem; margin: 1rem 0 1.4rem; }
.answer.noplot { grid-template-columns: minmax(0, 1fr); }
.answer h3 { margin: 0 0 0.4rem; font-size: 1.05rem; line-height: 1.45; }
.answer .rule { color: #555; font-size: 0.88rem; margin: 0.3rem 0 0.5rem; }
.answer figure { margin: 0; }
.answer table { font-size: 0.86rem; margin: 0.4rem 0 0.6rem; }
.audit { display: inline-block; padding: 0.1rem 0.55rem; border-radius: 0.8rem; font-size: 0.8rem;
  border: 1px solid #cbd5e1; color: #334155; white-space: nowrap; }
.audit.falsifiable { border-color: #16a34a; color: #166534; }
.audit.foregone { border-color: #b91c1c; color: #991b1b; background: #fff1f2; }
.audit.untested { border-style: dashed; }
details > summary { cursor: pointer; color: #444; }
.summary-line { font-size: 1.05rem; }
.warning { background: #fff4d6; border-left: 4px solid #d08c00; padding: 0.4rem 0.7rem; }
td a { color: #1e3a8a; text-decoration: none; }
td a:hover { text-decoration: underline; }
td.cell { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.8rem; }
";

pub(crate) fn page(title: &str, body: &str) -> String {
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

fn audit_badge(v: &Verdict) -> String {
    match &v.audit {
        Some(a) => format!(
            "<span class=\"audit {0}\" title=\"{1}\">{0}</span>",
            a.status.as_str(),
            escape_html(audit_meaning(a.status))
        ),
        None => "<span class=\"audit\" title=\"run cruxlab audit to run its controls\">not audited</span>".into(),
    }
}

fn audit_meaning(status: AuditStatus) -> &'static str {
    match status {
        AuditStatus::Falsifiable => "a control run gave a decisive verdict other than this one",
        AuditStatus::Foregone => {
            "no control run gave another decisive verdict: the verdict may follow from the model's construction"
        }
        AuditStatus::Untested => "the claim declares no control",
    }
}

fn cell_text(c: &CellEvidence) -> String {
    if c.cell.is_empty() {
        return "all".into();
    }
    if c.cell.get("pooled") == Some(&serde_json::Value::Bool(true)) {
        return "pooled over cells".into();
    }
    c.cell
        .iter()
        .map(|(k, v)| format!("{k}={}", condition_text(Some(v))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One claim as a card: verdict and audit, the claim, the rule, the numbers it used, its controls
/// and, beside them, its plot.
fn answer_card(out: &mut String, v: &Verdict, plots: &[PlotSpec]) {
    let plot = v.plot.as_deref();
    let _ = writeln!(
        out,
        "<section class=\"answer{}\" id=\"claim-{}\"><div>",
        if plot.is_some() { "" } else { " noplot" },
        escape_html(&v.id)
    );
    let _ = writeln!(
        out,
        "<h3>{} {} {}</h3>",
        verdict_badge(v.verdict),
        audit_badge(v),
        escape_html(&v.claim)
    );
    let _ = writeln!(out, "<p class=\"rule\">{}</p>", escape_html(&v.rule));
    out.push_str("<table>\n<tr><th>cell</th><th>estimate</th><th>95% CI</th><th>n</th><th>outcome</th></tr>\n");
    for c in &v.evidence.cells {
        let ci = match (c.ci_low, c.ci_high) {
            (Some(l), Some(h)) => format!("[{}, {}]", format_number(l), format_number(h)),
            _ => "n/a".into(),
        };
        let note = c
            .note
            .as_ref()
            .map(|n| format!(" <span class=\"muted\">({})</span>", escape_html(n)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr><td class=\"cell\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}{note}</td></tr>",
            escape_html(&cell_text(c)),
            format_number(c.estimate),
            ci,
            c.n,
            c.outcome.as_str()
        );
    }
    out.push_str("</table>\n");
    match &v.audit {
        Some(a) if !a.controls.is_empty() => {
            out.push_str("<details open><summary>Controls: configs under which the model should answer otherwise</summary>\n<table>\n<tr><th>override</th><th>why</th><th>expected</th><th>got</th></tr>\n");
            for c in &a.controls {
                let _ = writeln!(
                    out,
                    "<tr><td class=\"cell\"><a href=\"{}/report.html\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape_html(&c.folder),
                    escape_html(&c.set.join(" ")),
                    escape_html(&c.why),
                    c.expect.as_str(),
                    c.verdict.map_or("not declared", |k| k.as_str()),
                );
            }
            out.push_str("</table></details>\n");
        }
        Some(_) => out.push_str("<p class=\"muted\">No control declared: nothing shows this verdict could have come out otherwise.</p>\n"),
        None if !v.controls.is_empty() => {
            let _ = writeln!(
                out,
                "<p class=\"muted\">{} control(s) declared; <code>cruxlab audit</code> runs them.</p>",
                v.controls.len()
            );
        }
        None => out.push_str("<p class=\"muted\">No control declared.</p>\n"),
    }
    out.push_str("</div>\n");
    if let Some(file) = plot {
        let title = plots
            .iter()
            .find(|p| p.file == file)
            .map_or(file, |p| p.title.as_str());
        let _ = writeln!(
            out,
            "<figure><a href=\"{0}\"><img src=\"{0}\" alt=\"{1}\" width=\"416\" height=\"250\"></a><figcaption>{1}</figcaption></figure>",
            escape_html(file),
            escape_html(title)
        );
    }
    out.push_str("</section>\n");
}

fn verdict_counts(verdicts: &[Verdict]) -> String {
    let count = |k: VerdictKind| verdicts.iter().filter(|v| v.verdict == k).count();
    let audited = |s: AuditStatus| {
        verdicts
            .iter()
            .filter(|v| v.audit.as_ref().is_some_and(|a| a.status == s))
            .count()
    };
    let mut text = format!(
        "{} claims: {} supported, {} refuted, {} inconclusive.",
        verdicts.len(),
        count(VerdictKind::Supported),
        count(VerdictKind::Refuted),
        count(VerdictKind::Inconclusive)
    );
    if verdicts.iter().any(|v| v.audit.is_some()) {
        let _ = write!(
            text,
            " Audit: {} falsifiable, {} foregone, {} untested.",
            audited(AuditStatus::Falsifiable),
            audited(AuditStatus::Foregone),
            audited(AuditStatus::Untested)
        );
    }
    text
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
        let robust = results
            .metrics
            .iter()
            .any(|m| m.metric == name && m.robust.is_some());
        out.push_str("<th>mean</th><th>95% CI (Student t)</th><th>n</th>");
        if robust {
            out.push_str("<th>IQM</th><th>95% CI (stratified bootstrap)</th>");
        }
        out.push_str("</tr>\n");
        for m in results.metrics.iter().filter(|m| m.metric == name) {
            out.push_str("<tr>");
            for key in keys {
                let _ = write!(
                    out,
                    "<td>{}</td>",
                    escape_html(&condition_text(m.condition.get(key)))
                );
            }
            let _ = write!(
                out,
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                format_number(m.mean),
                ci_text(m),
                m.n
            );
            if robust {
                let (iqm, ci) = match &m.robust {
                    Some(r) => (
                        format_number(r.iqm),
                        match (r.ci_low, r.ci_high) {
                            (Some(lo), Some(hi)) => {
                                format!("[{}, {}]", format_number(lo), format_number(hi))
                            }
                            _ => "n/a".to_owned(),
                        },
                    ),
                    None => ("n/a".to_owned(), "n/a".to_owned()),
                };
                let _ = write!(
                    out,
                    "<td class=\"num\">{iqm}</td><td class=\"num\">{ci}</td>"
                );
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
}

/// The whole `report.html` of a finished run: the answer first (each claim's verdict, audit,
/// numbers and plot), then the setup, the other plots and pictures, the metric tables, and the
/// config folded away.
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
    let _ = writeln!(
        body,
        "<p class=\"summary-line\">{}</p>",
        escape_html(&verdict_counts(&results.verdicts))
    );
    for w in &results.warnings {
        let _ = writeln!(
            body,
            "<p class=\"warning\"><strong>Warning:</strong> {}</p>",
            escape_html(w)
        );
    }
    body.push_str("<h2>Verdicts</h2>\n");
    body.push_str("<p class=\"muted\">Every verdict follows one rule: per cell, the effect's Student-t 95% CI over seeds against the claim's threshold; the cells then combine as the claim says. Estimates are means over seeds.</p>\n");
    if results.verdicts.is_empty() {
        body.push_str("<p class=\"muted\">No verdicts.</p>\n");
    }
    for v in &results.verdicts {
        answer_card(&mut body, v, plots);
    }

    body.push_str("<h2>Setup</h2>\n");
    body.push_str(&paragraphs(text.model));

    let shown: Vec<&str> = results
        .verdicts
        .iter()
        .filter_map(|v| v.plot.as_deref())
        .collect();
    let rest: Vec<&PlotSpec> = plots
        .iter()
        .filter(|p| !shown.contains(&p.file.as_str()))
        .collect();
    if !plots.is_empty() {
        body.push_str("<h2>Plots</h2>\n");
        body.push_str("<p class=\"muted\">Points are means over seeds; bars are 95% confidence intervals.</p>\n");
        for spec in plots {
            if !rest.iter().any(|p| p.file == spec.file) {
                continue;
            }
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
        if rest.is_empty() {
            body.push_str("<p class=\"muted\">Every plot is shown beside its verdict above.</p>\n");
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
    body.push_str("<details><summary>Metric tables</summary>\n");
    metric_tables(&mut body, results, keys);
    body.push_str("</details>\n");
    body.push_str("<h2>Resolved config</h2>\n<details><summary>config.toml</summary>\n");
    let _ = writeln!(body, "<pre>{}</pre>", escape_html(text.config.trim_end()));
    body.push_str("</details>\n");
    page(&format!("{}: {}", text.id, text.claim), &body)
}

/// Write `out/index.html`: a matrix of experiments x claims (`(id, claim, results)` per run), each
/// claim with its verdict and audit status, linked to its card in `ID/report.html`.
pub fn write_index(out: &Path, runs: &[(String, String, Results)]) -> Result<(), Error> {
    let mut body = String::from(
        "<h1>cruxlab</h1>\n<p class=\"claim\">Experiments, their claims, verdicts and audits.</p>\n",
    );
    if runs.is_empty() {
        body.push_str("<p class=\"muted\">No runs.</p>\n");
    } else {
        let all: Vec<Verdict> = runs
            .iter()
            .flat_map(|(_, _, r)| r.verdicts.clone())
            .collect();
        let _ = writeln!(
            body,
            "<p class=\"summary-line\">{}</p>",
            escape_html(&verdict_counts(&all))
        );
        body.push_str("<p class=\"muted\">Audit: <em>falsifiable</em>, a control run gave another decisive verdict; <em>foregone</em>, no control did, so the verdict may follow from the model's construction; <em>untested</em>, no control declared.</p>\n");
        body.push_str(
            "<table>\n<tr><th>experiment</th><th>claim</th><th>verdict</th><th>audit</th></tr>\n",
        );
    }
    for (id, claim, results) in runs {
        let rows = results.verdicts.len().max(1);
        let head = format!(
            "<td rowspan=\"{rows}\"><a href=\"{0}/report.html\"><strong>{0}</strong></a><br><span class=\"muted\">{1}</span></td>",
            escape_html(id),
            escape_html(claim)
        );
        if results.verdicts.is_empty() {
            let _ = writeln!(
                body,
                "<tr>{head}<td colspan=\"3\" class=\"muted\">no verdicts</td></tr>"
            );
        }
        for (i, v) in results.verdicts.iter().enumerate() {
            let _ = writeln!(
                body,
                "<tr>{}<td><a href=\"{}/report.html#claim-{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                if i == 0 { head.as_str() } else { "" },
                escape_html(id),
                escape_html(&v.id),
                escape_html(&v.claim),
                verdict_badge(v.verdict),
                audit_badge(v)
            );
        }
    }
    if !runs.is_empty() {
        body.push_str("</table>\n");
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
                robust: None,
            }],
            verdicts: vec![Verdict {
                id: "bias".into(),
                claim: "bias <matters>".into(),
                verdict: VerdictKind::Refuted,
                rule: "the rule".into(),
                evidence: crate::claim::Evidence {
                    effect: crate::claim::Effect::metric("x<y"),
                    direction: crate::claim::Direction::Above,
                    reference: 0.7,
                    margin: 0.0,
                    combine: crate::claim::Combine::Every,
                    interval: "t".into(),
                    cells: vec![CellEvidence {
                        cell: json!({"p": 0.5}).as_object().unwrap().clone(),
                        estimate: 0.5,
                        ci_low: Some(0.4),
                        ci_high: Some(0.6),
                        n: 10,
                        outcome: VerdictKind::Refuted,
                        note: None,
                    }],
                },
                controls: vec![],
                audit: None,
                plot: None,
            }],
            warnings: vec!["reference data absent".into()],
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
            "id=\"claim-bias\"",
            "<td class=\"cell\">p=0.5</td>",
            "bias &lt;matters&gt;",
            "verdict refuted",
            "<h3 id=\"metric-x&lt;y\">x&lt;y</h3>",
            "<td class=\"num\">[0.4, 0.6]</td><td class=\"num\">10</td>",
            "<p class=\"warning\"><strong>Warning:</strong> reference data absent</p>",
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
        assert!(html.contains("<a href=\"toy/report.html\"><strong>toy</strong></a>"));
        assert!(html.contains("toy/report.html#claim-bias"));
        assert!(html.contains("verdict refuted"));
    }
}
