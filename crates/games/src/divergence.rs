//! Syntactic divergence of modal agents: copies of one agent whose source tuning has perturbed.
//!
//! Barasz, LaVictoire et al. (2014) contrast CliqueBot, which cooperates only with an exact copy
//! of its own source, with FairBot and PrudentBot, which cooperate with whatever they can *prove*
//! cooperates with them and so with any opponent that is provably equivalent. Here each copy of an
//! agent receives a number of random rewrites of its formula, each wrapping one subformula φ
//! (chosen uniformly in preorder) in one of:
//!
//! * a **provable** rewrite, one that PA proves equivalent to φ: `φ & true`, `true & φ`,
//!   `φ | false` or `!!φ`;
//! * an **unprovable** rewrite, `φ & !box false` ("φ, and PA is consistent"): true in the standard
//!   model, so the copy's intended behaviour is unchanged, but PA cannot prove the extra conjunct,
//!   so the rewrite is *not* provably equivalent.
//!
//! [`perturb`] applies the rewrites; [`divergent_match`] plays two independently perturbed copies
//! of one roster agent by the modal fixed point. The number of rewrites a copy receives is drawn
//! by the caller (the experiment uses a Poisson count whose mean grows with the divergence σ).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::modal::{AgentAtom, Formula, Matchup, ModalAgent, ModalError, Roster};

/// The kinds of rewrite, in the order [`perturb`] draws them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rewrite {
    AndTrue,
    TrueAnd,
    OrFalse,
    DoubleNegation,
    /// `φ & !box false`: not provably equivalent.
    AndConsistency,
}

impl Rewrite {
    /// Whether PA proves the rewritten formula equivalent to the original.
    pub fn provable(self) -> bool {
        self != Rewrite::AndConsistency
    }

    fn apply(self, f: Formula<AgentAtom>) -> Formula<AgentAtom> {
        match self {
            Rewrite::AndTrue => Formula::and(f, Formula::True),
            Rewrite::TrueAnd => Formula::and(Formula::True, f),
            Rewrite::OrFalse => Formula::or(f, Formula::False),
            Rewrite::DoubleNegation => Formula::not(Formula::not(f)),
            Rewrite::AndConsistency => {
                Formula::and(f, Formula::not(Formula::provable(Formula::False)))
            }
        }
    }
}

/// The number of subformulas (nodes) of `f`.
pub fn size<A>(f: &Formula<A>) -> usize {
    match f {
        Formula::True | Formula::False | Formula::Atom(_) => 1,
        Formula::Not(x) | Formula::Provable(x) | Formula::Consistent(x) => 1 + size(x),
        Formula::And(a, b) | Formula::Or(a, b) | Formula::Implies(a, b) | Formula::Iff(a, b) => {
            1 + size(a) + size(b)
        }
    }
}

/// `f` with the subformula at preorder index `site` replaced by `rewrite` of it.
pub fn rewrite_at(f: &Formula<AgentAtom>, site: usize, rewrite: Rewrite) -> Formula<AgentAtom> {
    fn go(f: &Formula<AgentAtom>, site: &mut usize, rewrite: Rewrite) -> Formula<AgentAtom> {
        if *site == 0 {
            *site = usize::MAX;
            return rewrite.apply(f.clone());
        }
        if *site != usize::MAX {
            *site -= 1;
        }
        match f {
            Formula::True | Formula::False | Formula::Atom(_) => f.clone(),
            Formula::Not(x) => Formula::not(go(x, site, rewrite)),
            Formula::Provable(x) => Formula::provable(go(x, site, rewrite)),
            Formula::Consistent(x) => Formula::consistent(go(x, site, rewrite)),
            Formula::And(a, b) => {
                let a = go(a, site, rewrite);
                Formula::and(a, go(b, site, rewrite))
            }
            Formula::Or(a, b) => {
                let a = go(a, site, rewrite);
                Formula::or(a, go(b, site, rewrite))
            }
            Formula::Implies(a, b) => {
                let a = go(a, site, rewrite);
                Formula::implies(a, go(b, site, rewrite))
            }
            Formula::Iff(a, b) => {
                let a = go(a, site, rewrite);
                Formula::iff(a, go(b, site, rewrite))
            }
        }
    }
    let mut site = site;
    go(f, &mut site, rewrite)
}

