//! Bargaining populations: copies of one base agent, tuned independently toward their principals,
//! bargaining in the [`NashDemandGame`] with commitments and threats.
//!
//! **The base agent** ([`BaseAgent`]) carries a notion of fairness (`fair_share`, the share it
//! deems fair for the side it represents), a prior over the counterpart's demand (normal with
//! `prior_mean` and `prior_sd`, in pies), an aversion to unfair splits (`unfairness_aversion` α:
//! the utility of a share `s` is `s - α max(0, fair_share - s)`, so it would rather fail than accept
//! less than its reservation `α f / (1 + α)`), a credence that an unverified threat will be carried
//! out, and a threat premium (a threatener demands `fair_share + threat_premium`).
//!
//! **Tuning** ([`Population::pair`]): each principal gets its own copy, tuned independently with
//! divergence σ: `f = f0 + partiality + σ z`, `prior_mean = m0 + σ z'`, `credence = c0 + σ z''`
//! with independent standard normals, clipped to [0, 1]. Two separate assumptions: `partiality`
//! (in pies) is the systematic, self-serving pull of tuning toward the copy's own principal, the
//! same for every σ; σ is the noise of tuning. σ = 0 gives copies that differ from the base only by
//! that pull (identical to each other when the pull is 0); a large σ stands for independently
//! built, heterogeneous systems.
//!
//! **Principals** ([`PrincipalKind`]) set the threat policy: the propensity to consider a coercive
//! threat and the follow-through (probability of executing a threat whose demand was refused).
//! Misaligned AI principals and human principals with AI assistants differ in both.
//!
//! **Surrogate goals** ([`Adoption`]): an agent may adopt a surrogate goal; when both sides have
//! adopted one, executed threats hit the surrogates and cost the principals nothing (a bilateral
//! safe Pareto improvement, Oesterheld & Conitzer). Behaviour is unchanged by adoption. Adoption is
//! `independent` (each copy adopts with probability p after tuning) or `inherited` (the base adopts
//! with probability p before tuning; each copy keeps the base's choice with probability
//! `exp(-σ / drift)` and otherwise decides afresh with probability p).
//!
//! **One encounter** ([`play`]):
//! 0. *Verification.* Where verification is available it succeeds for the encounter with
//!    probability `accuracy(d) = verify_max exp(-d / verify_scale)` ([`Verification`]), d the
//!    Euclidean distance between the two copies' tuned parameters (fair share, prior mean,
//!    credence): similar systems verify each other more easily. A failed verification leaves both
//!    sides unverified.
//! 1. *Commitment.* An agent considers a threat with its propensity. A *myopic* agent commits (to
//!    demand `x = f + premium`, backed by the threat) iff it predicts that the counterpart, facing
//!    that threat alone, would leave the demand met (concede, or demand no more than the rest
//!    anyway). A *race-aware* agent ([`Commitment::RaceAware`]) also models that the counterpart
//!    may commit too: it predicts the probability q that the counterpart commits (its propensity
//!    times whether the myopic rule would make it commit) and commits iff its expected utility
//!    from committing beats not committing, over the four cases (alone, race, no threat, facing
//!    the counterpart's threat); see [`race_aware_commits`]. With verification it reads the
//!    counterpart's parameters and predicts exactly; without, it predicts with the base agent as
//!    the model of the counterpart. Both sides may commit at once (a commitment race): neither
//!    sees the other's commitment before making its own.
//! 2. *Demands.* A committed agent demands its commitment. An uncommitted agent facing a
//!    commitment concedes (demands the rest) iff `u(1 - x) >= -p D`, where `D` is the threat damage
//!    and `p` the follow-through it believes: the threatener's actual one with verification, its
//!    own credence without. Otherwise, and when nobody committed, it makes its ordinary demand:
//!    with verification both read each other's reservations and, if they fit in the pie, split the
//!    surplus between them evenly (else each insists on its reservation: normative disagreement);
//!    without verification it best-responds to its prior, `argmax_d d P(counterpart's demand <=
//!    1 - d)` over demands at least its reservation.
//! 3. *Execution.* After a failure each committed agent executes its threat with its
//!    follow-through probability, raised by `surrogate_premium` (capped at 1) when the threat would
//!    hit surrogate goals: executing a threat that harms nobody real is cheaper to do.
//!
//! **Pairs.** Both copies may represent principals of one kind, or a mixed pair ([`Pairing`]): an
//! AI principal's copy (side 0) against a human principal's (side 1).
//!
//! All randomness of an encounter is drawn up front ([`EncounterDraws`]) in a fixed order, so
//! conditions that differ only in σ, verification, principal kind or adoption see the same random
//! numbers (common random numbers: comparisons are paired).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::game::GameState;
use crate::nash_demand::{DemandMove, DemandOutcome, NashDemandGame};

