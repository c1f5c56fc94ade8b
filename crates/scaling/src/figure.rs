//! SVG figures of scaling laws, returned as strings (the caller writes them): a fit against its
//! data, its residuals, iso-FLOP curves and the compute-optimal frontier.
//!
//! Drawn with plotters' SVG backend. Log axes are drawn as linear axes over log10 of the data with
//! tick labels written back in linear units, which keeps one code path for every axis kind.

use crate::law::ScalingLaw;
use crate::observations::Observation;
use crate::optimal::{ComputeOptimal, FLOPS_PER_PARAM_TOKEN, iso_flop_curve};
use plotters::prelude::*;

/// Pixel size of one panel.
pub const PANEL: (u32, u32) = (800, 500);

/// Tableau 10.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Line,
    Dashed,
    Dots,
    Crosses,
}

/// One series of a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
    /// Index into the palette.
    pub color: usize,
}

/// Where a panel's legend goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corner {
    UpperLeft,
    UpperRight,
}

/// One chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
    /// Where the legend goes (put it where the data are not).
    pub legend: Corner,
}

#[derive(Debug, thiserror::Error)]
#[error("drawing {figure}: {message}")]
pub struct FigureError {
    figure: String,
    message: String,
}

/// Render panels side by side into one SVG.
pub fn render(panels: &[Panel]) -> Result<String, FigureError> {
    let fail = |message: String| FigureError {
        figure: panels.first().map_or_else(String::new, |p| p.title.clone()),
        message,
    };
    let mut svg = String::new();
    {
        let size = (PANEL.0 * panels.len().max(1) as u32, PANEL.1);
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let areas = root.split_evenly((1, panels.len().max(1)));
        for (panel, area) in panels.iter().zip(&areas) {
            draw_panel(panel, area).map_err(fail)?;
        }
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(svg)
}

/// A number with 3 significant digits: 1.5e10, 0.0123, 2.07.
pub fn short_number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-3..5).contains(&magnitude) {
        let text = format!("{x:.2e}");
        // 1.00e10 -> 1e10, 1.50e10 -> 1.5e10
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.trim_end_matches('0').trim_end_matches('.')
        } else {
            mantissa
        };
        return format!("{mantissa}e{exponent}");
    }
    let decimals = (2 - magnitude).max(0) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5 * lo.abs().max(1.0)
    };
    (lo - pad, hi + pad)
}

fn draw_panel(
    panel: &Panel,
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
) -> Result<(), String> {
    let tx = |v: f64| if panel.log_x { v.log10() } else { v };
    let ty = |v: f64| if panel.log_y { v.log10() } else { v };
    let usable = |(x, y): &(f64, f64)| {
        (!panel.log_x || *x > 0.0) && (!panel.log_y || *y > 0.0) && x.is_finite() && y.is_finite()
    };
    let points = || {
        panel
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| usable(p)))
    };
    let (x0, x1) = range(points().map(|p| tx(p.0)));
    let (y0, y1) = range(points().map(|p| ty(p.1)));
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|x| e(&x))?;
    let (log_x, log_y) = (panel.log_x, panel.log_y);
    // Linear ticks that should be 0 come out as +-1e-17 from the range arithmetic.
    let tick = |log: bool, span: f64, v: f64| {
        if log {
            short_number(10f64.powf(v))
        } else if v.abs() < 1e-9 * span {
            "0".to_owned()
        } else {
            short_number(v)
        }
    };
    let x_label = move |v: &f64| tick(log_x, x1 - x0, *v);
    let y_label = move |v: &f64| tick(log_y, y1 - y0, *v);
    // On a log axis spanning a few decades, one tick per decade lands them on powers of ten.
    let decades = |log: bool, span: f64| {
        if log && span >= 2.0 {
            (span.floor() as usize + 1).min(12)
        } else {
            8
        }
    };
    chart
        .configure_mesh()
        .x_labels(decades(log_x, x1 - x0))
        .y_labels(decades(log_y, y1 - y0))
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(BLACK.mix(0.04))
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(|x| e(&x))?;
    for s in &panel.series {
        let color = PALETTE[s.color % PALETTE.len()];
        let data: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| usable(p))
            .map(|&(x, y)| (tx(x), ty(y)))
            .collect();
        let legend_color = color;
        match s.mark {
            Mark::Line => chart
                .draw_series(LineSeries::new(data, color.stroke_width(2)))
                .map_err(|x| e(&x))?
                .label(s.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], legend_color.stroke_width(2))
                }),
            Mark::Dashed => chart
                .draw_series(DashedLineSeries::new(data, 6, 4, color.stroke_width(2)))
                .map_err(|x| e(&x))?
                .label(s.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], legend_color.stroke_width(1))
                }),
            Mark::Dots => chart
                .draw_series(
                    data.into_iter()
                        .map(|p| Circle::new(p, 3, color.mix(0.7).filled())),
                )
                .map_err(|x| e(&x))?
                .label(s.label.as_str())
                .legend(move |(x, y)| Circle::new((x + 10, y), 3, legend_color.filled())),
            Mark::Crosses => chart
                .draw_series(
                    data.into_iter()
                        .map(|p| Cross::new(p, 3, color.stroke_width(1))),
                )
                .map_err(|x| e(&x))?
                .label(s.label.as_str())
                .legend(move |(x, y)| Cross::new((x + 10, y), 3, legend_color.stroke_width(1))),
        };
    }
    if panel.series.iter().any(|s| !s.label.is_empty()) {
        chart
            .configure_series_labels()
            .position(match panel.legend {
                Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
                Corner::UpperRight => SeriesLabelPosition::UpperRight,
            })
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(|x| e(&x))?;
    }
    Ok(())
}

