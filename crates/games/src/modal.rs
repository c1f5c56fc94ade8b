//! Modal agents: open-source prisoner's dilemma players decided by provability logic.
//!
//! A modal agent (Barasz, LaVictoire et al. 2014, "Robust cooperation in the prisoner's dilemma:
//! program equilibrium via provability logic") is a formula of Gödel-Löb provability logic (GL)
//! whose truth value says "I cooperate". Its atoms are statements of the form "agent X cooperates
//! against agent Y", where X and Y are the agent itself (`me`), its opponent (`them`) or a named
//! agent (`DefectBot`); `□φ` reads "φ is provable (in PA)". CliqueBot's atom `same_source` compares
//! the two agents' source (their formulas) syntactically.
//!
//! A match between two agents becomes a [`ModalSystem`]: one variable per ordered pair of agents the
//! formulas mention, each defined by its agent's formula. Every self-reference is guarded by a box
//! in the classic agents, so the system has a unique fixed point, and its truth in the standard
//! model is computed on the linear Kripke frame of GL: worlds 0, 1, 2, ...; `□φ` holds at world `n`
//! iff `φ` holds at every world `m < n` (vacuously at world 0). Worlds are evaluated in order until
//! every variable has kept its value for `1 + d` consecutive worlds, `d` the largest modal depth of
//! the system's formulas; from then on nothing can change (induction on depth), and that stable
//! value is the outcome. FairBot against DefectBot cooperates at world 0 (where everything is
//! provable) and defects from world 1 on: its outcome is defection.
//!
//! Agents can be written in a small text syntax, one per line (`#` starts a comment):
//!
//! ```text
//! # name = formula
//! MyFairBot  = box them(me)
//! Skeptic    = box them(me) & box (!box false -> !them(DefectBot))
//! Paranoid   = [] (them(me) & !them(CooperateBot))
//! ```
//!
//! Connectives, loosest first: `<->`, `->` (right-associative), `|`, `&`, then the prefixes `!` (or
//! `not`), `box` (or `[]`, `□`) and `dia` (or `<>`, `◇`; `dia φ` is `!box !φ`). Atoms: `true`,
//! `false`, `same_source`, and `X(Y)` with `X`, `Y` among `me`, `them` and agent names. Parse errors
//! name the line and column.
//!
//! ```
//! use cruxlab_games::modal::Roster;
//! let roster = Roster::classic();
//! let m = roster.matchup("FairBot", "DefectBot").unwrap();
//! assert!(!m.row_cooperates && !m.column_cooperates);
//! let m = roster.matchup("PrudentBot", "FairBot").unwrap();
//! assert!(m.row_cooperates && m.column_cooperates);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::game::PrisonersDilemma;

/// A formula of propositional provability logic over atoms of type `A`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Formula<A> {
    True,
    False,
    Atom(A),
    Not(Box<Formula<A>>),
    And(Box<Formula<A>>, Box<Formula<A>>),
    Or(Box<Formula<A>>, Box<Formula<A>>),
    Implies(Box<Formula<A>>, Box<Formula<A>>),
    Iff(Box<Formula<A>>, Box<Formula<A>>),
    /// `□φ`: φ is provable.
    Provable(Box<Formula<A>>),
    /// `◇φ = ¬□¬φ`: φ is consistent.
    Consistent(Box<Formula<A>>),
}

