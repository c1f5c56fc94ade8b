//! `cruxlab scaling ...`: fit, predict and plan with scaling laws.

/// Scaling-law tools.
#[derive(clap::Args)]
pub struct ScalingArgs {}

pub fn run(_args: ScalingArgs) -> anyhow::Result<()> {
    anyhow::bail!("cruxlab scaling is not built yet")
}
