//! A compact L-BFGS minimiser for small, fixed-size problems (Nocedal & Wright, *Numerical
//! Optimization*, 2nd ed., Algorithm 7.4 for the two-loop recursion, Algorithms 3.5 and 3.6 for the
//! strong-Wolfe line search with cubic interpolation in the zoom phase).
//!
//! Why not a general crate: a scaling-law fit runs L-BFGS 4,500 times on a 5-parameter problem,
//! then again per bootstrap resample. On arrays of five `f64` on the stack this loop allocates
//! nothing and costs a few hundred nanoseconds per iteration beside the objective, and its stopping
//! rules are the ones documented here (see `docs/scaling.md` for the measured comparison with
//! `argmin`'s L-BFGS).
//!
//! Stopping rules, checked after every iteration:
//! - the gradient's largest component is at most `grad_tol`;
//! - the objective fell by at most `rel_tol * |f|` in the last iteration (a relative tolerance with no
//!   floor, so small summed objectives, around 1e-3 here, are not stopped early);
//! - the line search could not find a point that satisfies the Wolfe conditions (the iterate is
//!   then as good as floating point allows along that direction), or
//! - `max_iter` iterations.

/// Problem dimension: the five parameters of a scaling law.
pub const DIM: usize = 5;

type Vector = [f64; DIM];

/// Settings of the minimiser.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LbfgsOptions {
    /// Number of correction pairs kept (m, at most 64).
    pub memory: usize,
    pub max_iter: usize,
    pub grad_tol: f64,
    pub rel_tol: f64,
    /// Sufficient-decrease constant c1 of the Wolfe conditions.
    pub c1: f64,
    /// Curvature constant c2 of the strong Wolfe conditions.
    pub c2: f64,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        LbfgsOptions {
            memory: 10,
            max_iter: 1000,
            grad_tol: 1e-10,
            rel_tol: 1e-12,
            c1: 1e-4,
            c2: 0.9,
        }
    }
}

/// Why the minimiser stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    Gradient,
    RelativeDecrease,
    LineSearch,
    MaxIterations,
    /// The objective or gradient was not finite at the start.
    NotFinite,
}

/// The result of one minimisation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Minimum {
    pub x: Vector,
    pub f: f64,
    pub iterations: usize,
    pub evaluations: usize,
    pub stop: Stop,
}

fn dot(a: &Vector, b: &Vector) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(x: &Vector, t: f64, d: &Vector) -> Vector {
    std::array::from_fn(|k| x[k] + t * d[k])
}