impl<A> Formula<A> {
    pub fn atom(a: A) -> Self {
        Formula::Atom(a)
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(f: Formula<A>) -> Self {
        Formula::Not(Box::new(f))
    }

    pub fn and(a: Formula<A>, b: Formula<A>) -> Self {
        Formula::And(Box::new(a), Box::new(b))
    }

    pub fn or(a: Formula<A>, b: Formula<A>) -> Self {
        Formula::Or(Box::new(a), Box::new(b))
    }

    pub fn implies(a: Formula<A>, b: Formula<A>) -> Self {
        Formula::Implies(Box::new(a), Box::new(b))
    }

    pub fn iff(a: Formula<A>, b: Formula<A>) -> Self {
        Formula::Iff(Box::new(a), Box::new(b))
    }

    pub fn provable(f: Formula<A>) -> Self {
        Formula::Provable(Box::new(f))
    }

    pub fn consistent(f: Formula<A>) -> Self {
        Formula::Consistent(Box::new(f))
    }

    /// The modal depth: the largest number of nested boxes (or diamonds).
    pub fn depth(&self) -> usize {
        match self {
            Formula::True | Formula::False | Formula::Atom(_) => 0,
            Formula::Not(f) => f.depth(),
            Formula::And(a, b)
            | Formula::Or(a, b)
            | Formula::Implies(a, b)
            | Formula::Iff(a, b) => a.depth().max(b.depth()),
            Formula::Provable(f) | Formula::Consistent(f) => 1 + f.depth(),
        }
    }

    /// The same formula with every atom replaced by `f(atom)`.
    pub fn map_atoms<B>(&self, f: &mut impl FnMut(&A) -> Formula<B>) -> Formula<B> {
        match self {
            Formula::True => Formula::True,
            Formula::False => Formula::False,
            Formula::Atom(a) => f(a),
            Formula::Not(x) => Formula::not(x.map_atoms(f)),
            Formula::And(a, b) => Formula::and(a.map_atoms(f), b.map_atoms(f)),
            Formula::Or(a, b) => Formula::or(a.map_atoms(f), b.map_atoms(f)),
            Formula::Implies(a, b) => Formula::implies(a.map_atoms(f), b.map_atoms(f)),
            Formula::Iff(a, b) => Formula::iff(a.map_atoms(f), b.map_atoms(f)),
            Formula::Provable(x) => Formula::provable(x.map_atoms(f)),
            Formula::Consistent(x) => Formula::consistent(x.map_atoms(f)),
        }
    }

    /// Every atom, left to right.
    pub fn atoms(&self) -> Vec<&A> {
        let mut out = Vec::new();
        self.collect_atoms(&mut out);
        out
    }

    fn collect_atoms<'a>(&'a self, out: &mut Vec<&'a A>) {
        match self {
            Formula::True | Formula::False => {}
            Formula::Atom(a) => out.push(a),
            Formula::Not(x) | Formula::Provable(x) | Formula::Consistent(x) => x.collect_atoms(out),
            Formula::And(a, b)
            | Formula::Or(a, b)
            | Formula::Implies(a, b)
            | Formula::Iff(a, b) => {
                a.collect_atoms(out);
                b.collect_atoms(out);
            }
        }
    }
}

/// Printing in the text syntax, fully parenthesised below the top level so that it parses back to
/// the same formula.
impl<A: fmt::Display> fmt::Display for Formula<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn inner<A: fmt::Display>(x: &Formula<A>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match x {
                Formula::And(..) | Formula::Or(..) | Formula::Implies(..) | Formula::Iff(..) => {
                    write!(f, "({x})")
                }
                _ => write!(f, "{x}"),
            }
        }
        match self {
            Formula::True => f.write_str("true"),
            Formula::False => f.write_str("false"),
            Formula::Atom(a) => write!(f, "{a}"),
            Formula::Not(x) => {
                f.write_str("!")?;
                inner(x, f)
            }
            Formula::Provable(x) => {
                f.write_str("box ")?;
                inner(x, f)
            }
            Formula::Consistent(x) => {
                f.write_str("dia ")?;
                inner(x, f)
            }
            Formula::And(a, b)
            | Formula::Or(a, b)
            | Formula::Implies(a, b)
            | Formula::Iff(a, b) => {
                let op = match self {
                    Formula::And(..) => "&",
                    Formula::Or(..) => "|",
                    Formula::Implies(..) => "->",
                    _ => "<->",
                };
                inner(a, f)?;
                write!(f, " {op} ")?;
                inner(b, f)
            }
        }
    }
}

/// Who an agent atom speaks about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    /// The agent whose formula this is.
    Me,
    /// Its opponent in the match.
    Them,
    /// A fixed agent of the roster, by name.
    Agent(String),
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Party::Me => f.write_str("me"),
            Party::Them => f.write_str("them"),
            Party::Agent(name) => f.write_str(name),
        }
    }
}

/// An atom of an agent's formula.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AgentAtom {
    /// `player(opponent)`: `player` cooperates when playing against `opponent`.
    Cooperates { player: Party, opponent: Party },
    /// The two agents of the match have the same source (identical formulas).
    SameSource,
}

impl fmt::Display for AgentAtom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentAtom::Cooperates { player, opponent } => write!(f, "{player}({opponent})"),
            AgentAtom::SameSource => f.write_str("same_source"),
        }
    }
}

/// A named modal agent: it cooperates iff its formula is true.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModalAgent {
    pub name: String,
    pub formula: Formula<AgentAtom>,
}