/// The fit against its data: observed and fitted loss against training compute, with the fitted
/// law's compute-optimal frontier; and observed against fitted loss, with the identity line.
pub fn fit_panels(runs: &[Observation], law: &ScalingLaw) -> Vec<Panel> {
    let compute = |r: &Observation| FLOPS_PER_PARAM_TOKEN * r.n * r.d;
    let (c_lo, c_hi) = runs
        .iter()
        .map(compute)
        .fold((f64::INFINITY, 0.0f64), |(a, b), c| (a.min(c), b.max(c)));
    let frontier = ComputeOptimal::new(law);
    let line: Vec<(f64, f64)> = (0..=60)
        .map(|i| {
            let c = (c_lo.ln() + (c_hi.ln() - c_lo.ln()) * i as f64 / 60.0).exp();
            (c, frontier.allocate(law, c).terms.loss)
        })
        .collect();
    let against_compute = Panel {
        title: "Loss against training compute".into(),
        x_label: "training compute C = 6ND (FLOPs)".into(),
        y_label: "final loss".into(),
        log_x: true,
        log_y: false,
        series: vec![
            Series {
                label: "observed".into(),
                points: runs.iter().map(|r| (compute(r), r.loss)).collect(),
                mark: Mark::Dots,
                color: 0,
            },
            Series {
                label: "fitted L(N, D)".into(),
                points: runs
                    .iter()
                    .map(|r| (compute(r), law.loss(r.n, r.d)))
                    .collect(),
                mark: Mark::Crosses,
                color: 1,
            },
            Series {
                label: "fitted compute-optimal frontier".into(),
                points: line,
                mark: Mark::Line,
                color: 3,
            },
        ],
        legend: Corner::UpperRight,
    };
    let fitted: Vec<f64> = runs.iter().map(|r| law.loss(r.n, r.d)).collect();
    let (lo, hi) = runs
        .iter()
        .map(|r| r.loss)
        .chain(fitted.iter().copied())
        .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let parity = Panel {
        title: "Observed against fitted loss".into(),
        x_label: "fitted loss".into(),
        y_label: "observed loss".into(),
        log_x: false,
        log_y: false,
        series: vec![
            Series {
                label: "runs".into(),
                points: fitted.iter().zip(runs).map(|(f, r)| (*f, r.loss)).collect(),
                mark: Mark::Dots,
                color: 0,
            },
            Series {
                label: "observed = fitted".into(),
                points: vec![(lo, lo), (hi, hi)],
                mark: Mark::Dashed,
                color: 7,
            },
        ],
        legend: Corner::UpperLeft,
    };
    vec![against_compute, parity]
}

/// Log-loss residuals (fitted minus observed) against N and against D.
pub fn residual_panels(runs: &[Observation], residuals: &[f64]) -> Vec<Panel> {
    let panel = |title: &str, x_label: &str, x: &dyn Fn(&Observation) -> f64| {
        let (lo, hi) = runs
            .iter()
            .map(x)
            .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        Panel {
            title: title.into(),
            x_label: x_label.into(),
            y_label: "residual: ln fitted - ln observed".into(),
            log_x: true,
            log_y: false,
            series: vec![
                Series {
                    label: String::new(),
                    points: vec![(lo, 0.0), (hi, 0.0)],
                    mark: Mark::Dashed,
                    color: 7,
                },
                Series {
                    label: String::new(),
                    points: runs.iter().map(x).zip(residuals.iter().copied()).collect(),
                    mark: Mark::Dots,
                    color: 0,
                },
            ],
            legend: Corner::UpperRight,
        }
    };
    vec![
        panel("Residuals against parameters", "parameters N", &|r| r.n),
        panel("Residuals against tokens", "training tokens D", &|r| r.d),
    ]
}

