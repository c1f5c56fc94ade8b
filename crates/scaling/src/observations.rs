//! Training runs as data: (N, D, final loss) triples read from CSV text.
//!
//! The columns are named by the caller: one for N, one for the loss, and either one for D or one for
//! the training compute C, in which case D = C / 6N. Every value must parse as a finite, positive
//! number; the first bad cell stops the parse with an error that names its line (1-based, counting
//! the header as line 1) and column.

use crate::optimal::FLOPS_PER_PARAM_TOKEN;
use serde::{Deserialize, Serialize};

/// One training run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Parameters.
    pub n: f64,
    /// Training tokens.
    pub d: f64,
    /// Final training loss.
    pub loss: f64,
    /// The line of the CSV text it came from (0 when made in code).
    pub line: u64,
}

/// Where D comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenColumn {
    /// A column of token counts.
    Tokens(String),
    /// A column of training FLOPs C, with D = C / 6N.
    Compute(String),
}

/// The column names to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    pub n: String,
    pub tokens: TokenColumn,
    pub loss: String,
}

/// Why a CSV could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DataError {
    #[error("empty file: no header line")]
    Empty,
    #[error("no data rows after the header")]
    NoRows,
    #[error("line 1 (header): column '{column}' is named twice")]
    DuplicateColumn { column: String },

    #[error("line {line}: {message}")]
    Syntax { line: u64, message: String },
    #[error("line 1 (header): no column named '{column}' (columns: {available})")]
    MissingColumn { column: String, available: String },
    #[error("line {line}, column '{column}': '{value}' is not a number")]
    NotNumeric {
        line: u64,
        column: String,
        value: String,
    },
    #[error("line {line}, column '{column}': {value} is not finite and positive")]
    NotPositive {
        line: u64,
        column: String,
        value: String,
    },
}

/// The number of distinct (N, D) points among `runs`: what a fit can tell apart.
pub fn distinct_points(runs: &[Observation]) -> usize {
    let mut points: Vec<(u64, u64)> = runs
        .iter()
        .map(|o| (o.n.to_bits(), o.d.to_bits()))
        .collect();
    points.sort_unstable();
    points.dedup();
    points.len()
}

/// Parse CSV `text` (with a header line) into observations.
pub fn parse_csv(text: &str, columns: &Columns) -> Result<Vec<Observation>, DataError> {
    if text.trim().is_empty() {
        return Err(DataError::Empty);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| syntax(text, &e))?
        .iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    if let Some((_, h)) = header
        .iter()
        .enumerate()
        .find(|(i, h)| header[..*i].contains(h))
    {
        return Err(DataError::DuplicateColumn { column: shown(h) });
    }
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| DataError::MissingColumn {
                column: name.to_owned(),
                available: header
                    .iter()
                    .map(|h| format!("'{}'", shown(h)))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    };
    let n_at = find(&columns.n)?;
    let loss_at = find(&columns.loss)?;
    let (tokens_name, tokens_at, is_compute) = match &columns.tokens {
        TokenColumn::Tokens(name) => (name.as_str(), find(name)?, false),
        TokenColumn::Compute(name) => (name.as_str(), find(name)?, true),
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| syntax(text, &e))?;
        let line = record.position().map_or(0, |p| line_at(text, p.byte()));
        if record.iter().all(|cell| cell.is_empty()) {
            continue;
        }
        if record.len() != header.len() {
            return Err(DataError::Syntax {
                line,
                message: format!(
                    "{} fields where the header has {}",
                    record.len(),
                    header.len()
                ),
            });
        }
        let cell = |at: usize, name: &str| -> Result<f64, DataError> {
            let raw = record.get(at).unwrap_or("");
            let value: f64 = raw.parse().map_err(|_| DataError::NotNumeric {
                line,
                column: name.to_owned(),
                value: shown(raw),
            })?;
            if !(value.is_finite() && value > 0.0) {
                return Err(DataError::NotPositive {
                    line,
                    column: name.to_owned(),
                    value: shown(raw),
                });
            }
            Ok(value)
        };
        let n = cell(n_at, &columns.n)?;
        let tokens = cell(tokens_at, tokens_name)?;
        let loss = cell(loss_at, &columns.loss)?;
        let d = if is_compute {
            let d = tokens / (FLOPS_PER_PARAM_TOKEN * n);
            // C and N can each be fine while C / 6N underflows to 0 or overflows.
            if !(d.is_finite() && d > 0.0) {
                return Err(DataError::NotPositive {
                    line,
                    column: tokens_name.to_owned(),
                    value: format!("D = C / (6 N) = {d:e} (C = {tokens:e}, N = {n:e})"),
                });
            }
            d
        } else {
            tokens
        };
        out.push(Observation { n, d, loss, line });
    }
    if out.is_empty() {
        return Err(DataError::NoRows);
    }
    Ok(out)
}