/// Why a modal system could not be solved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModalError {
    #[error(
        "'{0}' depends on itself outside any box: the system has no well-founded evaluation (guard the self-reference with box)"
    )]
    Unguarded(String),
    #[error("unknown agent '{0}'")]
    UnknownAgent(String),
    #[error("no stable value within {0} worlds")]
    NoFixedPoint(usize),
}

/// A system of modal equations `x_i <-> φ_i`, with variables as atoms (by index).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModalSystem {
    pub names: Vec<String>,
    pub formulas: Vec<Formula<usize>>,
}

/// The solution of a [`ModalSystem`] on the linear GL Kripke frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedPoint {
    /// The stable value of each variable.
    pub values: Vec<bool>,
    /// `worlds[n][i]`: variable `i` at world `n`, for every world evaluated.
    pub worlds: Vec<Vec<bool>>,
    /// The largest modal depth of the system's formulas.
    pub depth: usize,
}

impl FixedPoint {
    /// The first world from which variable `i` keeps its stable value.
    pub fn stable_from(&self, i: usize) -> usize {
        let v = self.values[i];
        let mut n = self.worlds.len();
        while n > 0 && self.worlds[n - 1][i] == v {
            n -= 1;
        }
        n
    }
}

/// A node of the flattened system: subformulas by index into the node list.
#[derive(Clone, Copy, Debug)]
enum Node {
    True,
    False,
    Var(usize),
    Not(usize),
    And(usize, usize),
    Or(usize, usize),
    Implies(usize, usize),
    Iff(usize, usize),
    Provable(usize),
    Consistent(usize),
}

/// The most worlds [`ModalSystem::solve`] evaluates before giving up (never reached by guarded
/// systems of any reasonable size).
pub const MAX_WORLDS: usize = 10_000;

impl ModalSystem {
    pub fn new(names: Vec<String>, formulas: Vec<Formula<usize>>) -> Self {
        assert_eq!(names.len(), formulas.len(), "one name per formula");
        ModalSystem { names, formulas }
    }

    /// The largest modal depth of the system's formulas.
    pub fn depth(&self) -> usize {
        self.formulas.iter().map(Formula::depth).max().unwrap_or(0)
    }

    fn flatten(&self) -> (Vec<Node>, Vec<usize>) {
        fn push(f: &Formula<usize>, nodes: &mut Vec<Node>) -> usize {
            let node = match f {
                Formula::True => Node::True,
                Formula::False => Node::False,
                Formula::Atom(v) => Node::Var(*v),
                Formula::Not(x) => Node::Not(push(x, nodes)),
                Formula::And(a, b) => Node::And(push(a, nodes), push(b, nodes)),
                Formula::Or(a, b) => Node::Or(push(a, nodes), push(b, nodes)),
                Formula::Implies(a, b) => Node::Implies(push(a, nodes), push(b, nodes)),
                Formula::Iff(a, b) => Node::Iff(push(a, nodes), push(b, nodes)),
                Formula::Provable(x) => Node::Provable(push(x, nodes)),
                Formula::Consistent(x) => Node::Consistent(push(x, nodes)),
            };
            nodes.push(node);
            nodes.len() - 1
        }
        let mut nodes = Vec::new();
        let roots = self.formulas.iter().map(|f| push(f, &mut nodes)).collect();
        (nodes, roots)
    }

    /// Evaluate world by world on the linear GL frame until every variable has been stable for
    /// `1 + depth` worlds; the stable values are the fixed point's truth in the standard model.
    pub fn solve(&self) -> Result<FixedPoint, ModalError> {
        for f in &self.formulas {
            if let Some(v) = f.atoms().into_iter().find(|&&v| v >= self.formulas.len()) {
                panic!(
                    "variable {v} out of range in a system of {}",
                    self.formulas.len()
                );
            }
        }
        let (nodes, roots) = self.flatten();
        let depth = self.depth();
        let mut worlds: Vec<Vec<bool>> = Vec::new();
        let mut previous: Option<Vec<bool>> = None;
        for n in 0..MAX_WORLDS {
            let mut world = World {
                nodes: &nodes,
                roots: &roots,
                previous: previous.as_deref(),
                values: vec![None; nodes.len()],
                visiting: vec![false; roots.len()],
            };
            for i in 0..nodes.len() {
                world
                    .eval(i)
                    .map_err(|v| ModalError::Unguarded(self.names[v].clone()))?;
            }
            let values: Vec<bool> = world.values.iter().map(|v| v.expect("evaluated")).collect();
            worlds.push(roots.iter().map(|&r| values[r]).collect());
            previous = Some(values);
            if n >= depth {
                let last = &worlds[n];
                if worlds[n - depth..n].iter().all(|w| w == last) {
                    return Ok(FixedPoint {
                        values: last.clone(),
                        worlds,
                        depth,
                    });
                }
            }
        }
        Err(ModalError::NoFixedPoint(MAX_WORLDS))
    }
}