/// A loss function of (N, D) to draw curves of, with its label.
pub struct Curve<'a> {
    pub label: &'a str,
    pub loss: &'a dyn Fn(f64, f64) -> f64,
    pub mark: Mark,
}

/// Iso-FLOP curves: for each budget, the loss of every N with D = C / 6N, for each curve family
/// (e.g. the plain law and the data-constrained one); `minima` marks each curve family's best N
/// per budget (as dots).
pub fn iso_flop_panel(
    budgets: &[f64],
    centre: &dyn Fn(f64) -> f64,
    curves: &[Curve<'_>],
    minima: &[(f64, f64)],
) -> Panel {
    let mut series = Vec::new();
    for (i, &c) in budgets.iter().enumerate() {
        for curve in curves {
            let label = if curves.len() > 1 {
                format!("C = {} ({})", short_number(c), curve.label)
            } else {
                format!("C = {}", short_number(c))
            };
            series.push(Series {
                label,
                points: iso_flop_curve(c, centre(c), 30.0, 80, curve.loss),
                mark: curve.mark,
                color: i,
            });
        }
    }
    series.push(Series {
        label: "minimum".into(),
        points: minima.to_vec(),
        mark: Mark::Dots,
        color: 3,
    });
    Panel {
        title: "Iso-FLOP curves".into(),
        x_label: "parameters N (with D = C / 6N)".into(),
        y_label: "loss".into(),
        log_x: true,
        log_y: false,
        series,
        legend: Corner::UpperRight,
    }
}

/// N_opt(C) and D_opt(C) against C (log-log), with extra series (e.g. data-constrained plans).
pub fn frontier_panel(law: &ScalingLaw, compute: (f64, f64), extra: Vec<Series>) -> Panel {
    let frontier = ComputeOptimal::new(law);
    let grid: Vec<f64> = (0..=60)
        .map(|i| (compute.0.ln() + (compute.1.ln() - compute.0.ln()) * i as f64 / 60.0).exp())
        .collect();
    let mut series = vec![
        Series {
            label: "N_opt(C), parameters".into(),
            points: grid.iter().map(|&c| (c, frontier.n_opt(c))).collect(),
            mark: Mark::Line,
            color: 0,
        },
        Series {
            label: "D_opt(C), tokens".into(),
            points: grid.iter().map(|&c| (c, frontier.d_opt(c))).collect(),
            mark: Mark::Line,
            color: 1,
        },
    ];
    series.extend(extra);
    Panel {
        title: format!(
            "Efficient frontier: N_opt ~ C^{:.3}, D_opt ~ C^{:.3}",
            frontier.a, frontier.b
        ),
        x_label: "training compute C (FLOPs)".into(),
        y_label: "parameters or tokens".into(),
        log_x: true,
        log_y: true,
        series,
        legend: Corner::UpperLeft,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::ParameterSet;
    use crate::synthetic::Design;

    #[test]
    fn numbers_are_short() {
        assert_eq!(short_number(1.5e10), "1.5e10");
        assert_eq!(short_number(1e22), "1e22");
        assert_eq!(short_number(2.0712), "2.07");
        assert_eq!(short_number(0.0123), "0.0123");
        assert_eq!(short_number(-0.004), "-0.004");
    }

    #[test]
    fn figures_render_with_titles_and_labels() {
        let law = ParameterSet::besiroglu().law;
        let runs = Design::chinchilla_like().draw(&law, 1);
        let residuals = vec![0.001; runs.len()];
        let loss = |n: f64, d: f64| law.loss(n, d);
        let frontier = ComputeOptimal::new(&law);
        let centre = |c: f64| frontier.n_opt(c);
        let panels = [
            render(&fit_panels(&runs, &law)).unwrap(),
            render(&residual_panels(&runs, &residuals)).unwrap(),
            render(&[iso_flop_panel(
                &[1e20, 1e21],
                &centre,
                &[Curve {
                    label: "law",
                    loss: &loss,
                    mark: Mark::Line,
                }],
                &[(1e9, 2.5)],
            )])
            .unwrap(),
            render(&[frontier_panel(&law, (1e18, 1e26), vec![])]).unwrap(),
        ];
        for (svg, text) in panels.iter().zip([
            "Loss against training compute",
            "Residuals against tokens",
            "Iso-FLOP curves",
            "Efficient frontier",
        ]) {
            assert!(svg.starts_with("<svg"));
            assert!(svg.contains(text), "missing {text}");
        }
    }
}
