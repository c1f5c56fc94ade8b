//! `cruxlab bargain ...`: open-source game theory and bargaining tools.

/// Bargaining tools.
#[derive(clap::Args)]
pub struct BargainArgs {}

pub fn run(_args: BargainArgs) -> anyhow::Result<()> {
    anyhow::bail!("cruxlab bargain is not built yet")
}
