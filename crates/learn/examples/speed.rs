//! Throughput of PPO training and the machine's f32 GEMM peak through the same matrix product.
//!
//! `cargo run --release -p cruxlab-learn --example speed -- [NET] [STEPS] [THREADS] [KERNEL]`
//! NET: cnn (default, 49,645 parameters on 9x9 mazes, `PpoConfig::default()`: minibatches of 512),
//! cnn-full (the same network with the full learned configs' PPO: minibatches of 64, 4 epochs) or
//! mlp (7x7 mazes, the quick configs' network and PPO);
//! THREADS: threads per matrix product (1 = how experiments train; 2 = both cores on one run);
//! KERNEL: the convolution kernels' build, `best` (default), `avx512`, `avx2` or `portable`
//! (`ops::set_convolution_kernel`). Every build trains the same weights; the last line prints a
//! hash of the trained network's checkpoint, so runs of two builds can be checked to agree.
use std::sync::Arc;
use std::time::Instant;

use candle_core::{Device, Tensor};
use cruxlab_grid::{EnvConfig, ObjectKind};
use cruxlab_learn::ops::{convolution_kernel, matmul, set_convolution_kernel, set_gemm_threads};
use cruxlab_learn::{
    ActorCritic, CornerMazes, Envs, LevelEnvs, NetConfig, Plane, PpoConfig, Trainer,
};

/// The allocator the `cruxlab` binary uses (see crates/cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn gemm_peak(n: usize) -> f64 {
    let a = Tensor::ones((n, n), candle_core::DType::F32, &Device::Cpu).unwrap();
    let b = Tensor::ones((n, n), candle_core::DType::F32, &Device::Cpu).unwrap();
    matmul(&a, &b).unwrap();
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        matmul(&a, &b).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (n * n * n) as f64 / best / 1e9
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map_or("cnn", |s| s.as_str()).to_string();
    let steps: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(65_536);
    let threads: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    set_gemm_threads(threads);
    if let Err(e) = set_convolution_kernel(args.get(4).map_or("best", |s| s.as_str())) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    for n in [512, 1024] {
        println!(
            "gemm {n}x{n}x{n}, {threads} thread(s): {:.1} GFLOP/s (best of 5)",
            gemm_peak(n)
        );
    }
    // The learned experiments' PPO settings (`TrainSetup::quick` and `full` in cruxlab-experiments):
    // 16 environments x 32 steps, 8 minibatches of 64, 4 epochs.
    let experiments = PpoConfig {
        num_envs: 16,
        num_steps: 32,
        num_minibatches: 8,
        update_epochs: 4,
        total_steps: steps,
        ..PpoConfig::default()
    };
    let (size, net_cfg, cfg) = if kind == "mlp" {
        (7, NetConfig::mlp(), experiments)
    } else if kind == "cnn-full" {
        (9, NetConfig::cnn(), experiments)
    } else {
        (
            9,
            NetConfig::cnn(),
            PpoConfig {
                total_steps: steps,
                ..PpoConfig::default()
            },
        )
    };
    let dist = CornerMazes::fixed(size, 1, 0.0);
    let planes = vec![Plane::Wall, Plane::Agent, Plane::Diamond];
    let envs = LevelEnvs::new(
        cfg.num_envs,
        Arc::new(move |s| dist.training_level(s)),
        EnvConfig::new(ObjectKind::Diamond, (2 * size * size) as u32),
        planes,
        1,
    );
    let net = ActorCritic::new(&net_cfg, envs.input(), 1).unwrap();
    let (params, macs) = (net.num_params(), net.macs_per_sample());
    let mut t = Trainer::new(net, cfg, Box::new(envs), 1);
    let start = Instant::now();
    t.train(None, 0).unwrap();
    let wall = start.elapsed().as_secs_f64();
    let tm = t.timing();
    let update_gflops = 6.0 * macs as f64 * tm.samples_updated as f64 / tm.update_secs / 1e9;
    println!(
        "{kind}: {params} parameters, {macs} multiply-adds per sample forward, convolution kernel {}",
        convolution_kernel()
    );
    println!(
        "env steps/s (end to end): {:.0}",
        tm.env_steps as f64 / wall
    );
    println!(
        "rollout phase: {:.0} env steps/s",
        tm.env_steps as f64 / tm.rollout_secs
    );
    println!(
        "gradient updates/s: {:.1} (minibatch {})",
        tm.gradient_steps as f64 / tm.update_secs,
        t.config().minibatch_size()
    );
    println!(
        "update phase: {:.2} GFLOP/s (forward + backward counted as 3 x forward)",
        update_gflops
    );
    let bytes = cruxlab_learn::checkpoint::to_bytes(t.net()).unwrap();
    let mut h = std::hash::DefaultHasher::new();
    std::hash::Hasher::write(&mut h, &bytes);
    println!(
        "trained network: checkpoint hash {:016x}",
        std::hash::Hasher::finish(&h)
    );
}
