use cruxlab_core::*;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
struct Cfg {
    seeds: u64,
    sizes: Vec<u32>,
    agents: Vec<String>,
}
#[derive(Clone, Serialize, Deserialize)]
struct Cond {
    agent: String,
    size: u32,
}
struct Demo;
impl Experiment for Demo {
    type Config = Cfg;
    type Condition = Cond;
    fn id(&self) -> &'static str {
        "demo"
    }
    fn claim(&self) -> &'static str {
        "Larger grids make <agents> slower & less reliable"
    }
    fn model(&self) -> &'static str {
        "Agents walk on a grid of size N.\n\nMetrics: steps to goal (NaN when the goal is never reached), success rate."
    }
    fn default_config(&self, _q: bool) -> Cfg {
        Cfg {
            seeds: 10,
            sizes: vec![3, 5, 9, 17, 33, 65],
            agents: vec!["greedy".into(), "random, \"walk\"".into()],
        }
    }
    fn seeds(&self, c: &Cfg) -> u64 {
        c.seeds
    }
    fn validate(&self, _: &Cfg) -> Result<(), (String, String)> {
        Ok(())
    }
    fn conditions(&self, c: &Cfg) -> Vec<Cond> {
        c.agents
            .iter()
            .flat_map(|a| {
                c.sizes.iter().map(move |&s| Cond {
                    agent: a.clone(),
                    size: s,
                })
            })
            .collect()
    }
    fn measure(&self, _: &Cfg, c: &Cond, seed: u64) -> Vec<(String, f64)> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
            seed * 1000 + c.size as u64 + c.agent.len() as u64 * 7,
        );
        let k = if c.agent == "greedy" { 1.0 } else { 1.8 };
        let steps = k * c.size as f64 * (1.0 + rng.random::<f64>());
        let ok = rng.random::<f64>() < 1.0 / (1.0 + c.size as f64 / 40.0);
        vec![
            ("steps".into(), if ok { steps } else { f64::NAN }),
            ("success".into(), ok as u8 as f64),
        ]
    }
    fn verdicts(&self, _: &Cfg, r: &Results) -> Vec<Verdict> {
        let s = r
            .find(
                "success",
                &[("agent", "greedy".into()), ("size", 65.into())],
            )
            .unwrap()
            .summary();
        vec![
            Verdict {
                claim: "success at 65 below 0.9".into(),
                verdict: if s.is_below(0.9) {
                    VerdictKind::Supported
                } else {
                    VerdictKind::Inconclusive
                },
                evidence: format!("success: {s}"),
            },
            Verdict {
                claim: "x".into(),
                verdict: VerdictKind::Refuted,
                evidence: "y".into(),
            },
        ]
    }
    fn plots(&self, _: &Cfg) -> Vec<PlotSpec> {
        vec![
            PlotSpec {
                file: "steps.svg".into(),
                title: "Steps to goal by grid size".into(),
                metric: "steps".into(),
                y_label: "steps".into(),
                x: "size".into(),
                x_label: "grid size N".into(),
                log_x: true,
                series: vec!["agent".into()],
                filter: vec![],
            },
            PlotSpec {
                file: "success.svg".into(),
                title: "Success rate".into(),
                metric: "success".into(),
                y_label: "success rate".into(),
                x: "size".into(),
                x_label: "grid size N".into(),
                log_x: false,
                series: vec!["agent".into()],
                filter: vec![],
            },
        ]
    }
}
fn main() {
    let e = erase(Demo);
    let c = e.resolve(&Overrides::default()).unwrap();
    let out = std::path::PathBuf::from("/tmp/demo-run/demo");
    let _ = std::fs::remove_dir_all("/tmp/demo-run");
    let RunOutcome::Complete(r) = e.run(&c, &RunOptions::new(&out)).unwrap() else {
        panic!()
    };
    write_index(
        std::path::Path::new("/tmp/demo-run"),
        &[("demo".into(), e.claim().into(), r)],
    )
    .unwrap();
}
