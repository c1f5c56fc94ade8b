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
//! pairs two copies of one base agent, each tuned toward its principal. Two assumptions are kept
//! apart: the *noise* of tuning σ and a self-serving *pull* (`partiality`, in pies, the same at
//! every σ): fair share `f0 + partiality + σ z`, prior mean over the counterpart's demand
//! `m0 + σ z'`, credence in unverified threats `c0 + σ z''`. Every bargaining condition is run with
//! the pull (`partial = true`) and without it. An agent's utility for a share s is
//! `s - α max(0, f - s)`, so it rejects splits below its reservation `α f / (1 + α)`.
//! Verification, where available, succeeds with probability `verify.max exp(-d / verify.scale)`,
//! d the distance between the two copies' tuned parameters: similar systems verify each other
//! more easily. A copy considers a threat with its principal's propensity and commits to demand
//! `f + premium` by one of two rules (`commitment`): *myopic*, iff it predicts a lone threat would
//! get its demand met; *race-aware*, iff committing beats not committing in expectation once it
//! allows for the counterpart committing too (`cruxlab_games::population::race_aware_commits`).
//! Predictions use the counterpart's actual parameters when verified, the untuned base otherwise.
//! The target concedes iff `u(1 - x) >= -p D` (p: the threatener's follow-through if verified, else
//! its own credence). Without threats on the table, verified agents split the surplus above their
//! reservations (and fail only when the reservations do not fit in the pie: normative
//! disagreement); unverified ones best-respond to their priors. A refused threat is executed with
//! the principal's follow-through probability (plus `surrogate_premium` when it would hit surrogate
//! goals); it destroys `threat_damage` of the target principal's value (costing the executor
//! `threat_cost`) unless both sides adopted surrogate goals, which then absorb it. Surrogate goals
//! are adopted by each copy independently with probability p, or inherited from the base (adopted
//! with probability p) and kept by each copy with probability `exp(-σ / adoption_drift)`. Pairings:
//! both principals AI, both human, or mixed (the AI principal's copy is side 0).
//!
//! **Open-source game theory** (`cruxlab_games::modal`, `divergence`, `bounded`,
//! `simulation`). `part = modal` plays the classic modal agents (Barasz, LaVictoire et al. 2014)
//! against each other by the provability-logic fixed point. `part = divergent` plays two copies of
//! FairBot, PrudentBot or CliqueBot whose sources each received a Poisson(`rewrite_rate` σ) number
//! of random rewrites (provably equivalent ones, or with probability `unprovable_share` a true but
//! unprovable conjunct), `matchups.samples` pairs per seed. `part = bounded` plays Critch's
//! FairBot_k against itself under a proof-length model (`bounded_loeb`). `part = program` plays
//! simulation-based agents: Oesterheld's epsilon-grounded FairBot and similarity-based cooperators
//! whose parameter vectors are two copies of the base tuned with `matchups.similarity_sigma`.
//!
//! **Protocol.** Bargaining conditions: pairing x verification x (commitment rule x pull, without
//! surrogate goals; then each adoption mode with each p, under the first rule with the pull) x σ.
//! Every condition sees the same random numbers for a given seed (common random numbers: an
//! encounter's tuning noise, adoption, threat and verification draws come from
//! `derive_seed(master_seed, [seed])` in a fixed order), so differences between conditions are
//! paired by seed. Each seed plays `encounters` encounters per condition; each encounter is also
//! replayed with the commitment stage switched off (`failure_rate_without_threats`).
//!
//! **Metrics** (per seed: fractions or means over its encounters). `failure_rate` (no agreement),
//! `failure_rate_without_threats`, `threat_rate` (at least one commitment), `race_rate` (both
//! committed), `coerced_rate` (agreement reached by conceding to a threat),
//! `executed_threat_rate` (at least one threat executed), `welfare_lost` (1 - sum of payoffs, in
//! pies: pie lost to failure, threat damage to principals, execution costs),
//! `damage_to_principals`, `damage_to_surrogates`, `surrogate_universal` (both adopted),
//! `verified_rate` (verification available and successful), `payoff_gap` (side 0's return minus
//! side 1's: in mixed pairs the AI principal's minus the human's); the distribution of splits
//! among agreements: `split_larger_share`, `split_even` (larger share <= 0.55), `split_lopsided`
//! (>= 0.65). Matchups: `row_cooperates`, `column_cooperates`, `row_payoff`, `column_payoff`;
//! modal matchups whose outcome the paper states (condition key `literature`) also
//! `agrees_with_literature` (the stated table is `LITERATURE` below). Divergent copies:
//! `mutual_cooperation`, `identical_source`. Bounded: `bounded_self_cooperation`,
//! `loebian_proof_length`.
//!
//! **Claims and controls** (declared in `claims`, judged by the framework's grammar,
//! `cruxlab_core::claim`; margin `equivalence_margin`). (a) `verification-averts-failure-without-threats`,
//! `verification-raises-threats`; (b) `divergence-raises-failure` (noise alone, no pull) and
//! `partiality-raises-failure` (the pull, pooled over σ); `race-awareness-lowers-failure`; (c)
//! per adoption mode `homogeneity-makes-surrogates-universal-MODE` and
//! `homogeneity-averts-more-damage-MODE`; (d) `human-principals-execute-fewer-threats` and
//! `mixed-pairs-favour-the-ai-principal`; the matchup table `modal-matchups-agree-with-literature`
//! (a definition check, foregone); `proof-based-cooperation-survives-divergence`,
//! `cliquebot-collapses-under-divergence`; `bounded-fairbot-cooperates-for-large-k`,
//! `bounded-fairbot-defects-for-small-k`. Each declares the controls that could flip it, with a
//! line on why; docs/bargaining.md lists them with the audit's outcome. Every assumption of the
//! model (`partiality`, `verify.*`, `surrogate_premium`, `adoption_drift`, `threat_damage`,
//! `threat_cost`, `base.*`, `ai.*`, `human.*`, `bounded_loeb.overhead`/`per_digit`,
//! `matchups.rewrite_rate`/`unprovable_share`) is a plain numeric config key, so
//! `cruxlab sensitivity` can vary it.

