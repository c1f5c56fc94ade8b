//! What the learned-agent experiments (`misgeneralize`, `shards`, `retarget-learned`) share: the
//! training setup, training runs as shared artifacts, and the maze geometry their measurements
//! read (paths, decision squares, the features of Turner et al.'s regression).
//!
//! **Training runs are artifacts.** A training run is a pure function of (setup, region,
//! p_anywhere, master seed, seed): the same inputs give the same weights bit for bit. Each
//! experiment names the run a unit needs by [`run_key`]; the framework's prepare stage trains each
//! missing run once, before the units, and stores it content-addressed in the artifact cache (the
//! run folder's `artifacts/`, or the suite's shared one), so units, resumed runs, audits' controls
//! and sibling experiments reuse it. Training uses no rayon (see `cruxlab_learn::ops`); runs are
//! trained in parallel with one another.

mod evaluation;

pub use evaluation::{Actor, Evaluation, evaluate, evaluate_actor, evaluate_greedy};

use std::sync::Arc;
use std::time::{Duration, Instant};

use cruxlab_core::{ArtifactKey, Artifacts, Progress};

use cruxlab_grid::{Action, DistanceField, EnvConfig, Level, ObjectKind, Pos};
use cruxlab_learn::{
    ActorCritic, CornerMazes, CurvePoint, Envs, LevelEnvs, NetConfig, NetKind, Plane, PpoConfig,
    Shaping, Trainer, TrainerState, checkpoint,
};
use serde::{Deserialize, Serialize};

use crate::seeding::derive_seed;

/// How a policy is trained (everything but the training region, which conditions sweep).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSetup {
    /// Side of the mazes (odd, at least 7); with `min_size`, of the grid and the largest maze.
    pub size: usize,
    /// Mazes of varied size: each level's maze has an odd side drawn uniformly from
    /// `min_size..=size`, centred in the `size x size` grid with walls around it (procgen's
    /// padding; `cruxlab_learn::levels`). 0 (the default): every maze fills the grid.
    #[serde(default)]
    pub min_size: usize,
    /// Observation planes the network sees.
    pub planes: Vec<Plane>,
    pub net: NetConfig,
    pub ppo: PpoConfig,
    /// Episode step limit = this x the maze's cells.
    pub step_limit_per_cell: u32,
    /// Scale of potential-based shaping toward the diamond (0: sparse reward only).
    pub shaping: f64,
    /// Snapshots kept, evenly spaced over the run (the last is the final network), besides the
    /// initial network.
    pub checkpoints: usize,
}

