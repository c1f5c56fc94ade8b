//! Render a generated level to PNG and print its text form.
//!
//! `cargo run -p cruxlab-grid --example render_level -- maze:13 7 out.png [--cue]`

use cruxlab_grid::{DistanceField, LevelSpec, ObjectKind, save_png};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let spec: LevelSpec = args.first().map_or("maze:13", String::as_str).parse()?;
    let seed: u64 = args.get(1).map_or(Ok(0), |s| s.parse())?;
    let path = args.get(2).map_or("level.png", String::as_str);
    let level = spec.generate(seed);
    let cue = args
        .iter()
        .any(|a| a == "--cue")
        .then(|| DistanceField::from_sources(&level, level.positions_of(ObjectKind::CUE_SOURCE)));
    save_png(&level, cue.as_ref(), 24, path)?;
    print!("{level}");
    Ok(())
}
