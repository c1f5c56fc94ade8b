//! # Crux 4: do homogeneous AIs bargain with less risk of catastrophic failure?
//!
//! **Claims** (paraphrased from a discussion of AI homogeneity). Systems that share an architecture
//! or weights may bargain more safely than heterogeneous ones, but how much is unclear:
//! (a) similar systems can verify one another, which makes agreements credible, yet credibility
//! also makes coercive threats worth committing to; (b) copies of one base share priors and a
//! notion of fairness, but tuning each copy to represent a different principal makes them diverge,
//! and divergence raises the failure rate; (c) a safeguard that only works if every bargainer has
//! it (surrogate goals) is likelier to be universal under homogeneity, unless it is adopted only
//! after the copies were tuned; (d) human principals bargaining through AI assistants carry out
//! fewer wild threats than misaligned AI principals would.
//!
//! **Model** (`cruxlab_games::population`). A Nash demand game over a pie of `units` units with a
//! commitment stage and value-destroying threats (`cruxlab_games::nash_demand`). Each encounter
//! pairs two copies of one base agent, each tuned toward its principal with divergence σ: fair
//! share `f0 + σ (partiality + z)`, prior mean over the counterpart's demand `m0 + σ z'`, credence
//! in unverified threats `c0 + σ z''`. An agent's utility for a share s is
//! `s - α max(0, f - s)`, so it rejects splits below its reservation `α f / (1 + α)`. A copy
//! considers a threat with its principal's propensity and commits to demand `f + premium` iff it
//! predicts a lone threat would get its demand met (verification: from the counterpart's actual
//! parameters; otherwise: treating the counterpart as the untuned base). The target concedes
//! iff `u(1 - x) >= -p D` (p: the threatener's follow-through if verified, else its own credence).
//! Without threats on the table, verified agents split the surplus above their reservations (and
//! fail only when the reservations do not fit in the pie: normative disagreement); unverified ones
//! best-respond to their priors. A refused threat is executed with the principal's follow-through
//! probability; it destroys `threat_damage` of the target principal's value (costing the executor
//! `threat_cost`) unless both sides adopted surrogate goals, which then absorb it. Surrogate goals
//! are adopted by each copy independently with probability p, or inherited from the base (adopted
//! with probability p) and kept by each copy with probability `exp(-σ / adoption_drift)`.
//!
//! **Open-source game theory** (`cruxlab_games::modal`, `cruxlab_games::simulation`). The report's
//! matchup conditions (`part = modal`) play the classic modal agents (Barasz, LaVictoire et al.
//! 2014) against each other by the provability-logic fixed point; `part = program` plays
//! simulation-based agents: Oesterheld's epsilon-grounded FairBot and similarity-based cooperators
//! whose parameter vectors are two copies of the base tuned with `matchups.similarity_sigma`.
//!
//! **Protocol.** Conditions: principal kind x verification x surrogate adoption (none, and each
//! mode with each p) x σ. Every condition sees the same random numbers for a given seed (common
//! random numbers: an encounter's tuning noise, adoption and threat draws come from
//! `derive_seed(master_seed, [seed])` in a fixed order), so differences between conditions are
//! paired by seed. Each seed plays `encounters` encounters per condition; each encounter is also
//! replayed with the commitment stage switched off (`failure_rate_without_threats`).
//!
//! **Metrics** (per seed: fractions or means over its encounters). `failure_rate` (no agreement),
//! `failure_rate_without_threats`, `threat_rate` (at least one commitment), `race_rate` (both
//! committed), `coerced_rate` (agreement reached by conceding to a threat),
//! `executed_threat_rate` (at least one threat executed), `welfare_lost` (1 - sum of payoffs, in
//! pies: pie lost to failure, threat damage to principals, execution costs),
//! `damage_to_principals`, `damage_to_surrogates`, `surrogate_universal` (both adopted); the
//! distribution of splits among agreements: `split_larger_share` (mean share of the better-off
//! side), `split_even` (larger share <= 0.55), `split_lopsided` (>= 0.65). Matchups:
//! `row_cooperates`, `column_cooperates`, `row_payoff`, `column_payoff`.
//!
//! **Verdict rules.** Each claim is a signed difference between conditions, paired by seed and
//! pooled over the cells named, with a 95% CI. A difference *holds* when its CI lies on the claimed
//! side of 0, is *reversed* when it lies on the other side, and is *negligible* when the CI lies
//! within ±`equivalence_margin`. (a, agreements): `failure_rate_without_threats`, verified minus
//! unverified, pooled over σ > 0, is negative. (a, threats): `threat_rate`, verified minus
//! unverified, pooled over σ, is positive for every principal kind. (b): `failure_rate` at the
//! largest σ minus at the smallest is positive in every (verification, principal) cell. (c), per
//! adoption mode: `surrogate_universal` and `damage_to_surrogates` (threat damage averted) are
//! higher at the smallest σ than at the largest, pooled over verification, principal and p.
//! (d): `executed_threat_rate`, human minus AI principals, pooled over σ, is negative with and
//! without verification. A claim is supported when its differences hold everywhere named, refuted
//! when they are reversed or negligible everywhere named (for (c): universality not higher, or
//! averted damage reversed), and inconclusive otherwise. A last verdict checks the modal matchup
//! table against the literature.