/// The base model every bargainer is a copy of.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseAgent {
    /// The share of the pie it deems fair for the side it represents.
    pub fair_share: f64,
    /// Mean of its prior over the counterpart's demand (a share of the pie).
    pub prior_mean: f64,
    /// Standard deviation of that prior.
    pub prior_sd: f64,
    /// α: the utility of a share s is `s - α max(0, fair_share - s)`.
    pub unfairness_aversion: f64,
    /// Its belief that an unverified threat will be executed if refused.
    pub credence: f64,
    /// A threatener demands `fair_share + threat_premium`.
    pub threat_premium: f64,
}

impl Default for BaseAgent {
    fn default() -> Self {
        BaseAgent {
            fair_share: 0.5,
            prior_mean: 0.5,
            prior_sd: 0.05,
            unfairness_aversion: 2.0,
            credence: 0.5,
            threat_premium: 0.2,
        }
    }
}

/// Whom a bargainer represents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    /// A misaligned AI principal.
    Ai,
    /// A human principal bargaining through an AI assistant.
    Human,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Ai => "ai",
            PrincipalKind::Human => "human",
        }
    }
}

/// A principal's threat policy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreatPolicy {
    /// Probability of considering a coercive threat in an encounter.
    pub propensity: f64,
    /// Probability of executing a committed threat whose demand was refused.
    pub follow_through: f64,
}

/// When surrogate goals are adopted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Adoption {
    /// Nobody adopts.
    None,
    /// Each tuned copy adopts with probability p, independently.
    Independent,
    /// The base adopts with probability p before tuning; copies keep that choice with probability
    /// `exp(-σ / drift)`, else decide afresh with probability p.
    Inherited,
}

impl Adoption {
    pub fn as_str(self) -> &'static str {
        match self {
            Adoption::None => "none",
            Adoption::Independent => "independent",
            Adoption::Inherited => "inherited",
        }
    }
}

/// How surrogate goals spread through the population.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurrogatePolicy {
    pub adoption: Adoption,
    pub p: f64,
    pub drift: f64,
}

impl SurrogatePolicy {
    pub const NONE: SurrogatePolicy = SurrogatePolicy {
        adoption: Adoption::None,
        p: 0.0,
        drift: 1.0,
    };

    /// Probability that both copies of a pair have adopted, at divergence `sigma`.
    pub fn universal_probability(&self, sigma: f64) -> f64 {
        let p = self.p;
        match self.adoption {
            Adoption::None => 0.0,
            Adoption::Independent => p * p,
            Adoption::Inherited => {
                let k = keep_probability(sigma, self.drift);
                k * k * p + (1.0 - k * k) * p * p
            }
        }
    }
}

fn keep_probability(sigma: f64, drift: f64) -> f64 {
    if sigma <= 0.0 {
        1.0
    } else if drift <= 0.0 {
        0.0
    } else {
        (-sigma / drift).exp()
    }
}

/// Who the two sides of an encounter represent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pairing {
    /// Both sides represent misaligned AI principals.
    Ai,
    /// Both sides represent human principals with AI assistants.
    Human,
    /// Side 0 represents an AI principal, side 1 a human principal.
    Mixed,
}

impl Pairing {
    pub fn as_str(self) -> &'static str {
        match self {
            Pairing::Ai => "ai",
            Pairing::Human => "human",
            Pairing::Mixed => "mixed",
        }
    }

    /// The principal kind of each side.
    pub fn kinds(self) -> [PrincipalKind; 2] {
        match self {
            Pairing::Ai => [PrincipalKind::Ai; 2],
            Pairing::Human => [PrincipalKind::Human; 2],
            Pairing::Mixed => [PrincipalKind::Ai, PrincipalKind::Human],
        }
    }
}