/// One world's evaluation: node values memoised, boxes read from the previous world.
struct World<'a> {
    nodes: &'a [Node],
    roots: &'a [usize],
    previous: Option<&'a [bool]>,
    values: Vec<Option<bool>>,
    visiting: Vec<bool>,
}

impl World<'_> {
    /// The value of node `i` at this world; `Err(v)` if variable `v` depends on itself unboxed.
    fn eval(&mut self, i: usize) -> Result<bool, usize> {
        if let Some(v) = self.values[i] {
            return Ok(v);
        }
        let value = match self.nodes[i] {
            Node::True => true,
            Node::False => false,
            Node::Var(v) => {
                if self.visiting[v] {
                    return Err(v);
                }
                self.visiting[v] = true;
                let value = self.eval(self.roots[v])?;
                self.visiting[v] = false;
                value
            }
            Node::Not(a) => !self.eval(a)?,
            Node::And(a, b) => {
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                x && y
            }
            Node::Or(a, b) => {
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                x || y
            }
            Node::Implies(a, b) => {
                let x = self.eval(a)?;
                let y = self.eval(b)?;
                !x || y
            }
            Node::Iff(a, b) => self.eval(a)? == self.eval(b)?,
            // □φ at n: φ at every world below n, i.e. □φ and φ at n - 1 (true at world 0).
            Node::Provable(a) => self.previous.is_none_or(|p| p[i] && p[a]),
            // ◇φ at n: φ at some world below n (false at world 0).
            Node::Consistent(a) => self.previous.is_some_and(|p| p[i] || p[a]),
        };
        self.values[i] = Some(value);
        Ok(value)
    }
}

/// The outcome of one match between two modal agents.
#[derive(Clone, Debug, PartialEq)]
pub struct Matchup {
    pub row: String,
    pub column: String,
    pub row_cooperates: bool,
    pub column_cooperates: bool,
    pub row_payoff: f64,
    pub column_payoff: f64,
    /// The world from which both moves kept their stable values.
    pub stable_from: usize,
    /// The world at which evaluation stopped (stable for `1 + depth` worlds).
    pub worlds_evaluated: usize,
}

/// A roster of named modal agents that can play each other; user agents may refer to any agent of
/// the roster by name.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    agents: Vec<ModalAgent>,
    payoffs: PrisonersDilemma,
}

/// The classic agents in the text syntax.
const CLASSIC: &str = "\
CooperateBot = true
DefectBot    = false
FairBot      = box them(me)
PrudentBot   = box them(me) & box (!box false -> !them(DefectBot))
TrollBot     = box them(DefectBot)
CliqueBot    = same_source
";

/// Names that cannot be agent names.
const KEYWORDS: &[&str] = &[
    "me",
    "them",
    "true",
    "false",
    "box",
    "dia",
    "not",
    "same_source",
];

impl Roster {
    /// An empty roster with the standard prisoner's dilemma payoffs.
    pub fn new() -> Self {
        Roster::default()
    }

    /// CooperateBot, DefectBot, FairBot, PrudentBot, TrollBot and CliqueBot:
    ///
    /// - CooperateBot `true`, DefectBot `false`;
    /// - FairBot `□ them(me)`: cooperates iff it can prove its opponent cooperates with it;
    /// - PrudentBot `□ them(me) ∧ □(¬□⊥ → ¬them(DefectBot))`: as FairBot, and also needs a proof
    ///   (in PA + Con(PA)) that the opponent defects against DefectBot;
    /// - TrollBot `□ them(DefectBot)`: cooperates iff it can prove its opponent cooperates with
    ///   DefectBot;
    /// - CliqueBot `same_source`: cooperates iff the opponent's source is identical to its own.
    pub fn classic() -> Self {
        let mut roster = Roster::new();
        roster
            .extend_from_text(CLASSIC)
            .expect("the classic agents parse");
        roster
    }

    pub fn with_payoffs(mut self, payoffs: PrisonersDilemma) -> Self {
        self.payoffs = payoffs;
        self
    }

