//! Sensitivity of every claim to the model's assumptions.
//!
//! `cruxlab sensitivity EXP --vary key=lo..hi ... --samples N` draws N points of an Owen-scrambled
//! Sobol sequence (the `sobol_burley` crate) over the box of the varied config keys, runs the
//! experiment once per point (each a normal run folder in `OUT/samples/NNN`, so an interrupted
//! analysis resumes), and reports for every claim the share of the box where it is supported,
//! refuted and inconclusive, and the Spearman rank correlation of each varied key with the
//! verdict (coded +1 supported, 0 inconclusive, -1 refuted). The key with the largest |rho|
//! moves the claim most. A claim supported in the whole box is a finding about the model; one
//! that flips inside the box rests on the assumption that flips it.

use crate::config::ResolvedConfig;
use crate::error::{Error, UserError};
use crate::experiment::VerdictKind;
use crate::report::escape_html;
use crate::run::{DynExperiment, RunOptions, RunOutcome};
use crate::stats::format_number;
use crate::store;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::Path;

/// One varied config key and its range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vary {
    /// A dotted config key holding a number.
    pub key: String,
    pub lo: f64,
    pub hi: f64,
    /// The key holds an integer: sampled values are rounded.
    pub integer: bool,
}

impl Vary {
    /// Parse `key=lo..hi` (the integer flag is set later, from the config).
    pub fn parse(arg: &str) -> Result<Vary, UserError> {
        let bad =
            |why: &str| UserError::Usage(format!("--vary {arg}: {why} (expected KEY=LO..HI)"));
        let (key, range) = arg.split_once('=').ok_or_else(|| bad("no '='"))?;
        let (lo, hi) = range.split_once("..").ok_or_else(|| bad("no '..'"))?;
        let number = |s: &str| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(&format!("'{}' is not a finite number", s.trim())))
        };
        let (lo, hi) = (number(lo)?, number(hi)?);
        if key.trim().is_empty() {
            return Err(bad("empty key"));
        }
        if lo >= hi {
            return Err(bad("LO must be below HI"));
        }
        Ok(Vary {
            key: key.trim().to_owned(),
            lo,
            hi,
            integer: false,
        })
    }

    fn value(&self, u: f64) -> f64 {
        let x = self.lo + u * (self.hi - self.lo);
        if self.integer { x.round() } else { x }
    }

    fn set(&self, x: f64) -> String {
        if self.integer {
            format!("{}={}", self.key, x as i64)
        } else {
            format!("{}={x:?}", self.key)
        }
    }
}

/// The value at a dotted key of a TOML table.
fn lookup<'t>(table: &'t toml::Table, key: &str) -> Option<&'t toml::Value> {
    let mut parts = key.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

/// The design: `samples` points in the unit cube of `dims` dimensions, Owen-scrambled Sobol.
pub fn design(samples: usize, dims: usize, seed: u32) -> Vec<Vec<f64>> {
    (0..samples)
        .map(|i| {
            (0..dims)
                .map(|d| f64::from(sobol_burley::sample(i as u32, d as u32, seed)))
                .collect()
        })
        .collect()
}

/// Ranks with ties averaged (1-based).
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = rank;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation (Pearson on tie-averaged ranks); `None` when either side is
/// constant.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// One claim across the sampled box.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimSensitivity {
    pub id: String,
    pub claim: String,
    /// Shares of the samples (where the claim was declared).
    pub supported: f64,
    pub refuted: f64,
    pub inconclusive: f64,
    /// Samples where the claim was declared.
    pub n: usize,
    /// Spearman rho of each varied key with the coded verdict, in `vary` order (`None`: the
    /// verdict or the key did not vary).
    pub rho: Vec<Option<f64>>,
    /// The varied key with the largest |rho|, if any verdict varied.
    pub most_influential: Option<String>,
    /// Per sample, the verdict (`None`: not declared there).
    pub verdicts: Vec<Option<VerdictKind>>,
}

/// What `sensitivity.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    pub experiment: String,
    pub design: String,
    pub vary: Vec<Vary>,
    /// Per sample, the value of each varied key.
    pub samples: Vec<Vec<f64>>,
    pub claims: Vec<ClaimSensitivity>,
}

fn code(v: VerdictKind) -> f64 {
    match v {
        VerdictKind::Supported => 1.0,
        VerdictKind::Inconclusive => 0.0,
        VerdictKind::Refuted => -1.0,
    }
}

