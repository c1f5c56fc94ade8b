//! Modal agents: the matchup table against the literature, hand-checked fixed points, the agent
//! file syntax and its errors, and the stopping rule against a brute-force evaluation.

use cruxlab_games::modal::{
    AgentAtom, Formula, ModalError, ModalSystem, Party, Roster, parse_formula,
};
use proptest::prelude::*;

fn moves(roster: &Roster, row: &str, column: &str) -> (bool, bool) {
    let m = roster.matchup(row, column).unwrap();
    (m.row_cooperates, m.column_cooperates)
}

const C: bool = true;
const D: bool = false;

#[test]
fn matchup_table_agrees_with_barasz_et_al() {
    let r = Roster::classic();
    // FairBot and PrudentBot cooperate with themselves and each other.
    assert_eq!(moves(&r, "FairBot", "FairBot"), (C, C));
    assert_eq!(moves(&r, "PrudentBot", "PrudentBot"), (C, C));
    assert_eq!(moves(&r, "FairBot", "PrudentBot"), (C, C));
    assert_eq!(moves(&r, "PrudentBot", "FairBot"), (C, C));
    // PrudentBot defects against CooperateBot; FairBot does not.
    assert_eq!(moves(&r, "PrudentBot", "CooperateBot"), (D, C));
    assert_eq!(moves(&r, "FairBot", "CooperateBot"), (C, C));
    // DefectBot exploits neither.
    assert_eq!(moves(&r, "DefectBot", "FairBot"), (D, D));
    assert_eq!(moves(&r, "DefectBot", "PrudentBot"), (D, D));
    // CliqueBot cooperates only with itself.
    for other in r.names() {
        let (clique, _) = moves(&r, "CliqueBot", other);
        assert_eq!(clique, other == "CliqueBot", "CliqueBot vs {other}");
    }
    // TrollBot cooperates iff its opponent provably cooperates with DefectBot.
    assert_eq!(moves(&r, "TrollBot", "CooperateBot"), (C, C));
    assert_eq!(moves(&r, "TrollBot", "FairBot"), (D, D));
    assert_eq!(moves(&r, "TrollBot", "DefectBot"), (D, D));
}

#[test]
fn payoffs_follow_the_moves() {
    let r = Roster::classic();
    let m = r.matchup("PrudentBot", "CooperateBot").unwrap();
    assert_eq!((m.row_payoff, m.column_payoff), (5.0, 0.0));
    let m = r.matchup("FairBot", "PrudentBot").unwrap();
    assert_eq!((m.row_payoff, m.column_payoff), (3.0, 3.0));
    let m = r.matchup("DefectBot", "FairBot").unwrap();
    assert_eq!((m.row_payoff, m.column_payoff), (1.0, 1.0));
    assert_eq!(r.table().unwrap().len(), 36);
}

/// World-by-world values of variable `i` of the match's system.
fn trace(roster: &Roster, row: &str, column: &str) -> Vec<bool> {
    let (system, [i, _]) = roster.system(row, column).unwrap();
    system
        .solve()
        .unwrap()
        .worlds
        .iter()
        .map(|w| w[i])
        .collect()
}

#[test]
fn fairbot_against_defectbot_cooperates_only_at_world_zero() {
    // FB(DB) = □ DB(FB) = □⊥: vacuously true at world 0, false from world 1 on.
    let r = Roster::classic();
    let t = trace(&r, "FairBot", "DefectBot");
    assert_eq!(t[..3], [C, D, D]);
    let m = r.matchup("FairBot", "DefectBot").unwrap();
    assert!(!m.row_cooperates);
    assert_eq!(m.stable_from, 1);
}

#[test]
fn prudentbot_against_cooperatebot_by_hand() {
    // PB(CB) = □ CB(PB) ∧ □(¬□⊥ → ¬CB(DB)) = □⊤ ∧ □(¬□⊥ → ⊥) = □□⊥:
    // true at worlds 0 and 1 (□⊥ holds at world 0), false from world 2.
    let t = trace(&Roster::classic(), "PrudentBot", "CooperateBot");
    assert_eq!(t[..4], [C, C, D, D]);
}