use cruxlab_core::{Experiment, MetricSummary, PlotSpec, Results, Summary, Verdict, VerdictKind};
use cruxlab_games::modal::Roster;
use cruxlab_games::population;
use cruxlab_games::{
    Adoption, BaseAgent, EncounterDraws, NashDemandGame, Population, PrincipalKind, ProgramAgent,
    Protocol, SurrogatePolicy, ThreatPolicy,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

use crate::seeding::derive_seed;

pub struct Bargaining;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Seeds per condition.
    pub seeds: u64,
    /// Master seed from which every encounter's random numbers are derived.
    pub master_seed: u64,
    /// Encounters per seed and condition (the per-seed value is a rate over them).
    pub encounters: u64,
    /// The pie, in demand units.
    pub units: u32,
    /// Divergence of tuning; the largest stands for heterogeneous systems.
    pub sigmas: Vec<f64>,
    /// Verification settings swept.
    pub verification: Vec<bool>,
    /// Principal kinds swept.
    pub principals: Vec<PrincipalKind>,
    /// Surrogate-goal adoption modes swept besides "none" (always included as the baseline).
    pub adoption: Vec<Adoption>,
    /// Adoption probabilities p swept for each mode.
    pub surrogate_p: Vec<f64>,
    /// Inherited adoption is kept by a copy with probability exp(-sigma / adoption_drift).
    pub adoption_drift: f64,
    /// Systematic pull of tuning toward one's own principal (in units of sigma).
    pub partiality: f64,
    /// Value an executed threat destroys, in pies.
    pub threat_damage: f64,
    /// What executing a threat costs the executor, in pies.
    pub threat_cost: f64,
    /// Differences whose CI lies within +-this are negligible.
    pub equivalence_margin: f64,
    pub base: BaseAgent,
    /// Threat policy of misaligned AI principals.
    pub ai: ThreatPolicy,
    /// Threat policy of human principals with AI assistants.
    pub human: ThreatPolicy,
    pub matchups: MatchupConfig,
}

/// The open-source prisoner's dilemma part of the report.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchupConfig {
    /// Play the classic modal agents against each other.
    pub modal: bool,
    /// Play the program agents (simulation- and similarity-based) against each other.
    pub program: bool,
    /// Plays per seed of each program matchup.
    pub samples: u64,
    /// The epsilon-grounded FairBot's grounding probability.
    pub epsilon: f64,
    /// Similarity-based cooperation threshold (Euclidean distance between parameter vectors).
    pub similarity_threshold: f64,
    /// Divergence of the two similarity-based copies.
    pub similarity_sigma: f64,
}

/// One cell of the sweep: a bargaining condition or one matchup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "part", rename_all = "lowercase")]
pub enum Condition {
    Bargaining {
        sigma: f64,
        verification: bool,
        principal: PrincipalKind,
        adoption: Adoption,
        p: f64,
    },
    Modal {
        row: String,
        column: String,
    },
    Program {
        row: String,
        column: String,
    },
}

/// The program agents of the matchup table.
const PROGRAMS: [&str; 4] = [
    "CooperateBot",
    "DefectBot",
    "EpsilonGroundedFairBot",
    "SimilarityBot",
];

impl Config {
    fn population(&self, sigma: f64, surrogates: SurrogatePolicy) -> Population {
        Population {
            base: self.base,
            sigma,
            partiality: self.partiality,
            ai: self.ai,
            human: self.human,
            surrogates,
        }
    }

    fn game(&self) -> NashDemandGame {
        NashDemandGame {
            units: self.units,
            commitment_stage: true,
            threat_damage: self.threat_damage,
            threat_cost: self.threat_cost,
            surrogate_shield: false,
        }
    }

    fn sigma_range(&self) -> (f64, f64) {
        let lo = self.sigmas.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self
            .sigmas
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    }

    /// (adoption, p) variants: none first, then each mode with each p.
    fn adoption_variants(&self) -> Vec<(Adoption, f64)> {
        let mut out = vec![(Adoption::None, 0.0)];
        for &mode in &self.adoption {
            for &p in &self.surrogate_p {
                out.push((mode, p));
            }
        }
        out
    }
}

