//! Predictions and plans under a law, as records that print as text and round-trip through JSON:
//! [`Prediction`] (the loss of one (N, D) split into terms, the compute-optimal allocation of the
//! same compute, and optionally the loss under repeated data) and [`Plan`] (the compute-optimal
//! allocation of each budget and, with limited unique data, the best data-constrained one), with the
//! plan's figures ([`plan_figures`]).
//!
//! JSON keys are the field's symbols (`N`, `D`, `G`) and are written sorted at every level.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::constrained::{DataConstrained, EffectiveScale};
use crate::figure::{self, Curve, FigureError, Mark, Series};
use crate::fit_file::pretty_json;
use crate::law::ScalingLaw;
use crate::optimal::{Allocation, ComputeOptimal, minimise_iso_flop};
use crate::report::format_number as num;

/// A stock of unique tokens and the law of training on them repeatedly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LimitedData {
    pub unique_tokens: f64,
    pub law: DataConstrained,
}

/// One allocation (N, D) of compute, with its loss split into terms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AllocationRecord {
    #[serde(rename = "N")]
    pub n: f64,
    #[serde(rename = "D")]
    pub d: f64,
    /// C = 6ND.
    pub compute: f64,
    pub tokens_per_param: f64,
    pub loss: f64,
    pub irreducible: f64,
    pub model_term: f64,
    pub data_term: f64,
}

impl From<&Allocation> for AllocationRecord {
    fn from(a: &Allocation) -> Self {
        AllocationRecord {
            n: a.n,
            d: a.d,
            compute: a.compute,
            tokens_per_param: a.tokens_per_param,
            loss: a.terms.loss,
            irreducible: a.terms.irreducible,
            model_term: a.terms.model,
            data_term: a.terms.data,
        }
    }
}

/// The loss of N parameters trained on D tokens, against the compute-optimal use of the same
/// compute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The parameter set's id or the parameter file's path.
    pub params_source: String,
    #[serde(flatten)]
    pub at: AllocationRecord,
    /// The data term's share of the reducible loss.
    pub data_share: f64,
    pub compute_optimal: AllocationRecord,
    /// Under repetition of a limited stock of unique tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_constrained: Option<EffectiveScale>,
}

impl Prediction {
    pub fn new(
        params_source: String,
        law: &ScalingLaw,
        n: f64,
        d: f64,
        limited: Option<&LimitedData>,
    ) -> Self {
        let here = Allocation::of(law, n, d);
        let best = ComputeOptimal::new(law).allocate(law, here.compute);
        Prediction {
            params_source,
            at: AllocationRecord::from(&here),
            data_share: here.terms.data_share(),
            compute_optimal: AllocationRecord::from(&best),
            data_constrained: limited.map(|l| l.law.scale(n, d, l.unique_tokens)),
        }
    }

    /// Pretty JSON, keys sorted, without a final newline.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        pretty_json(self)
    }

    pub fn from_json(text: &str) -> Result<Prediction, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The prediction in sentences, one a line.
    pub fn text(&self) -> String {
        let (t, best) = (&self.at, &self.compute_optimal);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: N = {}, D = {} ({} tokens per parameter, C = 6ND = {} FLOPs)",
            self.params_source,
            num(t.n),
            num(t.d),
            num(t.tokens_per_param),
            num(t.compute)
        );
        let _ = writeln!(
            out,
            "loss {} = E {} + model term A/N^alpha {} + data term B/D^beta {}",
            num(t.loss),
            num(t.irreducible),
            num(t.model_term),
            num(t.data_term)
        );
        let _ = writeln!(
            out,
            "the data term is {:.1}% of the reducible loss; {} term dominates",
            100.0 * self.data_share,
            if t.data_term > t.model_term {
                "the data"
            } else {
                "the model"
            }
        );
        let _ = writeln!(
            out,
            "compute-optimal at the same C: N_opt = {}, D_opt = {} ({} tokens per parameter), loss {} ({} lower)",
            num(best.n),
            num(best.d),
            num(best.tokens_per_param),
            num(best.loss),
            num(t.loss - best.loss)
        );
        if let Some(s) = &self.data_constrained {
            let _ = writeln!(
                out,
                "with {} unique tokens ({} epochs): effective tokens D' = {}, unique parameters U_N = {}, effective parameters N' = {}",
                num(s.unique_tokens),
                num(s.epochs),
                num(s.effective_tokens),
                num(s.unique_params),
                num(s.effective_params)
            );
            let _ = writeln!(
                out,
                "data-constrained loss {} = E {} + model term {} + data term {}",
                num(s.loss),
                num(s.irreducible),
                num(s.model),
                num(s.data)
            );
        }
        out
    }
}