impl TrainSetup {
    /// The convolution code that trains this setup's network ([`cruxlab_learn::ops::CONVOLUTION`]),
    /// `None` for an MLP.
    pub fn convolution(&self) -> Option<&'static str> {
        (self.net.kind == NetKind::Cnn).then_some(cruxlab_learn::ops::CONVOLUTION)
    }

    /// What the learned experiments report as their code version
    /// ([`cruxlab_core::Experiment::code_version`]): the convolution kernel for a CNN, nothing for
    /// an MLP (whose run folders stay valid across kernels).
    pub fn code_version(&self) -> String {
        self.convolution()
            .map_or(String::new(), |c| format!("convolution={c}"))
    }

    /// The quick setup: 7x7 mazes, an MLP, 600k steps (about 10 to 25 s on one core, by load).
    pub fn quick() -> TrainSetup {
        TrainSetup {
            size: 7,
            min_size: 0,
            planes: vec![Plane::Wall, Plane::Agent, Plane::Diamond],
            net: NetConfig::mlp(),
            ppo: PpoConfig {
                num_envs: 16,
                num_steps: 32,
                total_steps: 600_000,
                learning_rate: 1e-3,
                num_minibatches: 8,
                update_epochs: 4,
                ..PpoConfig::default()
            },
            step_limit_per_cell: 2,
            shaping: 0.0,
            checkpoints: 5,
        }
    }

    /// The full setup: 9x9 mazes, the default CNN, 3M steps (tens of minutes per run on one core).
    pub fn full() -> TrainSetup {
        TrainSetup {
            size: 9,
            net: NetConfig::cnn(),
            ppo: PpoConfig {
                total_steps: 3_000_000,
                ..TrainSetup::quick().ppo
            },
            ..TrainSetup::quick()
        }
    }

    /// The iterations after which a snapshot is kept (evenly spaced, the last one final).
    pub fn checkpoint_iterations(&self) -> Vec<usize> {
        let total = self.ppo.iterations();
        (1..=self.checkpoints)
            .map(|k| (k * total).div_ceil(self.checkpoints))
            .collect()
    }

    /// Environment steps at each snapshot of [`Trained::snapshots`], the initial network's 0 first.
    pub fn snapshot_steps(&self) -> Vec<u64> {
        let batch = self.ppo.batch_size() as u64;
        std::iter::once(0)
            .chain(
                self.checkpoint_iterations()
                    .into_iter()
                    .map(|i| i as u64 * batch),
            )
            .collect()
    }

    /// Episode step limit.
    pub fn max_steps(&self) -> u32 {
        self.step_limit_per_cell * (self.size * self.size) as u32
    }

    pub fn mazes(&self, region: usize, p_anywhere: f64) -> CornerMazes {
        CornerMazes {
            min_size: if self.min_size == 0 {
                self.size
            } else {
                self.min_size
            },
            ..CornerMazes::fixed(self.size, region, p_anywhere)
        }
    }

    /// A semantic problem, as (dotted key under `prefix`, message).
    pub fn check(&self, prefix: &str) -> Result<(), (String, String)> {
        let key = |k: &str| format!("{prefix}.{k}");
        if self.size < 7 || self.size.is_multiple_of(2) {
            return Err((key("size"), "must be odd and at least 7".into()));
        }
        let m = self.min_size;
        if m != 0 && (m > self.size || m < 5 || m.is_multiple_of(2)) {
            return Err((
                key("min_size"),
                format!("must be 0 (fixed size) or odd in 5..={} (size)", self.size),
            ));
        }
        if self.planes.is_empty() {
            return Err((key("planes"), "must name at least one plane".into()));
        }
        self.net.check().map_err(|m| (key("net"), m))?;
        self.ppo
            .check()
            .map_err(|(k, m)| (key(&format!("ppo.{k}")), m))?;
        if self.step_limit_per_cell == 0 {
            return Err((key("step_limit_per_cell"), "must be at least 1".into()));
        }
        if !(self.shaping.is_finite() && self.shaping >= 0.0) {
            return Err((key("shaping"), "must be a finite number >= 0".into()));
        }
        if self.checkpoints == 0 || self.checkpoints > self.ppo.iterations() {
            return Err((
                key("checkpoints"),
                format!(
                    "must lie in 1..={} (the run's iterations)",
                    self.ppo.iterations()
                ),
            ));
        }
        Ok(())
    }
}

impl TrainSetup {
    /// The checks the sweeping learned-agent configs share: enough seeds for an interval, this
    /// setup, regions that fit the mazes, fractions in [0, 1] and enough evaluation levels (keys
    /// `seeds`, `train.*`, `regions`, `p_anywhere`, `eval_levels`).
    pub fn check_runs(
        &self,
        seeds: u64,
        regions: &[usize],
        p_anywhere: &[f64],
        eval_levels: usize,
    ) -> Result<(), (String, String)> {
        let err = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        if seeds < 2 {
            return err("seeds", "needs at least 2 seeds for a confidence interval");
        }
        self.check("train")?;
        if regions.is_empty() {
            return err("regions", "must list at least one region side");
        }
        for &region in regions {
            if let Err((_, m)) = self.mazes(region, 0.0).check() {
                return err("regions", &m);
            }
        }
        if p_anywhere.is_empty() || p_anywhere.iter().any(|p| !(0.0..=1.0).contains(p)) {
            return err("p_anywhere", "must list fractions in [0, 1]");
        }
        if eval_levels < 10 {
            return err("eval_levels", "must be at least 10");
        }
        Ok(())
    }
}