impl Bargaining {
    fn measure_bargaining(
        config: &Config,
        sigma: f64,
        verification: bool,
        principal: PrincipalKind,
        adoption: Adoption,
        p: f64,
        seed: u64,
    ) -> Vec<(String, f64)> {
        let population = config.population(
            sigma,
            SurrogatePolicy {
                adoption,
                p,
                drift: config.adoption_drift,
            },
        );
        let protocol = Protocol {
            game: config.game(),
            verification,
            threats: true,
        };
        let calm = Protocol {
            threats: false,
            ..protocol
        };
        // The same stream for every condition: common random numbers.
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(config.master_seed, &[seed]));
        let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
        let mut add = |k: &'static str, v: f64| *sums.entry(k).or_default() += v;
        let (mut agreements, mut larger_share, mut even, mut lopsided) = (0u64, 0.0, 0.0, 0.0);
        for _ in 0..config.encounters {
            let draws = EncounterDraws::sample(&mut rng);
            let pair = population.pair(principal, &draws);
            let e = population::play(&pair, &config.base, &protocol, &draws);
            let quiet = population::play(&pair, &config.base, &calm, &draws);
            let o = &e.outcome;
            add("failure_rate", (!o.agreement) as u8 as f64);
            add(
                "failure_rate_without_threats",
                (!quiet.outcome.agreement) as u8 as f64,
            );
            add("threat_rate", e.threat_made() as u8 as f64);
            add("race_rate", (e.committed[0] && e.committed[1]) as u8 as f64);
            add("coerced_rate", e.coerced() as u8 as f64);
            add("executed_threat_rate", e.threat_executed() as u8 as f64);
            add("welfare_lost", o.welfare_lost());
            add("damage_to_principals", o.damage_to_principals);
            add("damage_to_surrogates", o.damage_to_surrogates);
            add("surrogate_universal", e.both_adopted as u8 as f64);
            if o.agreement {
                let larger = o.shares[0].max(o.shares[1]);
                agreements += 1;
                larger_share += larger;
                even += (larger <= 0.55 + 1e-9) as u8 as f64;
                lopsided += (larger >= 0.65 - 1e-9) as u8 as f64;
            }
        }
        let n = config.encounters as f64;
        let mut out: Vec<(String, f64)> = BARGAINING_METRICS
            .iter()
            .map(|&k| (k.to_owned(), sums.get(k).copied().unwrap_or(0.0) / n))
            .collect();
        let a = agreements as f64;
        let per_agreement = |x: f64| if agreements == 0 { f64::NAN } else { x / a };
        out.push(("split_larger_share".into(), per_agreement(larger_share)));
        out.push(("split_even".into(), per_agreement(even)));
        out.push(("split_lopsided".into(), per_agreement(lopsided)));
        out
    }

    fn program_agent(config: &Config, name: &str, parameters: Vec<f64>) -> ProgramAgent {
        match name {
            "CooperateBot" => ProgramAgent::CooperateBot,
            "DefectBot" => ProgramAgent::DefectBot,
            "EpsilonGroundedFairBot" => ProgramAgent::EpsilonGroundedFairBot {
                epsilon: config.matchups.epsilon,
            },
            _ => ProgramAgent::SimilarityBot {
                threshold: config.matchups.similarity_threshold,
                parameters,
            },
        }
    }

    fn measure_program(config: &Config, row: &str, column: &str, seed: u64) -> Vec<(String, f64)> {
        let index = |name: &str| PROGRAMS.iter().position(|p| *p == name).unwrap_or(0) as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(
            config.master_seed,
            &[seed, 1 << 40, index(row), index(column)],
        ));
        let population = config.population(config.matchups.similarity_sigma, SurrogatePolicy::NONE);
        let pd = cruxlab_games::PrisonersDilemma::default();
        let (mut rc, mut cc, mut rp, mut cp) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..config.matchups.samples {
            let draws = EncounterDraws::sample(&mut rng);
            let copies = population.pair(PrincipalKind::Ai, &draws);
            let a = Self::program_agent(config, row, copies[0].parameters());
            let b = Self::program_agent(config, column, copies[1].parameters());
            let x = a.cooperates(&b, &mut rng);
            let y = b.cooperates(&a, &mut rng);
            let (px, py) = pd.payoffs(x, y);
            rc += x as u8 as f64;
            cc += y as u8 as f64;
            rp += px;
            cp += py;
        }
        let n = config.matchups.samples as f64;
        matchup_metrics(rc / n, cc / n, rp / n, cp / n)
    }
}

const BARGAINING_METRICS: [&str; 10] = [
    "failure_rate",
    "failure_rate_without_threats",
    "threat_rate",
    "race_rate",
    "coerced_rate",
    "executed_threat_rate",
    "welfare_lost",
    "damage_to_principals",
    "damage_to_surrogates",
    "surrogate_universal",
];

fn matchup_metrics(
    row: f64,
    column: f64,
    row_payoff: f64,
    column_payoff: f64,
) -> Vec<(String, f64)> {
    vec![
        ("row_cooperates".into(), row),
        ("column_cooperates".into(), column),
        ("row_payoff".into(), row_payoff),
        ("column_payoff".into(), column_payoff),
    ]
}

impl Experiment for Bargaining {
    type Config = Config;
    type Condition = Condition;

