//! `cruxlab bargain ...`: open-source game theory and bargaining tools.
//!
//! `cruxlab bargain matchups [--agents FILE] [--json]` plays every pair of modal agents (the classic
//! ones plus any defined in FILE) in the one-shot prisoner's dilemma and prints who cooperates and
//! the payoffs.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use cruxlab_games::modal::{Matchup, Roster};

/// Open-source game theory and bargaining tools.
#[derive(Args)]
pub struct BargainArgs {
    #[command(subcommand)]
    command: BargainCommand,
}

#[derive(Subcommand)]
enum BargainCommand {
    /// Play every pair of modal agents (provability-logic fixed points) and print the outcomes and
    /// payoffs.
    Matchups {
        /// A file of extra agents, one `Name = formula` per line (e.g. `MyBot = box them(me)`).
        #[arg(long, value_name = "FILE")]
        agents: Option<PathBuf>,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: BargainArgs) -> anyhow::Result<()> {
    match args.command {
        BargainCommand::Matchups { agents, json } => matchups(agents, json),
    }
}

fn matchups(agents: Option<PathBuf>, json: bool) -> anyhow::Result<()> {
    let mut roster = Roster::classic();
    if let Some(path) = &agents {
        let text = std::fs::read_to_string(path)
            .map_err(|e| crate::input_error(format!("{}: {e}", path.display())))?;
        roster
            .extend_from_text(&text)
            .map_err(|e| crate::input_error(format!("agents file {}: {e}", path.display())))?;
    }
    let pairs = (roster.names().len() as u64).pow(2);
    let bar = cruxlab_core::progress::bar("matchups", pairs, 0, "pairs", true);
    let table = roster.table_observed(|| bar.inc(1));
    bar.finish_and_clear();
    let table = table.map_err(|e| {
        let source = agents
            .as_ref()
            .map_or(String::new(), |p| format!(" (agents from {})", p.display()));
        crate::input_error(format!("cannot evaluate the matchups{source}: {e}"))
    })?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&roster, &table))?
        );
    } else {
        print!("{}", to_text(&roster, &table));
    }
    Ok(())
}

fn to_json(roster: &Roster, table: &[Matchup]) -> serde_json::Value {
    let pd = roster.payoffs();
    serde_json::json!({
        "payoffs": {
            "temptation": pd.temptation,
            "reward": pd.reward,
            "punishment": pd.punishment,
            "sucker": pd.sucker,
        },
        "agents": roster.agents().iter().map(|a| serde_json::json!({
            "name": a.name,
            "formula": a.formula.to_string(),
        })).collect::<Vec<_>>(),
        "matchups": table.iter().map(|m| serde_json::json!({
            "row": m.row,
            "column": m.column,
            "row_move": if m.row_cooperates { "C" } else { "D" },
            "column_move": if m.column_cooperates { "C" } else { "D" },
            "row_payoff": m.row_payoff,
            "column_payoff": m.column_payoff,
            "stable_from_world": m.stable_from,
            "worlds_evaluated": m.worlds_evaluated,
        })).collect::<Vec<_>>(),
    })
}

fn to_text(roster: &Roster, table: &[Matchup]) -> String {
    use std::fmt::Write;
    let names = roster.names();
    let width = names.iter().map(|n| n.len()).max().unwrap_or(4).max(4);
    let pd = roster.payoffs();
    let mut out = String::new();
    let header = |out: &mut String, title: &str| {
        let _ = writeln!(out, "{title}");
        let _ = write!(out, "{:width$}", "");
        for n in &names {
            let _ = write!(out, "  {n:>width$}");
        }
        out.push('\n');
    };
    let cell = |row: &str, column: &str| {
        table
            .iter()
            .find(|m| m.row == row && m.column == column)
            .expect("every pair was played")
    };
    let letter = |c: bool| if c { "C" } else { "D" };
    header(
        &mut out,
        "Moves (row's move / column's move; C cooperate, D defect):",
    );
    for row in &names {
        let _ = write!(out, "{row:width$}");
        for column in &names {
            let m = cell(row, column);
            let text = format!(
                "{}/{}",
                letter(m.row_cooperates),
                letter(m.column_cooperates)
            );
            let _ = write!(out, "  {text:>width$}");
        }
        out.push('\n');
    }
    out.push('\n');
    header(
        &mut out,
        &format!(
            "Row's payoff (T={}, R={}, P={}, S={}):",
            pd.temptation, pd.reward, pd.punishment, pd.sucker
        ),
    );
    for row in &names {
        let _ = write!(out, "{row:width$}");
        for column in &names {
            let text = format!("{}", cell(row, column).row_payoff);
            let _ = write!(out, "  {text:>width$}");
        }
        out.push('\n');
    }
    out.push_str("\nAgents:\n");
    for a in roster.agents() {
        let _ = writeln!(out, "  {:width$} = {}", a.name, a.formula);
    }
    out
}