/// A population of bargainers: one base model, tuned per principal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Population {
    pub base: BaseAgent,
    /// Divergence (noise) of tuning.
    pub sigma: f64,
    /// Systematic pull of tuning toward one's own principal, in pies (added to the fair share
    /// whatever σ is).
    pub partiality: f64,
    pub ai: ThreatPolicy,
    pub human: ThreatPolicy,
    pub surrogates: SurrogatePolicy,
}

/// One tuned copy of the base model, representing one principal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bargainer {
    pub fair_share: f64,
    pub prior_mean: f64,
    pub prior_sd: f64,
    pub unfairness_aversion: f64,
    pub credence: f64,
    pub threat_premium: f64,
    pub threat: ThreatPolicy,
    pub surrogate: bool,
}

/// The random numbers one encounter uses, in a fixed order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EncounterDraws {
    /// Standard normals per copy: fair share, prior mean, credence.
    pub tuning: [[f64; 3]; 2],
    /// Uniforms: the base's adoption, each copy's keeping it, each copy's own adoption.
    pub base_adopts: f64,
    pub keeps: [f64; 2],
    pub adopts: [f64; 2],
    /// Uniforms: each side considering a threat, each side executing one.
    pub considers: [f64; 2],
    pub executes: [f64; 2],
    /// Uniform: whether verification succeeds in this encounter.
    pub verifies: f64,
}

impl EncounterDraws {
    pub fn sample(rng: &mut ChaCha8Rng) -> Self {
        let mut normal = || rng.sample::<f64, _>(StandardNormal);
        let tuning = [
            [normal(), normal(), normal()],
            [normal(), normal(), normal()],
        ];
        let mut u = || rng.random::<f64>();
        EncounterDraws {
            tuning,
            base_adopts: u(),
            keeps: [u(), u()],
            adopts: [u(), u()],
            considers: [u(), u()],
            executes: [u(), u()],
            verifies: u(),
        }
    }
}

impl BaseAgent {
    /// The base model itself as a bargainer (what an agent without verification assumes its
    /// counterpart to be).
    pub fn as_bargainer(&self, threat: ThreatPolicy) -> Bargainer {
        Bargainer {
            fair_share: self.fair_share,
            prior_mean: self.prior_mean,
            prior_sd: self.prior_sd,
            unfairness_aversion: self.unfairness_aversion,
            credence: self.credence,
            threat_premium: self.threat_premium,
            threat,
            surrogate: false,
        }
    }
}

impl Population {
    pub fn threat_policy(&self, kind: PrincipalKind) -> ThreatPolicy {
        match kind {
            PrincipalKind::Ai => self.ai,
            PrincipalKind::Human => self.human,
        }
    }

    /// The two tuned copies of one encounter, both representing principals of `kind`.
    pub fn pair(&self, kind: PrincipalKind, draws: &EncounterDraws) -> [Bargainer; 2] {
        self.pair_of([kind, kind], draws)
    }

    /// The two tuned copies of one encounter, side k representing a principal of `kinds[k]`.
    pub fn pair_of(&self, kinds: [PrincipalKind; 2], draws: &EncounterDraws) -> [Bargainer; 2] {
        let b = &self.base;
        let s = self.sigma;
        let policy = self.surrogates;
        let base_adopts = draws.base_adopts < policy.p;
        let keep = keep_probability(s, policy.drift);
        let copy = |k: usize| {
            let [zf, zm, zc] = draws.tuning[k];
            let own = draws.adopts[k] < policy.p;
            let surrogate = match policy.adoption {
                Adoption::None => false,
                Adoption::Independent => own,
                Adoption::Inherited => {
                    if draws.keeps[k] < keep {
                        base_adopts
                    } else {
                        own
                    }
                }
            };
            Bargainer {
                fair_share: (b.fair_share + self.partiality + s * zf).clamp(0.0, 1.0),
                prior_mean: (b.prior_mean + s * zm).clamp(0.0, 1.0),
                prior_sd: b.prior_sd,
                unfairness_aversion: b.unfairness_aversion,
                credence: (b.credence + s * zc).clamp(0.0, 1.0),
                threat_premium: b.threat_premium,
                threat: self.threat_policy(kinds[k]),
                surrogate,
            }
        };
        [copy(0), copy(1)]
    }
}