/// Run the analysis into `opts.out`; `Ok(None)` when some sample run is partial (a shard).
pub fn run(
    e: &dyn DynExperiment,
    base: &ResolvedConfig,
    vary: &[Vary],
    samples: usize,
    opts: &RunOptions,
) -> Result<Option<Sensitivity>, Error> {
    if vary.is_empty() {
        return Err(
            UserError::Usage("sensitivity needs at least one --vary KEY=LO..HI".into()).into(),
        );
    }
    if samples < 2 {
        return Err(UserError::Usage("--samples must be at least 2".into()).into());
    }
    // Check each key holds a number, note integers, and check the extremes resolve, before
    // anything runs.
    let mut vary = vary.to_vec();
    for v in &mut vary {
        match lookup(&base.table, &v.key) {
            Some(toml::Value::Integer(_)) => v.integer = true,
            Some(toml::Value::Float(_)) => {}
            Some(other) => {
                return Err(UserError::Usage(format!(
                    "--vary {}: the config value there is {}, not a number",
                    v.key,
                    other.type_str()
                ))
                .into());
            }
            None => {
                return Err(UserError::Usage(format!(
                    "--vary {}: unknown key for experiment '{}'",
                    v.key,
                    e.id()
                ))
                .into());
            }
        }
        for x in [v.lo, v.hi] {
            e.resolve_over(base, &[v.set(v.value(if x == v.lo { 0.0 } else { 1.0 }))])?;
        }
    }
    let points: Vec<Vec<f64>> = design(samples, vary.len(), 0x5eed)
        .into_iter()
        .map(|u| vary.iter().zip(u).map(|(v, u)| v.value(u)).collect())
        .collect();
    let mut outcomes = Vec::new();
    let mut complete = true;
    // One bar over the samples; each sample's own sweep draws none.
    let bar = crate::progress::bar(
        &format!("{} sensitivity", e.id()),
        points.len() as u64,
        0,
        "samples",
        opts.progress,
    );
    for (i, point) in points.iter().enumerate() {
        let sets: Vec<String> = vary.iter().zip(point).map(|(v, x)| v.set(*x)).collect();
        let config = e.resolve_over(base, &sets)?;
        let sample_opts = RunOptions {
            out: opts.out.join("samples").join(format!("{:03}", i + 1)),
            artifacts: Some(opts.artifact_cache().dir),
            progress: false,
            ..opts.clone()
        };
        tracing::info!(experiment = e.id(), sample = i + 1, of = samples, sets = %sets.join(" "), "sensitivity sample");
        match e.run(&config, &sample_opts)? {
            RunOutcome::Complete(results) => outcomes.push(results.verdicts),
            RunOutcome::Partial { .. } => complete = false,
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if !complete {
        return Ok(None);
    }
    let mut ids: Vec<(String, String)> = Vec::new();
    for verdicts in &outcomes {
        for v in verdicts {
            if !ids.iter().any(|(id, _)| *id == v.id) {
                ids.push((v.id.clone(), v.claim.clone()));
            }
        }
    }
    let claims = ids
        .into_iter()
        .map(|(id, claim)| {
            let verdicts: Vec<Option<VerdictKind>> = outcomes
                .iter()
                .map(|vs| vs.iter().find(|v| v.id == id).map(|v| v.verdict))
                .collect();
            let declared: Vec<(usize, VerdictKind)> = verdicts
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i, v)))
                .collect();
            let n = declared.len();
            let share = |k: VerdictKind| {
                declared.iter().filter(|(_, v)| *v == k).count() as f64 / n.max(1) as f64
            };
            let y: Vec<f64> = declared.iter().map(|(_, v)| code(*v)).collect();
            let rho: Vec<Option<f64>> = (0..vary.len())
                .map(|d| {
                    let x: Vec<f64> = declared.iter().map(|(i, _)| points[*i][d]).collect();
                    spearman(&x, &y)
                })
                .collect();
            let most_influential = rho
                .iter()
                .enumerate()
                .filter_map(|(d, r)| r.map(|r| (d, r.abs())))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(d, _)| vary[d].key.clone());
            ClaimSensitivity {
                id,
                claim,
                supported: share(VerdictKind::Supported),
                refuted: share(VerdictKind::Refuted),
                inconclusive: share(VerdictKind::Inconclusive),
                n,
                rho,
                most_influential,
                verdicts,
            }
        })
        .collect();
    let analysis = Sensitivity {
        experiment: e.id().to_owned(),
        design: format!(
            "{samples} points of an Owen-scrambled Sobol sequence (sobol_burley, seed 0x5eed) over the box; integer keys rounded"
        ),
        vary,
        samples: points,
        claims,
    };
    write(&opts.out, &analysis)?;
    Ok(Some(analysis))
}