/// A cell or header name as an error message shows it: on one line (a quoted cell can hold line
/// breaks and control characters, shown escaped) and at most 60 characters.
fn shown(cell: &str) -> String {
    const MOST: usize = 60;
    let escaped: String = cell.escape_debug().collect();
    match escaped.char_indices().nth(MOST) {
        Some((end, _)) => format!("{}...", &escaped[..end]),
        None => escaped,
    }
}

/// The 1-based line of the record that starts at byte `offset`. The csv reader's own line count
/// does not count blank lines and counts CRLF oddly, and its offset can point at the line breaks
/// before a record, so skip those and count line breaks: `\n`, and a `\r` not followed by `\n`
/// (the reader ends records at a lone `\r` too).
fn line_at(text: &str, offset: u64) -> u64 {
    let bytes = text.as_bytes();
    let mut at = (offset as usize).min(bytes.len());
    while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
        at += 1;
    }
    let lone_cr = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    1 + (0..at).filter(|&i| bytes[i] == b'\n' || lone_cr(i)).count() as u64
}

fn syntax(text: &str, e: &csv::Error) -> DataError {
    let line = e.position().map_or(1, |p| line_at(text, p.byte()));
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        _ => e.to_string(),
    };
    DataError::Syntax { line, message }
}

/// Drop the `k` observations with the highest loss (ties broken by keeping the earlier line), as
/// Besiroglu et al. (2024) drop the five highest-loss points before fitting. Order is kept.
pub fn drop_highest_losses(observations: &[Observation], k: usize) -> Vec<Observation> {
    let mut order: Vec<usize> = (0..observations.len()).collect();
    order.sort_by(|&i, &j| {
        observations[j]
            .loss
            .total_cmp(&observations[i].loss)
            .then(j.cmp(&i))
    });
    let mut dropped = vec![false; observations.len()];
    for &i in order.iter().take(k) {
        dropped[i] = true;
    }
    observations
        .iter()
        .zip(dropped)
        .filter(|(_, d)| !d)
        .map(|(o, _)| *o)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Columns {
        Columns {
            n: "N".into(),
            tokens: TokenColumn::Tokens("D".into()),
            loss: "loss".into(),
        }
    }

    #[test]
    fn parses_and_derives_tokens_from_compute() {
        let text = "N,C,loss\n1e9,6e19,3.0\n2e9, 1.2e20 ,2.9\n";
        let c = Columns {
            tokens: TokenColumn::Compute("C".into()),
            ..columns()
        };
        let obs = parse_csv(text, &c).unwrap();
        assert_eq!(obs.len(), 2);
        assert_eq!((obs[0].n, obs[0].d, obs[0].line), (1e9, 1e10, 2));
        assert_eq!((obs[1].d, obs[1].line), (1e10, 3));
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse_csv("N,D,loss\n1,2,3\n1,x,3\n", &columns()).unwrap_err();
        assert_eq!(
            e,
            DataError::NotNumeric {
                line: 3,
                column: "D".into(),
                value: "x".into()
            }
        );
        assert!(e.to_string().starts_with("line 3, column 'D'"));
        let e = parse_csv("N,D,loss\n1,2,3\n\n5,6,-1\n", &columns()).unwrap_err();
        assert!(matches!(e, DataError::NotPositive { line: 4, .. }), "{e}");
        let e = parse_csv("N,D,loss\n1,2,0\n", &columns()).unwrap_err();
        assert!(matches!(e, DataError::NotPositive { line: 2, .. }), "{e}");
        let e = parse_csv("N,D,loss\n1,2,inf\n", &columns()).unwrap_err();
        assert!(matches!(e, DataError::NotPositive { line: 2, .. }), "{e}");
        let e = parse_csv("N,D,loss\n1,2\n", &columns()).unwrap_err();
        assert!(matches!(e, DataError::Syntax { line: 2, .. }), "{e}");
        let crlf = "N,D,loss\r\n1,2,3\r\n\r\n \r\n5,6,x\r\n";
        let e = parse_csv(crlf, &columns()).unwrap_err();
        assert!(matches!(e, DataError::NotNumeric { line: 5, .. }), "{e}");
        let quoted = "N,D,loss\n1,\"2\n\",3\n4,5,0\n";
        let e = parse_csv(quoted, &columns()).unwrap_err();
        assert!(matches!(e, DataError::NotPositive { line: 4, .. }), "{e}");
        assert_eq!(parse_csv("", &columns()), Err(DataError::Empty));
        assert_eq!(parse_csv(" \n\n", &columns()), Err(DataError::Empty));
        assert_eq!(parse_csv("N,D,loss\n", &columns()), Err(DataError::NoRows));
        let e = parse_csv("N,T,loss\n1,2,3\n", &columns()).unwrap_err();
        assert!(e.to_string().contains("no column named 'D'"), "{e}");
    }

    #[test]
    fn tokens_derived_from_compute_must_be_finite_and_positive() {
        // Found by the scaling fuzz target: C / 6N underflows to 0 (and overflows to infinity)
        // although C and N are each finite and positive.
        let c = Columns {
            tokens: TokenColumn::Compute("C".into()),
            ..columns()
        };
        for text in [
            "N,C,loss\n1e300,1e-300,3\n",
            "N,C,loss\n1e9,6e19,3\n1e-300,1e300,3\n",
        ] {
            let e = parse_csv(text, &c).unwrap_err();
            assert!(
                matches!(&e, DataError::NotPositive { column, .. } if column == "C"),
                "{e}"
            );
            assert!(e.to_string().contains("D = C / (6 N)"), "{e}");
        }
        assert!(matches!(
            parse_csv("N,C,loss\n1e9,6e19,3\n1e-300,1e300,3\n", &c),
            Err(DataError::NotPositive { line: 3, .. })
        ));
    }

    #[test]
    fn messages_stay_on_one_line() {
        // Found by the scaling fuzz target: a quoted header cell spanning lines was printed as is,
        // so the message ran over many lines.
        let e = parse_csv("\"N\nD\",loss\n1,2\n", &columns()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1 (header): no column named 'N' (columns: 'N\\nD', 'loss')"
        );
        let e = parse_csv("N,D,loss\n1,\"2\n\u{7}\",3\n", &columns()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2, column 'D': '2\\n\\u{7}' is not a number"
        );
        // Found by the same target: records ended by a lone carriage return were all on line 1.
        let e = parse_csv("N,D,loss\r1,2,3\r4,x,6\r", &columns()).unwrap_err();
        assert!(matches!(e, DataError::NotNumeric { line: 3, .. }), "{e}");
        let long = "x".repeat(200);
        let e = parse_csv(&format!("N,D,loss\n1,{long},3\n"), &columns()).unwrap_err();
        assert!(
            e.to_string()
                .ends_with(&format!("'{}...' is not a number", "x".repeat(60))),
            "{e}"
        );
    }

    #[test]
    fn drops_the_highest_losses() {
        let obs: Vec<Observation> = [3.0, 5.0, 4.0, 5.0, 1.0]
            .iter()
            .enumerate()
            .map(|(i, &loss)| Observation {
                n: 1.0,
                d: 1.0,
                loss,
                line: i as u64,
            })
            .collect();
        let kept = drop_highest_losses(&obs, 2);
        assert_eq!(
            kept.iter().map(|o| o.loss).collect::<Vec<_>>(),
            vec![3.0, 4.0, 1.0]
        );
        assert_eq!(drop_highest_losses(&obs, 0), obs);
    }
}