    pub fn payoffs(&self) -> PrisonersDilemma {
        self.payoffs
    }

    pub fn agents(&self) -> &[ModalAgent] {
        &self.agents
    }

    pub fn names(&self) -> Vec<&str> {
        self.agents.iter().map(|a| a.name.as_str()).collect()
    }

    pub fn get(&self, name: &str) -> Option<&ModalAgent> {
        self.agents.iter().find(|a| a.name == name)
    }

    /// Add an agent whose formula mentions only agents already in the roster (or itself).
    pub fn push(&mut self, agent: ModalAgent) -> Result<(), ModalError> {
        for atom in agent.formula.atoms() {
            if let AgentAtom::Cooperates { player, opponent } = atom {
                for p in [player, opponent] {
                    if let Party::Agent(name) = p
                        && *name != agent.name
                        && self.get(name).is_none()
                    {
                        return Err(ModalError::UnknownAgent(name.clone()));
                    }
                }
            }
        }
        self.agents.push(agent);
        Ok(())
    }

    /// Parse agent definitions (see the module doc for the syntax) and add them. Names must be new;
    /// formulas may mention agents defined anywhere in the text or already in the roster. On error
    /// nothing is added.
    pub fn extend_from_text(&mut self, text: &str) -> Result<Vec<String>, ParseError> {
        let mut parsed: Vec<(ModalAgent, Vec<Reference>)> = Vec::new();
        let mut defined: HashMap<String, usize> = HashMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = match raw.find('#') {
                Some(k) => &raw[..k],
                None => raw,
            };
            let tokens = tokenize(content, line)?;
            if tokens.is_empty() {
                continue;
            }
            check_size(&tokens, line)?;
            let mut parser = Parser {
                tokens: &tokens,
                pos: 0,
                depth: 0,
                line,
                end_column: content.chars().count() + 1,
                references: Vec::new(),
            };
            let (name, column) = match parser.next() {
                Some((Token::Ident(name), column)) => (name.clone(), column),
                Some((token, column)) => {
                    return Err(ParseError::new(
                        line,
                        column,
                        format!("expected an agent name, found {}", token.describe()),
                    ));
                }
                None => unreachable!("tokens are not empty"),
            };
            if KEYWORDS.contains(&name.as_str()) {
                return Err(ParseError::new(
                    line,
                    column,
                    format!("'{name}' is a keyword and cannot name an agent"),
                ));
            }
            if self.get(&name).is_some() || defined.contains_key(&name) {
                return Err(ParseError::new(
                    line,
                    column,
                    format!("agent '{name}' is already defined"),
                ));
            }
            parser.expect(&Token::Equals, "'=' after the agent name")?;
            let formula = parser.formula()?;
            if let Some((token, column)) = parser.next() {
                return Err(ParseError::new(
                    line,
                    column,
                    format!(
                        "unexpected {} after the end of the formula",
                        token.describe()
                    ),
                ));
            }
            defined.insert(name.clone(), parsed.len());
            let references = std::mem::take(&mut parser.references);
            parsed.push((ModalAgent { name, formula }, references));
        }
        for (_, references) in &parsed {
            for (name, line, column) in references {
                if self.get(name).is_none() && !defined.contains_key(name) {
                    return Err(ParseError::new(
                        *line,
                        *column,
                        format!("unknown agent '{name}'"),
                    ));
                }
            }
        }
        let names = parsed.iter().map(|(a, _)| a.name.clone()).collect();
        self.agents.extend(parsed.into_iter().map(|(a, _)| a));
        Ok(names)
    }

    /// The formula of `agent` with `me` and `them` replaced by concrete names.
    fn instantiate(
        &self,
        agent: &ModalAgent,
        opponent: &ModalAgent,
    ) -> Formula<Result<(String, String), bool>> {
        let resolve = |p: &Party| match p {
            Party::Me => agent.name.clone(),
            Party::Them => opponent.name.clone(),
            Party::Agent(name) => name.clone(),
        };
        agent.formula.map_atoms(&mut |atom| match atom {
            AgentAtom::Cooperates { player, opponent } => {
                Formula::Atom(Ok((resolve(player), resolve(opponent))))
            }
            AgentAtom::SameSource => Formula::Atom(Err(agent.formula == opponent.formula)),
        })
    }

    /// The modal system of a match: one variable per ordered pair of agents reachable from
    /// `(row, column)` and `(column, row)`, and the indices of those two variables (the same one
    /// when an agent plays itself).
    pub fn system(&self, row: &str, column: &str) -> Result<(ModalSystem, [usize; 2]), ModalError> {
        let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut formulas: Vec<Formula<usize>> = Vec::new();
        let mut intern = |pair: (String, String), pairs: &mut Vec<(String, String)>| -> usize {
            *index.entry(pair.clone()).or_insert_with(|| {
                pairs.push(pair);
                pairs.len() - 1
            })
        };
        let players = [
            intern((row.to_owned(), column.to_owned()), &mut pairs),
            intern((column.to_owned(), row.to_owned()), &mut pairs),
        ];
        let mut next = 0;
        while next < pairs.len() {
            let (x, y) = pairs[next].clone();
            let agent = self
                .get(&x)
                .ok_or_else(|| ModalError::UnknownAgent(x.clone()))?;
            let opponent = self
                .get(&y)
                .ok_or_else(|| ModalError::UnknownAgent(y.clone()))?;
            let instantiated = self.instantiate(agent, opponent);
            let formula = instantiated.map_atoms(&mut |atom| match atom {
                Ok(pair) => Formula::Atom(intern(pair.clone(), &mut pairs)),
                Err(true) => Formula::True,
                Err(false) => Formula::False,
            });
            formulas.push(formula);
            next += 1;
        }
        let names = pairs.iter().map(|(x, y)| format!("{x}({y})")).collect();
        Ok((ModalSystem::new(names, formulas), players))
    }

    /// Play `row` against `column`.
    pub fn matchup(&self, row: &str, column: &str) -> Result<Matchup, ModalError> {
        let (system, [i, j]) = self.system(row, column)?;
        let solution = system.solve()?;
        let (r, c) = (solution.values[i], solution.values[j]);
        let (row_payoff, column_payoff) = self.payoffs.payoffs(r, c);
        Ok(Matchup {
            row: row.to_owned(),
            column: column.to_owned(),
            row_cooperates: r,
            column_cooperates: c,
            row_payoff,
            column_payoff,
            stable_from: solution.stable_from(i).max(solution.stable_from(j)),
            worlds_evaluated: solution.worlds.len(),
        })
    }

    /// Every ordered pair of the roster's agents, row-major.
    pub fn table(&self) -> Result<Vec<Matchup>, ModalError> {
        self.table_observed(|| ())
    }

    /// [`Roster::table`], calling `done` after each matchup (for a progress bar).
    pub fn table_observed(&self, mut done: impl FnMut()) -> Result<Vec<Matchup>, ModalError> {
        let names = self.names();
        let mut out = Vec::with_capacity(names.len() * names.len());
        for row in &names {
            for column in &names {
                out.push(self.matchup(row, column)?);
                done();
            }
        }
        Ok(out)
    }
}

