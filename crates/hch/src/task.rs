//! Tasks with checkable answers and natural decompositions.
//!
//! A task is a root question and a rule for splitting any question into sub-questions whose answers
//! combine into its answer; a question small enough for one agent's context is answered directly.
//! Every question has a known true answer (the world the grounding channel checks against). Four
//! generators, each seeded: counting over a long list, arithmetic expression trees, multi-hop look-ups
//! over a generated knowledge base, and shortest paths on generated layered graphs. Answers are
//! integers modulo the task's modulus; a wrong answer is one of `lures` plausible wrong values
//! (the truth shifted by 1, 2, ...), so one lure is the binary setting of the reliability-amplification
//! arithmetic, in which all wrong answers agree.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The most sub-questions one question splits into.
pub const MAX_ARITY: usize = 16;

/// A question: two integers and a size, read by the task that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question {
    pub a: u32,
    pub b: u32,
}

/// A task with checkable answers and a natural decomposition.
pub trait Task {
    fn root(&self) -> Question;
    /// Answers live in `0..modulus`.
    fn modulus(&self) -> u32;
    /// The true answer.
    fn truth(&self, q: Question) -> u32;
    /// How many sub-questions `q` splits into; 0 when one agent answers it directly.
    fn arity(&self, q: Question) -> usize;
    /// The `i`-th sub-question, given the answers to the earlier ones (a multi-hop look-up asks its
    /// second hop about whatever the first hop answered).
    fn sub_question(&self, q: Question, i: usize, earlier: &[u32]) -> Question;
    /// Combine the sub-answers into an answer to `q`.
    fn combine(&self, q: Question, answers: &[u32]) -> u32;

    /// The `j`-th wrong answer to `q` (the truth shifted by `j + 1`).
    fn lure(&self, q: Question, j: u32) -> u32 {
        let m = self.modulus() as u64;
        ((self.truth(q) as u64 + 1 + j as u64 % (m - 1)) % m) as u32
    }
}

/// Which generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// How many items of a list are marked: halves counted separately and added.
    Count,
    /// An expression tree of additions and multiplications modulo a prime.
    Arithmetic,
    /// Follow a generated knowledge base's links for many hops: the first half, then the second
    /// half from wherever the first half ended.
    Lookup,
    /// Shortest distance across a layered graph: split at the middle layer, take the best
    /// crossing vertex.
    Path,
}

impl TaskKind {
    pub const ALL: [TaskKind; 4] = [
        TaskKind::Count,
        TaskKind::Arithmetic,
        TaskKind::Lookup,
        TaskKind::Path,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Count => "count",
            TaskKind::Arithmetic => "arithmetic",
            TaskKind::Lookup => "lookup",
            TaskKind::Path => "path",
        }
    }
}

/// The sizes a generated task is built with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskShape {
    /// Levels of decomposition below the root.
    pub depth: u32,
    /// Sub-questions per question (count and arithmetic; look-ups always split in two, paths into
    /// two per vertex of the middle layer).
    pub branching: u32,
    /// What one agent answers directly: list items, or look-up hops.
    pub context: u32,
    /// Vertices per layer of a path graph.
    pub width: u32,
}

/// Any of the four tasks, generated from a seed.
#[derive(Clone, Debug)]
pub enum AnyTask {
    Count(Count),
    Arithmetic(Arithmetic),
    Lookup(Lookup),
    Path(Path),
}

impl AnyTask {
    pub fn generate(kind: TaskKind, shape: TaskShape, seed: u64) -> AnyTask {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        match kind {
            TaskKind::Count => AnyTask::Count(Count::generate(shape, COUNT_MODULUS, &mut rng)),
            TaskKind::Arithmetic => AnyTask::Arithmetic(Arithmetic::generate(shape, &mut rng)),
            TaskKind::Lookup => AnyTask::Lookup(Lookup::generate(shape, &mut rng)),
            TaskKind::Path => AnyTask::Path(Path::generate(shape, &mut rng)),
        }
    }
}

/// Counts are exact (no wrap-around) below this modulus.
pub const COUNT_MODULUS: u32 = 1 << 30;

/// Count the marked items of a list of `context * branching^depth` items. A question is a range
/// `[a, b)`; ranges of at most `context` items are counted directly, larger ones split into
/// `branching` equal parts whose counts add (modulo `modulus`: 2 makes it a parity task).
#[derive(Clone, Debug)]
pub struct Count {
    /// prefix[i] = marked items among the first i.
    prefix: Vec<u32>,
    context: u32,
    branching: u32,
    modulus: u32,
}