    fn id(&self) -> &'static str {
        "bargaining"
    }

    fn claim(&self) -> &'static str {
        "AIs that share a base model bargain with less risk of catastrophic failure: verification makes agreements (and threats) credible, divergence from tuning raises failure, universal safeguards are likelier, and human principals execute fewer threats."
    }

    fn model(&self) -> &'static str {
        "A Nash demand game over a pie of `units` units, with a commitment stage and value-destroying threats. Each \
encounter pairs two copies of one base agent, tuned toward their own principals with divergence sigma: the share each \
deems fair (pulled toward its principal by `partiality` sigma), its prior over the counterpart's demand, and its credence \
in unverified threats all move by sigma times a standard normal. A copy rejects splits below its reservation \
alpha f / (1 + alpha) (alpha: unfairness aversion). It considers a threat with its principal's propensity (misaligned AI or \
human principal) and commits to demand f + premium when it predicts that a lone threat would get that demand met: \
exactly with verification (it reads the counterpart's parameters), else treating the counterpart as the untuned base. A \
threatened copy concedes iff its utility for the rest beats the threat's expected damage, with the threatener's actual \
follow-through if verified, else its own credence. Without threats, verified copies split the surplus above their \
reservations (failing only under normative disagreement, when the reservations do not fit), and unverified ones \
best-respond to their priors. Refused threats are executed with the principal's follow-through; they destroy \
threat_damage of the target's value unless both sides adopted surrogate goals, which absorb it (adopted independently with \
probability p, or inherited from the base and kept by each copy with probability exp(-sigma / adoption_drift)).\n\n\
Metrics per seed are rates over its encounters: failure (also with threats switched off), threats made, commitment \
races, coerced agreements, executed threats, welfare lost (pie lost + threat damage + execution costs), damage to \
principals and to surrogates, universal adoption, and the split among agreements. Every condition sees the same \
random numbers for a seed, so comparisons are paired. Verdicts test each claim with pooled paired differences and \
their 95% CIs (supported, refuted when reversed or negligible, else inconclusive).\n\n\
The matchup rows (part = modal) play the classic modal agents of Barasz, LaVictoire et al. (2014) by the \
provability-logic fixed point on the linear GL Kripke frame; part = program plays Oesterheld's epsilon-grounded \
FairBot and similarity-based cooperators (copies tuned with matchups.similarity_sigma). The values are the row's and \
the column's cooperation (1 = C) and payoffs (T, R, P, S = 5, 3, 1, 0)."
    }

    fn default_config(&self, quick: bool) -> Config {
        let base = Config {
            seeds: 30,
            master_seed: 2020,
            encounters: 2000,
            units: 100,
            sigmas: vec![0.0, 0.025, 0.05, 0.1, 0.15, 0.2],
            verification: vec![false, true],
            principals: vec![PrincipalKind::Ai, PrincipalKind::Human],
            adoption: vec![Adoption::Independent, Adoption::Inherited],
            surrogate_p: vec![0.5, 0.9],
            adoption_drift: 0.1,
            partiality: 0.5,
            threat_damage: 0.5,
            threat_cost: 0.05,
            equivalence_margin: 0.01,
            base: BaseAgent::default(),
            ai: ThreatPolicy {
                propensity: 0.4,
                follow_through: 1.0,
            },
            human: ThreatPolicy {
                propensity: 0.4,
                follow_through: 0.25,
            },
            matchups: MatchupConfig {
                modal: true,
                program: true,
                samples: 200,
                epsilon: 0.1,
                similarity_threshold: 0.1,
                similarity_sigma: 0.05,
            },
        };
        if quick {
            Config {
                seeds: 10,
                encounters: 500,
                sigmas: vec![0.0, 0.05, 0.1, 0.2],
                surrogate_p: vec![0.8],
                matchups: MatchupConfig {
                    samples: 50,
                    ..base.matchups
                },
                ..base
            }
        } else {
            base
        }
    }

    fn seeds(&self, config: &Config) -> u64 {
        config.seeds
    }

    fn validate(&self, config: &Config) -> Result<(), (String, String)> {
        let err = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        let unit = |x: f64| (0.0..=1.0).contains(&x);
        if config.seeds < 2 {
            return err("seeds", "needs at least 2 seeds for a confidence interval");
        }
        if config.encounters == 0 {
            return err("encounters", "must be at least 1");
        }
        if !(2..=10_000).contains(&config.units) {
            return err("units", "must lie in 2..=10000");
        }
        if config.sigmas.is_empty() || config.sigmas.iter().any(|s| !s.is_finite() || *s < 0.0) {
            return err("sigmas", "must be a non-empty list of finite values >= 0");
        }
        if config.verification.is_empty() {
            return err("verification", "must list at least one setting");
        }
        if config.principals.is_empty() {
            return err("principals", "must list at least one principal kind");
        }
        if config.adoption.contains(&Adoption::None) {
            return err(
                "adoption",
                "lists modes besides \"none\" (which is always run as the baseline)",
            );
        }
        if config.surrogate_p.iter().any(|&p| !(p > 0.0 && p <= 1.0)) {
            return err("surrogate_p", "every p must lie in (0, 1]");
        }
        if !config.adoption.is_empty() && config.surrogate_p.is_empty() {
            return err(
                "surrogate_p",
                "needs at least one p when adoption modes are swept",
            );
        }
        if !(config.adoption_drift > 0.0 && config.adoption_drift.is_finite()) {
            return err("adoption_drift", "must be positive");
        }
        if !config.partiality.is_finite() {
            return err("partiality", "must be finite");
        }
        if !(config.threat_damage >= 0.0 && config.threat_damage.is_finite()) {
            return err("threat_damage", "must be >= 0");
        }
        if !(config.threat_cost >= 0.0 && config.threat_cost.is_finite()) {
            return err("threat_cost", "must be >= 0");
        }
        if config.equivalence_margin.is_nan() || config.equivalence_margin <= 0.0 {
            return err("equivalence_margin", "must be positive");
        }
        let b = &config.base;
        for (key, value) in [
            ("base.fair_share", b.fair_share),
            ("base.prior_mean", b.prior_mean),
            ("base.credence", b.credence),
        ] {
            if !unit(value) {
                return err(key, "must lie in [0, 1]");
            }
        }
        if !(b.prior_sd >= 0.0 && b.prior_sd.is_finite()) {
            return err("base.prior_sd", "must be >= 0");
        }
        if !(b.unfairness_aversion >= 0.0 && b.unfairness_aversion.is_finite()) {
            return err("base.unfairness_aversion", "must be >= 0");
        }
        if !(b.threat_premium >= 0.0 && b.threat_premium <= 1.0) {
            return err("base.threat_premium", "must lie in [0, 1]");
        }
        for (name, t) in [("ai", config.ai), ("human", config.human)] {
            if !unit(t.propensity) {
                return err(&format!("{name}.propensity"), "must lie in [0, 1]");
            }
            if !unit(t.follow_through) {
                return err(&format!("{name}.follow_through"), "must lie in [0, 1]");
            }
        }
        let m = &config.matchups;
        if m.samples == 0 {
            return err("matchups.samples", "must be at least 1");
        }
        if !unit(m.epsilon) {
            return err("matchups.epsilon", "must lie in [0, 1]");
        }
        if m.similarity_threshold.is_nan() || m.similarity_threshold < 0.0 {
            return err("matchups.similarity_threshold", "must be >= 0");
        }
        if !(m.similarity_sigma >= 0.0 && m.similarity_sigma.is_finite()) {
            return err("matchups.similarity_sigma", "must be >= 0");
        }
        Ok(())
    }

    fn conditions(&self, config: &Config) -> Vec<Condition> {
        let mut out = Vec::new();
        for &principal in &config.principals {
            for &verification in &config.verification {
                for (adoption, p) in config.adoption_variants() {
                    for &sigma in &config.sigmas {
                        out.push(Condition::Bargaining {
                            sigma,
                            verification,
                            principal,
                            adoption,
                            p,
                        });
                    }
                }
            }
        }
        if config.matchups.modal {
            let roster = Roster::classic();
            for row in roster.names() {
                for column in roster.names() {
                    out.push(Condition::Modal {
                        row: row.to_owned(),
                        column: column.to_owned(),
                    });
                }
            }
        }
        if config.matchups.program {
            for row in PROGRAMS {
                for column in PROGRAMS {
                    out.push(Condition::Program {
                        row: row.to_owned(),
                        column: column.to_owned(),
                    });
                }
            }
        }
        out
    }

    fn measure(&self, config: &Config, condition: &Condition, seed: u64) -> Vec<(String, f64)> {
        match condition {
            Condition::Bargaining {
                sigma,
                verification,
                principal,
                adoption,
                p,
            } => Self::measure_bargaining(
                config,
                *sigma,
                *verification,
                *principal,
                *adoption,
                *p,
                seed,
            ),
            Condition::Modal { row, column } => match Roster::classic().matchup(row, column) {
                Ok(m) => matchup_metrics(
                    m.row_cooperates as u8 as f64,
                    m.column_cooperates as u8 as f64,
                    m.row_payoff,
                    m.column_payoff,
                ),
                Err(_) => matchup_metrics(f64::NAN, f64::NAN, f64::NAN, f64::NAN),
            },
            Condition::Program { row, column } => Self::measure_program(config, row, column, seed),
        }
    }

    fn metrics(&self, _config: &Config) -> Vec<String> {
        Vec::new()
    }

    fn claims(&self, _config: &Config) -> Vec<cruxlab_core::Claim> {
        Vec::new()
    }

    fn plots(&self, config: &Config) -> Vec<PlotSpec> {
        let none = ("adoption".to_owned(), json!("none"));
        let part = ("part".to_owned(), json!("bargaining"));
        let plot = |metric: &str,
                    label: &str,
                    series: &[&str],
                    filter: Vec<(String, Value)>,
                    file: String| {
            PlotSpec {
                file,
                title: label.to_owned(),
                metric: metric.to_owned(),
                y_label: metric.replace('_', " "),
                x: "sigma".into(),
                x_label: "divergence of tuning (sigma)".into(),
                log_x: false,
                series: series.iter().map(|s| s.to_string()).collect(),
                filter,
            }
        };
        let mut plots = vec![
            plot(
                "failure_rate",
                "Bargaining failure vs divergence (no surrogate goals)",
                &["verification", "principal"],
                vec![part.clone(), none.clone()],
                "failure_rate.svg".into(),
            ),
            plot(
                "failure_rate_without_threats",
                "Bargaining failure with threats switched off",
                &["verification"],
                vec![
                    part.clone(),
                    none.clone(),
                    ("principal".into(), json!(config.principals[0])),
                ],
                "failure_rate_without_threats.svg".into(),
            ),
            plot(
                "threat_rate",
                "Threats committed to vs divergence",
                &["verification", "principal"],
                vec![part.clone(), none.clone()],
                "threat_rate.svg".into(),
            ),
            plot(
                "executed_threat_rate",
                "Executed threats vs divergence (no surrogate goals)",
                &["verification", "principal"],
                vec![part.clone(), none.clone()],
                "executed_threat_rate.svg".into(),
            ),
            plot(
                "split_larger_share",
                "Share of the better-off side among agreements",
                &["verification", "principal"],
                vec![part.clone(), none.clone()],
                "split_larger_share.svg".into(),
            ),
        ];
        if !config.adoption.is_empty() {
            plots.push(plot(
                "surrogate_universal",
                "Both bargainers have surrogate goals",
                &["adoption", "p"],
                vec![
                    part.clone(),
                    ("verification".into(), json!(config.verification[0])),
                    ("principal".into(), json!(config.principals[0])),
                ],
                "surrogate_universal.svg".into(),
            ));
            for &principal in &config.principals {
                plots.push(plot(
                    "welfare_lost",
                    &format!("Welfare lost, {} principals", principal.as_str()),
                    &["verification", "adoption", "p"],
                    vec![part.clone(), ("principal".into(), json!(principal))],
                    format!("welfare_lost_{}.svg", principal.as_str()),
                ));
            }
        }
        plots
    }
}