/// The standard normal distribution function.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

impl Bargainer {
    /// The parameters tuning moves (fair share, prior mean, credence): what a similarity-based
    /// cooperator compares.
    pub fn parameters(&self) -> Vec<f64> {
        vec![self.fair_share, self.prior_mean, self.credence]
    }

    /// The least share it accepts rather than fail: `α f / (1 + α)`.
    pub fn reservation(&self) -> f64 {
        let a = self.unfairness_aversion;
        a * self.fair_share / (1.0 + a)
    }

    /// The reservation in whole units (rounded up).
    pub fn reservation_units(&self, units: u32) -> u32 {
        ((self.reservation() * units as f64 - 1e-9).ceil().max(0.0) as u32).min(units)
    }

    /// Utility of receiving `share` of the pie.
    pub fn utility(&self, share: f64) -> f64 {
        share - self.unfairness_aversion * (self.fair_share - share).max(0.0)
    }

    /// Whether it gives in to a committed demand of `committed` units backed by a threat of
    /// `damage` that it believes will be executed with probability `belief`.
    pub fn concedes(&self, committed: u32, units: u32, belief: f64, damage: f64) -> bool {
        let rest = (units - committed.min(units)) as f64 / units as f64;
        self.utility(rest) >= -belief * damage
    }

    /// What it commits to when it threatens, in units.
    pub fn threat_demand(&self, units: u32) -> u32 {
        (((self.fair_share + self.threat_premium) * units as f64)
            .round()
            .max(0.0) as u32)
            .min(units)
    }

    /// Its ordinary demand without verification: the best response to its prior over the
    /// counterpart's demand, `argmax_d d P(D <= units - d)`, over `d` at least its reservation. The
    /// objective is log-concave in `d`, so the scan stops at the first decrease.
    pub fn blind_demand(&self, units: u32) -> u32 {
        let lower = self.reservation_units(units);
        let u = units as f64;
        let mean = self.prior_mean * u;
        let sd = self.prior_sd * u;
        if sd <= 1e-12 {
            let best = (u - mean).floor().max(0.0) as u32;
            return best.clamp(lower, units);
        }
        let value = |d: u32| d as f64 * normal_cdf((u - d as f64 - mean) / sd);
        let mut best = lower;
        let mut best_value = value(lower);
        for d in lower + 1..=units {
            let v = value(d);
            if v < best_value {
                break;
            }
            best = d;
            best_value = v;
        }
        best
    }
}

/// The demands of two verified agents without commitments: if their reservations fit in the pie,
/// each gets its reservation and the surplus is split evenly (player 0 gets the odd unit);
/// otherwise each insists on its reservation and bargaining fails.
pub fn verified_demands(pair: &[Bargainer; 2], units: u32) -> [u32; 2] {
    let r = [
        pair[0].reservation_units(units),
        pair[1].reservation_units(units),
    ];
    if r[0] + r[1] > units {
        return r;
    }
    let surplus = units - r[0] - r[1];
    let d0 = r[0] + surplus.div_ceil(2);
    [d0, units - d0]
}

/// How well two copies can verify each other: the probability that verification succeeds falls
/// with the distance between their tuned parameters, `max exp(-d / scale)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// Accuracy between identical copies (d = 0).
    pub max: f64,
    /// Distance over which the accuracy falls by a factor e.
    pub scale: f64,
}

impl Verification {
    /// Verification that always succeeds.
    pub const PERFECT: Verification = Verification {
        max: 1.0,
        scale: f64::INFINITY,
    };

    /// The probability that two copies at parameter distance `d` verify each other.
    pub fn accuracy(&self, d: f64) -> f64 {
        if self.scale.is_infinite() || d <= 0.0 {
            self.max
        } else if self.scale <= 0.0 {
            0.0
        } else {
            self.max * (-d / self.scale).exp()
        }
    }
}

/// How an agent decides whether to back a demand with a threat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Commitment {
    /// Commit iff the counterpart, facing my threat alone, would leave my demand met.
    Myopic,
    /// Commit iff that beats not committing in expectation, given that the counterpart may commit
    /// too ([`race_aware_commits`]).
    RaceAware,
}