impl Count {
    pub fn generate(shape: TaskShape, modulus: u32, rng: &mut impl Rng) -> Count {
        let n = shape.context as usize * (shape.branching as usize).pow(shape.depth);
        let mut prefix = Vec::with_capacity(n + 1);
        prefix.push(0);
        for _ in 0..n {
            let marked = rng.random_bool(0.5) as u32;
            prefix.push(prefix.last().unwrap() + marked);
        }
        Count {
            prefix,
            context: shape.context,
            branching: shape.branching,
            modulus,
        }
    }
}

impl Task for Count {
    fn root(&self) -> Question {
        Question {
            a: 0,
            b: (self.prefix.len() - 1) as u32,
        }
    }
    fn modulus(&self) -> u32 {
        self.modulus
    }
    fn truth(&self, q: Question) -> u32 {
        (self.prefix[q.b as usize] - self.prefix[q.a as usize]) % self.modulus
    }
    fn arity(&self, q: Question) -> usize {
        if q.b - q.a <= self.context {
            0
        } else {
            self.branching as usize
        }
    }
    fn sub_question(&self, q: Question, i: usize, _: &[u32]) -> Question {
        let part = (q.b - q.a) / self.branching;
        Question {
            a: q.a + part * i as u32,
            b: q.a + part * (i as u32 + 1),
        }
    }
    fn combine(&self, _: Question, answers: &[u32]) -> u32 {
        (answers.iter().map(|&x| x as u64).sum::<u64>() % self.modulus as u64) as u32
    }
}

/// The prime arithmetic works modulo.
pub const ARITHMETIC_PRIME: u32 = 1_000_003;

/// A complete expression tree: leaves are digits 1..=9, inner nodes add or multiply their
/// `branching` children modulo a prime. A question is a node (`a` = its index in heap order).
#[derive(Clone, Debug)]
pub struct Arithmetic {
    /// Per node: its value; per inner node: whether it multiplies.
    value: Vec<u32>,
    multiplies: Vec<bool>,
    branching: u32,
}

impl Arithmetic {
    pub fn generate(shape: TaskShape, rng: &mut impl Rng) -> Arithmetic {
        let b = shape.branching as usize;
        let inner = (0..shape.depth).map(|l| b.pow(l)).sum::<usize>();
        let total = inner + b.pow(shape.depth);
        let multiplies: Vec<bool> = (0..total)
            .map(|i| i < inner && rng.random_bool(0.5))
            .collect();
        let mut value = vec![0u32; total];
        for v in value.iter_mut().skip(inner) {
            *v = rng.random_range(1..=9);
        }
        for i in (0..inner).rev() {
            let kids = (b * i + 1..=b * i + b).map(|c| value[c] as u64);
            value[i] = if multiplies[i] {
                kids.fold(1, |acc, x| acc * x % ARITHMETIC_PRIME as u64) as u32
            } else {
                (kids.sum::<u64>() % ARITHMETIC_PRIME as u64) as u32
            };
        }
        Arithmetic {
            value,
            multiplies,
            branching: shape.branching,
        }
    }
}

impl Task for Arithmetic {
    fn root(&self) -> Question {
        Question { a: 0, b: 0 }
    }
    fn modulus(&self) -> u32 {
        ARITHMETIC_PRIME
    }
    fn truth(&self, q: Question) -> u32 {
        self.value[q.a as usize]
    }
    fn arity(&self, q: Question) -> usize {
        let first = self.branching as usize * q.a as usize + 1;
        if first >= self.value.len() {
            0
        } else {
            self.branching as usize
        }
    }
    fn sub_question(&self, q: Question, i: usize, _: &[u32]) -> Question {
        Question {
            a: self.branching * q.a + 1 + i as u32,
            b: 0,
        }
    }
    fn combine(&self, q: Question, answers: &[u32]) -> u32 {
        let p = ARITHMETIC_PRIME as u64;
        let it = answers.iter().map(|&x| x as u64 % p);
        if self.multiplies[q.a as usize] {
            it.fold(1, |acc, x| acc * x % p) as u32
        } else {
            (it.sum::<u64>() % p) as u32
        }
    }
}