use cruxlab_core::{
    Claim, Combine, Control, Direction, Effect, Experiment, PlotSpec, VerdictKind, at,
};
use cruxlab_games::bounded::ProofLengths;
use cruxlab_games::divergence::{divergent_match, perturb};
use cruxlab_games::modal::Roster;
use cruxlab_games::population;
use cruxlab_games::{
    Adoption, BaseAgent, Commitment, EncounterDraws, NashDemandGame, Pairing, Population,
    PrincipalKind, ProgramAgent, Protocol, SurrogatePolicy, ThreatPolicy, Verification,
};
use rand::Rng;
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
    /// Verification settings swept (whether it is available; it then succeeds with `verify`'s
    /// accuracy).
    pub verification: Vec<bool>,
    /// Pairings swept: both sides AI principals, both human, or mixed (AI side 0, human side 1).
    pub principals: Vec<Pairing>,
    /// Commitment rules swept: myopic, race-aware.
    pub commitments: Vec<Commitment>,
    /// Surrogate-goal adoption modes swept besides "none" (always included as the baseline).
    pub adoption: Vec<Adoption>,
    /// Adoption probabilities p swept for each mode.
    pub surrogate_p: Vec<f64>,
    /// Inherited adoption is kept by a copy with probability exp(-sigma / adoption_drift).
    pub adoption_drift: f64,
    /// Systematic pull of tuning toward one's own principal, in pies (added to the fair share
    /// whatever sigma is). Conditions run with it (`partial = true`) and without it.
    pub partiality: f64,
    /// Verification accuracy as a function of the distance between the two copies' parameters:
    /// `verify.max exp(-d / verify.scale)`.
    pub verify: Verification,
    /// Added to a threatener's follow-through when its threat would hit surrogate goals.
    pub surrogate_premium: f64,
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
    /// Critch's bounded FairBot_k.
    pub bounded_loeb: BoundedLoebConfig,
}

/// FairBot_k against itself under the proof-length model (`cruxlab_games::bounded`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundedLoebConfig {
    /// Proof-length bounds k swept (empty: the part is not run).
    pub ks: Vec<u64>,
    /// Symbols of the Löbian proof apart from the bounds written in it.
    pub overhead: f64,
    /// Symbols per decimal digit of each bound the proof mentions.
    pub per_digit: f64,
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
    /// Modal agents whose two copies' sources are perturbed, at each sigma (empty: not run).
    pub divergent_agents: Vec<String>,
    /// Mean number of source rewrites per copy per unit of sigma.
    pub rewrite_rate: f64,
    /// Share of rewrites that are true but not provably equivalent (`φ & !box false`).
    pub unprovable_share: f64,
}