/// The audits' shared null control: one PPO update (512 environment steps, one snapshot), so the
/// policy is its random initialisation in all but name. The same overrides in every learned
/// experiment, so that inside one process (`suite`) the three experiments share these runs too.
pub const UNTRAINED: [&str; 2] = ["train.ppo.total_steps=512", "train.checkpoints=1"];

/// A finished training run.
pub struct Trained {
    /// `(env steps, network)`: the initial network (0 steps), then each checkpoint, the final
    /// network last.
    pub snapshots: Vec<(u64, ActorCritic)>,
    pub curve: Vec<CurvePoint>,
    /// Training stopped early on a non-finite loss (the last good network was kept).
    pub diverged: bool,
}

impl Trained {
    pub fn last(&self) -> &ActorCritic {
        &self
            .snapshots
            .last()
            .expect("a run keeps at least one snapshot")
            .1
    }
}

/// How often a training run saves its progress (by the clock: when it saves changes nothing it
/// computes, since a resumed run goes on exactly as the saved one would have).
const SAVE_EVERY: Duration = Duration::from_secs(60);

/// What a training run saves as it goes: the trainer's state and the snapshots taken so far,
/// with the run's key inputs (`run`), so that a file is only ever resumed by its own run.
#[derive(Serialize, Deserialize)]
struct RunProgress {
    run: String,
    trainer: TrainerState,
    /// Env steps and encoded weights of each snapshot taken so far.
    snapshots: Vec<(u64, Vec<u8>)>,
}

/// Train one run, saving its progress in `progress` every `save_every` and going on from the
/// last save there when that save is this run's (`run`: the key's inputs). It gives the same
/// run, resumed or not (tested).
#[allow(clippy::too_many_arguments)]
fn train(
    setup: &TrainSetup,
    region: usize,
    p_anywhere: f64,
    master_seed: u64,
    seed: u64,
    progress: &Progress,
    run: &str,
    save_every: Duration,
) -> Trained {
    let dist = setup.mazes(region, p_anywhere);
    let level_seed = derive_seed(master_seed, &[seed, 1]);
    let sampler = Arc::new(move |s: u64| dist.training_level(s ^ level_seed));
    let config = EnvConfig::new(ObjectKind::Diamond, setup.max_steps());
    let mut envs = LevelEnvs::new(
        setup.ppo.num_envs,
        sampler,
        config,
        setup.planes.clone(),
        derive_seed(master_seed, &[seed, 2]),
    );
    if setup.shaping > 0.0 {
        envs = envs.with_shaping(Shaping {
            scale: setup.shaping as f32,
            gamma: setup.ppo.gamma as f32,
        });
    }
    let net = ActorCritic::new(
        &setup.net,
        envs.input(),
        derive_seed(master_seed, &[seed, 3]),
    )
    .expect("a checked network config builds");
    let mut trainer = Trainer::new(
        net,
        setup.ppo.clone(),
        Box::new(envs),
        derive_seed(master_seed, &[seed, 4]),
    );
    let marks = setup.checkpoint_iterations();
    let initial = trainer
        .net()
        .deep_clone()
        .expect("copying weights cannot fail");
    let mut snapshots = vec![(0, initial)];
    if let Some(saved) = progress
        .load()
        .and_then(|bytes| serde_json::from_slice::<RunProgress>(&bytes).ok())
        .filter(|p| p.run == run)
    {
        let decoded: Option<Vec<(u64, ActorCritic)>> = saved
            .snapshots
            .iter()
            .map(|(steps, b)| Some((*steps, checkpoint::from_bytes(b).ok()?)))
            .collect();
        // A save that does not fit this run is ignored: the run starts over.
        if let Some(decoded) = decoded
            && trainer.restore(&saved.trainer).is_ok()
        {
            tracing::info!(
                iteration = trainer.iteration(),
                "training run resumed from its last save"
            );
            snapshots = decoded;
        }
    }
    let mut diverged = false;
    let mut saved_at = Instant::now();
    while !trainer.finished() {
        if trainer.iterate_with_checkpoint(None).is_err() {
            // A diverged run is a result, not a crash: keep the last good network and stop.
            diverged = true;
            break;
        }
        if marks.contains(&trainer.iteration()) {
            let net = trainer
                .net()
                .deep_clone()
                .expect("copying weights cannot fail");
            snapshots.push((trainer.env_steps(), net));
        }
        if saved_at.elapsed() >= save_every && !trainer.finished() {
            save_progress(progress, run, &trainer, &snapshots);
            saved_at = Instant::now();
        }
    }
    if snapshots.last().map(|s| s.0) != Some(trainer.env_steps()) {
        let net = trainer
            .net()
            .deep_clone()
            .expect("copying weights cannot fail");
        snapshots.push((trainer.env_steps(), net));
    }
    Trained {
        snapshots,
        curve: trainer.curve().to_vec(),
        diverged,
    }
}