/// A syntax error in an agent file, at a 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ParseError {
    fn new(line: usize, column: usize, message: String) -> Self {
        ParseError {
            line,
            column,
            message,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Ident(String),
    Equals,
    LParen,
    RParen,
    Not,
    And,
    Or,
    Implies,
    Iff,
    Box,
    Diamond,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("'{s}'"),
            Token::Equals => "'='".into(),
            Token::LParen => "'('".into(),
            Token::RParen => "')'".into(),
            Token::Not => "'!'".into(),
            Token::And => "'&'".into(),
            Token::Or => "'|'".into(),
            Token::Implies => "'->'".into(),
            Token::Iff => "'<->'".into(),
            Token::Box => "'box'".into(),
            Token::Diamond => "'dia'".into(),
        }
    }
}

fn tokenize(text: &str, line: usize) -> Result<Vec<(Token, usize)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let rest = |s: &str| chars[i..].iter().take(s.len()).copied().eq(s.chars());
        let (token, width) = if c.is_whitespace() {
            i += 1;
            continue;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let token = match word.as_str() {
                "box" => Token::Box,
                "dia" => Token::Diamond,
                "not" => Token::Not,
                _ => Token::Ident(word),
            };
            out.push((token, column));
            continue;
        } else if rest("<->") {
            (Token::Iff, 3)
        } else if rest("->") {
            (Token::Implies, 2)
        } else if rest("[]") {
            (Token::Box, 2)
        } else if rest("<>") {
            (Token::Diamond, 2)
        } else {
            let token = match c {
                '=' => Token::Equals,
                '(' => Token::LParen,
                ')' => Token::RParen,
                '!' | '~' | '¬' => Token::Not,
                '&' | '∧' => Token::And,
                '|' | '∨' => Token::Or,
                '→' => Token::Implies,
                '↔' => Token::Iff,
                '□' => Token::Box,
                '◇' => Token::Diamond,
                _ => {
                    return Err(ParseError::new(
                        line,
                        column,
                        format!("unexpected character '{c}'"),
                    ));
                }
            };
            (token, 1)
        };
        out.push((token, column));
        i += width;
    }
    Ok(out)
}