impl Commitment {
    pub fn as_str(self) -> &'static str {
        match self {
            Commitment::Myopic => "myopic",
            Commitment::RaceAware => "race_aware",
        }
    }
}

/// How an encounter is run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Protocol {
    /// Pie size, threat damage and cost (the surrogate shield is set per encounter).
    pub game: NashDemandGame,
    /// Verification is available: agents try to read each other's parameters (and so the
    /// credibility of commitments); it succeeds with `verify`'s accuracy.
    pub verification: bool,
    pub verify: Verification,
    /// Whether threats can be made at all (the commitment stage is played).
    pub threats: bool,
    pub commitment: Commitment,
    /// Added to a threatener's follow-through when the threat would hit surrogate goals.
    pub surrogate_premium: f64,
}

impl Protocol {
    /// Perfect verification (when on), myopic commitment, no surrogate premium.
    pub fn simple(game: NashDemandGame, verification: bool, threats: bool) -> Protocol {
        Protocol {
            game,
            verification,
            verify: Verification::PERFECT,
            threats,
            commitment: Commitment::Myopic,
            surrogate_premium: 0.0,
        }
    }
}

/// What happened in one encounter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Encounter {
    pub outcome: DemandOutcome,
    /// Who committed to a threat.
    pub committed: [bool; 2],
    /// Who lowered its demand in the face of a threat.
    pub conceded: [bool; 2],
    /// Both sides had adopted surrogate goals.
    pub both_adopted: bool,
    /// Verification was available and succeeded.
    pub verified: bool,
    /// Each side's return (share, minus threat damage suffered and execution cost paid).
    pub returns: [f64; 2],
}

impl Encounter {
    /// An agreement reached by giving in to a threat.
    pub fn coerced(&self) -> bool {
        self.outcome.agreement && self.conceded.iter().any(|&c| c)
    }

    pub fn threat_made(&self) -> bool {
        self.committed.iter().any(|&c| c)
    }

    pub fn threat_executed(&self) -> bool {
        self.outcome.executed.iter().any(|&e| e)
    }
}

/// The share side `me` gets when the demands `mine` and `theirs` fit in `units` (the rest split
/// evenly).
fn agreed_share(mine: u32, theirs: u32, units: u32) -> f64 {
    (mine as f64 + (units - mine - theirs) as f64 / 2.0) / units as f64
}

/// Whether a lone threat of `x` units from `me` would leave its demand met, as `me` predicts it:
/// the counterpart (as `me` models it: `target`, whose ordinary demand would be `ordinary`) would
/// ask for no more than the rest anyway, or concede, believing the threat is executed with
/// probability `belief`.
fn lone_threat_met(
    target: &Bargainer,
    ordinary: u32,
    x: u32,
    units: u32,
    belief: f64,
    damage: f64,
) -> bool {
    ordinary <= units - x.min(units) || target.concedes(x, units, belief, damage)
}

/// What one side knows of an encounter when it decides whether to commit: the counterpart as it
/// models it, and how it models itself in the counterpart's eyes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CommitmentView {
    pub me: Bargainer,
    /// The counterpart as `me` models it (its actual parameters if verified, else the base).
    pub other: Bargainer,
    /// `me` as the counterpart models it (actual if verified, else the base).
    pub me_seen: Bargainer,
    /// The ordinary demands (no threats) `me` predicts: its own, the counterpart's.
    pub ordinary: [u32; 2],
    /// `me`'s belief that the counterpart executes a refused threat.
    pub other_follow_through: f64,
    /// The counterpart's belief that `me` executes a refused threat.
    pub my_follow_through_seen: f64,
}

