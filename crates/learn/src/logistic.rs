//! Binary logistic regression on a few interpretable features, fitted by Newton's method
//! (iteratively reweighted least squares) in f64 with a small ridge penalty for stability.
//!
//! Features are standardised (mean 0, standard deviation 1 over the fitting set) before fitting,
//! so the coefficients are in "per standard deviation" units and comparable across features; the
//! intercept comes first in [`Logistic::coefficients`].

/// A fitted model.
#[derive(Clone, Debug, PartialEq)]
pub struct Logistic {
    mean: Vec<f64>,
    std: Vec<f64>,
    /// Intercept, then one coefficient per (standardised) feature.
    pub coefficients: Vec<f64>,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Solve `a x = b` (a symmetric positive definite, small) by Gaussian elimination with pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for r in col + 1..n {
            let f = a[r][col] / a[col][col];
            for c in col..n {
                a[r][c] -= f * a[col][c];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

impl Logistic {
    /// Fit `P(y = 1 | x) = sigmoid(b0 + b . z)` with `z` the standardised features; `ridge` is the
    /// L2 penalty on the non-intercept coefficients. `None` if there are no rows, the rows are
    /// ragged, or the Newton system is singular.
    pub fn fit(x: &[Vec<f64>], y: &[bool], ridge: f64) -> Option<Logistic> {
        let n = x.len();
        let d = x.first()?.len();
        if n != y.len() || x.iter().any(|r| r.len() != d) {
            return None;
        }
        let mean: Vec<f64> = (0..d)
            .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n as f64)
            .collect();
        let std: Vec<f64> = (0..d)
            .map(|j| {
                let v = x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n as f64;
                v.sqrt().max(1e-9)
            })
            .collect();
        let z: Vec<Vec<f64>> = x
            .iter()
            .map(|r| {
                std::iter::once(1.0)
                    .chain((0..d).map(|j| (r[j] - mean[j]) / std[j]))
                    .collect()
            })
            .collect();
        let k = d + 1;
        let mut beta = vec![0.0; k];
        for _ in 0..50 {
            let mut grad = vec![0.0; k];
            let mut hess = vec![vec![0.0; k]; k];
            for (row, &yi) in z.iter().zip(y) {
                let p = sigmoid(row.iter().zip(&beta).map(|(a, b)| a * b).sum());
                let w = p * (1.0 - p);
                for a in 0..k {
                    grad[a] += (yi as u8 as f64 - p) * row[a];
                    for b in 0..k {
                        hess[a][b] += w * row[a] * row[b];
                    }
                }
            }
            for a in 1..k {
                grad[a] -= ridge * beta[a];
                hess[a][a] += ridge;
            }
            let step = solve(hess, grad)?;
            let size: f64 = step.iter().map(|s| s.abs()).sum();
            for (b, s) in beta.iter_mut().zip(&step) {
                *b += s;
            }
            if size < 1e-10 {
                break;
            }
        }
        Some(Logistic {
            mean,
            std,
            coefficients: beta,
        })
    }

    /// `P(y = 1 | x)`.
    pub fn probability(&self, x: &[f64]) -> f64 {
        let z: f64 = x
            .iter()
            .enumerate()
            .map(|(j, v)| self.coefficients[j + 1] * (v - self.mean[j]) / self.std[j])
            .sum();
        sigmoid(self.coefficients[0] + z)
    }

    /// Fraction of rows classified right at threshold 0.5.
    pub fn accuracy(&self, x: &[Vec<f64>], y: &[bool]) -> f64 {
        let hits = x
            .iter()
            .zip(y)
            .filter(|(r, t)| (self.probability(r) >= 0.5) == **t)
            .count();
        hits as f64 / x.len().max(1) as f64
    }
}
