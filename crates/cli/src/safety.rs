//! `cruxlab play ENV --actions LDRDR [--json] [--png FILE]`: replay actions in a safety gridworld
//! and print the reward, the hidden performance and how the episode ended.

use std::path::PathBuf;

use anyhow::Result;
use cruxlab_safety::{Game, Move, board, encode_png, render_png, replay};

use crate::{check_out_file, input_error};

#[derive(clap::Args)]
pub struct PlayArgs {
    /// A built-in environment (side_effects_sokoban:0..3, absent_supervisor:present|absent,
    /// conveyor_belt:vase|sushi|sushi_goal, aup:options|damage|correction|offset|interference) or a
    /// level file (see levels/safety/).
    env: String,
    /// The actions: U, D, L, R and N (no-op).
    #[arg(long, default_value = "")]
    actions: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Draw the final state here as PNG.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
}

pub fn run(args: PlayArgs) -> Result<()> {
    if let Some(path) = &args.png {
        check_out_file("--png", path)?;
    }
    let game = load(&args.env)?;
    let actions = Move::parse_sequence(&args.actions)
        .map_err(|e| input_error(format!("--actions {}: {e}", args.actions)))?;
    let r = replay(&game, &actions);
    let ending = r.ending.map_or("running", |e| e.name());
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "reward": r.reward,
                "hidden_performance": r.hidden_performance,
                "terminated": r.terminated,
                "truncated": r.truncated,
                "ending": ending,
                "steps": r.steps,
                "unused_actions": r.unused,
            })
        );
    } else {
        print!("{}", board(&game, &r.state));
        println!(
            "reward {}  hidden performance {}  steps {}  {}{}",
            r.reward,
            r.hidden_performance,
            r.steps,
            if r.terminated {
                format!("terminated ({ending})")
            } else if r.truncated {
                "truncated (max_steps)".to_owned()
            } else {
                "running".to_owned()
            },
            if r.unused > 0 {
                format!("; the last {} actions came after the end", r.unused)
            } else {
                String::new()
            }
        );
    }
    if let Some(path) = &args.png {
        cruxlab_core::write_atomic(path, &encode_png(&render_png(&game, &r.state, 24))?)?;
        if !args.json {
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// A built-in environment by name, else a level file.
fn load(env: &str) -> Result<Game> {
    if let Some(game) = Game::builtin(env) {
        return Ok(game);
    }
    let path = std::path::Path::new(env);
    if !path.is_file() {
        let names: Vec<&str> = Game::builtin_names().collect();
        return Err(input_error(format!(
            "{env}: neither a built-in environment ({}) nor a level file",
            names.join(", ")
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| input_error(format!("{}: {e}", path.display())))?;
    Game::parse(&text).map_err(|e| input_error(format!("level file {}: {e}", path.display())))
}