/// Entities in a look-up knowledge base.
pub const LOOKUP_ENTITIES: u32 = 1009;

/// A knowledge base where every entity links to one other (a random function). A question
/// `(x, h)` asks where `h` hops from `x` lead; at most `context` hops are followed directly,
/// longer chains ask the first half, then the second half from the first half's answer.
#[derive(Clone, Debug)]
pub struct Lookup {
    link: Vec<u32>,
    hops: u32,
    context: u32,
}

impl Lookup {
    pub fn generate(shape: TaskShape, rng: &mut impl Rng) -> Lookup {
        let link = (0..LOOKUP_ENTITIES)
            .map(|_| rng.random_range(0..LOOKUP_ENTITIES))
            .collect();
        Lookup {
            link,
            hops: shape.context * (1 << shape.depth),
            context: shape.context,
        }
    }
}

impl Task for Lookup {
    fn root(&self) -> Question {
        Question { a: 0, b: self.hops }
    }
    fn modulus(&self) -> u32 {
        LOOKUP_ENTITIES
    }
    fn truth(&self, q: Question) -> u32 {
        (0..q.b).fold(q.a % LOOKUP_ENTITIES, |x, _| self.link[x as usize])
    }
    fn arity(&self, q: Question) -> usize {
        if q.b <= self.context { 0 } else { 2 }
    }
    fn sub_question(&self, q: Question, i: usize, earlier: &[u32]) -> Question {
        let first = q.b.div_ceil(2);
        match i {
            0 => Question { a: q.a, b: first },
            _ => Question {
                a: earlier[0],
                b: q.b - first,
            },
        }
    }
    fn combine(&self, _: Question, answers: &[u32]) -> u32 {
        answers[1]
    }
}

/// A layered graph: `2^depth + 1` layers of `width` vertices, every vertex joined to every vertex
/// of the next layer by an edge of weight 1..=9. A question `(s, t)` asks the shortest distance
/// between two vertices; adjacent layers are read directly, otherwise the question splits at the
/// middle layer into `d(s, v)` and `d(v, t)` for each of its vertices `v`, combined by the best sum.
#[derive(Clone, Debug)]
pub struct Path {
    width: u32,
    layers: u32,
    /// dist[s * n + t]: shortest distance from s to t (t in a later layer), else 0.
    dist: Vec<u32>,
}

/// Distances are exact below this modulus.
pub const PATH_MODULUS: u32 = 1 << 30;

impl Path {
    pub fn generate(shape: TaskShape, rng: &mut impl Rng) -> Path {
        let (w, layers) = (shape.width, (1u32 << shape.depth) + 1);
        let n = (w * layers) as usize;
        let mut dist = vec![0u32; n * n];
        for layer in 0..layers - 1 {
            for i in 0..w {
                for j in 0..w {
                    let (s, t) = ((layer * w + i) as usize, ((layer + 1) * w + j) as usize);
                    dist[s * n + t] = rng.random_range(1..=9);
                }
            }
        }
        // Longer distances, layer gap by layer gap: the best first edge plus the rest.
        for gap in 2..layers {
            for from in 0..layers - gap {
                for i in 0..w {
                    let s = (from * w + i) as usize;
                    for j in 0..w {
                        let t = ((from + gap) * w + j) as usize;
                        dist[s * n + t] = (0..w)
                            .map(|v| {
                                let m = ((from + 1) * w + v) as usize;
                                dist[s * n + m] + dist[m * n + t]
                            })
                            .min()
                            .unwrap();
                    }
                }
            }
        }
        Path {
            width: w,
            layers,
            dist,
        }
    }

    fn layer(&self, v: u32) -> u32 {
        v / self.width
    }
}

impl Task for Path {
    fn root(&self) -> Question {
        Question {
            a: 0,
            b: (self.layers - 1) * self.width,
        }
    }
    fn modulus(&self) -> u32 {
        PATH_MODULUS
    }
    fn truth(&self, q: Question) -> u32 {
        let n = (self.width * self.layers) as usize;
        self.dist[q.a as usize * n + q.b as usize]
    }
    fn arity(&self, q: Question) -> usize {
        if self.layer(q.b) - self.layer(q.a) <= 1 {
            0
        } else {
            2 * self.width as usize
        }
    }
    fn sub_question(&self, q: Question, i: usize, _: &[u32]) -> Question {
        let middle = (self.layer(q.a) + self.layer(q.b)) / 2;
        let v = middle * self.width + i as u32 / 2;
        if i.is_multiple_of(2) {
            Question { a: q.a, b: v }
        } else {
            Question { a: v, b: q.b }
        }
    }
    fn combine(&self, _: Question, answers: &[u32]) -> u32 {
        answers
            .chunks(2)
            .map(|pair| (pair[0] as u64 + pair[1] as u64).min(PATH_MODULUS as u64 - 1) as u32)
            .min()
            .unwrap()
    }
}

