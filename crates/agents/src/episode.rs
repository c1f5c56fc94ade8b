//! Playing one episode: a policy acting in an [`Env`] until it reaches its target or runs out of steps.

use cruxlab_grid::{DistanceField, Env, EnvConfig, Level, LevelSource, ObjectKind, Pos};

use crate::policy::{Policy, View};

/// What one episode produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Episode {
    /// The agent stepped onto an object of its target kind within the step limit.
    pub success: bool,
    pub steps: u32,
    /// Shortest path length from the start to the nearest target object.
    pub optimal: u32,
    /// Expansions spent deciding during the episode.
    pub expansions: u64,
    pub decisions: u64,
    /// The cells the agent stood on, start first.
    pub path: Vec<Pos>,
}

impl Episode {
    /// Success weighted by path length (Anderson et al. 2018): optimal / max(taken, optimal) on
    /// success, 0 on failure.
    pub fn spl(&self) -> f64 {
        if !self.success {
            return 0.0;
        }
        self.optimal as f64 / self.steps.max(self.optimal).max(1) as f64
    }

    /// Expansions per decision (0 without decisions).
    pub fn expansions_per_decision(&self) -> f64 {
        self.expansions as f64 / self.decisions.max(1) as f64
    }
}

/// Play `policy` on `level` toward `target` for at most `max_steps` steps. The policy's per-episode
/// state is reset first; the compute it spends is read from its own accounting.
pub fn play(
    level: &Level,
    target: ObjectKind,
    policy: &mut impl Policy,
    max_steps: u32,
) -> Episode {
    let mut env = Env::new(
        LevelSource::Fixed(level.clone()),
        EnvConfig::new(target, max_steps),
    );
    env.reset(0);
    let optimal = DistanceField::from_sources(level, level.positions_of(target))
        .get(level.agent())
        .unwrap_or(u32::MAX);
    let before = policy.compute();
    policy.reset();
    let mut episode = Episode {
        optimal,
        path: vec![level.agent()],
        ..Episode::default()
    };
    loop {
        let action = policy.act(&View {
            level: env.level(),
            cue: env.cue(),
        });
        let step = env.advance(action);
        episode.steps += 1;
        episode.path.push(env.agent());
        if step.terminated {
            episode.success = true;
            break;
        }
        if step.truncated {
            break;
        }
    }
    let after = policy.compute();
    episode.expansions = after.expansions - before.expansions;
    episode.decisions = after.decisions - before.decisions;
    episode
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::AgentKind;

    #[test]
    fn an_unbounded_planner_walks_the_optimal_path() {
        let level = Level::parse("#######\n#A..#D#\n#.#...#\n#######\n").unwrap();
        let mut planner = AgentKind::Astar.planner(&level, ObjectKind::Diamond, None);
        let ep = play(&level, ObjectKind::Diamond, &mut planner, 100);
        assert!(ep.success);
        assert_eq!((ep.steps, ep.optimal), (6, 6));
        assert_eq!(ep.spl(), 1.0);
        assert_eq!(ep.path.len(), 7);
        assert_eq!(ep.decisions, 6);
    }

    #[test]
    fn a_step_limit_ends_the_episode_without_success() {
        let level = Level::parse("#######\n#A..#D#\n#.#...#\n#######\n").unwrap();
        let mut planner = AgentKind::Bfs.planner(&level, ObjectKind::Diamond, None);
        let ep = play(&level, ObjectKind::Diamond, &mut planner, 3);
        assert!(!ep.success);
        assert_eq!(ep.steps, 3);
        assert_eq!(ep.spl(), 0.0);
    }
}
