//! Time of one 3x3 convolution layer (`ops::conv3x3_relu`), forward alone and forward + backward
//! (input and weight gradients), best of 20.
//!
//! `cargo run --release -p cruxlab-learn --example conv_speed -- [BATCH] [SIDE] [CHANNELS] [KERNEL]`
//! (defaults 512 9 16 best: the default CNN's second layer at PPO's minibatch size; 16 output
//! channels; KERNEL as in the `speed` example: `best`, `avx512`, `avx2` or `portable`).
use candle_core::{Device, Tensor, Var};
use cruxlab_learn::ops::conv3x3_relu;
use std::time::Instant;
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let b: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(512);
    let hw: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(9);
    let c: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(16);
    let o = 16;
    if let Err(e) = cruxlab_learn::ops::set_convolution_kernel(args.get(4).map_or("best", |s| s)) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    let x =
        Var::from_tensor(&Tensor::randn(0f32, 1., (b, hw, hw, c), &Device::Cpu).unwrap()).unwrap();
    let w = Var::from_tensor(
        &(Tensor::randn(0f32, 1., (9 * c, o), &Device::Cpu).unwrap() * 0.1).unwrap(),
    )
    .unwrap();
    let bias = Var::from_tensor(&Tensor::zeros(o, candle_core::DType::F32, &Device::Cpu).unwrap())
        .unwrap();
    let (mut f, mut fb) = (f64::MAX, f64::MAX);
    for _ in 0..20 {
        let t = Instant::now();
        conv3x3_relu(x.as_tensor(), w.as_tensor(), bias.as_tensor()).unwrap();
        f = f.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let y = conv3x3_relu(x.as_tensor(), w.as_tensor(), bias.as_tensor()).unwrap();
        let _g = y.sum_all().unwrap().backward().unwrap();
        fb = fb.min(t.elapsed().as_secs_f64());
    }
    let flop = 2.0 * (b * hw * hw * 9 * c * o) as f64;
    println!(
        "{} B={b} {hw}x{hw} C={c}: forward {:.2} ms ({:.1} GFLOP/s), fwd+bwd {:.2} ms ({:.1} GFLOP/s)",
        cruxlab_learn::ops::convolution_kernel(),
        f * 1e3,
        flop / f / 1e9,
        fb * 1e3,
        3.0 * flop / fb / 1e9
    );
}