// OLD VERDICTS: to be rewritten as claims
#[cfg(any())]
mod old_verdicts {
    use super::*;
    // ---------------------------------------------------------------------------------------------
    // Verdicts

    /// The summary of `metric` in one bargaining cell.
    fn cell<'r>(
        results: &'r Results,
        metric: &str,
        sigma: f64,
        verification: bool,
        principal: PrincipalKind,
        adoption: Adoption,
        p: f64,
    ) -> Option<&'r MetricSummary> {
        results.find(
            metric,
            &[
                ("part", json!("bargaining")),
                ("sigma", json!(sigma)),
                ("verification", json!(verification)),
                ("principal", json!(principal)),
                ("adoption", json!(adoption)),
                ("p", json!(p)),
            ],
        )
    }

    /// Per seed, the mean over `pairs` of `a - b`; then a t interval over seeds. Seeds missing from
    /// any pair are left out.
    fn pooled(pairs: &[(&MetricSummary, &MetricSummary)]) -> Option<Summary> {
        if pairs.is_empty() {
            return None;
        }
        let mut per_seed: BTreeMap<u64, (f64, usize)> = BTreeMap::new();
        for (a, b) in pairs {
            for (seed, va) in a.seeds.iter().zip(&a.values) {
                if let Some(j) = b.seeds.iter().position(|s| s == seed) {
                    let e = per_seed.entry(*seed).or_insert((0.0, 0));
                    e.0 += va - b.values[j];
                    e.1 += 1;
                }
            }
        }
        let diffs: Vec<f64> = per_seed
            .values()
            .filter(|(_, k)| *k == pairs.len())
            .map(|(d, k)| d / *k as f64)
            .collect();
        (!diffs.is_empty()).then(|| cruxlab_core::mean_ci(&diffs))
    }

    /// How a difference came out relative to the claimed sign.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Outcome {
        Holds,
        Reversed,
        Negligible,
        Unclear,
    }

    fn classify(d: &Summary, claimed_positive: bool, margin: f64) -> Outcome {
        let (Some(lo), Some(hi)) = (d.ci_low, d.ci_high) else {
            return Outcome::Unclear;
        };
        let (lo, hi) = if claimed_positive {
            (lo, hi)
        } else {
            (-hi, -lo)
        };
        if lo > 0.0 {
            Outcome::Holds
        } else if hi < 0.0 {
            Outcome::Reversed
        } else if lo > -margin && hi < margin {
            Outcome::Negligible
        } else {
            Outcome::Unclear
        }
    }

    fn outcome_word(o: Outcome) -> &'static str {
        match o {
            Outcome::Holds => "holds",
            Outcome::Reversed => "reversed",
            Outcome::Negligible => "negligible",
            Outcome::Unclear => "unclear",
        }
    }

    /// Supported if every outcome holds, refuted if every outcome is reversed or negligible,
    /// inconclusive otherwise (or with nothing to judge).
    fn combine(outcomes: &[Outcome]) -> VerdictKind {
        if outcomes.is_empty() {
            VerdictKind::Inconclusive
        } else if outcomes.iter().all(|o| *o == Outcome::Holds) {
            VerdictKind::Supported
        } else if outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Reversed | Outcome::Negligible))
        {
            VerdictKind::Refuted
        } else {
            VerdictKind::Inconclusive
        }
    }

    fn fmt(s: &Summary) -> String {
        s.to_string()
    }

    /// The paired difference `metric(a) - metric(b)` pooled over the sigmas in `sigmas`, for cells
    /// built by `at(sigma, which)` (which = true for a, false for b).
    fn pooled_over_sigmas(
        results: &Results,
        metric: &str,
        sigmas: &[f64],
        at: impl Fn(f64, bool) -> (bool, PrincipalKind, Adoption, f64),
    ) -> Option<Summary> {
        let mut pairs = Vec::new();
        for &sigma in sigmas {
            let (va, ka, aa, pa) = at(sigma, true);
            let (vb, kb, ab, pb) = at(sigma, false);
            pairs.push((
                cell(results, metric, sigma, va, ka, aa, pa)?,
                cell(results, metric, sigma, vb, kb, ab, pb)?,
            ));
        }
        pooled(&pairs)
    }

    fn verdict_a_agreements(config: &Config, results: &Results) -> Verdict {
        let mut sigmas: Vec<f64> = config.sigmas.iter().copied().filter(|&s| s > 0.0).collect();
        if sigmas.is_empty() {
            sigmas = config.sigmas.clone();
        }
        let principal = config.principals[0];
        let d = pooled_over_sigmas(
            results,
            "failure_rate_without_threats",
            &sigmas,
            |_, verified| (verified, principal, Adoption::None, 0.0),
        );
        let (verdict, evidence) = match d {
            Some(d) => {
                let o = classify(&d, false, config.equivalence_margin);
                let per_sigma: Vec<String> = sigmas
                    .iter()
                    .filter_map(|&s| {
                        let v = cell(
                            results,
                            "failure_rate_without_threats",
                            s,
                            true,
                            principal,
                            Adoption::None,
                            0.0,
                        )?;
                        let u = cell(
                            results,
                            "failure_rate_without_threats",
                            s,
                            false,
                            principal,
                            Adoption::None,
                            0.0,
                        )?;
                        Some(format!(
                            "sigma {s}: {:.3} verified vs {:.3} unverified",
                            v.mean, u.mean
                        ))
                    })
                    .collect();
                (
                    combine(&[o]),
                    format!(
                        "failure with threats off, verified minus unverified, pooled over sigma in {sigmas:?}: {} ({}). {}.",
                        fmt(&d),
                        outcome_word(o),
                        per_sigma.join("; ")
                    ),
                )
            }
            None => (VerdictKind::Inconclusive, "no comparable cells".into()),
        };
        Verdict {
        claim: "(a, agreements) Verification makes agreements credible: with no threats on the table, verified copies fail less often than unverified ones.".into(),
        verdict,
        evidence,
    }
    }

    fn verdict_a_threats(config: &Config, results: &Results) -> Verdict {
        let mut outcomes = Vec::new();
        let mut lines = Vec::new();
        for &k in &config.principals {
            let diff = |metric: &str| {
                pooled_over_sigmas(results, metric, &config.sigmas, |_, verified| {
                    (verified, k, Adoption::None, 0.0)
                })
            };
            let Some(d) = diff("threat_rate") else {
                continue;
            };
            let o = classify(&d, true, config.equivalence_margin);
            outcomes.push(o);
            let extra: Vec<String> = [
                "coerced_rate",
                "executed_threat_rate",
                "failure_rate",
                "welfare_lost",
            ]
            .iter()
            .filter_map(|m| diff(m).map(|s| format!("{m} {}", fmt(&s))))
            .collect();
            lines.push(format!(
                "{} principals: threat_rate verified minus unverified {} ({}); {}",
                k.as_str(),
                fmt(&d),
                outcome_word(o),
                extra.join(", ")
            ));
        }
        Verdict {
        claim: "(a, threats) Verification makes coercive threats credible, so agents commit to threats more often: the commitment rate is higher with verification, for every principal kind (pooled over sigma).".into(),
        verdict: combine(&outcomes),
        evidence: format!(
            "Paired differences, verified minus unverified, pooled over sigma. {}.",
            lines.join(". ")
        ),
    }
    }

    fn verdict_b(config: &Config, results: &Results) -> Verdict {
        let (lo, hi) = config.sigma_range();
        let mut outcomes = Vec::new();
        let mut lines = Vec::new();
        let mut sorted = config.sigmas.clone();
        sorted.sort_by(f64::total_cmp);
        for &k in &config.principals {
            for &v in &config.verification {
                let (Some(a), Some(b)) = (
                    cell(results, "failure_rate", hi, v, k, Adoption::None, 0.0),
                    cell(results, "failure_rate", lo, v, k, Adoption::None, 0.0),
                ) else {
                    continue;
                };
                let Some(d) = pooled(&[(a, b)]) else {
                    continue;
                };
                let o = classify(&d, true, config.equivalence_margin);
                outcomes.push(o);
                let curve: Vec<String> = sorted
                    .iter()
                    .filter_map(|&s| {
                        cell(results, "failure_rate", s, v, k, Adoption::None, 0.0)
                            .map(|m| format!("{:.3}", m.mean))
                    })
                    .collect();
                let quiet: Vec<String> = sorted
                    .iter()
                    .filter_map(|&s| {
                        cell(
                            results,
                            "failure_rate_without_threats",
                            s,
                            v,
                            k,
                            Adoption::None,
                            0.0,
                        )
                        .map(|m| format!("{:.3}", m.mean))
                    })
                    .collect();
                lines.push(format!(
                "{} principals, verification {v}: failure at sigma {hi} minus sigma {lo} = {} ({}); failure over sigma {sorted:?}: [{}]; with threats off: [{}]",
                k.as_str(),
                fmt(&d),
                outcome_word(o),
                curve.join(", "),
                quiet.join(", ")
            ));
            }
        }
        Verdict {
            claim: format!(
                "(b) Divergence from independent tuning raises the bargaining-failure rate: failure at sigma {hi} exceeds failure at sigma {lo} in every (principal, verification) cell."
            ),
            verdict: combine(&outcomes),
            evidence: format!("{}.", lines.join(". ")),
        }
    }

    fn verdict_c(config: &Config, results: &Results, mode: Adoption) -> Verdict {
        let (lo, hi) = config.sigma_range();
        let gather = |metric: &str| {
            let mut pairs = Vec::new();
            for &k in &config.principals {
                for &v in &config.verification {
                    for &p in &config.surrogate_p {
                        if let (Some(a), Some(b)) = (
                            cell(results, metric, lo, v, k, mode, p),
                            cell(results, metric, hi, v, k, mode, p),
                        ) {
                            pairs.push((a, b));
                        }
                    }
                }
            }
            pooled(&pairs)
        };
        let universal = gather("surrogate_universal");
        let averted = gather("damage_to_surrogates");
        let welfare = gather("welfare_lost");
        let verdict = match (&universal, &averted) {
            (Some(u), Some(a)) => {
                let ou = classify(u, true, config.equivalence_margin);
                let oa = classify(a, true, config.equivalence_margin);
                if ou == Outcome::Holds && oa == Outcome::Holds {
                    VerdictKind::Supported
                } else if matches!(ou, Outcome::Reversed | Outcome::Negligible)
                    || oa == Outcome::Reversed
                {
                    VerdictKind::Refuted
                } else {
                    VerdictKind::Inconclusive
                }
            }
            _ => VerdictKind::Inconclusive,
        };
        let show = |s: &Option<Summary>| {
            s.as_ref().map_or("n/a".to_owned(), |s| {
                format!(
                    "{} ({})",
                    fmt(s),
                    outcome_word(classify(s, true, config.equivalence_margin))
                )
            })
        };
        let policy = |p: f64| SurrogatePolicy {
            adoption: mode,
            p,
            drift: config.adoption_drift,
        };
        let expected: Vec<String> = config
            .surrogate_p
            .iter()
            .map(|&p| {
                format!(
                    "p {p}: {:.3} at sigma {lo}, {:.3} at sigma {hi}",
                    policy(p).universal_probability(lo),
                    policy(p).universal_probability(hi)
                )
            })
            .collect();
        Verdict {
            claim: format!(
                "(c, {} adoption) Under homogeneity a safeguard that needs every bargainer (surrogate goals) is likelier to be universal and so averts more threat damage: at sigma {lo} both sides have it more often, and surrogates absorb more damage, than at sigma {hi}.",
                mode.as_str()
            ),
            verdict,
            evidence: format!(
                "Paired differences, sigma {lo} minus sigma {hi}, pooled over principal, verification and p: universal adoption {}; damage absorbed by surrogates {}; welfare lost {}. Universal adoption in closed form: {}.",
                show(&universal),
                show(&averted),
                welfare.as_ref().map_or("n/a".to_owned(), fmt),
                expected.join("; ")
            ),
        }
    }

    fn verdict_d(config: &Config, results: &Results) -> Verdict {
        let mut outcomes = Vec::new();
        let mut lines = Vec::new();
        for &v in &config.verification {
            let diff = |metric: &str| {
                pooled_over_sigmas(results, metric, &config.sigmas, |_, human| {
                    (
                        v,
                        if human {
                            PrincipalKind::Human
                        } else {
                            PrincipalKind::Ai
                        },
                        Adoption::None,
                        0.0,
                    )
                })
            };
            let Some(d) = diff("executed_threat_rate") else {
                continue;
            };
            let o = classify(&d, false, config.equivalence_margin);
            outcomes.push(o);
            let extra: Vec<String> = ["threat_rate", "failure_rate", "welfare_lost"]
                .iter()
                .filter_map(|m| diff(m).map(|s| format!("{m} {}", fmt(&s))))
                .collect();
            lines.push(format!(
                "verification {v}: executed_threat_rate human minus AI {} ({}); {}",
                fmt(&d),
                outcome_word(o),
                extra.join(", ")
            ));
        }
        Verdict {
        claim: "(d) Human principals bargaining through AI assistants carry out fewer threats than misaligned AI principals: the executed-threat rate is lower for human principals, with and without verification (pooled over sigma).".into(),
        verdict: combine(&outcomes),
        evidence: format!(
            "Paired differences, human minus AI, pooled over sigma. {}.",
            lines.join(". ")
        ),
    }
    }

    /// The modal matchup table as text, and whether it agrees with Barasz, LaVictoire et al. 2014.
    fn verdict_matchups(results: &Results) -> Verdict {
        let roster = Roster::classic();
        let names = roster.names();
        let moves = |row: &str, column: &str| -> Option<(bool, bool)> {
            let filter = [
                ("part", json!("modal")),
                ("row", json!(row)),
                ("column", json!(column)),
            ];
            let r = results.find("row_cooperates", &filter)?.mean;
            let c = results.find("column_cooperates", &filter)?.mean;
            (r.is_finite() && c.is_finite()).then_some((r > 0.5, c > 0.5))
        };
        let letter = |b: bool| if b { 'C' } else { 'D' };
        let mut table = Vec::new();
        for row in &names {
            let cells: Vec<String> = names
                .iter()
                .map(|column| match moves(row, column) {
                    Some((r, c)) => format!("{column} {}/{}", letter(r), letter(c)),
                    None => format!("{column} ?"),
                })
                .collect();
            table.push(format!("{row}: {}", cells.join(", ")));
        }
        // (row, column, row cooperates, column cooperates) from the literature.
        let expected = [
            ("FairBot", "FairBot", true, true),
            ("PrudentBot", "PrudentBot", true, true),
            ("FairBot", "PrudentBot", true, true),
            ("PrudentBot", "CooperateBot", false, true),
            ("FairBot", "CooperateBot", true, true),
            ("DefectBot", "FairBot", false, false),
            ("DefectBot", "PrudentBot", false, false),
            ("CliqueBot", "CliqueBot", true, true),
            ("TrollBot", "DefectBot", false, false),
        ];
        let mut failures = Vec::new();
        let mut missing = false;
        for (row, column, r, c) in expected {
            match moves(row, column) {
                Some(got) if got == (r, c) => {}
                Some(got) => failures.push(format!(
                    "{row} vs {column}: got {}/{}, expected {}/{}",
                    letter(got.0),
                    letter(got.1),
                    letter(r),
                    letter(c)
                )),
                None => missing = true,
            }
        }
        for column in &names {
            if *column != "CliqueBot"
                && let Some((true, _)) = moves("CliqueBot", column)
            {
                failures.push(format!("CliqueBot cooperates with {column}"));
            }
        }
        let verdict = if !failures.is_empty() {
            VerdictKind::Refuted
        } else if missing {
            VerdictKind::Inconclusive
        } else {
            VerdictKind::Supported
        };
        Verdict {
        claim: "The modal agents' matchups agree with Barasz, LaVictoire et al. (2014): FairBot and PrudentBot cooperate with themselves and each other, PrudentBot defects against CooperateBot, DefectBot exploits neither, CliqueBot cooperates only with itself.".into(),
        verdict,
        evidence: format!(
            "Row's move / column's move. {}.{}",
            table.join(". "),
            if failures.is_empty() {
                String::new()
            } else {
                format!(" Disagreements: {}.", failures.join("; "))
            }
        ),
    }
    }
}

#[cfg(any())]
mod tests {
    use super::*;

    #[test]
    fn quick_config_validates_and_conditions_serialize_flat() {
        let e = Bargaining;
        let config = e.default_config(true);
        e.validate(&config).unwrap();
        for c in e.conditions(&config) {
            let v = serde_json::to_value(&c).unwrap();
            let map = v.as_object().unwrap();
            assert!(map.values().all(|x| !x.is_object() && !x.is_array()), "{v}");
            let back: Condition = serde_json::from_value(v).unwrap();
            assert_eq!(back, c);
        }
    }

    #[test]
    fn classify_by_ci() {
        let s = |lo: f64, hi: f64| Summary {
            mean: (lo + hi) / 2.0,
            ci_low: Some(lo),
            ci_high: Some(hi),
            n: 10,
        };
        assert_eq!(classify(&s(0.1, 0.2), true, 0.01), Outcome::Holds);
        assert_eq!(classify(&s(0.1, 0.2), false, 0.01), Outcome::Reversed);
        assert_eq!(classify(&s(-0.005, 0.005), true, 0.01), Outcome::Negligible);
        assert_eq!(classify(&s(-0.1, 0.1), true, 0.01), Outcome::Unclear);
    }
}
