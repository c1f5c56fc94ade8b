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
//! `row_cooperates`, `column_cooperates`, `row_payoff`, `column_payoff`; modal matchups whose
//! outcome the paper states (condition key `literature`) also `agrees_with_literature` (1 when
//! every stated move is reproduced, 0 otherwise; the stated table is `LITERATURE` below).
//!
//! **Claims and controls.** Every claim is declared in the framework's grammar
//! (`cruxlab_core::claim`): a paired-by-seed difference between conditions, judged per cell by its
//! Student-t 95% CI against reference 0 with a margin of `equivalence_margin` (a CI wholly inside
//! the margin band counts as no effect, i.e. refutes), cells combining as "every cell" (supported
//! when all support, refuted when any refutes) or pooled per seed into one interval. All read the
//! conditions without surrogate goals unless they are about them.
//!
//! * `verification-averts-failure-without-threats` (a, agreements): `failure_rate_without_threats`,
//!   verified minus unverified, below 0, pooled over σ (first principal kind). Control
//!   `sigmas=[0.0]`: identical copies never fail without threats, so nothing is left to verify.
//! * `verification-raises-threats` (a, threats): `threat_rate`, verified minus unverified, above
//!   0, one cell per principal kind, averaged over σ. Control `human.follow_through=1.0`: humans as
//!   committed as AIs, whose threats verification does make more often.
//! * `divergence-raises-failure` (b): `failure_rate` at the largest σ minus at the smallest, above
//!   0, one cell per (principal, verification). Controls `base.unfairness_aversion=0.0` (nobody
//!   rejects a split: no normative disagreement, races at every σ) and `partiality=0.0` (σ scales
//!   both the tuning noise and the self-serving pull; without the pull, does noise alone raise
//!   failure?).
//! * per adoption mode, `homogeneity-makes-surrogates-universal-MODE` (c, universality) and
//!   `homogeneity-averts-more-damage-MODE` (c, damage averted): `surrogate_universal` and
//!   `damage_to_surrogates` at the smallest σ minus at the largest, above 0, pooled over principal,
//!   verification and p. Controls: `adoption_drift=1000000.0` (inherited adoption never erodes;
//!   it cannot touch independent adoption, which is drawn after tuning, so that claim is foregone
//!   by construction), `base.unfairness_aversion=0.0` for independent damage (races at every σ),
//!   and both together for inherited damage.
//! * `human-principals-execute-fewer-threats` (d): `executed_threat_rate`, human minus AI
//!   principals, below 0, one cell per verification setting, averaged over σ. Control
//!   `human.follow_through=1.0`: the two principal kinds become the same policy.
//! * `modal-matchups-agree-with-literature`: `agrees_with_literature` above 0.5 in every stated
//!   modal matchup. No config key reaches the modal agents; its control (a bargaining override) can
//!   only show that the table stays put: foregone by construction.
//!
//! The claims are declared only where the sweep can read them (both verification settings for (a),
//! both principal kinds for (d), a mode for (c), `matchups.modal` for the table). Every assumption
//! of the model (`partiality`, `adoption_drift`, `threat_damage`, `threat_cost`, `base.*`, `ai.*`,
//! `human.*`) is a plain numeric config key, so `cruxlab sensitivity` can vary it.

use cruxlab_core::{
    Claim, Combine, Control, Direction, Effect, Experiment, PlotSpec, VerdictKind, at,
};
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
        /// Barasz, LaVictoire et al. (2014) state at least one of the two moves.
        literature: bool,
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
        out.extend(
            SPLIT_METRICS
                .iter()
                .zip([larger_share, even, lopsided])
                .map(|(k, v)| (k.to_string(), per_agreement(v))),
        );
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

/// The bargaining metrics that are rates or means over all of a seed's encounters.
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

/// The bargaining metrics over a seed's agreements only (NaN when it reached none).
const SPLIT_METRICS: [&str; 3] = ["split_larger_share", "split_even", "split_lopsided"];

