//! Bargaining populations: identical copies never fail without threats; failure, race and adoption
//! rates that have a closed form match it within their 95% CI; invariants of every encounter; and
//! the simulation-based program agents.

use cruxlab_games::population::{self, normal_cdf};
use cruxlab_games::{
    Adoption, BaseAgent, EncounterDraws, NashDemandGame, Population, PrincipalKind, ProgramAgent,
    Protocol, SurrogatePolicy, ThreatPolicy,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const AI: ThreatPolicy = ThreatPolicy {
    propensity: 0.4,
    follow_through: 1.0,
};
const HUMAN: ThreatPolicy = ThreatPolicy {
    propensity: 0.4,
    follow_through: 0.25,
};

fn population(sigma: f64) -> Population {
    Population {
        base: BaseAgent::default(),
        sigma,
        partiality: 0.0,
        ai: AI,
        human: HUMAN,
        surrogates: SurrogatePolicy::NONE,
    }
}

fn protocol(verification: bool, threats: bool) -> Protocol {
    Protocol::simple(NashDemandGame::default(), verification, threats)
}

/// Per-seed rates of `event` over `encounters` encounters, for `seeds` seeds.
fn rates(
    pop: &Population,
    kind: PrincipalKind,
    protocol: &Protocol,
    seeds: u64,
    encounters: u64,
    event: impl Fn(&population::Encounter) -> bool,
) -> Vec<f64> {
    (0..seeds)
        .map(|seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
            let mut hits = 0u64;
            for _ in 0..encounters {
                let draws = EncounterDraws::sample(&mut rng);
                let pair = pop.pair(kind, &draws);
                let e = population::play(&pair, &pop.base, protocol, &draws);
                hits += event(&e) as u64;
            }
            hits as f64 / encounters as f64
        })
        .collect()
}

/// Mean and Student t 95% interval (t quantile for 19 degrees of freedom: 20 seeds).
fn ci(values: &[f64]) -> (f64, f64, f64) {
    assert_eq!(values.len(), 20);
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    let half = 2.093 * (var / n).sqrt();
    (mean, mean - half, mean + half)
}

#[test]
fn identical_copies_never_fail_without_threats() {
    let pop = population(0.0);
    for verification in [false, true] {
        for kind in [PrincipalKind::Ai, PrincipalKind::Human] {
            let r = rates(&pop, kind, &protocol(verification, false), 5, 2000, |e| {
                !e.outcome.agreement
            });
            assert!(
                r.iter().all(|&x| x == 0.0),
                "{verification} {kind:?}: {r:?}"
            );
        }
    }
    // And they agree on an even split.
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let draws = EncounterDraws::sample(&mut rng);
    let pair = pop.pair(PrincipalKind::Ai, &draws);
    let e = population::play(&pair, &pop.base, &protocol(false, false), &draws);
    assert_eq!(e.outcome.shares, [0.5, 0.5]);
}

/// Verified copies without threats fail iff their reservations do not fit in the pie:
/// `ceil(X0) + ceil(X1) > U` with `X = U α/(1+α) (f0 + β + σ z)`, z standard normal.
/// P(fail) = sum_k P(ceil(X1) = k) P(X0 > U - k).
#[test]
fn normative_disagreement_failure_matches_its_closed_form() {
    let sigma = 0.1;
    let mut pop = population(sigma);
    pop.partiality = 0.05;
    pop.base.unfairness_aversion = 4.0;
    let units = 100.0;
    let scale = units * 4.0 / 5.0;
    let mean = scale * (pop.base.fair_share + pop.partiality);
    let sd = scale * sigma;
    let cdf = |x: f64| normal_cdf((x - mean) / sd);
    let expected: f64 = (0..=100)
        .map(|k| {
            let k = k as f64;
            (cdf(k) - cdf(k - 1.0)) * (1.0 - cdf(units - k))
        })
        .sum();
    assert!(expected > 0.05 && expected < 0.3, "{expected}");
    let r = rates(
        &pop,
        PrincipalKind::Ai,
        &protocol(true, false),
        20,
        2000,
        |e| !e.outcome.agreement,
    );
    let (m, lo, hi) = ci(&r);
    assert!(
        lo <= expected && expected <= hi,
        "closed form {expected:.4} outside {m:.4} [{lo:.4}, {hi:.4}]"
    );
}