/// Race-aware commitment (the rule of [`Commitment::RaceAware`], as `view.me` evaluates it).
///
/// Let x and y be the two sides' threat demands, q = (the counterpart's propensity) x (1 if the
/// myopic rule would make it commit against me, else 0), p its follow-through as I believe it, D the
/// damage, c the cost of executing, f my follow-through and u my utility. Then
///
/// * committing alone gives u(my share) if the counterpart leaves x met, else u(0) - f c;
/// * a race gives u(my share) if x + y fit in the pie, else u(0) - p D - f c;
/// * no threat at all gives u(my share of the ordinary demands), u(0) if they do not fit;
/// * facing the counterpart's threat gives u(rest) if I concede, u(my share) if my ordinary demand
///   fits beside y, else u(0) - p D;
///
/// and I commit iff (1 - q) alone + q race > (1 - q) no threat + q facing. Returns the decision
/// and the two expected utilities (commit, do not commit).
pub fn race_aware_commits(view: &CommitmentView, game: &NashDemandGame) -> (bool, f64, f64) {
    let units = game.units;
    let d = game.threat_damage;
    let me = &view.me;
    let other = &view.other;
    let u = |share: f64| me.utility(share);
    let f = me.threat.follow_through;
    let x = me.threat_demand(units);
    let y = other.threat_demand(units);
    let [mine, theirs] = view.ordinary;
    let p = view.other_follow_through;
    // Would the counterpart commit against me, by the myopic rule, as I predict it?
    let other_commits = lone_threat_met(
        &view.me_seen,
        mine,
        y,
        units,
        view.my_follow_through_seen,
        d,
    );
    let q = other.threat.propensity * other_commits as u8 as f64;
    let alone = if theirs <= units - x {
        u(agreed_share(x, theirs, units))
    } else if other.concedes(x, units, view.my_follow_through_seen, d) {
        u(x as f64 / units as f64)
    } else {
        u(0.0) - f * game.threat_cost
    };
    let race = if x + y <= units {
        u(agreed_share(x, y, units))
    } else {
        u(0.0) - p * d - f * game.threat_cost
    };
    let calm = if mine + theirs <= units {
        u(agreed_share(mine, theirs, units))
    } else {
        u(0.0)
    };
    let rest = units - y.min(units);
    let facing = if mine <= rest {
        u(agreed_share(mine, y, units))
    } else if me.concedes(y, units, p, d) {
        u(rest as f64 / units as f64)
    } else {
        u(0.0) - p * d
    };
    let commit = (1.0 - q) * alone + q * race;
    let hold = (1.0 - q) * calm + q * facing;
    (commit > hold, commit, hold)
}