/// Every matchup condition's metrics (modal and program), in this order.
const MATCHUP_METRICS: [&str; 4] = [
    "row_cooperates",
    "column_cooperates",
    "row_payoff",
    "column_payoff",
];

/// Modal matchups only: 1 when the computed moves agree with every move the literature states for
/// the matchup, 0 when one differs, NaN where the literature is silent.
const AGREES_WITH_LITERATURE: &str = "agrees_with_literature";

fn matchup_metrics(
    row: f64,
    column: f64,
    row_payoff: f64,
    column_payoff: f64,
) -> Vec<(String, f64)> {
    MATCHUP_METRICS
        .iter()
        .zip([row, column, row_payoff, column_payoff])
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// Matchups stated by Barasz, LaVictoire et al. (2014), as (row, column, row cooperates, column
/// cooperates): FairBot and PrudentBot cooperate with themselves and each other (Löb's theorem),
/// PrudentBot exploits CooperateBot where FairBot does not, DefectBot exploits neither, TrollBot
/// and DefectBot defect, CliqueBot cooperates with itself. The mirror image of each pair holds
/// too, and CliqueBot defects against every other agent.
const LITERATURE: [(&str, &str, bool, bool); 9] = [
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

/// The moves the literature states for a modal matchup (row's, column's; true = C), `None` when it
/// states neither.
fn literature_moves(row: &str, column: &str) -> Option<(Option<bool>, Option<bool>)> {
    for (r, c, rm, cm) in LITERATURE {
        if (r, c) == (row, column) {
            return Some((Some(rm), Some(cm)));
        }
        if (c, r) == (row, column) {
            return Some((Some(cm), Some(rm)));
        }
    }
    let clique = "CliqueBot";
    match (row == clique, column == clique) {
        (true, false) => Some((Some(false), None)),
        (false, true) => Some((None, Some(false))),
        _ => None,
    }
}

/// The metrics of one modal matchup, solved by the provability-logic fixed point.
fn modal_metrics(row: &str, column: &str) -> Vec<(String, f64)> {
    let Ok(m) = Roster::classic().matchup(row, column) else {
        let mut out = matchup_metrics(f64::NAN, f64::NAN, f64::NAN, f64::NAN);
        out.push((AGREES_WITH_LITERATURE.into(), f64::NAN));
        return out;
    };
    let agrees = match literature_moves(row, column) {
        Some((r, c)) => {
            let fits = |stated: Option<bool>, got: bool| stated.is_none_or(|s| s == got);
            (fits(r, m.row_cooperates) && fits(c, m.column_cooperates)) as u8 as f64
        }
        None => f64::NAN,
    };
    let mut out = matchup_metrics(
        m.row_cooperates as u8 as f64,
        m.column_cooperates as u8 as f64,
        m.row_payoff,
        m.column_payoff,
    );
    out.push((AGREES_WITH_LITERATURE.into(), agrees));
    out
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
random numbers for a seed, so comparisons are paired. Each claim is a paired difference between conditions (per \
cell, or pooled over cells) judged by its 95% CI against +-equivalence_margin.\n\n\
The matchup rows (part = modal) play the classic modal agents of Barasz, LaVictoire et al. (2014) by the \
provability-logic fixed point on the linear GL Kripke frame; part = program plays Oesterheld's epsilon-grounded \
FairBot and similarity-based cooperators (copies tuned with matchups.similarity_sigma). The values are the row's and \
the column's cooperation (1 = C) and payoffs (T, R, P, S = 5, 3, 1, 0); modal matchups whose outcome the paper states \
(literature = true) also report agrees_with_literature (1 when every stated move is reproduced)."
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
                        literature: literature_moves(row, column).is_some(),
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

    fn measure(
        &self,
        config: &Config,
        condition: &Condition,
        seed: u64,
        _artifacts: &cruxlab_core::Artifacts,
    ) -> Vec<(String, f64)> {
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
            Condition::Modal { row, column, .. } => modal_metrics(row, column),
            Condition::Program { row, column } => Self::measure_program(config, row, column, seed),
        }
    }

    fn metrics(&self, _config: &Config) -> Vec<String> {
        BARGAINING_METRICS
            .iter()
            .chain(&SPLIT_METRICS)
            .chain(&MATCHUP_METRICS)
            .chain(&[AGREES_WITH_LITERATURE])
            .map(|s| s.to_string())
            .collect()
    }

    fn claims(&self, config: &Config) -> Vec<Claim> {
        let margin = config.equivalence_margin;
        let (lo, hi) = config.sigma_range();
        let bargaining = ("part", json!("bargaining"));
        let no_surrogates = ("adoption", json!(Adoption::None));
        let sigma = |s: f64| at(&[("sigma", json!(s))]);
        let verified = |v: bool| at(&[("verification", json!(v))]);
        let principal = |k: PrincipalKind| at(&[("principal", json!(k))]);
        // Controls, each one sweep of the audit; several claims share each.
        let identical = Control::new(
            &["sigmas=[0.0]"],
            VerdictKind::Refuted,
            "identical copies (sigma 0 only) never fail without threats, verified or not: nothing is left for verification to fix",
        );
        let committed_humans = Control::new(
            &["human.follow_through=1.0"],
            VerdictKind::Supported,
            "human principals as committed as AI ones: a verifier no longer sees their threats as empty, so verification should raise threats for both kinds",
        );
        let no_aversion = Control::new(
            &["base.unfairness_aversion=0.0"],
            VerdictKind::Refuted,
            "with no unfairness aversion nobody rejects a split or a threat, so every copy that considers a threat commits whatever sigma is: divergence changes neither races nor normative disagreement",
        );
        let impartial = Control::new(
            &["partiality=0.0"],
            VerdictKind::Refuted,
            "review finding: sigma also scales the self-serving pull of tuning (both copies ask for more as sigma grows); if the rise in failure is that assumption restated, tuning noise alone should not raise it in every cell",
        );
        let sticky = Control::new(
            &["adoption_drift=1000000.0"],
            VerdictKind::Refuted,
            "inherited adoption that no amount of tuning erodes is as universal at the largest sigma as at the smallest",
        );
        let mut claims = Vec::new();
        if config.verification.contains(&true) && config.verification.contains(&false) {
            claims.push(
                Claim::new(
                    "verification-averts-failure-without-threats",
                    "(a, agreements) Verification makes agreements credible: with no threats on the table, verified copies fail less often than unverified ones.",
                    Effect::contrast("failure_rate_without_threats", verified(true), verified(false)),
                    Direction::Below,
                    0.0,
                )
                .margin(margin)
                .filter(at(&[
                    bargaining.clone(),
                    no_surrogates.clone(),
                    ("principal", json!(config.principals[0])),
                ]))
                .cells(&["sigma"])
                .combine(Combine::Pooled)
                .control(identical.clone())
                .plot("failure_rate_without_threats.svg"),
            );
            claims.push(
                Claim::new(
                    "verification-raises-threats",
                    "(a, threats) Verification makes coercive threats credible, so agents commit to threats more often: the commitment rate is higher with verification, for every principal kind (pooled over sigma).",
                    Effect::contrast("threat_rate", verified(true), verified(false)),
                    Direction::Above,
                    0.0,
                )
                .margin(margin)
                .filter(at(&[bargaining.clone(), no_surrogates.clone()]))
                .cells(&["principal"])
                .pool(&["sigma"])
                .control(committed_humans.clone())
                .plot("threat_rate.svg"),
            );
        }
        claims.push(
            Claim::new(
                "divergence-raises-failure",
                "(b) Divergence from independent tuning raises the bargaining-failure rate: failure at the largest sigma exceeds failure at the smallest in every (principal, verification) cell.",
                Effect::contrast("failure_rate", sigma(hi), sigma(lo)),
                Direction::Above,
                0.0,
            )
            .margin(margin)
            .filter(at(&[bargaining.clone(), no_surrogates.clone()]))
            .cells(&["principal", "verification"])
            .control(no_aversion.clone())
            .control(impartial)
            .plot("failure_rate.svg"),
        );
        for &mode in &config.adoption {
            let name = mode.as_str();
            let scope = |claim: Claim| {
                claim
                    .margin(margin)
                    .filter(at(&[bargaining.clone(), ("adoption", json!(mode))]))
                    .cells(&["principal", "verification", "p"])
                    .combine(Combine::Pooled)
            };
            let universal = scope(Claim::new(
                &format!("homogeneity-makes-surrogates-universal-{name}"),
                format!("(c, {name} adoption, universality) Under homogeneity a safeguard that needs every bargainer (surrogate goals) is likelier to be universal: both sides have it more often at the smallest sigma than at the largest (pooled over principal, verification and p)."),
                Effect::contrast("surrogate_universal", sigma(lo), sigma(hi)),
                Direction::Above,
                0.0,
            ))
            .plot("surrogate_universal.svg");
            let averted = scope(Claim::new(
                &format!("homogeneity-averts-more-damage-{name}"),
                format!("(c, {name} adoption, damage averted) Under homogeneity surrogate goals avert more threat damage: surrogates absorb more damage at the smallest sigma than at the largest (pooled over principal, verification and p)."),
                Effect::contrast("damage_to_surrogates", sigma(lo), sigma(hi)),
                Direction::Above,
                0.0,
            ))
            .plot(&format!("welfare_lost_{}.svg", config.principals[0].as_str()));
            let (universal, averted) = match mode {
                Adoption::Inherited => (
                    universal.control(sticky.clone()),
                    averted.control(Control::new(
                        &["adoption_drift=1000000.0", "base.unfairness_aversion=0.0"],
                        VerdictKind::Refuted,
                        "adoption kept whatever sigma is, and races as frequent at every sigma (no unfairness aversion): nothing is left to make homogeneous copies avert more damage",
                    )),
                ),
                _ => (
                    universal.control(Control {
                        why: "adoption_drift governs only inherited adoption; adopted after tuning, universality cannot depend on sigma under any override (foregone by construction)".into(),
                        ..sticky.clone()
                    }),
                    averted.control(no_aversion.clone()),
                ),
            };
            claims.push(universal);
            claims.push(averted);
        }
        let kinds = &config.principals;
        if kinds.contains(&PrincipalKind::Human) && kinds.contains(&PrincipalKind::Ai) {
            claims.push(
                Claim::new(
                    "human-principals-execute-fewer-threats",
                    "(d) Human principals bargaining through AI assistants carry out fewer threats than misaligned AI principals: the executed-threat rate is lower for human principals, with and without verification (pooled over sigma).",
                    Effect::contrast(
                        "executed_threat_rate",
                        principal(PrincipalKind::Human),
                        principal(PrincipalKind::Ai),
                    ),
                    Direction::Below,
                    0.0,
                )
                .margin(margin)
                .filter(at(&[bargaining.clone(), no_surrogates.clone()]))
                .cells(&["verification"])
                .pool(&["sigma"])
                .control(Control::new(
                    &["human.follow_through=1.0"],
                    VerdictKind::Refuted,
                    "human principals given the AI's follow-through are the same policy (same propensity by default): nothing is left to make them execute fewer threats",
                ))
                .plot("executed_threat_rate.svg"),
            );
        }
        if config.matchups.modal {
            claims.push(
                Claim::new(
                    "modal-matchups-agree-with-literature",
                    "The modal agents' matchups agree with Barasz, LaVictoire et al. (2014): FairBot and PrudentBot cooperate with themselves and each other, PrudentBot defects against CooperateBot, DefectBot exploits neither, CliqueBot cooperates only with itself.",
                    Effect::metric(AGREES_WITH_LITERATURE),
                    Direction::Above,
                    0.5,
                )
                .filter(at(&[("part", json!("modal")), ("literature", json!(true))]))
                .cells(&["row", "column"])
                .control(Control {
                    why: "no config key reaches the modal agents (a fixed roster solved by a provability-logic fixed point): this bargaining override shows the table stays put (foregone by construction)".into(),
                    ..committed_humans.clone()
                }),
            );
        }
        claims
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

#[cfg(test)]
mod tests {
    use super::*;
    use cruxlab_core::claim::check;
    use serde_json::Map;

    fn condition_maps(config: &Config) -> Vec<Map<String, Value>> {
        Bargaining
            .conditions(config)
            .iter()
            .map(|c| {
                serde_json::to_value(c)
                    .unwrap()
                    .as_object()
                    .unwrap()
                    .clone()
            })
            .collect()
    }

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
    fn claims_pass_the_check_for_both_default_configs() {
        let e = Bargaining;
        for quick in [true, false] {
            let config = e.default_config(quick);
            let metrics = e.metrics(&config);
            let metrics: Vec<&str> = metrics.iter().map(String::as_str).collect();
            let conditions = condition_maps(&config);
            let claims = e.claims(&config);
            assert_eq!(claims.len(), 9);
            for claim in &claims {
                check(claim, &metrics, &conditions).unwrap();
                assert!(!claim.controls.is_empty(), "{} has no control", claim.id);
                if let Some(plot) = &claim.plot {
                    assert!(e.plots(&config).iter().any(|p| &p.file == plot), "{plot}");
                }
            }
            let mut ids: Vec<&str> = claims.iter().map(|c| c.id.as_str()).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), claims.len());
        }
    }

    #[test]
    fn claims_stay_declared_under_every_control() {
        // A control's run must still declare the claims it is meant to test.
        let e = Bargaining;
        let config = e.default_config(true);
        let ids: Vec<String> = e.claims(&config).into_iter().map(|c| c.id).collect();
        for claim in e.claims(&config) {
            for control in &claim.controls {
                let mut value = serde_json::to_value(&config).unwrap();
                for set in &control.set {
                    let (key, v) = set.split_once('=').unwrap();
                    let v: Value = serde_json::from_str(v).unwrap();
                    let mut slot = &mut value;
                    for part in key.split('.') {
                        slot = slot.get_mut(part).unwrap_or_else(|| panic!("no key {key}"));
                    }
                    *slot = v;
                }
                let controlled: Config = serde_json::from_value(value).unwrap();
                e.validate(&controlled).unwrap();
                let declared: Vec<String> =
                    e.claims(&controlled).into_iter().map(|c| c.id).collect();
                assert_eq!(declared, ids, "{:?}", control.set);
            }
        }
    }

    #[test]
    fn measure_emits_exactly_the_declared_metrics() {
        let e = Bargaining;
        let config = Config {
            encounters: 20,
            matchups: MatchupConfig {
                samples: 5,
                ..e.default_config(true).matchups
            },
            ..e.default_config(true)
        };
        let declared = e.metrics(&config);
        let mut seen = std::collections::BTreeSet::new();
        for c in e.conditions(&config) {
            for (name, _) in cruxlab_core::measure_unit(&e, &config, &c, 0) {
                assert!(declared.contains(&name), "undeclared {name}");
                seen.insert(name);
            }
        }
        assert_eq!(seen.len(), declared.len());
    }

    #[test]
    fn the_modal_table_agrees_with_the_literature_where_it_speaks() {
        let roster = Roster::classic();
        let names = roster.names();
        let mut spoken = 0;
        for row in &names {
            for column in &names {
                let value = modal_metrics(row, column)
                    .into_iter()
                    .find(|(k, _)| k == AGREES_WITH_LITERATURE)
                    .unwrap()
                    .1;
                match literature_moves(row, column) {
                    Some(_) => {
                        spoken += 1;
                        assert_eq!(value, 1.0, "{row} vs {column}");
                    }
                    None => assert!(value.is_nan()),
                }
            }
        }
        // 9 stated pairs, the mirror images of the 6 that are not an agent against itself, and
        // CliqueBot against the five others, as row and as column.
        assert_eq!(spoken, 9 + 6 + 10);
    }
}