/// Save a run's progress. A save that fails is logged and the run goes on: progress only saves
/// time.
fn save_progress(
    progress: &Progress,
    run: &str,
    trainer: &Trainer,
    snapshots: &[(u64, ActorCritic)],
) {
    let Some(state) = trainer.state() else {
        return;
    };
    let saved = RunProgress {
        run: run.to_owned(),
        trainer: state,
        snapshots: snapshots
            .iter()
            .map(|(steps, net)| (*steps, checkpoint::to_bytes(net).expect("weights encode")))
            .collect(),
    };
    let bytes = serde_json::to_vec(&saved).expect("a run's progress serializes");
    if let Err(e) = progress.save(&bytes) {
        tracing::warn!(error = %e, "could not save a training run's progress");
    }
}

/// What a training run is a pure function of: its artifact key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RunInputs {
    setup: TrainSetup,
    region: usize,
    p_anywhere: f64,
    master_seed: u64,
    seed: u64,
    /// For a CNN, the convolution code that trains it ([`cruxlab_learn::ops::CONVOLUTION`]): a
    /// new kernel sums in another order and trains other weights, so it names other runs. Absent
    /// for an MLP, whose keys are as they always were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    convolution: Option<String>,
}

/// The kind of the training-run artifact.
pub const PPO_RUN: &str = "ppo-run";

/// The artifact key of the run for (setup, region, p_anywhere, master_seed, seed). Every
/// experiment that names the same key shares one run (built once, stored in the artifact cache).
pub fn run_key(
    setup: &TrainSetup,
    region: usize,
    p_anywhere: f64,
    master_seed: u64,
    seed: u64,
) -> ArtifactKey {
    // `min_size == size` draws the same levels as 0 (every maze fills the grid): one run, one key.
    let mut setup = setup.clone();
    if setup.min_size == setup.size {
        setup.min_size = 0;
    }
    let key = ArtifactKey::new(
        PPO_RUN,
        &RunInputs {
            setup: setup.clone(),
            region,
            p_anywhere,
            master_seed,
            seed,
            convolution: setup.convolution().map(str::to_owned),
        },
    );
    if setup.min_size != 0 {
        return key;
    }
    // Fixed-size runs keep the keys they had before `min_size` existed, so their stored runs stay
    // valid: the field is left out of the inputs (it reads back as its default, 0).
    let inputs = key.inputs.replacen(FIXED_SIZE, "", 1);
    debug_assert_ne!(
        inputs, key.inputs,
        "the setup serializes min_size after size"
    );
    ArtifactKey { inputs, ..key }
}

/// How a fixed size's `min_size` appears in a run's serialized inputs.
const FIXED_SIZE: &str = "\"min_size\":0,";

/// Header of a stored run: the curve, whether it diverged, and each snapshot's env steps and byte
/// length (the safetensors blobs follow the header line, in order).
#[derive(Serialize, Deserialize)]
struct RunHeader {
    curve: Vec<CurvePoint>,
    diverged: bool,
    snapshots: Vec<(u64, usize)>,
}