/// Horizontal stacked bars of the verdict shares, one per claim, as SVG.
fn shares_svg(analysis: &Sensitivity) -> String {
    let row = 26.0;
    // Room on the left for the longest claim id (about 7 px a character at 12 px).
    let longest = analysis
        .claims
        .iter()
        .map(|c| c.id.len())
        .max()
        .unwrap_or(0);
    let (left, width) = (20.0 + 7.0 * longest as f64, 420.0);
    let height = 40.0 + row * analysis.claims.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n",
        w = left + width + 20.0
    );
    for (i, c) in analysis.claims.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + 15.0,
            escape_html(&c.id)
        );
        let mut x = left;
        for (share, colour) in [
            (c.supported, "#16a34a"),
            (c.inconclusive, "#d97706"),
            (c.refuted, "#dc2626"),
        ] {
            let w = share * width;
            if w > 0.0 {
                let _ = writeln!(
                    svg,
                    "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"20\" fill=\"{colour}\"/>"
                );
            }
            x += w;
        }
    }
    let y = 20.0 + row * analysis.claims.len() as f64;
    let _ = writeln!(
        svg,
        "<text x=\"{left}\" y=\"{y}\" fill=\"#16a34a\">supported</text><text x=\"{}\" y=\"{y}\" fill=\"#d97706\">inconclusive</text><text x=\"{}\" y=\"{y}\" fill=\"#dc2626\">refuted</text>",
        left + 110.0,
        left + 230.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn write(out: &Path, analysis: &Sensitivity) -> Result<(), Error> {
    store::write_atomic(
        &out.join("sensitivity.svg"),
        shares_svg(analysis).as_bytes(),
    )?;
    let mut body = format!(
        "<h1>{}: sensitivity to assumptions</h1>\n<p>{}. Varied: {}.</p>\n",
        escape_html(&analysis.experiment),
        escape_html(&analysis.design),
        escape_html(
            &analysis
                .vary
                .iter()
                .map(|v| format!(
                    "{} in [{}, {}]",
                    v.key,
                    format_number(v.lo),
                    format_number(v.hi)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        )
    );
    body.push_str("<p><img src=\"sensitivity.svg\" alt=\"verdict shares per claim\"></p>\n");
    body.push_str("<table>\n<tr><th>claim</th><th>supported</th><th>inconclusive</th><th>refuted</th><th>n</th>");
    for v in &analysis.vary {
        let _ = write!(body, "<th>rho {}</th>", escape_html(&v.key));
    }
    body.push_str("<th>moves it most</th></tr>\n");
    for c in &analysis.claims {
        let _ = write!(
            body,
            "<tr><td class=\"cell\" title=\"{}\">{}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{}</td>",
            escape_html(&c.claim),
            escape_html(&c.id),
            c.supported,
            c.inconclusive,
            c.refuted,
            c.n
        );
        for r in &c.rho {
            let _ = write!(
                body,
                "<td class=\"num\">{}</td>",
                r.map_or("-".into(), |r| format!("{r:+.2}"))
            );
        }
        let _ = writeln!(
            body,
            "<td>{}</td></tr>",
            escape_html(
                c.most_influential
                    .as_deref()
                    .unwrap_or("none: the verdict did not vary")
            )
        );
    }
    body.push_str("</table>\n<p class=\"muted\">rho: Spearman rank correlation of the key with the verdict coded +1 supported, 0 inconclusive, -1 refuted, over the samples where the claim was declared. Each sample's run folder is in samples/NNN.</p>\n");
    store::write_atomic(
        &out.join("sensitivity.html"),
        crate::report::page(&format!("{} sensitivity", analysis.experiment), &body).as_bytes(),
    )?;
    store::write_json(&out.join("sensitivity.json"), analysis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_by_hand() {
        // Perfectly monotone: 1; reversed: -1; ties averaged.
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]), None);
        assert_eq!(ranks(&[5.0, 1.0, 5.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        // x = 1..4, y = 1, 3, 2, 4: d^2 = 0 + 1 + 1 + 0, rho = 1 - 6*2/(4*15) = 0.8.
        let r = spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((r - 0.8).abs() < 1e-12);
    }

    #[test]
    fn design_fills_the_cube_evenly() {
        let d = design(64, 2, 7);
        for dim in 0..2 {
            // Every eighth of each axis holds 8 of the 64 points (a (0, m, 2)-net property).
            let mut bins = [0; 8];
            for p in &d {
                assert!((0.0..1.0).contains(&p[dim]));
                bins[(p[dim] * 8.0) as usize] += 1;
            }
            assert_eq!(bins, [8; 8]);
        }
        assert_eq!(d, design(64, 2, 7), "deterministic");
    }

    #[test]
    fn vary_parses_and_rejects() {
        let v = Vary::parse("partiality=0..0.5").unwrap();
        assert_eq!((v.key.as_str(), v.lo, v.hi), ("partiality", 0.0, 0.5));
        for bad in ["x", "x=1", "x=2..1", "=0..1", "x=a..1", "x=0..inf"] {
            assert!(Vary::parse(bad).is_err(), "{bad}");
        }
        let i = Vary {
            integer: true,
            ..Vary::parse("n=1..10").unwrap()
        };
        assert_eq!(i.set(i.value(0.5)), "n=6");
    }
}