/// Apply `rewrites` random rewrites to `f`: each picks a site uniformly among the current
/// formula's subformulas, and is unprovable with probability `unprovable_share`, else one of the
/// four provable kinds uniformly.
pub fn perturb(
    f: &Formula<AgentAtom>,
    rewrites: u64,
    unprovable_share: f64,
    rng: &mut ChaCha8Rng,
) -> Formula<AgentAtom> {
    let provable = [
        Rewrite::AndTrue,
        Rewrite::TrueAnd,
        Rewrite::OrFalse,
        Rewrite::DoubleNegation,
    ];
    let mut out = f.clone();
    for _ in 0..rewrites {
        let site = rng.random_range(0..size(&out));
        let kind = if rng.random::<f64>() < unprovable_share {
            Rewrite::AndConsistency
        } else {
            provable[rng.random_range(0..provable.len())]
        };
        out = rewrite_at(&out, site, kind);
    }
    out
}

/// Play two copies of the roster agent `agent` whose formulas are `formulas` (each a perturbation
/// of the agent's own), named `agent#0` and `agent#1`, against each other.
pub fn divergent_match(
    roster: &Roster,
    agent: &str,
    formulas: [Formula<AgentAtom>; 2],
) -> Result<Matchup, ModalError> {
    if roster.get(agent).is_none() {
        return Err(ModalError::UnknownAgent(agent.to_owned()));
    }
    let mut roster = roster.clone();
    let names = [format!("{agent}#0"), format!("{agent}#1")];
    for (name, formula) in names.iter().zip(formulas) {
        roster.push(ModalAgent {
            name: name.clone(),
            formula,
        })?;
    }
    roster.matchup(&names[0], &names[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modal::parse_formula;
    use rand::SeedableRng;

    fn formula(text: &str) -> Formula<AgentAtom> {
        parse_formula(text).unwrap()
    }

    #[test]
    fn rewrites_wrap_the_chosen_site() {
        let fair = formula("box them(me)");
        assert_eq!(size(&fair), 2);
        assert_eq!(
            rewrite_at(&fair, 0, Rewrite::AndTrue),
            formula("box them(me) & true")
        );
        assert_eq!(
            rewrite_at(&fair, 1, Rewrite::DoubleNegation),
            formula("box !!them(me)")
        );
        assert_eq!(
            rewrite_at(&fair, 1, Rewrite::AndConsistency),
            formula("box (them(me) & !box false)")
        );
    }

    #[test]
    fn provably_equivalent_fairbots_cooperate_and_cliquebots_do_not() {
        let roster = Roster::classic();
        let fair = formula("box them(me)");
        let m = divergent_match(
            &roster,
            "FairBot",
            [fair.clone(), rewrite_at(&fair, 0, Rewrite::OrFalse)],
        )
        .unwrap();
        assert!(m.row_cooperates && m.column_cooperates);
        let clique = formula("same_source");
        let m = divergent_match(
            &roster,
            "CliqueBot",
            [clique.clone(), rewrite_at(&clique, 0, Rewrite::AndTrue)],
        )
        .unwrap();
        assert!(!m.row_cooperates && !m.column_cooperates);
        let m = divergent_match(&roster, "CliqueBot", [clique.clone(), clique]).unwrap();
        assert!(m.row_cooperates && m.column_cooperates);
    }

    /// By hand: X = box Y & !box false, Y = box X. World 0: X = T & F = F, Y = T. World 1: box Y
    /// holds (Y at 0), !box false holds (false fails at 0), so X = T; box X fails (X at 0 is F),
    /// Y = F. World 2 on: box Y fails (Y at 1), so X = F, and Y = F. Mutual defection.
    #[test]
    fn an_unprovable_conjunct_breaks_loebian_cooperation() {
        let roster = Roster::classic();
        let fair = formula("box them(me)");
        let m = divergent_match(
            &roster,
            "FairBot",
            [rewrite_at(&fair, 0, Rewrite::AndConsistency), fair],
        )
        .unwrap();
        assert!(!m.row_cooperates && !m.column_cooperates);
    }

    #[test]
    fn perturbation_is_deterministic_and_counts_rewrites() {
        let fair = formula("box them(me)");
        let mut a = ChaCha8Rng::seed_from_u64(3);
        let mut b = ChaCha8Rng::seed_from_u64(3);
        let x = perturb(&fair, 4, 0.0, &mut a);
        assert_eq!(x, perturb(&fair, 4, 0.0, &mut b));
        assert!(size(&x) >= size(&fair) + 4);
        assert_eq!(perturb(&fair, 0, 1.0, &mut a), fair);
    }
}