/// Refuse a line of more than [`MAX_FORMULA_TOKENS`] tokens, naming where the excess starts.
fn check_size(tokens: &[(Token, usize)], line: usize) -> Result<(), ParseError> {
    match tokens.get(MAX_FORMULA_TOKENS) {
        Some((_, column)) => Err(ParseError::new(
            line,
            *column,
            format!("the formula is longer than {MAX_FORMULA_TOKENS} tokens"),
        )),
        None => Ok(()),
    }
}

/// An agent name a formula mentions, with its line and column.
type Reference = (String, usize, usize);

/// The most tokens one formula (one line of an agent file) may hold, and the deepest nesting of
/// parentheses, negations, boxes, diamonds and implications: formulas are evaluated recursively,
/// so an unbounded one could overflow the stack. Real agents are tens of tokens deep at most.
pub const MAX_FORMULA_TOKENS: usize = 4_000;
pub const MAX_NESTING: usize = 200;

struct Parser<'a> {
    tokens: &'a [(Token, usize)],
    pos: usize,
    /// Current nesting (see [`MAX_NESTING`]).
    depth: usize,
    line: usize,
    end_column: usize,
    /// Agent names the formula mentions, with their positions (checked once the file is read).
    references: Vec<Reference>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn next(&mut self) -> Option<(&Token, usize)> {
        let item = self.tokens.get(self.pos).map(|(t, c)| (t, *c));
        self.pos += 1;
        item
    }

    fn column(&self) -> usize {
        self.tokens
            .get(self.pos)
            .map_or(self.end_column, |(_, c)| *c)
    }

    fn error<T>(&self, expected: &str) -> Result<T, ParseError> {
        let found = match self.peek() {
            Some(t) => t.describe(),
            None => "the end of the line".into(),
        };
        Err(ParseError::new(
            self.line,
            self.column(),
            format!("expected {expected}, found {found}"),
        ))
    }

    fn expect(&mut self, token: &Token, expected: &str) -> Result<(), ParseError> {
        if self.peek() == Some(token) {
            self.pos += 1;
            Ok(())
        } else {
            self.error(expected)
        }
    }

    /// Parse with `f` one level deeper, refusing nesting beyond [`MAX_NESTING`].
    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Formula<AgentAtom>, ParseError>,
    ) -> Result<Formula<AgentAtom>, ParseError> {
        if self.depth >= MAX_NESTING {
            return Err(ParseError::new(
                self.line,
                self.column(),
                format!("the formula nests deeper than {MAX_NESTING} levels"),
            ));
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn formula(&mut self) -> Result<Formula<AgentAtom>, ParseError> {
        let mut left = self.implication()?;
        while self.peek() == Some(&Token::Iff) {
            self.pos += 1;
            left = Formula::iff(left, self.implication()?);
        }
        Ok(left)
    }

    fn implication(&mut self) -> Result<Formula<AgentAtom>, ParseError> {
        let left = self.disjunction()?;
        if self.peek() == Some(&Token::Implies) {
            self.pos += 1;
            return Ok(Formula::implies(left, self.nested(Self::implication)?));
        }
        Ok(left)
    }

    fn disjunction(&mut self) -> Result<Formula<AgentAtom>, ParseError> {
        let mut left = self.conjunction()?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            left = Formula::or(left, self.conjunction()?);
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Result<Formula<AgentAtom>, ParseError> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            left = Formula::and(left, self.unary()?);
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Formula<AgentAtom>, ParseError> {
        match self.peek() {
            Some(Token::Not) => {
                self.pos += 1;
                Ok(Formula::not(self.nested(Self::unary)?))
            }
            Some(Token::Box) => {
                self.pos += 1;
                Ok(Formula::provable(self.nested(Self::unary)?))
            }
            Some(Token::Diamond) => {
                self.pos += 1;
                Ok(Formula::consistent(self.nested(Self::unary)?))
            }
            _ => self.primary(),
        }
    }

    fn party(&mut self) -> Result<Party, ParseError> {
        let column = self.column();
        match self.peek().cloned() {
            Some(Token::Ident(word)) => {
                let party = match word.as_str() {
                    "me" => Party::Me,
                    "them" => Party::Them,
                    w if KEYWORDS.contains(&w) => return self.error("me, them or an agent name"),
                    w => {
                        self.references.push((w.to_owned(), self.line, column));
                        Party::Agent(w.to_owned())
                    }
                };
                self.pos += 1;
                Ok(party)
            }
            _ => self.error("me, them or an agent name"),
        }
    }

    fn primary(&mut self) -> Result<Formula<AgentAtom>, ParseError> {
        match self.peek() {
            Some(Token::LParen) => {
                self.pos += 1;
                let inner = self.nested(Self::formula)?;
                self.expect(&Token::RParen, "')'")?;
                Ok(inner)
            }
            Some(Token::Ident(word)) => match word.as_str() {
                "true" => {
                    self.pos += 1;
                    Ok(Formula::True)
                }
                "false" => {
                    self.pos += 1;
                    Ok(Formula::False)
                }
                "same_source" => {
                    self.pos += 1;
                    Ok(Formula::Atom(AgentAtom::SameSource))
                }
                _ => {
                    let player = self.party()?;
                    self.expect(&Token::LParen, "'(' after the player, as in them(me)")?;
                    let opponent = self.party()?;
                    self.expect(&Token::RParen, "')'")?;
                    Ok(Formula::Atom(AgentAtom::Cooperates { player, opponent }))
                }
            },
            _ => self.error("a formula"),
        }
    }
}

/// Parse one formula in the text syntax (agent names are not checked).
pub fn parse_formula(text: &str) -> Result<Formula<AgentAtom>, ParseError> {
    let tokens = tokenize(text, 1)?;
    check_size(&tokens, 1)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        depth: 0,
        line: 1,
        end_column: text.chars().count() + 1,
        references: Vec::new(),
    };
    let formula = parser.formula()?;
    if parser.peek().is_some() {
        return parser.error("the end of the formula");
    }
    Ok(formula)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(i: usize) -> Formula<usize> {
        Formula::Atom(i)
    }

    fn solve(formulas: Vec<Formula<usize>>) -> FixedPoint {
        let names = (0..formulas.len()).map(|i| format!("x{i}")).collect();
        ModalSystem::new(names, formulas).solve().unwrap()
    }

    #[test]
    fn lob_sentence_is_true_from_world_zero() {
        // p <-> □p: Löb's theorem makes p provable; true at every world.
        let s = solve(vec![Formula::provable(var(0))]);
        assert_eq!(s.values, vec![true]);
        assert_eq!(s.stable_from(0), 0);
    }

    #[test]
    fn goedel_sentence_is_false_at_world_zero_then_true() {
        // g <-> ¬□g: at world 0 □g holds vacuously so g is false; from world 1 on □g fails
        // (g was false at world 0), so g is true: true in the standard model, not provable.
        let s = solve(vec![Formula::not(Formula::provable(var(0)))]);
        assert_eq!(s.worlds[0], vec![false]);
        assert_eq!(s.values, vec![true]);
        assert_eq!(s.stable_from(0), 1);
    }

    #[test]
    fn box_not_self_is_false() {
        // p <-> □¬p is equivalent to □⊥: true at world 0, false from world 1.
        let s = solve(vec![Formula::provable(Formula::not(var(0)))]);
        assert_eq!(s.worlds[0], vec![true]);
        assert_eq!(s.values, vec![false]);
    }

    #[test]
    fn unguarded_cycle_is_an_error() {
        let system = ModalSystem::new(vec!["a".into()], vec![Formula::not(var(0))]);
        assert_eq!(system.solve(), Err(ModalError::Unguarded("a".into())));
    }

    #[test]
    fn stops_after_one_plus_depth_stable_worlds() {
        // x0 <-> □□⊥ (depth 2): true at worlds 0 and 1, false from world 2.
        let s = solve(vec![Formula::provable(Formula::provable(Formula::False))]);
        assert_eq!(
            s.worlds.iter().map(|w| w[0]).collect::<Vec<_>>()[..3],
            [true, true, false]
        );
        assert!(!s.values[0]);
        assert_eq!(s.worlds.len(), 2 + 3);
    }

    #[test]
    fn classic_roster_round_trips_through_text() {
        for agent in Roster::classic().agents() {
            let text = agent.formula.to_string();
            assert_eq!(parse_formula(&text).unwrap(), agent.formula, "{text}");
        }
    }
}