fn inf_norm(g: &Vector) -> f64 {
    g.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Minimise `f` (returning value and gradient) from `x0`.
pub fn minimise(
    f: impl Fn(&Vector) -> (f64, Vector),
    x0: Vector,
    options: &LbfgsOptions,
) -> Minimum {
    let mut evaluations = 1;
    let (mut fx, mut g) = f(&x0);
    let mut x = x0;
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Minimum {
            x,
            f: fx,
            iterations: 0,
            evaluations,
            stop: Stop::NotFinite,
        };
    }
    let m = options.memory.clamp(1, 64);
    let mut s_hist = vec![[0.0; DIM]; m];
    let mut y_hist = vec![[0.0; DIM]; m];
    let mut rho = vec![0.0; m];
    let (mut stored, mut head) = (0usize, 0usize);
    let mut stop = Stop::MaxIterations;
    let mut iterations = 0;

    while iterations < options.max_iter {
        if inf_norm(&g) <= options.grad_tol {
            stop = Stop::Gradient;
            break;
        }
        // Two-loop recursion: d = -H g.
        let mut q = g;
        let mut alpha = [0.0; 64];
        for (j, a) in alpha.iter_mut().enumerate().take(stored) {
            let i = (head + m - 1 - j) % m;
            *a = rho[i] * dot(&s_hist[i], &q);
            q = axpy(&q, -*a, &y_hist[i]);
        }
        let gamma = if stored > 0 {
            let i = (head + m - 1) % m;
            dot(&s_hist[i], &y_hist[i]) / dot(&y_hist[i], &y_hist[i])
        } else {
            // First step: a unit step in the largest gradient component's direction is 1 / |g|.
            1.0 / inf_norm(&g).max(f64::MIN_POSITIVE)
        };
        let mut r: Vector = std::array::from_fn(|k| gamma * q[k]);
        for j in (0..stored).rev() {
            let i = (head + m - 1 - j) % m;
            let b = rho[i] * dot(&y_hist[i], &r);
            r = axpy(&r, alpha[j] - b, &s_hist[i]);
        }
        let mut d: Vector = std::array::from_fn(|k| -r[k]);
        let mut slope = dot(&g, &d);
        if slope >= 0.0 || !slope.is_finite() {
            // Not a descent direction (curvature pairs went stale): restart from steepest descent.
            stored = 0;
            let scale = 1.0 / inf_norm(&g).max(f64::MIN_POSITIVE);
            d = std::array::from_fn(|k| -scale * g[k]);
            slope = dot(&g, &d);
        }
        let search = wolfe_search(&f, &x, fx, slope, &d, options);
        evaluations += search.evaluations;
        let Some((t, f_new, g_new)) = search.point else {
            stop = Stop::LineSearch;
            break;
        };
        iterations += 1;
        let x_new = axpy(&x, t, &d);
        let s: Vector = std::array::from_fn(|k| x_new[k] - x[k]);
        let y: Vector = std::array::from_fn(|k| g_new[k] - g[k]);
        let sy = dot(&s, &y);
        if sy > 1e-16 * dot(&y, &y).sqrt() * dot(&s, &s).sqrt() {
            s_hist[head] = s;
            y_hist[head] = y;
            rho[head] = 1.0 / sy;
            head = (head + 1) % m;
            stored = (stored + 1).min(m);
        }
        let decrease = fx - f_new;
        x = x_new;
        fx = f_new;
        g = g_new;
        if decrease <= options.rel_tol * fx.abs() {
            stop = Stop::RelativeDecrease;
            break;
        }
    }
    if stop == Stop::MaxIterations && inf_norm(&g) <= options.grad_tol {
        stop = Stop::Gradient;
    }
    Minimum {
        x,
        f: fx,
        iterations,
        evaluations,
        stop,
    }
}

struct Search {
    point: Option<(f64, f64, Vector)>,
    evaluations: usize,
}

/// Strong-Wolfe line search along `d` from `x` (value `f0`, directional derivative `slope0 < 0`),
/// first trial step 1.
fn wolfe_search(
    f: &impl Fn(&Vector) -> (f64, Vector),
    x: &Vector,
    f0: f64,
    slope0: f64,
    d: &Vector,
    options: &LbfgsOptions,
) -> Search {
    let (c1, c2) = (options.c1, options.c2);
    let mut evaluations = 0;
    let mut eval = |t: f64| {
        evaluations += 1;
        let (v, g) = f(&axpy(x, t, d));
        (v, g, dot(&g, d))
    };
    let (mut t_prev, mut f_prev, mut slope_prev) = (0.0, f0, slope0);
    let mut t = 1.0;
    const MAX_BRACKET: usize = 30;
    for i in 0..MAX_BRACKET {
        let (ft, gt, st) = eval(t);
        if !ft.is_finite() {
            // Stepped out of the domain where the objective is finite: shrink.
            t = 0.5 * (t_prev + t);
            continue;
        }
        if ft > f0 + c1 * t * slope0 || (i > 0 && ft >= f_prev) {
            let point = zoom(
                &mut eval,
                (t_prev, f_prev, slope_prev),
                (t, ft, st),
                f0,
                slope0,
                c1,
                c2,
            );
            return Search { point, evaluations };
        }
        if st.abs() <= -c2 * slope0 {
            return Search {
                point: Some((t, ft, gt)),
                evaluations,
            };
        }
        if st >= 0.0 {
            let point = zoom(
                &mut eval,
                (t, ft, st),
                (t_prev, f_prev, slope_prev),
                f0,
                slope0,
                c1,
                c2,
            );
            return Search { point, evaluations };
        }
        (t_prev, f_prev, slope_prev) = (t, ft, st);
        t *= 2.0;
    }
    Search {
        point: None,
        evaluations,
    }
}

