//! Quick batched-stepping throughput check without criterion: best of seven 0.5 s runs, which is
//! steadier than a mean on a machine shared with other work. Also prints the mean episode length
//! (how often auto-reset regenerates a level). Set `RAYON_NUM_THREADS` to pick the thread count.
//!
//! `cargo run --release -p cruxlab-grid --example throughput -- maze:9 4096 compact`

use std::time::Instant;

use cruxlab_grid::{Action, EnvConfig, LevelSpec, ObjectKind, ObsKind, VecEnv};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let spec: LevelSpec = args.first().map_or("maze:9", String::as_str).parse()?;
    let n: usize = args.get(1).map_or(Ok(4096), |s| s.parse())?;
    let obs: ObsKind = args.get(2).map_or("compact", String::as_str).parse()?;
    let size = spec.size();
    let config = EnvConfig::new(ObjectKind::Diamond, (4 * size * size) as u32);
    let mut env = VecEnv::new(n, spec, config, obs, 7);
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    // A prime number of rows far longer than an episode: no environment replays a short cycle.
    let rows: Vec<Vec<Action>> = (0..4099)
        .map(|_| {
            (0..n)
                .map(|_| Action::MOVES[rng.random_range(0..4)])
                .collect()
        })
        .collect();
    let mut best = 0.0f64;
    let (mut episodes, mut total) = (0u64, 0u64);
    for _ in 0..7 {
        let start = Instant::now();
        let mut calls = 0;
        while start.elapsed().as_secs_f64() < 0.5 {
            env.step(&rows[calls % rows.len()]);
            episodes += env
                .terminated()
                .iter()
                .chain(env.truncated())
                .filter(|&&e| e)
                .count() as u64;
            total += n as u64;
            calls += 1;
        }
        best = best.max((calls * n) as f64 / start.elapsed().as_secs_f64());
    }
    println!(
        "{spec} n={n} {obs:?}: best {:.1} M steps/s; mean episode length {:.1} steps",
        best / 1e6,
        total as f64 / episodes as f64
    );
    Ok(())
}