/// Identical AI copies with threats: a copy commits whenever it considers a threat (the base
/// concedes), and the only failure is a commitment race, with probability propensity squared.
#[test]
fn commitment_races_of_identical_copies_match_their_closed_form() {
    let pop = population(0.0);
    for verification in [false, true] {
        let r = rates(
            &pop,
            PrincipalKind::Ai,
            &protocol(verification, true),
            20,
            2000,
            |e| !e.outcome.agreement,
        );
        let (m, lo, hi) = ci(&r);
        let expected = AI.propensity * AI.propensity;
        assert!(
            lo <= expected && expected <= hi,
            "verification {verification}: {expected} outside {m:.4} [{lo:.4}, {hi:.4}]"
        );
        // Every race ends with both threats executed (follow-through 1).
        let executed = rates(
            &pop,
            PrincipalKind::Ai,
            &protocol(verification, true),
            20,
            2000,
            |e| e.outcome.executed == [true, true],
        );
        assert_eq!(r, executed);
    }
}

#[test]
fn inherited_adoption_matches_its_closed_form() {
    for (adoption, sigma) in [
        (Adoption::Inherited, 0.0),
        (Adoption::Inherited, 0.07),
        (Adoption::Inherited, 0.5),
        (Adoption::Independent, 0.07),
    ] {
        let mut pop = population(sigma);
        pop.surrogates = SurrogatePolicy {
            adoption,
            p: 0.6,
            drift: 0.1,
        };
        let expected = pop.surrogates.universal_probability(sigma);
        let r = rates(
            &pop,
            PrincipalKind::Ai,
            &protocol(false, false),
            20,
            2000,
            |e| e.both_adopted,
        );
        let (m, lo, hi) = ci(&r);
        assert!(
            lo <= expected && expected <= hi,
            "{adoption:?} sigma {sigma}: {expected:.4} outside {m:.4} [{lo:.4}, {hi:.4}]"
        );
    }
}

#[test]
fn verified_human_threats_below_the_concession_threshold_are_not_made() {
    // The base concedes to a 70/30 threat iff it believes it will be executed with probability
    // at least 0.2 (u(0.3) = -0.1 against a damage of 0.5). A verified human threatener with
    // follow-through 0.15 knows its threat would be refused, so it never commits.
    let mut pop = population(0.0);
    pop.human.follow_through = 0.15;
    let r = rates(
        &pop,
        PrincipalKind::Human,
        &protocol(true, true),
        3,
        1000,
        |e| e.threat_made(),
    );
    assert_eq!(r, vec![0.0; 3]);
    // Unverified, it commits whenever it considers a threat (the base's credence is 0.5).
    let r = rates(
        &pop,
        PrincipalKind::Human,
        &protocol(false, true),
        3,
        4000,
        |e| e.threat_made(),
    );
    let expected = 1.0 - (1.0 - HUMAN.propensity) * (1.0 - HUMAN.propensity);
    assert!(r.iter().all(|x| (x - expected).abs() < 0.03), "{r:?}");
}

proptest! {
    #[test]
    fn encounters_respect_the_invariants(
        seed in any::<u64>(),
        sigma in 0.0f64..0.5,
        verification in any::<bool>(),
        threats in any::<bool>(),
        human in any::<bool>(),
        p in 0.0f64..1.0,
        inherited in any::<bool>(),
    ) {
        let mut pop = population(sigma);
        pop.surrogates = SurrogatePolicy {
            adoption: if inherited { Adoption::Inherited } else { Adoption::Independent },
            p,
            drift: 0.1,
        };
        let kind = if human { PrincipalKind::Human } else { PrincipalKind::Ai };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..20 {
            let draws = EncounterDraws::sample(&mut rng);
            let pair = pop.pair(kind, &draws);
            let e = population::play(&pair, &pop.base, &protocol(verification, threats), &draws);
            let o = e.outcome;
            prop_assert!(o.welfare_lost() >= -1e-12);
            prop_assert!(o.shares[0] + o.shares[1] <= 1.0 + 1e-12);
            if o.agreement {
                prop_assert!((o.shares[0] + o.shares[1] - 1.0).abs() < 1e-12);
            }
            if !threats {
                prop_assert!(!e.threat_made() && !e.threat_executed());
            }
            for i in 0..2 {
                if o.executed[i] {
                    prop_assert!(e.committed[i] && !o.agreement);
                }
            }
            if e.coerced() {
                prop_assert!(e.threat_made());
            }
            if !e.both_adopted {
                prop_assert_eq!(o.damage_to_surrogates, 0.0);
            }
        }
    }
}