/// The best data-constrained allocation of one budget, against the unconstrained plan.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConstrainedRecord {
    pub unique_tokens: f64,
    #[serde(rename = "N")]
    pub n: f64,
    /// Training tokens, repeats included.
    #[serde(rename = "D")]
    pub d: f64,
    pub epochs: f64,
    pub loss: f64,
    pub effective_tokens: f64,
    pub effective_params: f64,
    pub model_term: f64,
    pub data_term: f64,
    /// The loss of the compute-optimal (unconstrained) plan under repetition.
    pub unconstrained_plan_loss: f64,
    /// The epochs the unconstrained plan would take.
    pub unconstrained_plan_epochs: f64,
}

/// The plan for one budget.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetPlan {
    /// The compute-optimal allocation (its `compute` is the budget).
    #[serde(flatten)]
    pub optimal: AllocationRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_constrained: Option<ConstrainedRecord>,
}

/// Plans for budgets under one law.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The parameter set's id or the parameter file's path.
    pub params_source: String,
    pub params: ScalingLaw,
    /// The frontier N_opt = G (C/6)^a_opt, D_opt = (C/6)^b_opt / G.
    #[serde(rename = "G")]
    pub g: f64,
    pub a_opt: f64,
    pub b_opt: f64,
    /// One per budget, in the order given.
    pub plans: Vec<BudgetPlan>,
}

impl Plan {
    pub fn new(
        params_source: String,
        law: &ScalingLaw,
        budgets: &[f64],
        limited: Option<&LimitedData>,
    ) -> Self {
        let frontier = ComputeOptimal::new(law);
        let plans = budgets
            .iter()
            .map(|&c| {
                let best = frontier.allocate(law, c);
                let data_constrained = limited.map(|l| {
                    let u = l.unique_tokens;
                    let p = l.law.plan(c, u);
                    ConstrainedRecord {
                        unique_tokens: u,
                        n: p.n,
                        d: p.d,
                        epochs: p.scale.epochs,
                        loss: p.scale.loss,
                        effective_tokens: p.scale.effective_tokens,
                        effective_params: p.scale.effective_params,
                        model_term: p.scale.model,
                        data_term: p.scale.data,
                        unconstrained_plan_loss: l.law.loss(best.n, best.d, u),
                        unconstrained_plan_epochs: best.d / u,
                    }
                });
                BudgetPlan {
                    optimal: AllocationRecord::from(&best),
                    data_constrained,
                }
            })
            .collect();
        Plan {
            params_source,
            params: *law,
            g: frontier.g,
            a_opt: frontier.a,
            b_opt: frontier.b,
            plans,
        }
    }

    /// Pretty JSON, keys sorted, without a final newline.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        pretty_json(self)
    }

    pub fn from_json(text: &str) -> Result<Plan, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The frontier, then one line per budget (and one more for its data-constrained plan).
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: N_opt = {} (C/6)^{}, D_opt = {} (C/6)^{}",
            self.params_source,
            num(self.g),
            num(self.a_opt),
            num(1.0 / self.g),
            num(self.b_opt)
        );
        for plan in &self.plans {
            let p = &plan.optimal;
            let _ = writeln!(
                out,
                "C = {}: N_opt = {}, D_opt = {} ({} tokens per parameter), loss {} (model term {}, data term {})",
                num(p.compute),
                num(p.n),
                num(p.d),
                num(p.tokens_per_param),
                num(p.loss),
                num(p.model_term),
                num(p.data_term)
            );
            if let Some(dc) = &plan.data_constrained {
                let _ = writeln!(
                    out,
                    "  with {} unique tokens: best N = {}, tokens = {} ({} epochs), loss {}; the unconstrained plan would take {} epochs and reach {}",
                    num(dc.unique_tokens),
                    num(dc.n),
                    num(dc.d),
                    num(dc.epochs),
                    num(dc.loss),
                    num(dc.unconstrained_plan_epochs),
                    num(dc.unconstrained_plan_loss)
                );
            }
        }
        out
    }
}