/// Train the run `key` names and encode it: a JSON header line, then each snapshot's weights as
/// safetensors (bit-exact f32).
pub fn build_run(key: &ArtifactKey, progress: &Progress) -> Vec<u8> {
    assert_eq!(key.kind, PPO_RUN, "not a training-run key");
    let inputs: RunInputs =
        serde_json::from_str(&key.inputs).expect("a run key holds the run's inputs");
    assert_eq!(
        inputs.convolution.as_deref(),
        inputs.setup.convolution(),
        "a run key for another convolution kernel"
    );
    let run = train(
        &inputs.setup,
        inputs.region,
        inputs.p_anywhere,
        inputs.master_seed,
        inputs.seed,
        progress,
        &key.inputs,
        SAVE_EVERY,
    );
    let blobs: Vec<Vec<u8>> = run
        .snapshots
        .iter()
        .map(|(_, net)| cruxlab_learn::checkpoint::to_bytes(net).expect("weights encode"))
        .collect();
    let header = RunHeader {
        curve: run.curve,
        diverged: run.diverged,
        snapshots: run
            .snapshots
            .iter()
            .zip(&blobs)
            .map(|((steps, _), b)| (*steps, b.len()))
            .collect(),
    };
    let mut out = serde_json::to_vec(&header).expect("a run header serializes");
    out.push(b'\n');
    for b in blobs {
        out.extend_from_slice(&b);
    }
    out
}

/// The run stored under `key` among a unit's artifacts.
pub fn trained(artifacts: &Artifacts, key: &ArtifactKey) -> Trained {
    decode_run(artifacts.get(key)).expect("a stored run reads back")
}

/// Read a training run from the bytes [`build_run`] wrote (an artifact file of kind
/// [`PPO_RUN`]): the header line, then each snapshot's weights. The one reader of that format
/// (the experiments and the Python bindings use it).
pub fn decode_run(bytes: &[u8]) -> Result<Trained, String> {
    let split = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("not a stored training run (no header line)")?;
    let header: RunHeader = serde_json::from_slice(&bytes[..split])
        .map_err(|e| format!("not a stored training run (header: {e})"))?;
    let mut at = split + 1;
    let mut snapshots = Vec::with_capacity(header.snapshots.len());
    for &(steps, len) in &header.snapshots {
        let blob = bytes
            .get(at..at + len)
            .ok_or("a stored training run is cut short")?;
        let net = cruxlab_learn::checkpoint::from_bytes(blob)
            .map_err(|e| format!("snapshot at {steps} steps: {e}"))?;
        at += len;
        snapshots.push((steps, net));
    }
    Ok(Trained {
        snapshots,
        curve: header.curve,
        diverged: header.diverged,
    })
}

/// The unique path from `from` to the nearest object of `kind`... or to `to` in a perfect maze:
/// cells after `from` up to and including `to`. Empty if unreachable or `from == to`.
pub fn path(level: &Level, from: Pos, to: Pos) -> Vec<Pos> {
    let field = DistanceField::from_sources(level, [to]);
    let mut out = Vec::new();
    let mut at = from;
    let Some(mut d) = field.get(from) else {
        return out;
    };
    while d > 0 {
        let next = level
            .floor_neighbours(at)
            .find(|&n| field.get(n) == Some(d - 1))
            .expect("a breadth-first field descends to its source");
        out.push(next);
        at = next;
        d -= 1;
    }
    out
}

/// Where the path to the diamond and the path to the corner part (Turner et al.'s decision square):
/// the last cell the two paths from the agent share. `None` unless both branches are real (the
/// square is neither target and the two next cells differ).
pub struct Decision {
    pub square: Pos,
    /// The move toward the diamond from the square.
    pub to_diamond: Action,
    /// Corridor distance from the square to the diamond.
    pub diamond_path: usize,
}

pub fn decision_square(level: &Level, corner: Pos) -> Option<Decision> {
    let diamond = level.first_of(ObjectKind::Diamond)?;
    let start = level.agent();
    let a = path(level, start, diamond);
    let b = path(level, start, corner);
    let mut square = start;
    let mut k = 0;
    while k < a.len() && k < b.len() && a[k] == b[k] {
        square = a[k];
        k += 1;
    }
    if square == diamond || square == corner || k >= a.len() || k >= b.len() {
        return None;
    }
    Some(Decision {
        square,
        to_diamond: Action::between(square, a[k])?,
        diamond_path: a.len() - k,
    })
}