#[test]
fn epsilon_grounded_fairbot_against_defectbot_cooperates_with_probability_epsilon() {
    let eps = 0.2;
    let fb = ProgramAgent::EpsilonGroundedFairBot { epsilon: eps };
    let rates: Vec<f64> = (0..20)
        .map(|seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..1000)
                .filter(|_| fb.cooperates(&ProgramAgent::DefectBot, &mut rng))
                .count() as f64
                / 1000.0
        })
        .collect();
    let (m, lo, hi) = ci(&rates);
    assert!(lo <= eps && eps <= hi, "{m} [{lo}, {hi}]");
    assert_eq!(fb.cooperation_probability(&ProgramAgent::DefectBot), eps);
    assert_eq!(fb.cooperation_probability(&ProgramAgent::CooperateBot), 1.0);
    assert_eq!(fb.cooperation_probability(&fb), 1.0);
    // Against another epsilon-grounded FairBot every simulation chain ends in cooperation.
    let other = ProgramAgent::EpsilonGroundedFairBot { epsilon: 0.01 };
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    assert!((0..500).all(|_| fb.cooperates(&other, &mut rng) && other.cooperates(&fb, &mut rng)));
    // Without grounding the simulations never end; the depth limit makes it a defection.
    let ungrounded = ProgramAgent::EpsilonGroundedFairBot { epsilon: 0.0 };
    assert!(!ungrounded.cooperates(&ungrounded, &mut rng));
}

#[test]
fn similarity_based_copies_cooperate_when_close() {
    // Two copies of the base tuned with divergence sigma cooperate iff their parameter vectors
    // (fair share, prior mean, credence) lie within the threshold.
    let pop = population(0.0);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let draws = EncounterDraws::sample(&mut rng);
    let [a, b] = pop.pair(PrincipalKind::Ai, &draws);
    let bot = |params: Vec<f64>| ProgramAgent::SimilarityBot {
        threshold: 0.05,
        parameters: params,
    };
    assert!(bot(a.parameters()).cooperates(&bot(b.parameters()), &mut rng));
    let far = population(1.0).pair(PrincipalKind::Ai, &draws);
    let (x, y) = (bot(far[0].parameters()), bot(far[1].parameters()));
    assert_eq!(
        x.cooperates(&y, &mut rng),
        cruxlab_games::simulation::distance(&far[0].parameters(), &far[1].parameters()) <= 0.05
    );
    assert!(!x.cooperates(&ProgramAgent::CooperateBot, &mut rng));
}

/// Race-aware commitment between two verified, identical base copies with AI principals
/// (propensity q, follow-through 1), damage 0.5, cost 0.05, by hand. The threat demand is 70 of
/// 100, the ordinary verified split 50/50, and the base concedes to a 70/30 threat (u(0.3) =
/// 0.3 - 2 x 0.2 = -0.1 >= -0.5). So: alone u(0.7) = 0.7; race u(0) - 0.5 - 0.05 = -1 - 0.55 =
/// -1.55; no threat u(0.5) = 0.5; facing a threat (concede) u(0.3) = -0.1. With q = 0.4:
/// commit 0.6 x 0.7 - 0.4 x 1.55 = -0.20 < hold 0.6 x 0.5 - 0.4 x 0.1 = 0.26, so it does not
/// commit; with q = 0.1: 0.63 - 0.155 = 0.475 > 0.45 - 0.01 = 0.44, so it does. The break-even
/// is 0.2 (1 - q) = 1.45 q, q = 0.1212.
#[test]
fn race_aware_commitment_by_hand() {
    use cruxlab_games::population::{CommitmentView, race_aware_commits};
    let game = NashDemandGame::default();
    for (q, commits, eu_commit, eu_hold) in [(0.4, false, -0.20, 0.26), (0.1, true, 0.475, 0.44)] {
        let b = BaseAgent::default().as_bargainer(ThreatPolicy {
            propensity: q,
            follow_through: 1.0,
        });
        let view = CommitmentView {
            me: b,
            other: b,
            me_seen: b,
            ordinary: [50, 50],
            other_follow_through: 1.0,
            my_follow_through_seen: 1.0,
        };
        let (decision, commit, hold) = race_aware_commits(&view, &game);
        assert_eq!(decision, commits, "q = {q}");
        assert!((commit - eu_commit).abs() < 1e-12, "{commit}");
        assert!((hold - eu_hold).abs() < 1e-12, "{hold}");
    }
    // In play: identical verified copies with propensity 0.4 never commit, so never fail.
    let pop = population(0.0);
    let race_aware = Protocol {
        commitment: cruxlab_games::Commitment::RaceAware,
        ..protocol(true, true)
    };
    let r = rates(&pop, PrincipalKind::Ai, &race_aware, 3, 1000, |e| {
        e.threat_made() || !e.outcome.agreement
    });
    assert_eq!(r, vec![0.0; 3]);
}