#[test]
fn fairbot_against_trollbot_by_hand() {
    // TB(FB) = □ FB(DB), FB(DB) = □⊥ (C, D, D, ...), so TB(FB) is C, C, D, ...; FB(TB) = □ TB(FB)
    // is C, C, C, D, ...: defection, stable only from world 3.
    let r = Roster::classic();
    assert_eq!(trace(&r, "FairBot", "TrollBot")[..5], [C, C, C, D, D]);
    assert_eq!(trace(&r, "TrollBot", "FairBot")[..4], [C, C, D, D]);
    assert_eq!(r.matchup("FairBot", "TrollBot").unwrap().stable_from, 3);
}

#[test]
fn goedel_and_loeb_sentences() {
    let g = ModalSystem::new(
        vec!["g".into()],
        vec![Formula::not(Formula::provable(Formula::Atom(0)))],
    );
    let s = g.solve().unwrap();
    assert_eq!(s.worlds[0], vec![false]);
    assert_eq!(
        s.values,
        vec![true],
        "the Gödel sentence is true but unprovable"
    );

    // Two-variable Löbian handshake: a <-> □b, b <-> □a.
    let h = ModalSystem::new(
        vec!["a".into(), "b".into()],
        vec![
            Formula::provable(Formula::Atom(1)),
            Formula::provable(Formula::Atom(0)),
        ],
    );
    assert_eq!(h.solve().unwrap().values, vec![true, true]);

    // a <-> □¬b, b <-> □¬a: both are □⊥-like, false from world 1.
    let x = ModalSystem::new(
        vec!["a".into(), "b".into()],
        vec![
            Formula::provable(Formula::not(Formula::Atom(1))),
            Formula::provable(Formula::not(Formula::Atom(0))),
        ],
    );
    let s = x.solve().unwrap();
    assert_eq!(s.worlds[0], vec![true, true]);
    assert_eq!(s.values, vec![false, false]);
}

#[test]
fn user_agents_from_text() {
    let mut r = Roster::classic();
    let added = r
        .extend_from_text(
            "# a comment line\n\
             \n\
             Copycat = box them(me)   # FairBot's source under another name\n\
             Sucker = CooperateBot(them) | !them(me)\n\
             Detective = box (them(me) & !them(CooperateBot)) -> true\n\
             Ahead = box Later(them)\n\
             Later = true\n",
        )
        .unwrap();
    assert_eq!(added, ["Copycat", "Sucker", "Detective", "Ahead", "Later"]);
    assert_eq!(moves(&r, "Copycat", "FairBot"), (C, C));
    assert_eq!(moves(&r, "Copycat", "DefectBot"), (D, D));
    // Sucker cooperates with everyone (CooperateBot(them) is true); an unboxed mention of its
    // opponent is fine when the opponent does not look back unboxed.
    assert_eq!(moves(&r, "Sucker", "DefectBot"), (C, D));
    assert_eq!(moves(&r, "Ahead", "DefectBot"), (C, D));
    // CliqueBot compares formulas: a renamed copy of CliqueBot is in the clique.
    r.extend_from_text("Clique2 = same_source").unwrap();
    assert_eq!(moves(&r, "CliqueBot", "Clique2"), (C, C));
}

#[test]
fn unguarded_self_reference_is_reported() {
    let mut r = Roster::classic();
    r.extend_from_text("Mirror = them(me)").unwrap();
    assert_eq!(moves(&r, "Mirror", "CooperateBot"), (C, C));
    match r.matchup("Mirror", "Mirror") {
        Err(ModalError::Unguarded(name)) => assert_eq!(name, "Mirror(Mirror)"),
        other => panic!("expected an unguarded cycle, got {other:?}"),
    }
}

fn parse_error(text: &str) -> (usize, usize, String) {
    let e = Roster::classic().extend_from_text(text).unwrap_err();
    (e.line, e.column, e.message)
}