macro_rules! each_task {
    ($self:ident, $t:ident => $body:expr) => {
        match $self {
            AnyTask::Count($t) => $body,
            AnyTask::Arithmetic($t) => $body,
            AnyTask::Lookup($t) => $body,
            AnyTask::Path($t) => $body,
        }
    };
}

impl Task for AnyTask {
    fn root(&self) -> Question {
        each_task!(self, t => t.root())
    }
    fn modulus(&self) -> u32 {
        each_task!(self, t => t.modulus())
    }
    fn truth(&self, q: Question) -> u32 {
        each_task!(self, t => t.truth(q))
    }
    fn arity(&self, q: Question) -> usize {
        each_task!(self, t => t.arity(q))
    }
    fn sub_question(&self, q: Question, i: usize, earlier: &[u32]) -> Question {
        each_task!(self, t => t.sub_question(q, i, earlier))
    }
    fn combine(&self, q: Question, answers: &[u32]) -> u32 {
        each_task!(self, t => t.combine(q, answers))
    }
}

/// Questions in the whole decomposition of `task`'s root (each asked once).
pub fn question_count(task: &impl Task) -> u64 {
    fn walk(task: &impl Task, q: Question) -> u64 {
        let n = task.arity(q);
        let mut answers = [0u32; MAX_ARITY];
        let mut total = 1;
        for i in 0..n {
            let s = task.sub_question(q, i, &answers[..i]);
            answers[i] = task.truth(s);
            total += walk(task, s);
        }
        total
    }
    walk(task, task.root())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(depth: u32) -> TaskShape {
        TaskShape {
            depth,
            branching: 2,
            context: 2,
            width: 2,
        }
    }

    /// Answering every question by combining true sub-answers gives the truth: the
    /// decompositions are correct.
    fn decomposition_is_exact(task: &impl Task, q: Question) {
        let n = task.arity(q);
        if n == 0 {
            return;
        }
        let mut answers = [0u32; MAX_ARITY];
        for i in 0..n {
            let s = task.sub_question(q, i, &answers[..i]);
            answers[i] = task.truth(s);
            decomposition_is_exact(task, s);
        }
        assert_eq!(task.combine(q, &answers[..n]), task.truth(q), "{q:?}");
    }

    #[test]
    fn every_task_decomposes_exactly() {
        for kind in TaskKind::ALL {
            for depth in 0..5 {
                for seed in 0..3 {
                    let t = AnyTask::generate(kind, shape(depth), seed);
                    decomposition_is_exact(&t, t.root());
                }
            }
        }
    }

    #[test]
    fn sizes_by_hand() {
        // Binary count of depth 3: 1 + 2 + 4 + 8 questions; a path of depth 2 with width 2 has
        // 5 layers: the root splits into 4, each of those (gap 2) into 4 leaves: 1 + 4 + 16.
        let count = AnyTask::generate(TaskKind::Count, shape(3), 1);
        assert_eq!(question_count(&count), 15);
        let path = AnyTask::generate(TaskKind::Path, shape(2), 1);
        assert_eq!(question_count(&path), 21);
        let lookup = AnyTask::generate(TaskKind::Lookup, shape(3), 1);
        assert_eq!(question_count(&lookup), 15);
        let arithmetic = AnyTask::generate(TaskKind::Arithmetic, shape(3), 1);
        assert_eq!(question_count(&arithmetic), 15);
    }

    #[test]
    fn lures_are_wrong() {
        let t = AnyTask::generate(TaskKind::Count, shape(2), 4);
        let q = t.root();
        for j in 0..5 {
            assert_ne!(t.lure(q, j), t.truth(q));
        }
        let parity = Count::generate(shape(2), 2, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(
            parity.lure(parity.root(), 3),
            1 - parity.truth(parity.root())
        );
    }
}