#[test]
fn verification_accuracy_falls_with_distance() {
    use cruxlab_games::Verification;
    let v = Verification {
        max: 0.9,
        scale: 0.2,
    };
    assert_eq!(v.accuracy(0.0), 0.9);
    assert!((v.accuracy(0.2) - 0.9 / std::f64::consts::E).abs() < 1e-12);
    assert_eq!(Verification::PERFECT.accuracy(5.0), 1.0);
    // Identical copies (distance 0) verify with probability max.
    let pop = population(0.0);
    let p = Protocol {
        verify: v,
        ..protocol(true, false)
    };
    let r: Vec<f64> = (0..20)
        .map(|seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let n = 2000;
            (0..n)
                .filter(|_| {
                    let draws = EncounterDraws::sample(&mut rng);
                    population::play(&pop.pair(PrincipalKind::Ai, &draws), &pop.base, &p, &draws)
                        .verified
                })
                .count() as f64
                / n as f64
        })
        .collect();
    let (m, lo, hi) = ci(&r);
    assert!(lo <= 0.9 && 0.9 <= hi, "{m} [{lo}, {hi}]");
}

#[test]
fn mixed_pairs_put_the_ai_principal_first() {
    let pop = population(0.1);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let draws = EncounterDraws::sample(&mut rng);
    let pair = pop.pair_of(cruxlab_games::Pairing::Mixed.kinds(), &draws);
    assert_eq!(pair[0].threat, AI);
    assert_eq!(pair[1].threat, HUMAN);
    // The tuning noise is the same as in a like pair.
    let like = pop.pair(PrincipalKind::Ai, &draws);
    assert_eq!(pair[1].fair_share, like[1].fair_share);
}

proptest! {
    /// Returns: agreements share the pie; a failure leaves each side at most 0; a side's return
    /// is its share minus what it suffered and paid.
    #[test]
    fn returns_match_the_outcome(
        seed in any::<u64>(),
        sigma in 0.0f64..0.4,
        race_aware in any::<bool>(),
        mixed in any::<bool>(),
        scale in 0.01f64..1.0,
        premium in 0.0f64..1.0,
    ) {
        let mut pop = population(sigma);
        pop.surrogates = SurrogatePolicy { adoption: Adoption::Independent, p: 0.5, drift: 0.1 };
        let protocol = Protocol {
            commitment: if race_aware {
                cruxlab_games::Commitment::RaceAware
            } else {
                cruxlab_games::Commitment::Myopic
            },
            verify: cruxlab_games::Verification { max: 1.0, scale },
            surrogate_premium: premium,
            ..protocol(true, true)
        };
        let pairing = if mixed { cruxlab_games::Pairing::Mixed } else { cruxlab_games::Pairing::Ai };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..20 {
            let draws = EncounterDraws::sample(&mut rng);
            let pair = pop.pair_of(pairing.kinds(), &draws);
            let e = population::play(&pair, &pop.base, &protocol, &draws);
            let o = e.outcome;
            let total = e.returns[0] + e.returns[1];
            prop_assert!((1.0 - total - o.welfare_lost()).abs() < 1e-9);
            if !o.agreement {
                prop_assert!(e.returns[0] <= 0.0 && e.returns[1] <= 0.0);
            }
            if e.verified {
                prop_assert!(protocol.verification);
            }
        }
    }
}
