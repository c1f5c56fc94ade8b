//! Batched stepping allocates nothing once warm, auto-resets included.
//!
//! A counting global allocator wraps the system one; this file holds a single test so no other test
//! allocates concurrently.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use cruxlab_grid::{Action, EnvConfig, LevelSpec, ObjectKind, ObsKind, VecEnv};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn stepping_does_not_allocate_per_step_or_per_reset() {
    for (spec, obs) in [
        ("maze:9", ObsKind::Compact),
        ("rooms:11:0.3", ObsKind::Planes),
    ] {
        let spec: LevelSpec = spec.parse().unwrap();
        let n = 64;
        let mut env = VecEnv::new(n, spec, EnvConfig::new(ObjectKind::Diamond, 20), obs, 3);
        let rows: Vec<Vec<Action>> = (0..17)
            .map(|r| {
                (0..n)
                    .map(|i| Action::MOVES[(i * 7 + r * 3 + i / 5) % 4])
                    .collect()
            })
            .collect();
        // Warm up: every chunk's workspace grows to its final size.
        for r in 0..200 {
            env.step(&rows[r % rows.len()]);
        }
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let mut resets = 0;
        for r in 0..1000 {
            env.step(&rows[r % rows.len()]);
            resets += env
                .terminated()
                .iter()
                .chain(env.truncated())
                .filter(|&&e| e)
                .count();
        }
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
        assert!(resets > 1000, "the run should cross many resets ({resets})");
        // Allow a little for the thread pool's own bookkeeping, far below one per reset.
        assert!(
            allocations < 50,
            "{allocations} allocations over 1000 steps and {resets} resets ({spec})"
        );
    }
}