#[test]
fn parse_errors_name_line_and_column() {
    let (l, c, m) = parse_error("Good = true\nBad = box them(me) &\n");
    assert_eq!((l, c), (2, 21), "{m}");
    assert!(m.contains("expected a formula"), "{m}");

    let (l, c, m) = parse_error("X = box them(Nobody)");
    assert_eq!((l, c), (1, 14));
    assert_eq!(m, "unknown agent 'Nobody'");

    let (l, c, m) = parse_error("\n\nFairBot = true");
    assert_eq!((l, c), (3, 1));
    assert!(m.contains("already defined"), "{m}");

    let (l, c, m) = parse_error("Y = them(me) $ true");
    assert_eq!((l, c), (1, 14));
    assert!(m.contains("unexpected character '$'"), "{m}");

    let (l, c, m) = parse_error("Z = them me");
    assert_eq!((l, c), (1, 10));
    assert!(m.contains("'('"), "{m}");

    let (l, c, m) = parse_error("W true");
    assert_eq!((l, c), (1, 3));
    assert!(m.contains("'='"), "{m}");

    let (l, c, _) = parse_error("box = true");
    assert_eq!((l, c), (1, 1));

    // Columns count characters, not bytes.
    let (l, c, _) = parse_error("V = □ (them(me) ∧ )");
    assert_eq!((l, c), (1, 19));
}

// ---------------------------------------------------------------------------------------------
// Properties

fn arb_agent_formula() -> impl Strategy<Value = Formula<AgentAtom>> {
    let party = prop_oneof![
        Just(Party::Me),
        Just(Party::Them),
        Just(Party::Agent("DefectBot".into())),
        Just(Party::Agent("FairBot".into())),
    ];
    let atom = prop_oneof![
        Just(Formula::True),
        Just(Formula::False),
        Just(Formula::Atom(AgentAtom::SameSource)),
        (party.clone(), party).prop_map(|(player, opponent)| Formula::Atom(
            AgentAtom::Cooperates { player, opponent }
        )),
    ];
    atom.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(Formula::not),
            inner.clone().prop_map(Formula::provable),
            inner.clone().prop_map(Formula::consistent),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Formula::and(a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Formula::or(a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Formula::implies(a, b)),
            (inner.clone(), inner).prop_map(|(a, b)| Formula::iff(a, b)),
        ]
    })
}

/// A formula over `n` variables in which every variable sits under a box or diamond.
fn arb_modalized(n: usize) -> impl Strategy<Value = Formula<usize>> {
    let leaf = prop_oneof![Just(Formula::True), Just(Formula::False)];
    let var = (0..n).prop_map(Formula::Atom);
    let boxed = prop_oneof![
        var.clone().prop_map(Formula::provable),
        var.clone().prop_map(|v| Formula::provable(Formula::not(v))),
        var.prop_map(Formula::consistent),
    ];
    prop_oneof![leaf, boxed].prop_recursive(3, 16, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(Formula::not),
            inner.clone().prop_map(Formula::provable),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Formula::and(a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Formula::or(a, b)),
            (inner.clone(), inner).prop_map(|(a, b)| Formula::iff(a, b)),
        ]
    })
}

/// Truth of `f` at world `n`, straight from the Kripke semantics (no shortcuts), with variable
/// values given per world.
fn truth(f: &Formula<usize>, n: usize, vars: &[Vec<bool>]) -> bool {
    match f {
        Formula::True => true,
        Formula::False => false,
        Formula::Atom(v) => vars[n][*v],
        Formula::Not(a) => !truth(a, n, vars),
        Formula::And(a, b) => truth(a, n, vars) && truth(b, n, vars),
        Formula::Or(a, b) => truth(a, n, vars) || truth(b, n, vars),
        Formula::Implies(a, b) => !truth(a, n, vars) || truth(b, n, vars),
        Formula::Iff(a, b) => truth(a, n, vars) == truth(b, n, vars),
        Formula::Provable(a) => (0..n).all(|m| truth(a, m, vars)),
        Formula::Consistent(a) => (0..n).any(|m| truth(a, m, vars)),
    }
}