/// One cell of the sweep: a bargaining condition or one matchup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "part", rename_all = "lowercase")]
pub enum Condition {
    Bargaining {
        sigma: f64,
        verification: bool,
        principal: Pairing,
        commitment: Commitment,
        /// Tuning pulls each copy toward its own principal by `partiality`.
        partial: bool,
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
    /// Two copies of one modal agent whose sources diverged with sigma.
    Divergent {
        agent: String,
        sigma: f64,
        /// FairBot or PrudentBot (cooperation by proof), not CliqueBot (by source identity).
        proof_based: bool,
    },
    /// FairBot_k against itself.
    Bounded {
        k: u64,
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
    fn population(&self, sigma: f64, partial: bool, surrogates: SurrogatePolicy) -> Population {
        Population {
            base: self.base,
            sigma,
            partiality: if partial { self.partiality } else { 0.0 },
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

    /// (commitment, partial, adoption, p) variants: without surrogate goals, every commitment
    /// rule with and without partiality; then each adoption mode with each p, under the first
    /// commitment rule with partiality.
    fn variants(&self) -> Vec<(Commitment, bool, Adoption, f64)> {
        let mut out = Vec::new();
        for &commitment in &self.commitments {
            for partial in [false, true] {
                out.push((commitment, partial, Adoption::None, 0.0));
            }
        }
        for &mode in &self.adoption {
            for &p in &self.surrogate_p {
                out.push((self.commitments[0], true, mode, p));
            }
        }
        out
    }
}

impl Bargaining {
    fn measure_bargaining(config: &Config, condition: &Condition, seed: u64) -> Vec<(String, f64)> {
        let &Condition::Bargaining {
            sigma,
            verification,
            principal,
            commitment,
            partial,
            adoption,
            p,
        } = condition
        else {
            unreachable!("a bargaining condition")
        };
        let population = config.population(
            sigma,
            partial,
            SurrogatePolicy {
                adoption,
                p,
                drift: config.adoption_drift,
            },
        );
        let protocol = Protocol {
            game: config.game(),
            verification,
            verify: config.verify,
            threats: true,
            commitment,
            surrogate_premium: config.surrogate_premium,
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
            let pair = population.pair_of(principal.kinds(), &draws);
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
            add("verified_rate", e.verified as u8 as f64);
            add("payoff_gap", e.returns[0] - e.returns[1]);
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
        let population = config.population(
            config.matchups.similarity_sigma,
            true,
            SurrogatePolicy::NONE,
        );
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

    /// Two copies of `agent` whose sources each received a Poisson(`rewrite_rate` sigma) number
    /// of random rewrites, `samples` pairs per seed. The stream depends on the seed and the agent
    /// only, so every sigma sees the same uniforms (paired by seed).
    fn measure_divergent(
        config: &Config,
        agent: &str,
        sigma: f64,
        seed: u64,
    ) -> Vec<(String, f64)> {
        let roster = Roster::classic();
        let index = roster.names().iter().position(|n| *n == agent).unwrap_or(0) as u64;
        let mut rng =
            ChaCha8Rng::seed_from_u64(derive_seed(config.master_seed, &[seed, 2 << 40, index]));
        let m = &config.matchups;
        let Some(base) = roster.get(agent).map(|a| a.formula.clone()) else {
            return DIVERGENT_METRICS
                .iter()
                .map(|k| (k.to_string(), f64::NAN))
                .collect();
        };
        let (mut mutual, mut identical) = (0.0, 0.0);
        for _ in 0..m.samples {
            let counts = [rng.random::<f64>(), rng.random::<f64>()]
                .map(|u| poisson_quantile(m.rewrite_rate * sigma, u));
            let mut stream = ChaCha8Rng::seed_from_u64(rng.random());
            let formulas = counts.map(|k| perturb(&base, k, m.unprovable_share, &mut stream));
            identical += (formulas[0] == formulas[1]) as u8 as f64;
            let outcome = divergent_match(&roster, agent, formulas)
                .map(|x| x.row_cooperates && x.column_cooperates);
            mutual += outcome.unwrap_or(false) as u8 as f64;
        }
        let n = m.samples as f64;
        DIVERGENT_METRICS
            .iter()
            .zip([mutual / n, identical / n])
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    fn measure_bounded(config: &Config, k: u64) -> Vec<(String, f64)> {
        let lengths = ProofLengths {
            overhead: config.bounded_loeb.overhead,
            per_digit: config.bounded_loeb.per_digit,
        };
        BOUNDED_METRICS
            .iter()
            .zip([
                lengths.fairbots_cooperate(k, k) as u8 as f64,
                lengths.loebian_proof(k, k),
            ])
            .map(|(name, v)| (name.to_string(), v))
            .collect()
    }
}

/// The smallest k with P(X <= k) >= u for X ~ Poisson(lambda) (0 when lambda is 0).
fn poisson_quantile(lambda: f64, u: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    let mut k = 0u64;
    let mut p = (-lambda).exp();
    let mut cdf = p;
    while cdf < u && k < 10_000 {
        k += 1;
        p *= lambda / k as f64;
        cdf += p;
    }
    k
}

/// Divergent modal copies: both cooperate; their sources are identical.
const DIVERGENT_METRICS: [&str; 2] = ["mutual_cooperation", "identical_source"];

/// FairBot_k against itself: cooperates; the Löbian proof's length under the model.
const BOUNDED_METRICS: [&str; 2] = ["bounded_self_cooperation", "loebian_proof_length"];

/// The bargaining metrics that are rates or means over all of a seed's encounters.
const BARGAINING_METRICS: [&str; 12] = [
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
    "verified_rate",
    "payoff_gap",
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

fn has_duplicates<T: PartialEq>(list: &[T]) -> bool {
    list.iter().enumerate().any(|(i, x)| list[..i].contains(x))
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
encounter pairs two copies of one base agent tuned toward their own principals. Two assumptions are kept apart: the noise \
of tuning sigma (the share each deems fair, its prior over the counterpart's demand and its credence in unverified threats \
all move by sigma times a standard normal) and a self-serving pull of `partiality` pies on the fair share, the same at every \
sigma; every condition runs with the pull (partial = true) and without it. A copy rejects splits below its reservation \
alpha f / (1 + alpha). Verification, where available, succeeds with probability verify.max exp(-d / verify.scale), d the \
distance between the two copies' tuned parameters. A copy considers a threat with its principal's propensity and commits \
to demand f + premium by a myopic rule (a lone threat would get the demand met) or a race-aware one (committing beats \
not committing in expectation, allowing for the counterpart committing too), predicting exactly when verified and with \
the untuned base otherwise. A threatened copy concedes iff its utility for the rest beats the threat's expected damage. \
Without threats, verified copies split the surplus above their reservations and unverified ones best-respond to their \
priors. Refused threats are executed with the principal's follow-through (plus surrogate_premium against surrogate \
goals); they destroy threat_damage of the target's value unless both sides adopted surrogate goals. Pairings: AI-AI, \
human-human, and mixed (AI principal's copy on side 0).\n\n\
Metrics per seed are rates over its encounters: failure (also with threats switched off), threats made, races, coerced \
agreements, executed threats, welfare lost, damage to principals and to surrogates, universal adoption, successful \
verification, side 0's return minus side 1's, and the split among agreements. Every condition sees the same random \
numbers for a seed, so comparisons are paired.\n\n\
The matchup rows: part = modal plays the classic modal agents of Barasz, LaVictoire et al. (2014) by the \
provability-logic fixed point; part = divergent plays two copies of FairBot, PrudentBot or CliqueBot whose sources \
received Poisson(rewrite_rate sigma) random rewrites each (provably equivalent, or a true but unprovable conjunct with \
probability unprovable_share); part = bounded plays Critch's FairBot_k against itself under a proof-length model (the \
Löbian proof costs overhead + per_digit x the digits of both bounds; it cooperates iff that fits in k); part = program \
plays Oesterheld's epsilon-grounded FairBot and similarity-based cooperators. Payoffs T, R, P, S = 5, 3, 1, 0."
    }

    fn default_config(&self, quick: bool) -> Config {
        let base = Config {
            seeds: 30,
            master_seed: 2020,
            encounters: 2000,
            units: 100,
            sigmas: vec![0.0, 0.025, 0.05, 0.1, 0.15, 0.2],
            verification: vec![false, true],
            principals: vec![Pairing::Ai, Pairing::Human, Pairing::Mixed],
            commitments: vec![Commitment::Myopic, Commitment::RaceAware],
            adoption: vec![Adoption::Independent, Adoption::Inherited],
            surrogate_p: vec![0.5, 0.9],
            adoption_drift: 0.1,
            partiality: 0.1,
            verify: Verification {
                max: 1.0,
                scale: 0.3,
            },
            surrogate_premium: 0.0,
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
                divergent_agents: vec!["FairBot".into(), "PrudentBot".into(), "CliqueBot".into()],
                rewrite_rate: 10.0,
                unprovable_share: 0.0,
            },
            bounded_loeb: BoundedLoebConfig {
                ks: vec![10, 50, 100, 150, 200, 500, 1000, 10_000],
                overhead: 100.0,
                per_digit: 10.0,
            },
        };
        if quick {
            Config {
                seeds: 10,
                encounters: 300,
                sigmas: vec![0.0, 0.05, 0.1, 0.2],
                surrogate_p: vec![0.8],
                matchups: MatchupConfig {
                    samples: 50,
                    ..base.matchups.clone()
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
            return err("principals", "must list at least one pairing");
        }
        if config.commitments.is_empty() {
            return err("commitments", "must list at least one commitment rule");
        }
        if has_duplicates(&config.principals)
            || has_duplicates(&config.commitments)
            || has_duplicates(&config.verification)
        {
            return err(
                "principals",
                "principals, commitments and verification must not repeat a value",
            );
        }
        if !(config.verify.max >= 0.0 && config.verify.max <= 1.0) {
            return err("verify.max", "must lie in [0, 1]");
        }
        if config.verify.scale.is_nan() || config.verify.scale <= 0.0 {
            return err("verify.scale", "must be positive");
        }
        if !(config.surrogate_premium >= 0.0 && config.surrogate_premium <= 1.0) {
            return err("surrogate_premium", "must lie in [0, 1]");
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
        if config.partiality.is_nan() || config.partiality.abs() > 1.0 {
            return err("partiality", "must lie in [-1, 1] (pies)");
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
        let roster = Roster::classic();
        if let Some(a) = m.divergent_agents.iter().find(|a| roster.get(a).is_none()) {
            return err(
                "matchups.divergent_agents",
                &format!("unknown agent '{a}' (known: {})", roster.names().join(", ")),
            );
        }
        if has_duplicates(&m.divergent_agents) {
            return err("matchups.divergent_agents", "must not repeat an agent");
        }
        let (_, hi) = config.sigma_range();
        if !(m.rewrite_rate >= 0.0 && m.rewrite_rate * hi <= 50.0) {
            return err(
                "matchups.rewrite_rate",
                "must be >= 0, with rewrite_rate x the largest sigma at most 50 rewrites",
            );
        }
        if !unit(m.unprovable_share) {
            return err("matchups.unprovable_share", "must lie in [0, 1]");
        }
        let b = &config.bounded_loeb;
        if has_duplicates(&b.ks) {
            return err("bounded_loeb.ks", "must not repeat a bound");
        }
        if !(b.overhead >= 0.0 && b.overhead.is_finite()) {
            return err("bounded_loeb.overhead", "must be >= 0");
        }
        if !(b.per_digit >= 0.0 && b.per_digit.is_finite()) {
            return err("bounded_loeb.per_digit", "must be >= 0");
        }
        Ok(())
    }

    fn conditions(&self, config: &Config) -> Vec<Condition> {
        let mut out = Vec::new();
        for &principal in &config.principals {
            for &verification in &config.verification {
                for (commitment, partial, adoption, p) in config.variants() {
                    for &sigma in &config.sigmas {
                        out.push(Condition::Bargaining {
                            sigma,
                            verification,
                            principal,
                            commitment,
                            partial,
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
        for agent in &config.matchups.divergent_agents {
            for &sigma in &config.sigmas {
                out.push(Condition::Divergent {
                    agent: agent.clone(),
                    sigma,
                    proof_based: agent != "CliqueBot",
                });
            }
        }
        for &k in &config.bounded_loeb.ks {
            out.push(Condition::Bounded { k });
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
            Condition::Bargaining { .. } => Self::measure_bargaining(config, condition, seed),
            Condition::Divergent { agent, sigma, .. } => {
                Self::measure_divergent(config, agent, *sigma, seed)
            }
            Condition::Bounded { k } => Self::measure_bounded(config, *k),
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
            .chain(&DIVERGENT_METRICS)
            .chain(&BOUNDED_METRICS)
            .map(|s| s.to_string())
            .collect()
    }

    fn claims(&self, config: &Config) -> Vec<Claim> {
        let margin = config.equivalence_margin;
        let (lo, hi) = config.sigma_range();
        let first_rule = config.commitments[0];
        let bargaining = ("part", json!("bargaining"));
        let no_surrogates = ("adoption", json!(Adoption::None));
        let rule = ("commitment", json!(first_rule));
        let partial = |p: bool| ("partial", json!(p));
        let sigma = |s: f64| at(&[("sigma", json!(s))]);
        let verified = |v: bool| at(&[("verification", json!(v))]);
        let principal = |k: Pairing| at(&[("principal", json!(k))]);
        // The baseline the claims about (a), (c) and (d) read: first commitment rule, tuning with
        // its self-serving pull, no surrogate goals.
        let baseline = || {
            at(&[
                bargaining.clone(),
                no_surrogates.clone(),
                rule.clone(),
                partial(true),
            ])
        };
        // Controls, each one sweep of the audit; several claims share each.
        let identical = Control::new(
            &["sigmas=[0.0]"],
            VerdictKind::Refuted,
            "identical copies (sigma 0 only) never fail without threats, verified or not: nothing is left for verification to fix",
        );
        let committed_humans = Control::new(
            &["human.follow_through=1.0"],
            VerdictKind::Supported,
            "human principals as committed as AI ones: a verifier no longer sees their threats as empty, so verification should raise threats for every pairing",
        );
        let no_aversion = Control::new(
            &["base.unfairness_aversion=0.0"],
            VerdictKind::Refuted,
            "with no unfairness aversion nobody rejects a split or a threat, so every copy that considers a threat commits whatever sigma is: divergence changes neither races nor normative disagreement (what is left is mismatched priors, and verification failing between distant copies)",
        );
        let impartial = Control::new(
            &["partiality=0.0"],
            VerdictKind::Refuted,
            "without a self-serving pull the partial and impartial conditions are the same model: nothing is left for partiality to raise",
        );
        let rare_threats = Control::new(
            &["ai.propensity=0.05", "human.propensity=0.05"],
            VerdictKind::Refuted,
            "when threats are rare a race-aware agent expects no race and commits as a myopic one does: nothing is left for race awareness to avert",
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
                    "(a, agreements) Verification makes agreements credible: with no threats on the table, copies that can verify each other fail less often than copies that cannot (first pairing, pooled over sigma; verification succeeds less often between distant copies).",
                    Effect::contrast("failure_rate_without_threats", verified(true), verified(false)),
                    Direction::Below,
                    0.0,
                )
                .margin(margin)
                .filter([baseline(), principal(config.principals[0])].concat())
                .cells(&["sigma"])
                .combine(Combine::Pooled)
                .control(identical.clone())
                .plot("failure_rate_without_threats.svg"),
            );
            claims.push(
                Claim::new(
                    "verification-raises-threats",
                    "(a, threats) Verification makes coercive threats credible, so agents commit to threats more often: the commitment rate is higher with verification, for every pairing of principals (pooled over sigma).",
                    Effect::contrast("threat_rate", verified(true), verified(false)),
                    Direction::Above,
                    0.0,
                )
                .margin(margin)
                .filter(baseline())
                .cells(&["principal"])
                .pool(&["sigma"])
                .control(committed_humans.clone())
                .control(Control::new(
                    &["base.credence=0.0"],
                    VerdictKind::Supported,
                    "an unverified threatener models its counterpart as the base, which then believes no unverified threat and never concedes: only verified threats are worth making, for every pairing",
                ))
                .plot("threat_rate.svg"),
            );
        }
        claims.push(
            Claim::new(
                "divergence-raises-failure",
                "(b, noise) Divergence from independent tuning raises the bargaining-failure rate: with tuning noise alone (no self-serving pull), failure at the largest sigma exceeds failure at the smallest in every (pairing, verification) cell.",
                Effect::contrast("failure_rate", sigma(hi), sigma(lo)),
                Direction::Above,
                0.0,
            )
            .margin(margin)
            .filter(at(&[
                bargaining.clone(),
                no_surrogates.clone(),
                rule.clone(),
                partial(false),
            ]))
            .cells(&["principal", "verification"])
            .control(no_aversion.clone())
            .control(Control {
                why: "a degenerate control: with sigma 0 only, the largest and smallest sigma coincide and the contrast is zero (it checks that the claim reads sigma, not the model)".into(),
                ..identical.clone()
            })
            .plot("failure_rate.svg"),
        );
        claims.push(
            Claim::new(
                "partiality-raises-failure",
                "(b, pull) A self-serving pull of tuning toward each copy's own principal raises the bargaining-failure rate: failure with the pull exceeds failure without it in every (pairing, verification) cell (pooled over sigma).",
                Effect::contrast("failure_rate", at(&[partial(true)]), at(&[partial(false)])),
                Direction::Above,
                0.0,
            )
            .margin(margin)
            .filter(at(&[bargaining.clone(), no_surrogates.clone(), rule.clone()]))
            .cells(&["principal", "verification"])
            .pool(&["sigma"])
            .control(impartial)
            .control(Control::new(
                &["partiality=0.25"],
                VerdictKind::Supported,
                "a pull of a quarter pie puts both reservations at half the pie or more: normative disagreement whenever the noise pushes one up, so the pull should raise failure in every cell",
            ))
            .plot("failure_rate.svg"),
        );
        if config.commitments.contains(&Commitment::Myopic)
            && config.commitments.contains(&Commitment::RaceAware)
        {
            claims.push(
                Claim::new(
                    "race-awareness-lowers-failure",
                    "(races) Agents that anticipate the counterpart's commitment fail less often than myopic committers: failure is lower under race-aware commitment in every (pairing, verification) cell (with the self-serving pull, pooled over sigma).",
                    Effect::contrast(
                        "failure_rate",
                        at(&[("commitment", json!(Commitment::RaceAware))]),
                        at(&[("commitment", json!(Commitment::Myopic))]),
                    ),
                    Direction::Below,
                    0.0,
                )
                .margin(margin)
                .filter(at(&[bargaining.clone(), no_surrogates.clone(), partial(true)]))
                .cells(&["principal", "verification"])
                .pool(&["sigma"])
                .control(rare_threats)
                .plot("failure_rate_race.svg"),
            );
        }
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
                format!("(c, {name} adoption, universality) Under homogeneity a safeguard that needs every bargainer (surrogate goals) is likelier to be universal: both sides have it more often at the smallest sigma than at the largest (pooled over pairing, verification and p)."),
                Effect::contrast("surrogate_universal", sigma(lo), sigma(hi)),
                Direction::Above,
                0.0,
            ))
            .plot("surrogate_universal.svg");
            let averted = scope(Claim::new(
                &format!("homogeneity-averts-more-damage-{name}"),
                format!("(c, {name} adoption, damage averted) Under homogeneity surrogate goals avert more threat damage: surrogates absorb more damage at the smallest sigma than at the largest (pooled over pairing, verification and p)."),
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
            let averted = averted.control(Control::new(
                &["partiality=0.0"],
                VerdictKind::Supported,
                "without the self-serving pull identical copies' threats are conceded to, so they race (and execute) most often at the smallest sigma, where surrogates then absorb more",
            ));
            claims.push(universal);
            claims.push(averted);
        }
        let kinds = &config.principals;
        if kinds.contains(&Pairing::Human) && kinds.contains(&Pairing::Ai) {
            claims.push(
                Claim::new(
                    "human-principals-execute-fewer-threats",
                    "(d) Human principals bargaining through AI assistants carry out fewer threats than misaligned AI principals: the executed-threat rate is lower between human principals than between AI principals, with and without verification (pooled over sigma).",
                    Effect::contrast(
                        "executed_threat_rate",
                        principal(Pairing::Human),
                        principal(Pairing::Ai),
                    ),
                    Direction::Below,
                    0.0,
                )
                .margin(margin)
                .filter(baseline())
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
        if kinds.contains(&Pairing::Mixed) {
            claims.push(
                Claim::new(
                    "mixed-pairs-favour-the-ai-principal",
                    "(d, mixed pairs) Bargaining against a human principal's assistant, a misaligned AI principal's copy comes out ahead: its return exceeds the human side's, with and without verification (pooled over sigma).",
                    Effect::metric("payoff_gap"),
                    Direction::Above,
                    0.0,
                )
                .margin(margin)
                .filter([baseline(), principal(Pairing::Mixed)].concat())
                .cells(&["verification"])
                .pool(&["sigma"])
                .control(Control::new(
                    &["human.follow_through=1.0"],
                    VerdictKind::Refuted,
                    "a human principal as committed as the AI one makes the two sides the same policy: neither should come out ahead",
                ))
                .plot("payoff_gap.svg"),
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
                    why: "no config key reaches the classic modal agents (a fixed roster solved by a provability-logic fixed point): this bargaining override shows the table stays put (a definition check, foregone by construction)".into(),
                    ..committed_humans.clone()
                }),
            );
        }
        let divergent = &config.matchups.divergent_agents;
        if divergent.iter().any(|a| a != "CliqueBot") {
            claims.push(
                Claim::new(
                    "proof-based-cooperation-survives-divergence",
                    "Cooperation by proof survives syntactic divergence: two copies of FairBot (or PrudentBot) whose sources were perturbed at the largest sigma still cooperate with each other in most matches (mutual cooperation above 0.5, each agent).",
                    Effect::metric("mutual_cooperation"),
                    Direction::Above,
                    0.5,
                )
                .filter(at(&[
                    ("part", json!("divergent")),
                    ("proof_based", json!(true)),
                    ("sigma", json!(hi)),
                ]))
                .cells(&["agent"])
                .control(Control::new(
                    &["matchups.unprovable_share=1.0"],
                    VerdictKind::Refuted,
                    "every rewrite adds a true but unprovable conjunct (PA is consistent): the copies are no longer provably equivalent, and Löbian cooperation should break",
                ))
                .plot("mutual_cooperation.svg"),
            );
        }
        if divergent.iter().any(|a| a == "CliqueBot") {
            claims.push(
                Claim::new(
                    "cliquebot-collapses-under-divergence",
                    "Cooperation by source identity collapses under divergence: two CliqueBots whose sources were perturbed cooperate less at the largest sigma than at the smallest.",
                    Effect::contrast("mutual_cooperation", sigma(hi), sigma(lo)),
                    Direction::Below,
                    0.0,
                )
                .margin(margin)
                .filter(at(&[("part", json!("divergent")), ("agent", json!("CliqueBot"))]))
                .control(Control::new(
                    &["matchups.rewrite_rate=0.0"],
                    VerdictKind::Refuted,
                    "no rewrites at any sigma: the copies' sources stay identical and CliqueBot keeps cooperating",
                ))
                .plot("mutual_cooperation.svg"),
            );
        }
        let ks = &config.bounded_loeb.ks;
        if let (Some(&k_min), Some(&k_max)) = (ks.iter().min(), ks.iter().max()) {
            claims.push(
                Claim::new(
                    "bounded-fairbot-cooperates-for-large-k",
                    format!("Critch's bounded Löb: FairBot_k, which searches for proofs up to length k, cooperates with itself at the largest bound swept (k = {k_max})."),
                    Effect::metric("bounded_self_cooperation"),
                    Direction::Above,
                    0.5,
                )
                .filter(at(&[("part", json!("bounded")), ("k", json!(k_max))]))
                .control(Control::new(
                    &["bounded_loeb.per_digit=1000000.0"],
                    VerdictKind::Refuted,
                    "a proof system in which writing a bound costs a million symbols per digit: no Löbian proof fits any bound swept",
                )),
            );
            if k_min < k_max {
                claims.push(
                    Claim::new(
                        "bounded-fairbot-defects-for-small-k",
                        format!("FairBot_k defects against itself at the smallest bound swept (k = {k_min}): the Löbian proof does not fit."),
                        Effect::metric("bounded_self_cooperation"),
                        Direction::Below,
                        0.5,
                    )
                    .filter(at(&[("part", json!("bounded")), ("k", json!(k_min))]))
                    .control(Control::new(
                        &["bounded_loeb.overhead=0.0", "bounded_loeb.per_digit=0.0"],
                        VerdictKind::Refuted,
                        "proofs that cost nothing fit every bound: FairBot_k cooperates with itself at every k",
                    )),
                );
            }
        }
        claims
    }

    fn plots(&self, config: &Config) -> Vec<PlotSpec> {
        let none = ("adoption".to_owned(), json!("none"));
        let part = ("part".to_owned(), json!("bargaining"));
        let rule = ("commitment".to_owned(), json!(config.commitments[0]));
        let partial = ("partial".to_owned(), json!(true));
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
        let baseline = vec![part.clone(), none.clone(), rule.clone(), partial.clone()];
        let mut plots = vec![
            plot(
                "failure_rate",
                "Bargaining failure vs divergence, with and without the self-serving pull (first commitment rule, no surrogate goals)",
                &["partial", "verification", "principal"],
                vec![part.clone(), none.clone(), rule.clone()],
                "failure_rate.svg".into(),
            ),
            plot(
                "failure_rate",
                "Bargaining failure by commitment rule (with the pull, no surrogate goals)",
                &["commitment", "verification", "principal"],
                vec![part.clone(), none.clone(), partial.clone()],
                "failure_rate_race.svg".into(),
            ),
            plot(
                "failure_rate_without_threats",
                "Bargaining failure with threats switched off",
                &["verification", "partial"],
                vec![
                    part.clone(),
                    none.clone(),
                    rule.clone(),
                    ("principal".into(), json!(config.principals[0])),
                ],
                "failure_rate_without_threats.svg".into(),
            ),
            plot(
                "verified_rate",
                "Encounters in which verification succeeded (where available)",
                &["principal"],
                [baseline.clone(), vec![("verification".into(), json!(true))]].concat(),
                "verified_rate.svg".into(),
            ),
            plot(
                "threat_rate",
                "Threats committed to vs divergence",
                &["verification", "principal"],
                baseline.clone(),
                "threat_rate.svg".into(),
            ),
            plot(
                "executed_threat_rate",
                "Executed threats vs divergence (no surrogate goals)",
                &["verification", "principal"],
                baseline.clone(),
                "executed_threat_rate.svg".into(),
            ),
            plot(
                "payoff_gap",
                "Return of side 0 minus side 1 (in mixed pairs: AI principal minus human)",
                &["verification", "principal"],
                baseline.clone(),
                "payoff_gap.svg".into(),
            ),
            plot(
                "split_larger_share",
                "Share of the better-off side among agreements",
                &["verification", "principal"],
                baseline.clone(),
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
                    vec![
                        part.clone(),
                        rule.clone(),
                        partial.clone(),
                        ("principal".into(), json!(principal)),
                    ],
                    format!("welfare_lost_{}.svg", principal.as_str()),
                ));
            }
        }
        if !config.matchups.divergent_agents.is_empty() {
            plots.push(plot(
                "mutual_cooperation",
                "Two copies of a modal agent with perturbed sources: mutual cooperation",
                &["agent"],
                vec![("part".into(), json!("divergent"))],
                "mutual_cooperation.svg".into(),
            ));
        }
        if !config.bounded_loeb.ks.is_empty() {
            plots.push(PlotSpec {
                file: "bounded_self_cooperation.svg".into(),
                title: "FairBot_k against itself (proof-length model)".into(),
                metric: "bounded_self_cooperation".into(),
                y_label: "cooperates".into(),
                x: "k".into(),
                x_label: "proof-length bound k (symbols)".into(),
                log_x: true,
                series: vec![],
                filter: vec![("part".into(), json!("bounded"))],
            });
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
            assert_eq!(claims.len(), 16);
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
        cruxlab_core::check_metrics_emitted(&e, &config, 0).unwrap_or_else(|err| panic!("{err}"));
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