/// Straight-line distance between cell centres.
pub fn euclid(a: Pos, b: Pos) -> f64 {
    let dr = a.row as f64 - b.row as f64;
    let dc = a.col as f64 - b.col as f64;
    (dr * dr + dc * dc).sqrt()
}

/// Turner et al.'s four features, in our words, for a level and its decision square:
/// straight-line and corridor distance from the square to the diamond, straight-line distance from
/// the diamond to the corner, straight-line distance from the square to the corner.
pub const FEATURES: [&str; 4] = [
    "euclid_square_diamond",
    "path_square_diamond",
    "euclid_diamond_corner",
    "euclid_square_corner",
];

pub fn features(level: &Level, d: &Decision, corner: Pos) -> [f64; 4] {
    let diamond = level
        .first_of(ObjectKind::Diamond)
        .expect("a test level has a diamond");
    [
        euclid(d.square, diamond),
        d.diamond_path as f64,
        euclid(diamond, corner),
        euclid(d.square, corner),
    ]
}

/// Median of a non-empty list (NaN if empty).
pub fn median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        f64::NAN
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// Mean of the curve's per-iteration success over the iterations in `(from, to]` (fractions of the
/// run), ignoring iterations where no episode ended.
pub fn curve_success(curve: &[CurvePoint], from: f64, to: f64) -> f64 {
    let n = curve.len() as f64;
    let xs: Vec<f64> = curve
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            let f = (*i as f64 + 1.0) / n;
            f > from && f <= to && p.success.is_finite()
        })
        .map(|(_, p)| p.success)
        .collect();
    mean(&xs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_run_reads_back_bit_for_bit() {
        let mut setup = TrainSetup::quick();
        setup.ppo.total_steps = 512;
        setup.checkpoints = 1;
        let key = run_key(&setup, 1, 0.0, 7, 0);
        let bytes = build_run(&key, &Progress::none());
        let stored = trained(&Artifacts::from_built([(key.clone(), bytes)]), &key);
        let fresh = train(&setup, 1, 0.0, 7, 0, &Progress::none(), "", SAVE_EVERY);
        assert_eq!(stored.snapshots.len(), fresh.snapshots.len());
        assert_eq!(stored.diverged, fresh.diverged);
        for ((s1, a), (s2, b)) in stored.snapshots.iter().zip(&fresh.snapshots) {
            assert_eq!(s1, s2);
            assert_eq!(
                cruxlab_learn::checkpoint::to_bytes(a).unwrap(),
                cruxlab_learn::checkpoint::to_bytes(b).unwrap()
            );
        }
        let bits =
            |c: &[CurvePoint]| -> Vec<u64> { c.iter().map(|p| p.success.to_bits()).collect() };
        assert_eq!(bits(&stored.curve), bits(&fresh.curve));
    }

    #[test]
    fn an_interrupted_run_resumes_from_its_last_save_to_the_same_bytes() {
        let mut setup = TrainSetup::quick();
        setup.ppo.total_steps = 512 * 6;
        setup.checkpoints = 3;
        let key = run_key(&setup, 1, 0.0, 7, 0);
        let whole = build_run(&key, &Progress::none());
        let dir = tempfile::tempdir().unwrap();
        let cache = cruxlab_core::ArtifactCache::new(dir.path());
        let progress = cache.progress(&key).unwrap();
        // Saving after every iteration leaves the state of iteration 5 of 6, as an interruption
        // in the last iteration would.
        train(&setup, 1, 0.0, 7, 0, &progress, &key.inputs, Duration::ZERO);
        let saved = progress.load().unwrap();
        let parsed: RunProgress = serde_json::from_slice(&saved).unwrap();
        assert_eq!(parsed.trainer.iteration(), 5);
        let steps: Vec<u64> = parsed.snapshots.iter().map(|s| s.0).collect();
        assert_eq!(steps, [0, 1024, 2048]);

        // The resumed build reads the save (a marked snapshot shows through) ...
        let mut marked = parsed;
        marked.snapshots[1].0 = 999;
        progress
            .save(&serde_json::to_vec(&marked).unwrap())
            .unwrap();
        let run = decode_run(&build_run(&key, &progress)).unwrap();
        assert_eq!(run.snapshots[1].0, 999);
        // ... and from the true save gives the whole run's bytes.
        progress.save(&saved).unwrap();
        assert!(build_run(&key, &progress) == whole, "resumed bytes differ");
        // Another run never reads this one's save, and a save that does not parse is ignored.
        let other = run_key(&setup, 1, 0.0, 7, 1);
        let other_progress = cache.progress(&other).unwrap();
        other_progress
            .save(&serde_json::to_vec(&marked).unwrap())
            .unwrap();
        assert!(build_run(&other, &other_progress) == build_run(&other, &Progress::none()));
        other_progress.save(b"{ not json").unwrap();
        assert!(build_run(&other, &other_progress) == build_run(&other, &Progress::none()));
        // Storing the artifact drops its progress file.
        cache.store(&key, &whole).unwrap();
        assert!(progress.load().is_none());
    }

    /// An MLP's run keeps the artifact key it had before `min_size` and the convolution tag
    /// existed (the file name of a quick run stored by earlier versions); a CNN's names its kernel.
    #[test]
    fn mlp_keys_are_stable_and_cnn_keys_name_the_kernel() {
        // Region 3, master seed 2023, seed 0: a run of `shards --quick`.
        let key = run_key(&TrainSetup::quick(), 3, 0.0, 2023, 0);
        assert!(!key.inputs.contains("min_size") && !key.inputs.contains("convolution"));
        assert_eq!(
            key.file_name(),
            "ppo-run-d53372c1f6a497bc212d2066a09f8dc7.bin"
        );
        let cnn = run_key(&TrainSetup::full(), 3, 0.0, 2023, 0);
        let tag = format!("\"convolution\":\"{}\"", cruxlab_learn::ops::CONVOLUTION);
        assert!(cnn.inputs.contains(&tag), "{}", cnn.inputs);
        let back: RunInputs = serde_json::from_str(&cnn.inputs).unwrap();
        assert_eq!(
            back.convolution.as_deref(),
            Some(cruxlab_learn::ops::CONVOLUTION)
        );
    }

    /// `min_size` is checked under its own key, and a fixed-size run leaves it out of its key.
    #[test]
    fn varied_sizes_are_checked_and_keep_fixed_size_keys() {
        let mut setup = TrainSetup::full();
        let key = run_key(&setup, 5, 0.0, 2023, 0);
        assert!(!key.inputs.contains("min_size"), "{}", key.inputs);
        let back: RunInputs = serde_json::from_str(&key.inputs).unwrap();
        assert_eq!(back.setup, setup);
        for bad in [4, 8, 11] {
            setup.min_size = bad;
            assert_eq!(setup.check("train").unwrap_err().0, "train.min_size");
        }
        setup.min_size = 7;
        assert_eq!(setup.check("train"), Ok(()));
        assert!(
            run_key(&setup, 3, 0.0, 0, 0)
                .inputs
                .contains("\"min_size\":7")
        );
        assert_eq!(
            setup.check_runs(8, &[7], &[0.0], 100).unwrap_err().0,
            "regions",
            "a region must leave test floor in the largest maze"
        );
        // Smaller mazes may lie wholly inside the region (procgen's small mazes).
        assert_eq!(setup.check_runs(8, &[3, 5], &[0.0], 100), Ok(()));
        assert_eq!(setup.mazes(3, 0.0).min_size, 7);
        setup.min_size = 9;
        assert_eq!(
            run_key(&setup, 5, 0.0, 2023, 0),
            key,
            "min_size = size is fixed size"
        );
        setup.min_size = 0;
        assert_eq!(setup.mazes(3, 0.0).min_size, 9);
    }
}