proptest! {
    #[test]
    fn formulas_print_and_parse_back(f in arb_agent_formula()) {
        prop_assert_eq!(parse_formula(&f.to_string()).unwrap(), f);
    }

    /// The stopping rule (stable for 1 + depth worlds) gives the value every later world has.
    #[test]
    fn stable_values_last_forever(formulas in prop::collection::vec(arb_modalized(3), 3)) {
        let system = ModalSystem::new(vec!["a".into(), "b".into(), "c".into()], formulas.clone());
        let solution = system.solve().unwrap();
        let horizon = solution.worlds.len() + 12;
        let mut vars: Vec<Vec<bool>> = Vec::new();
        for n in 0..horizon {
            // Modalized: world n only reads worlds below n, so placeholders at n are never read.
            vars.push(vec![false; 3]);
            let row: Vec<bool> = formulas.iter().map(|f| truth(f, n, &vars)).collect();
            vars[n] = row;
        }
        for (n, row) in vars.iter().enumerate() {
            if n < solution.worlds.len() {
                prop_assert_eq!(row, &solution.worlds[n]);
            } else {
                prop_assert_eq!(row, &solution.values);
            }
        }
    }
}

#[test]
fn formulas_too_deep_or_too_long_are_refused_with_their_place() {
    let nests = |text: &str| {
        let err = parse_formula(text).unwrap_err();
        assert!(err.message.contains("nests deeper"), "{err}");
        err.column
    };
    assert_eq!(nests(&format!("{}them(me)", "!".repeat(300))), 202);
    nests(&format!("{}them(me){}", "(".repeat(300), ")".repeat(300)));
    nests(&vec!["them(me)"; 300].join(" -> "));
    // Past the token limit the place named is where the excess starts.
    let err = parse_formula(&format!("{}them(me)", "!".repeat(10_000))).unwrap_err();
    assert_eq!((err.line, err.column), (1, 4_001), "{err}");
    let err = parse_formula(&vec!["them(me)"; 200_000].join(" & ")).unwrap_err();
    assert!(err.message.contains("longer than"), "{err}");
    // Within the limits, long formulas still parse.
    assert!(parse_formula(&format!("{}them(me)", "!".repeat(150))).is_ok());
    assert!(parse_formula(&vec!["them(me)"; 500].join(" & ")).is_ok());
}

proptest::proptest! {
    /// FairBot_k against FairBot_m: symmetric, and once FairBot_k cooperates with itself, so does
    /// every larger bound written with as many digits.
    #[test]
    fn bounded_fairbots_are_symmetric_and_monotone_within_a_digit_count(
        k in 0u64..100_000,
        m in 0u64..100_000,
        overhead in 0.0f64..500.0,
        per_digit in 0.0f64..50.0,
    ) {
        let p = cruxlab_games::bounded::ProofLengths { overhead, per_digit };
        proptest::prop_assert_eq!(p.fairbots_cooperate(k, m), p.fairbots_cooperate(m, k));
        let digits = cruxlab_games::bounded::digits;
        if p.fairbots_cooperate(k, k) && m >= k && digits(m) == digits(k) {
            proptest::prop_assert!(p.fairbots_cooperate(m, m));
        }
    }

    /// Provable rewrites never change how two perturbed FairBots or PrudentBots play each other
    /// (both cooperate), whatever the rewrites.
    #[test]
    fn provable_rewrites_keep_loebian_cooperation(
        seed in proptest::prelude::any::<u64>(),
        a in 0u64..4,
        b in 0u64..4,
        prudent in proptest::prelude::any::<bool>(),
    ) {
        use rand::SeedableRng;
        let roster = cruxlab_games::Roster::classic();
        let name = if prudent { "PrudentBot" } else { "FairBot" };
        let base = roster.get(name).unwrap().formula.clone();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let x = cruxlab_games::divergence::perturb(&base, a, 0.0, &mut rng);
        let y = cruxlab_games::divergence::perturb(&base, b, 0.0, &mut rng);
        let m = cruxlab_games::divergence::divergent_match(&roster, name, [x, y]).unwrap();
        proptest::prop_assert!(m.row_cooperates && m.column_cooperates);
    }
}
