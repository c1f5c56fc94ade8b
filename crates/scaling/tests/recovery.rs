//! A fit recovers planted parameters: exactly from noiseless data, and within its own bootstrap
//! uncertainty from noisy data.

use cruxlab_scaling::fit::{a_opt, percentile_interval};
use cruxlab_scaling::synthetic::Design;
use cruxlab_scaling::{
    Bootstrap, BootstrapOptions, HuberFit, HuberObjective, LbfgsOptions, LogParams, ParameterSet,
    hoffmann_grid,
};

#[test]
fn noiseless_data_gives_back_the_planted_law() {
    let planted = ParameterSet::besiroglu().law;
    let design = Design {
        noise_sd: 0.0,
        ..Design::chinchilla_like()
    };
    let objective = HuberObjective::new(&design.draw(&planted, 0));
    // Every 9th start of the grid (500 starts) is plenty on exact data; the full grid is exercised
    // by the noisy test below.
    let starts: Vec<[f64; 5]> = hoffmann_grid().into_iter().step_by(9).collect();
    let fit = HuberFit::fit(&objective, &starts, &LbfgsOptions::default()).unwrap();
    let want = planted.to_log().to_array();
    for (k, (got, want)) in fit.params.to_array().iter().zip(want).enumerate() {
        assert!(
            (got - want).abs() < 1e-5,
            "parameter {k}: {got} vs planted {want}"
        );
    }
    assert!(fit.objective < 1e-12, "{}", fit.objective);
}

#[test]
fn noisy_data_recovers_within_bootstrap_uncertainty() {
    // Planted: Besiroglu et al.'s law; 250 runs; log-noise sd 0.005 (about the Chinchilla points'
    // scatter).
    let planted = ParameterSet::besiroglu().law;
    let planted_log = planted.to_log();
    let objective = HuberObjective::new(&Design::chinchilla_like().draw(&planted, 11));
    let fit = HuberFit::fit(&objective, &hoffmann_grid(), &LbfgsOptions::default()).unwrap();
    let boot = Bootstrap::run(
        &objective,
        &fit.params,
        &BootstrapOptions {
            resamples: 200,
            seed: 5,
        },
        &LbfgsOptions::default(),
    );
    // Tolerance: 4 bootstrap standard deviations. If the estimator is roughly normal and unbiased
    // (it is consistent: noiseless data are recovered exactly, above), a miss has two-sided
    // probability about 6e-5 per parameter. The SDs themselves are capped so the tolerance cannot be
    // vacuous: with 250 points and noise 0.005 they are near 0.01 for the exponents.
    type Statistic = fn(&LogParams) -> f64;
    let checks: [(&str, Statistic, f64); 5] = [
        ("alpha", |p| p.alpha, 0.03),
        ("beta", |p| p.beta, 0.03),
        ("E", |p| p.log_e.exp(), 0.05),
        ("a_opt", a_opt, 0.03),
        ("log A", |p| p.log_a, 0.6),
    ];
    for (name, statistic, sd_cap) in checks {
        let values = boot.values(statistic);
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
            / (values.len() - 1) as f64)
            .sqrt();
        let (got, want) = (statistic(&fit.params), statistic(&planted_log));
        assert!(sd < sd_cap, "{name}: bootstrap sd {sd} above {sd_cap}");
        assert!(
            (got - want).abs() < 4.0 * sd,
            "{name}: fit {got}, planted {want}, bootstrap sd {sd}"
        );
        let (lo, hi) = percentile_interval(&values, 0.95).unwrap();
        assert!(
            lo <= got && got <= hi,
            "{name}: the fit lies inside its own interval"
        );
    }
}

#[test]
fn fits_and_bootstraps_do_not_depend_on_thread_count() {
    let objective = HuberObjective::new(
        &Design {
            budgets: 4,
            sizes_per_budget: 8,
            ..Design::chinchilla_like()
        }
        .draw(&ParameterSet::hoffmann_printed().law, 2),
    );
    let starts: Vec<[f64; 5]> = hoffmann_grid().into_iter().step_by(45).collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let fit = HuberFit::fit(&objective, &starts, &LbfgsOptions::default()).unwrap();
            let boot = Bootstrap::run(
                &objective,
                &fit.params,
                &BootstrapOptions {
                    resamples: 20,
                    seed: 1,
                },
                &LbfgsOptions::default(),
            );
            (fit, boot)
        })
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one, two);
    let sequential =
        HuberFit::fit_sequential(&objective, &starts, &LbfgsOptions::default()).unwrap();
    assert_eq!(sequential, one.0);
}