/// Play one encounter between the tuned copies `pair` (see the module doc for the protocol).
/// `base` is the model an agent uses for its counterpart when it cannot verify.
pub fn play(
    pair: &[Bargainer; 2],
    base: &BaseAgent,
    protocol: &Protocol,
    draws: &EncounterDraws,
) -> Encounter {
    let both_adopted = pair[0].surrogate && pair[1].surrogate;
    let game = NashDemandGame {
        commitment_stage: protocol.threats,
        surrogate_shield: both_adopted,
        ..protocol.game
    };
    let units = game.units;
    let damage = game.threat_damage;
    let mut state = game.start();
    let distance = crate::simulation::distance(&pair[0].parameters(), &pair[1].parameters());
    let verified = protocol.verification && draws.verifies < protocol.verify.accuracy(distance);

    // The demands each side would make if nobody threatened.
    let ordinary = if verified {
        verified_demands(pair, units)
    } else {
        [pair[0].blind_demand(units), pair[1].blind_demand(units)]
    };

    // Stage 1: commitments.
    let mut committed = [None; 2];
    if protocol.threats {
        for i in 0..2 {
            let me = &pair[i];
            if draws.considers[i] >= me.threat.propensity {
                continue;
            }
            let x = me.threat_demand(units);
            // The counterpart, and me in its eyes, as far as I can tell.
            let (other, me_seen, other_ordinary, belief, belief_seen) = if verified {
                let j = 1 - i;
                (
                    pair[j],
                    pair[i],
                    ordinary[j],
                    me.threat.follow_through,
                    pair[j].threat.follow_through,
                )
            } else {
                let model = base.as_bargainer(me.threat);
                (
                    model,
                    model,
                    model.blind_demand(units),
                    base.credence,
                    me.credence,
                )
            };
            let commit = match protocol.commitment {
                Commitment::Myopic => {
                    lone_threat_met(&other, other_ordinary, x, units, belief, damage)
                }
                Commitment::RaceAware => {
                    let view = CommitmentView {
                        me: *me,
                        other,
                        me_seen,
                        ordinary: [ordinary[i], other_ordinary],
                        other_follow_through: belief_seen,
                        my_follow_through_seen: belief,
                    };
                    race_aware_commits(&view, &game).0
                }
            };
            if commit {
                committed[i] = Some(x);
            }
        }
        let moves = committed.map(|c| match c {
            Some(x) => game.action(DemandMove::Commit(x)),
            None => game.action(DemandMove::NoCommit),
        });
        state.apply_actions(&moves).expect("legal commitments");
    }

    // Stage 2: demands.
    let mut demands = ordinary;
    let mut conceded = [false; 2];
    for j in 0..2 {
        let i = 1 - j;
        match (committed[j], committed[i]) {
            (Some(x), _) => demands[j] = x,
            (None, Some(x)) => {
                let belief = if verified {
                    pair[i].threat.follow_through
                } else {
                    pair[j].credence
                };
                let rest = units - x;
                if ordinary[j] > rest && pair[j].concedes(x, units, belief, damage) {
                    demands[j] = rest;
                    conceded[j] = true;
                }
            }
            (None, None) => {}
        }
    }
    state
        .apply_actions(&demands.map(|d| game.action(DemandMove::Demand(d))))
        .expect("legal demands");

    // Stage 3: execution after a failure.
    if !state.is_terminal() {
        let premium = if both_adopted {
            protocol.surrogate_premium
        } else {
            0.0
        };
        let moves: Vec<usize> = (0..2)
            .map(|i| {
                let p = (pair[i].threat.follow_through + premium).min(1.0);
                let execute = committed[i].is_some() && draws.executes[i] < p;
                game.action(if execute {
                    DemandMove::Execute
                } else {
                    DemandMove::Refrain
                })
            })
            .collect();
        state.apply_actions(&moves).expect("legal executions");
    }
    let r = state.returns();
    Encounter {
        outcome: state.outcome().expect("the play is over"),
        committed: committed.map(|c| c.is_some()),
        conceded,
        both_adopted,
        verified,
        returns: [r[0], r[1]],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservation_and_utility() {
        let b = BaseAgent::default().as_bargainer(ThreatPolicy {
            propensity: 0.0,
            follow_through: 0.0,
        });
        assert!((b.reservation() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(b.reservation_units(100), 34);
        assert!((b.utility(0.3) - (0.3 - 2.0 * 0.2)).abs() < 1e-12);
        // Offered 30 of 100: u = -0.1; concede iff belief * 0.5 >= 0.1.
        assert!(b.concedes(70, 100, 0.21, 0.5));
        assert!(!b.concedes(70, 100, 0.19, 0.5));
        assert_eq!(b.threat_demand(100), 70);
    }

    #[test]
    fn blind_demand_matches_a_full_scan() {
        let mut b = BaseAgent::default().as_bargainer(ThreatPolicy {
            propensity: 0.0,
            follow_through: 0.0,
        });
        for (mean, sd) in [(0.5, 0.05), (0.3, 0.1), (0.8, 0.02), (0.5, 0.4)] {
            b.prior_mean = mean;
            b.prior_sd = sd;
            let lower = b.reservation_units(100);
            let value =
                |d: u32| d as f64 * normal_cdf((100.0 - d as f64 - mean * 100.0) / (sd * 100.0));
            let best = (lower..=100)
                .max_by(|&a, &c| value(a).total_cmp(&value(c)).then(c.cmp(&a)))
                .unwrap();
            assert_eq!(b.blind_demand(100), best, "mean {mean} sd {sd}");
        }
    }

    #[test]
    fn verified_split_shares_the_surplus() {
        let b = BaseAgent::default().as_bargainer(ThreatPolicy {
            propensity: 0.0,
            follow_through: 0.0,
        });
        assert_eq!(verified_demands(&[b, b], 100), [50, 50]);
        let mut greedy = b;
        greedy.fair_share = 0.8; // reservation 0.5333 -> 54 units
        assert_eq!(verified_demands(&[greedy, b], 100), [54 + 6, 40]);
        greedy.fair_share = 1.0; // 67 + 34 > 100
        assert_eq!(verified_demands(&[greedy, b], 100), [67, 34]);
    }
}
