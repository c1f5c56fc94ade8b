//! SVG line plots of a metric against a numeric condition key, drawn with plotters' SVG backend:
//! one line with markers per series, vertical 95% CI error bars, a legend, axis labels and a
//! title. Text is emitted as SVG `<text>` elements that the browser lays out.

use crate::condition::condition_text;
use crate::experiment::{MetricSummary, PlotSpec, Results};
use crate::stats::format_number;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// Pixel size of every plot.
pub const PLOT_SIZE: (u32, u32) = (800, 480);

/// Tableau 10: distinguishable, and readable on white.
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

/// One point: x, the mean and its interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Point {
    pub x: f64,
    pub mean: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// One line of the plot.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Series {
    pub label: String,
    pub points: Vec<Point>,
}

fn series_label(spec: &PlotSpec, summary: &MetricSummary) -> String {
    if spec.series.is_empty() {
        return spec.metric.clone();
    }
    spec.series
        .iter()
        .map(|key| format!("{key}={}", condition_text(summary.condition.get(key))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The points of `spec`, grouped into series in order of first appearance, sorted by x. Summaries
/// without a mean (n = 0), without a numeric x, or with x <= 0 on a log axis are left out.
pub(crate) fn collect_series(spec: &PlotSpec, results: &Results) -> Vec<Series> {
    let filter: Vec<(&str, serde_json::Value)> = spec
        .filter
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let mut series: Vec<Series> = Vec::new();
    for summary in results.select(&spec.metric, &filter) {
        let Some(x) = summary
            .condition
            .get(&spec.x)
            .and_then(serde_json::Value::as_f64)
        else {
            tracing::warn!(plot = %spec.file, key = %spec.x, "condition has no numeric x; point left out");
            continue;
        };
        if !summary.mean.is_finite() || (spec.log_x && x <= 0.0) {
            continue;
        }
        let label = series_label(spec, summary);
        let point = Point {
            x,
            mean: summary.mean,
            low: summary.ci_low,
            high: summary.ci_high,
        };
        match series.iter_mut().find(|s| s.label == label) {
            Some(s) => s.points.push(point),
            None => series.push(Series {
                label,
                points: vec![point],
            }),
        }
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.x.total_cmp(&b.x));
    }
    series
}

/// A padded range around `values`, never empty.
fn padded(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        let (lo, hi) = (lo.log10(), hi.log10());
        let pad = if hi > lo { (hi - lo) * 0.06 } else { 0.5 };
        return (10f64.powf(lo - pad), 10f64.powf(hi + pad));
    }
    let pad = if hi > lo {
        (hi - lo) * 0.06
    } else if lo != 0.0 {
        lo.abs() * 0.1
    } else {
        0.5
    };
    (lo - pad, hi + pad)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The plot area in data coordinates, and how to map x to a linear scale.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
    log_x: bool,
}

impl Frame {
    /// (x, y) scaled to [0, 1] x [0, 1], y upwards.
    fn unit(&self, x: f64, y: f64) -> (f64, f64) {
        let f = |v: f64| if self.log_x { v.log10() } else { v };
        let ux = (f(x) - f(self.x.0)) / (f(self.x.1) - f(self.x.0));
        let uy = (y - self.y.0) / (self.y.1 - self.y.0);
        (ux, uy)
    }
}

/// The corner where the legend hides the least: the one whose legend-sized box covers the fewest
/// points, interval ends and samples along the lines.
fn legend_corner(series: &[Series], frame: &Frame) -> SeriesLabelPosition {
    let (plot_w, plot_h) = ((PLOT_SIZE.0 - 130) as f64, (PLOT_SIZE.1 - 130) as f64);
    let longest = series
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(0) as f64;
    let box_w = ((longest * 8.0 + 60.0) / plot_w).min(1.0);
    let box_h = ((series.len() as f64 * 20.0 + 24.0) / plot_h).min(1.0);
    let mut samples = Vec::new();
    for s in series {
        for p in &s.points {
            for y in [Some(p.mean), p.low, p.high].into_iter().flatten() {
                samples.push(frame.unit(p.x, y));
            }
        }
        for pair in s.points.windows(2) {
            let (a, b) = (
                frame.unit(pair[0].x, pair[0].mean),
                frame.unit(pair[1].x, pair[1].mean),
            );
            samples.extend((1..20).map(|i| {
                let t = i as f64 / 20.0;
                (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
            }));
        }
    }
    let corners = [
        (
            SeriesLabelPosition::UpperLeft,
            (0.0, box_w),
            (1.0 - box_h, 1.0),
        ),
        (
            SeriesLabelPosition::UpperRight,
            (1.0 - box_w, 1.0),
            (1.0 - box_h, 1.0),
        ),
        (
            SeriesLabelPosition::LowerRight,
            (1.0 - box_w, 1.0),
            (0.0, box_h),
        ),
        (SeriesLabelPosition::LowerLeft, (0.0, box_w), (0.0, box_h)),
    ];
    let covered = |(x0, x1): (f64, f64), (y0, y1): (f64, f64)| {
        samples
            .iter()
            .filter(|(x, y)| (x0..=x1).contains(x) && (y0..=y1).contains(y))
            .count()
    };
    let mut best = (usize::MAX, SeriesLabelPosition::UpperLeft);
    for (position, xs, ys) in corners {
        let n = covered(xs, ys);
        if n < best.0 {
            best = (n, position);
        }
    }
    best.1
}

/// Render `spec` as an SVG document.
pub(crate) fn render_svg(spec: &PlotSpec, results: &Results) -> Result<String, String> {
    let series = collect_series(spec, results);
    let points = || series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = padded(points().map(|p| p.x), spec.log_x);
    let (y0, y1) = padded(
        points().flat_map(|p| [p.mean, p.low.unwrap_or(p.mean), p.high.unwrap_or(p.mean)]),
        false,
    );
    let frame = Frame {
        x: (x0, x1),
        y: (y0, y1),
        log_x: spec.log_x,
    };
    let legend = legend_corner(&series, &frame);
    // On a log axis, ticks at the swept values read better than plotters' decades.
    let mut ticks: Vec<f64> = points().map(|p| p.x).collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, PLOT_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(&spec.title, ("sans-serif", 22))
            .margin(18)
            .x_label_area_size(52)
            .y_label_area_size(76);
        if spec.log_x && (2..=12).contains(&ticks.len()) {
            let x = (x0..x1).log_scale().with_key_points(ticks);
            let mut chart = builder.build_cartesian_2d(x, y0..y1).map_err(err)?;
            draw(&mut chart, spec, &series, legend)?;
        } else if spec.log_x {
            let mut chart = builder
                .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
                .map_err(err)?;
            draw(&mut chart, spec, &series, legend)?;
        } else {
            let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?;
            draw(&mut chart, spec, &series, legend)?;
        }
        if series.is_empty() {
            let style = ("sans-serif", 18).into_font().color(&BLACK.mix(0.6)).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ),
            );
            root.draw_text(
                "no data",
                &style,
                (PLOT_SIZE.0 as i32 / 2, PLOT_SIZE.1 as i32 / 2),
            )
            .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn label(v: &f64) -> String {
    format_number(*v)
}

fn draw<'a, X>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, RangedCoordf64>>,
    spec: &PlotSpec,
    series: &[Series],
    legend: SeriesLabelPosition,
) -> Result<(), String>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .x_label_formatter(&label)
        .y_label_formatter(&label)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(BLACK.mix(0.04))
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(err)?;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(s.points.iter().filter_map(|p| {
                Some(ErrorBar::new_vertical(
                    p.x,
                    p.low?,
                    p.mean,
                    p.high?,
                    color.stroke_width(1),
                    10,
                ))
            }))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                s.points.iter().map(|p| (p.x, p.mean)),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(s.label.as_str())
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (22, 0)], color.stroke_width(2))
                    + Circle::new((11, 0), 4, color.filled())
            });
        chart
            .draw_series(
                s.points
                    .iter()
                    .map(|p| Circle::new((p.x, p.mean), 4, color.filled())),
            )
            .map_err(err)?;
    }
    if !series.is_empty() {
        chart
            .configure_series_labels()
            .position(legend)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .margin(10)
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn summary(metric: &str, p: f64, agent: &str, mean: f64, half: f64) -> MetricSummary {
        MetricSummary {
            metric: metric.into(),
            condition: json!({"p": p, "agent": agent}).as_object().unwrap().clone(),
            mean,
            ci_low: Some(mean - half),
            ci_high: Some(mean + half),
            n: 10,
            values: vec![],
            seeds: vec![],
            robust: None,
        }
    }

    fn spec(log_x: bool) -> PlotSpec {
        PlotSpec {
            file: "heads.svg".into(),
            title: "Heads <by> bias".into(),
            metric: "heads".into(),
            y_label: "fraction of heads".into(),
            x: "p".into(),
            x_label: "bias p".into(),
            log_x,
            series: vec!["agent".into()],
            filter: vec![],
        }
    }

    fn results() -> Results {
        Results {
            experiment: "t".into(),
            config: json!({}),
            metrics: vec![
                summary("heads", 0.8, "a", 0.8, 0.05),
                summary("heads", 0.2, "a", 0.2, 0.05),
                summary("heads", 0.2, "b", 0.3, 0.05),
                summary("heads", 0.8, "b", f64::NAN, 0.0),
                summary("other", 0.2, "a", 9.0, 0.0),
            ],
            verdicts: vec![],
            warnings: vec![],
        }
    }

    #[test]
    fn series_are_grouped_and_sorted() {
        let series = collect_series(&spec(false), &results());
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].label, "agent=a");
        assert_eq!(
            series[0].points.iter().map(|p| p.x).collect::<Vec<_>>(),
            vec![0.2, 0.8]
        );
        assert_eq!(series[1].points.len(), 1);
    }

    #[test]
    fn svg_holds_title_labels_and_legend() {
        for log_x in [false, true] {
            let svg = render_svg(&spec(log_x), &results()).unwrap();
            assert!(svg.starts_with("<svg"), "{svg}");
            for text in [
                "Heads &lt;by&gt; bias",
                "fraction of heads",
                "bias p",
                "agent=a",
                "agent=b",
            ] {
                assert!(svg.contains(text), "missing {text}");
            }
        }
    }

    #[test]
    fn empty_plot_says_so() {
        let mut empty = spec(false);
        empty.metric = "absent".into();
        assert!(render_svg(&empty, &results()).unwrap().contains("no data"));
    }
}