/// The budgets the iso-FLOP figure draws for requested `budgets`: sorted, distinct, at most 10; a
/// single budget is widened to five decades around it (C/100 to 100 C).
pub fn figure_budgets(budgets: &[f64]) -> Vec<f64> {
    let mut out = budgets.to_vec();
    out.sort_by(f64::total_cmp);
    out.dedup();
    if out.len() == 1 {
        let c = out[0];
        out = vec![c / 100.0, c / 10.0, c, c * 10.0, c * 100.0];
    }
    out.truncate(10);
    out
}

/// The plan's figures as (file name, SVG) in writing order: `isoflop.svg` (iso-FLOP curves of the
/// law, and of the data-constrained law if data are limited, with their minima) and `frontier.svg`
/// (N_opt and D_opt against C over a decade either side of the budgets, with the data-constrained
/// plans' N and D). `budgets` must not be empty.
pub fn plan_figures(
    law: &ScalingLaw,
    budgets: &[f64],
    limited: Option<&LimitedData>,
) -> Result<Vec<(&'static str, String)>, FigureError> {
    let frontier = ComputeOptimal::new(law);
    let budgets = figure_budgets(budgets);
    let plain = |n: f64, d: f64| law.loss(n, d);
    let centre = |c: f64| frontier.n_opt(c);
    let mut minima: Vec<(f64, f64)> = budgets
        .iter()
        .map(|&c| {
            let a = frontier.allocate(law, c);
            (a.n, a.terms.loss)
        })
        .collect();
    let limited_loss;
    let mut curves = vec![Curve {
        label: "unlimited data",
        loss: &plain,
        mark: Mark::Line,
    }];
    if let Some(l) = limited {
        let (u, dc) = (l.unique_tokens, &l.law);
        limited_loss = move |n: f64, d: f64| dc.loss(n, d, u);
        curves.push(Curve {
            label: "limited unique data",
            loss: &limited_loss,
            mark: Mark::Dashed,
        });
        minima.extend(budgets.iter().map(|&c| minimise_iso_flop(c, limited_loss)));
    }
    let iso = figure::iso_flop_panel(&budgets, &centre, &curves, &minima);
    let iso_svg = figure::render(&[iso])?;

    let (lo, hi) = (budgets[0] / 10.0, budgets[budgets.len() - 1] * 10.0);
    let mut extra = Vec::new();
    if let Some(l) = limited {
        let u = l.unique_tokens;
        let grid: Vec<f64> = (0..=24)
            .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / 24.0).exp())
            .collect();
        let plans: Vec<_> = grid.iter().map(|&c| l.law.plan(c, u)).collect();
        extra.push(Series {
            label: format!("N with {} unique tokens", num(u)),
            points: plans.iter().map(|p| (p.compute, p.n)).collect(),
            mark: Mark::Dashed,
            color: 0,
        });
        extra.push(Series {
            label: format!("D with {} unique tokens", num(u)),
            points: plans.iter().map(|p| (p.compute, p.d)).collect(),
            mark: Mark::Dashed,
            color: 1,
        });
    }
    let panel = figure::frontier_panel(law, (lo, hi), extra);
    Ok(vec![
        ("isoflop.svg", iso_svg),
        ("frontier.svg", figure::render(&[panel])?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit_file::assert_round_trip;
    use crate::law::ParameterSet;

    fn muennighoff() -> LimitedData {
        let set = ParameterSet::muennighoff();
        LimitedData {
            unique_tokens: 100e9,
            law: DataConstrained::new(set.law, set.repetition.unwrap()),
        }
    }

    #[test]
    fn a_prediction_splits_the_loss_and_round_trips() {
        // GPT-3 under Hoffmann et al.'s printed law: 1.69 + 406.4 / 175e9^0.34 + 410.7 / 300e9^0.28.
        let law = ParameterSet::hoffmann_printed().law;
        let p = Prediction::new("hoffmann-printed".into(), &law, 175e9, 300e9, None);
        let model = 406.4 / 175e9f64.powf(0.34);
        let data = 410.7 / 300e9f64.powf(0.28);
        assert!((p.at.loss - (1.69 + model + data)).abs() < 1e-12);
        assert!((p.data_share - data / (model + data)).abs() < 1e-12);
        assert_eq!(p.at.compute, 6.0 * 175e9 * 300e9);
        assert_eq!(p.compute_optimal.compute, p.at.compute);
        assert!(p.compute_optimal.loss < p.at.loss);
        let text = p.to_json().unwrap();
        assert!(!text.contains("data_constrained"), "{text}");
        assert_round_trip(&p, &Prediction::from_json(&text).unwrap());
        assert!(p.text().contains("the data term dominates"), "{}", p.text());

        let limited = muennighoff();
        let q = Prediction::new("m".into(), &limited.law.law, 6e9, 300e9, Some(&limited));
        let dc = q.data_constrained.unwrap();
        assert_eq!(dc.epochs, 3.0);
        assert_round_trip(&q, &Prediction::from_json(&q.to_json().unwrap()).unwrap());
        assert_eq!(q.text().lines().count(), 6);
    }

    #[test]
    fn a_plan_follows_the_closed_form_and_round_trips() {
        let law = ParameterSet::besiroglu().law;
        let plan = Plan::new("besiroglu".into(), &law, &[5.88e23, 1e21], None);
        // G = (alpha A / (beta B))^(1/(alpha+beta)), N_opt = G (C/6)^(beta/(alpha+beta)).
        let (a, b, alpha, beta) = (482.01f64, 2085.43f64, 0.3478f64, 0.3658f64);
        let g = (alpha * a / (beta * b)).powf(1.0 / (alpha + beta));
        assert!((plan.g / g - 1.0).abs() < 1e-12);
        let first = plan.plans[0].optimal;
        assert_eq!(first.compute, 5.88e23);
        assert!(
            (first.n / (g * (5.88e23f64 / 6.0).powf(beta / (alpha + beta))) - 1.0).abs() < 1e-12
        );
        assert!((6.0 * first.n * first.d / 5.88e23 - 1.0).abs() < 1e-12);
        let text = plan.to_json().unwrap();
        let keys: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  \"") && !l.starts_with("   "))
            .map(|l| l.trim().split('"').nth(1).unwrap())
            .collect();
        assert_eq!(
            keys,
            ["G", "a_opt", "b_opt", "params", "params_source", "plans"]
        );
        assert_round_trip(&plan, &Plan::from_json(&text).unwrap());
        let lines = plan.text();
        assert_eq!(lines.lines().count(), 3);
        assert!(lines.starts_with("besiroglu: N_opt = "), "{lines}");
        assert!(lines.contains("\nC = 1.000e21: N_opt = "), "{lines}");
    }

    #[test]
    fn a_data_constrained_plan_repeats_data_and_round_trips() {
        let limited = muennighoff();
        let law = limited.law.law;
        let plan = Plan::new("muennighoff".into(), &law, &[1e24], Some(&limited));
        let dc = plan.plans[0].data_constrained.unwrap();
        // Repeated parameters lose value faster than repeated tokens: a smaller model, more epochs.
        assert!(dc.epochs > dc.unconstrained_plan_epochs);
        assert!(dc.n < plan.plans[0].optimal.n);
        assert!(dc.loss <= dc.unconstrained_plan_loss);
        assert!((6.0 * dc.n * dc.d / 1e24 - 1.0).abs() < 1e-12);
        assert_round_trip(&plan, &Plan::from_json(&plan.to_json().unwrap()).unwrap());
        assert!(
            plan.text()
                .contains("  with 1.000e11 unique tokens: best N = ")
        );
    }

    #[test]
    fn figures_widen_a_single_budget_and_draw_limited_data() {
        assert_eq!(figure_budgets(&[1e21]), vec![1e19, 1e20, 1e21, 1e22, 1e23]);
        assert_eq!(figure_budgets(&[1e22, 1e20, 1e22]), vec![1e20, 1e22]);
        let many: Vec<f64> = (0..12).map(|i| 10f64.powi(18 + i)).collect();
        assert_eq!(figure_budgets(&many).len(), 10);
        let limited = muennighoff();
        let files = plan_figures(&limited.law.law, &[1e24], Some(&limited)).unwrap();
        assert_eq!(files[0].0, "isoflop.svg");
        assert_eq!(files[1].0, "frontier.svg");
        assert!(files[0].1.contains("limited unique data"));
        assert!(files[1].1.contains("N with 1.000e11 unique tokens"));
        let plain = plan_figures(&limited.law.law, &[1e24], None).unwrap();
        assert!(!plain[0].1.contains("limited unique data"));
    }
}