/// The minimiser of the cubic through (a, fa, da) and (b, fb, db), if it lies strictly inside the
/// interval; otherwise the bisection point.
fn cubic_step(a: (f64, f64, f64), b: (f64, f64, f64)) -> f64 {
    let (ta, fa, da) = a;
    let (tb, fb, db) = b;
    let d1 = da + db - 3.0 * (fa - fb) / (ta - tb);
    let disc = d1 * d1 - da * db;
    let (lo, hi) = (ta.min(tb), ta.max(tb));
    if disc >= 0.0 {
        let d2 = (tb - ta).signum() * disc.sqrt();
        let t = tb - (tb - ta) * (db + d2 - d1) / (db - da + 2.0 * d2);
        let margin = 0.1 * (hi - lo);
        if t.is_finite() && t > lo + margin && t < hi - margin {
            return t;
        }
    }
    0.5 * (lo + hi)
}

/// Zoom between `lo` (which satisfies sufficient decrease and has the lower value) and `hi`.
fn zoom(
    eval: &mut impl FnMut(f64) -> (f64, Vector, f64),
    mut lo: (f64, f64, f64),
    mut hi: (f64, f64, f64),
    f0: f64,
    slope0: f64,
    c1: f64,
    c2: f64,
) -> Option<(f64, f64, Vector)> {
    let mut best: Option<(f64, f64, Vector)> = None;
    for _ in 0..40 {
        if (hi.0 - lo.0).abs() <= 1e-16 * lo.0.abs().max(1e-300) {
            break;
        }
        let t = cubic_step(lo, hi);
        let (ft, gt, st) = eval(t);
        if !ft.is_finite() || ft > f0 + c1 * t * slope0 || ft >= lo.1 {
            hi = (t, ft, st);
            continue;
        }
        best = Some((t, ft, gt));
        if st.abs() <= -c2 * slope0 {
            return best;
        }
        if st * (hi.0 - lo.0) >= 0.0 {
            hi = lo;
        }
        lo = (t, ft, st);
    }
    // No point met the curvature condition: accept the best point with sufficient decrease, if any.
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock in 5 dimensions: minimum 0 at (1, ..., 1).
    fn rosenbrock(x: &Vector) -> (f64, Vector) {
        let mut f = 0.0;
        let mut g = [0.0; DIM];
        for i in 0..DIM - 1 {
            let (a, b) = (1.0 - x[i], x[i + 1] - x[i] * x[i]);
            f += a * a + 100.0 * b * b;
            g[i] += -2.0 * a - 400.0 * x[i] * b;
            g[i + 1] += 200.0 * b;
        }
        (f, g)
    }

    #[test]
    fn minimises_rosenbrock() {
        let m = minimise(
            rosenbrock,
            [-1.2, 1.0, -1.2, 1.0, -1.2],
            &LbfgsOptions::default(),
        );
        assert!(m.f < 1e-16, "{m:?}");
        for v in m.x {
            assert!((v - 1.0).abs() < 1e-7, "{m:?}");
        }
    }

    #[test]
    fn minimises_an_ill_conditioned_quadratic() {
        let scale = [1.0, 10.0, 100.0, 1e3, 1e4];
        let f = |x: &Vector| {
            let f = (0..DIM).map(|k| scale[k] * (x[k] - 2.0).powi(2)).sum();
            (f, std::array::from_fn(|k| 2.0 * scale[k] * (x[k] - 2.0)))
        };
        let m = minimise(f, [0.0; DIM], &LbfgsOptions::default());
        for v in m.x {
            assert!((v - 2.0).abs() < 1e-8, "{m:?}");
        }
    }

    #[test]
    fn refuses_a_non_finite_start() {
        let m = minimise(
            |_| (f64::NAN, [0.0; DIM]),
            [0.0; DIM],
            &LbfgsOptions::default(),
        );
        assert_eq!(m.stop, Stop::NotFinite);
    }
}
