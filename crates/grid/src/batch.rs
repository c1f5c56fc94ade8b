//! Vectorised environments: `N` procedurally generated gridworlds stepped together, with auto-reset.
//!
//! [`VecEnv`] is the batched counterpart of [`crate::Env`], laid out for throughput: every output is
//! one flat buffer over all environments (`n * H * W` observation codes, `n` rewards, `n` flags...),
//! the per-environment state is a few integers, and the compact observation buffer *is* the world
//! state, updated in place (a step rewrites at most two cells). Stepping splits the environments
//! into fixed chunks that rayon runs in parallel; each environment depends only on its own seed and
//! actions, so results are bit-identical for any thread count.
//!
//! **The step rule** is [`EnvConfig::step`]'s. The move is a fast path of it, made on the compact
//! codes in place; the reward and the end flags come from [`EnvConfig::score`] itself. A property
//! test (`tests/batch.rs`) replays random levels and action sequences through the rule on plain
//! [`Level`]s and checks every output of every step.
//!
//! **Auto-reset ("same-step" mode, as in Gymnasium's vector environments).** When environment `i`'s
//! episode ends during [`VecEnv::step`], that step's `rewards()[i]`, `terminated()[i]`,
//! `truncated()[i]`, `reached()[i]` and `episode_steps()[i]` describe the step that ended it, and
//! the environment is reset immediately: its observation slot already holds the *first observation
//! of the next episode*. The final observation of the ended episode is not kept (the next action
//! sent for `i` acts on the new episode).
//!
//! **Seeds.** Environment `i`'s `k`-th episode (counting from 0 at [`VecEnv::reset`]) is the level
//! `spec.generate(VecEnv::episode_seed(base_seed, i, k))`, so a single [`crate::Env`] reset with that
//! seed replays it exactly.

use rayon::prelude::*;

use crate::generate::Workspace;
use crate::obs::{self, CH_AGENT, CHANNELS, ObsKind, code};
use crate::{Action, EnvConfig, Info, Level, LevelSpec, ObjectKind, Pos};

/// Per-environment state besides its observation slot.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// Cell index of the agent.
    agent: u32,
    /// Steps taken in the current episode.
    steps: u32,
    /// Index of the current episode (0 after [`VecEnv::reset`]).
    episode: u64,
    /// Compact code of what lies under the agent (floor or an object), hidden in the observation.
    under: u8,
}

/// What every chunk needs to know, copied into each parallel task.
#[derive(Clone, Copy)]
struct Shared {
    spec: LevelSpec,
    config: EnvConfig,
    base_seed: u64,
    cells: usize,
    planes: bool,
    /// Cell-index offset of each action (up, down, left, right).
    offsets: [isize; 4],
}

/// One chunk's share of every buffer.
struct Lanes<'a> {
    first: usize,
    slots: &'a mut [Slot],
    compact: &'a mut [u8],
    /// Empty unless the observations are planes.
    planes: &'a mut [f32],
    rewards: &'a mut [f32],
    terminated: &'a mut [bool],
    truncated: &'a mut [bool],
    reached: &'a mut [Option<ObjectKind>],
    lengths: &'a mut [u32],
}

/// `N` environments on levels from one [`LevelSpec`], stepped together with same-step auto-reset.
/// See the module docs.
///
/// ```
/// use cruxlab_grid::{Action, Env, EnvConfig, LevelSource, LevelSpec, ObjectKind, ObsKind, VecEnv};
///
/// let spec: LevelSpec = "maze:9".parse().unwrap();
/// let config = EnvConfig::new(ObjectKind::Diamond, 4 * 9 * 9);
/// let mut envs = VecEnv::new(4, spec, config, ObsKind::Compact, 42);
/// envs.step(&[Action::Up, Action::Down, Action::Left, Action::Right]);
/// assert_eq!(envs.obs_compact().len(), 4 * 9 * 9);
///
/// // Environment 2's first episode, replayed by a single environment.
/// let mut env = Env::new(LevelSource::Generated(spec), config);
/// env.reset(VecEnv::episode_seed(42, 2, 0));
/// let step = env.step(Action::Left);
/// assert_eq!(step.observation.as_compact().unwrap(), &envs.obs_compact()[2 * 81..3 * 81]);
/// ```
#[derive(Debug, Clone)]
pub struct VecEnv {
    spec: LevelSpec,
    config: EnvConfig,
    obs: ObsKind,
    base_seed: u64,
    height: usize,
    width: usize,
    chunk: usize,
    slots: Vec<Slot>,
    compact: Vec<u8>,
    planes: Vec<f32>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    reached: Vec<Option<ObjectKind>>,
    lengths: Vec<u32>,
    workspaces: Vec<Workspace>,
}

/// One round of the splitmix64 generator: add the golden-ratio increment, then mix. A bijection on
/// `u64` whose outputs pass as independent even for consecutive inputs.
const fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl VecEnv {
    /// `n` environments, reset to their first episodes (so the observation buffers are valid at once).
    ///
    /// # Panics
    /// If `n` is 0, `config.max_steps` is 0, or `spec` is invalid.
    pub fn new(
        n: usize,
        spec: LevelSpec,
        config: EnvConfig,
        obs: ObsKind,
        base_seed: u64,
    ) -> VecEnv {
        assert!(n > 0, "a VecEnv needs at least one environment");
        assert!(config.max_steps >= 1, "max_steps must be at least 1");
        if let Err(e) = spec.validate() {
            panic!("invalid level spec {spec:?}: {e}");
        }
        let (height, width) = spec.shape();
        let cells = height * width;
        // About four chunks per thread of the current pool: enough to balance uneven reset costs,
        // few enough that task overhead stays small. This only affects speed: every environment
        // depends on its own seed and actions alone, so results do not depend on the chunking.
        let chunk = n.div_ceil(4 * rayon::current_num_threads()).max(8);
        let mut env = VecEnv {
            spec,
            config,
            obs,
            base_seed,
            height,
            width,
            chunk,
            slots: vec![Slot::default(); n],
            compact: vec![code::WALL; n * cells],
            planes: match obs {
                ObsKind::Compact => Vec::new(),
                ObsKind::Planes => vec![0.0; n * CHANNELS * cells],
            },
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            reached: vec![None; n],
            lengths: vec![0; n],
            workspaces: (0..n.div_ceil(chunk)).map(|_| Workspace::new()).collect(),
        };
        env.reset();
        env
    }

    /// The seed of environment `env`'s `episode`-th episode under `base_seed`:
    /// `m(m(m(base_seed) ^ env) ^ episode)` with `m` one splitmix64 round.
    pub fn episode_seed(base_seed: u64, env: usize, episode: u64) -> u64 {
        splitmix64(splitmix64(splitmix64(base_seed) ^ env as u64) ^ episode)
    }

    /// Restart every environment at its episode 0 (same levels as right after [`VecEnv::new`]) and
    /// clear the reward and flag buffers.
    pub fn reset(&mut self) {
        self.run_chunks(|shared, lanes, workspace| {
            for j in 0..lanes.slots.len() {
                lanes.slots[j].episode = 0;
                let cells = shared.cells;
                let planes = if shared.planes {
                    &mut lanes.planes[j * CHANNELS * cells..(j + 1) * CHANNELS * cells]
                } else {
                    &mut []
                };
                let grid = &mut lanes.compact[j * cells..(j + 1) * cells];
                reset_env(
                    shared,
                    lanes.first + j,
                    &mut lanes.slots[j],
                    grid,
                    planes,
                    workspace,
                );
                lanes.rewards[j] = 0.0;
                lanes.terminated[j] = false;
                lanes.truncated[j] = false;
                lanes.reached[j] = None;
                lanes.lengths[j] = 0;
            }
        });
    }

    /// Change the base seed and [`VecEnv::reset`].
    pub fn reseed(&mut self, base_seed: u64) {
        self.base_seed = base_seed;
        self.reset();
    }

    /// Step every environment with its action (`actions[i]` for environment `i`), auto-resetting the
    /// ones whose episodes end. Results land in the buffers behind the accessors.
    ///
    /// # Panics
    /// If `actions.len()` differs from the number of environments.
    pub fn step(&mut self, actions: &[Action]) {
        assert_eq!(
            actions.len(),
            self.slots.len(),
            "one action per environment"
        );
        self.run_chunks(|shared, lanes, workspace| {
            let Shared {
                cells,
                config,
                planes,
                offsets,
                ..
            } = *shared;
            let Lanes {
                first,
                slots,
                compact,
                planes: plane_buf,
                rewards,
                terminated,
                truncated,
                reached,
                lengths,
            } = lanes;
            let n = slots.len();
            let actions = &actions[first..first + n];
            let (rewards, terminated, truncated) =
                (&mut rewards[..n], &mut terminated[..n], &mut truncated[..n]);
            let (reached, lengths) = (&mut reached[..n], &mut lengths[..n]);
            for (j, ((slot, grid), &action)) in slots
                .iter_mut()
                .zip(compact.chunks_exact_mut(cells))
                .zip(actions)
                .enumerate()
            {
                let from = slot.agent as usize;
                // Generated levels are walled all round, so the agent never stands on the border
                // and `to` stays inside the grid.
                let to = from.wrapping_add_signed(offsets[action as usize]);
                let entered = grid[to];
                // Branch-free move: a bump "moves" the agent onto its own cell. Random actions make
                // the bump branch unpredictable, and mispredictions dominated the step.
                let moved = entered != code::WALL;
                let dest = if moved { to } else { from };
                grid[from] = slot.under;
                grid[dest] = code::AGENT;
                slot.under = if moved { entered } else { slot.under };
                slot.agent = dest as u32;
                if planes {
                    let agent_plane = &mut plane_buf[(j * CHANNELS + CH_AGENT) * cells..][..cells];
                    agent_plane[from] = 0.0;
                    agent_plane[dest] = 1.0;
                }
                slot.steps += 1;
                // Scored by the step rule itself. A bump "enters" the wall code, whose kind is
                // `None` as for a bump in `EnvConfig::step`.
                let t = config.score(Info {
                    steps: slot.steps,
                    reached: code::kind(entered), // `None` for walls and floor
                    moved,
                });
                rewards[j] = t.reward;
                terminated[j] = t.terminated;
                truncated[j] = t.truncated;
                reached[j] = t.info.reached;
                lengths[j] = slot.steps;
                if t.terminated | t.truncated {
                    slot.episode += 1;
                    let env_planes = if planes {
                        &mut plane_buf[j * CHANNELS * cells..(j + 1) * CHANNELS * cells]
                    } else {
                        &mut []
                    };
                    reset_env(shared, first + j, slot, grid, env_planes, workspace);
                }
            }
        });
    }

    /// Run `body` on every chunk of environments, in parallel.
    fn run_chunks<F>(&mut self, body: F)
    where
        F: Fn(&Shared, Lanes<'_>, &mut Workspace) + Sync,
    {
        let cells = self.height * self.width;
        let shared = Shared {
            spec: self.spec,
            config: self.config,
            base_seed: self.base_seed,
            cells,
            planes: self.obs == ObsKind::Planes,
            offsets: [-(self.width as isize), self.width as isize, -1, 1],
        };
        let c = self.chunk;
        let common = (
            self.slots.par_chunks_mut(c),
            self.compact.par_chunks_mut(c * cells),
            self.rewards.par_chunks_mut(c),
            self.terminated.par_chunks_mut(c),
            self.truncated.par_chunks_mut(c),
            self.reached.par_chunks_mut(c),
            self.lengths.par_chunks_mut(c),
            self.workspaces.par_iter_mut(),
        );
        // The plane buffer is empty for compact observations, so it can only join the zip when used.
        match self.obs {
            ObsKind::Compact => common.into_par_iter().enumerate().for_each(
                |(
                    k,
                    (slots, compact, rewards, terminated, truncated, reached, lengths, workspace),
                )| {
                    let planes = &mut [][..];
                    let lanes = Lanes {
                        first: k * c,
                        slots,
                        compact,
                        planes,
                        rewards,
                        terminated,
                        truncated,
                        reached,
                        lengths,
                    };
                    body(&shared, lanes, workspace)
                },
            ),
            ObsKind::Planes => (common, self.planes.par_chunks_mut(c * CHANNELS * cells))
                .into_par_iter()
                .enumerate()
                .for_each(
                    |(
                        k,
                        (
                            (
                                slots,
                                compact,
                                rewards,
                                terminated,
                                truncated,
                                reached,
                                lengths,
                                workspace,
                            ),
                            planes,
                        ),
                    )| {
                        let lanes = Lanes {
                            first: k * c,
                            slots,
                            compact,
                            planes,
                            rewards,
                            terminated,
                            truncated,
                            reached,
                            lengths,
                        };
                        body(&shared, lanes, workspace)
                    },
                ),
        }
    }

    pub fn num_envs(&self) -> usize {
        self.slots.len()
    }
    pub fn spec(&self) -> LevelSpec {
        self.spec
    }
    pub fn config(&self) -> &EnvConfig {
        &self.config
    }
    pub fn obs_kind(&self) -> ObsKind {
        self.obs
    }
    pub fn base_seed(&self) -> u64 {
        self.base_seed
    }
    /// `(height, width)` of every level.
    pub fn shape(&self) -> (usize, usize) {
        (self.height, self.width)
    }

    /// Compact observations, `n * H * W` codes (environment-major). Available whichever
    /// [`ObsKind`] was chosen: it is the world state.
    pub fn obs_compact(&self) -> &[u8] {
        &self.compact
    }

    /// Plane observations, `n * C * H * W` floats (environment-major, then channel-major).
    ///
    /// # Panics
    /// If this `VecEnv` was built with [`ObsKind::Compact`].
    pub fn obs_planes(&self) -> &[f32] {
        assert_eq!(
            self.obs,
            ObsKind::Planes,
            "obs_planes needs a VecEnv built with ObsKind::Planes"
        );
        &self.planes
    }

    /// Rewards of the last step.
    pub fn rewards(&self) -> &[f32] {
        &self.rewards
    }
    /// Which environments reached their target on the last step (then auto-reset).
    pub fn terminated(&self) -> &[bool] {
        &self.terminated
    }
    /// Which environments hit the step limit on the last step (then auto-reset).
    pub fn truncated(&self) -> &[bool] {
        &self.truncated
    }
    /// The object kind each environment's agent entered on the last step, as [`crate::Info::reached`].
    pub fn reached(&self) -> &[Option<ObjectKind>] {
        &self.reached
    }
    /// Steps taken in each episode as of the last step, as [`crate::Info::steps`] (for an episode
    /// that just ended: its length).
    pub fn episode_steps(&self) -> &[u32] {
        &self.lengths
    }

    /// Index of environment `i`'s current episode (0 after [`VecEnv::reset`]).
    pub fn episode(&self, i: usize) -> u64 {
        self.slots[i].episode
    }

    /// Environment `i`'s agent position.
    pub fn agent(&self, i: usize) -> Pos {
        let a = self.slots[i].agent as usize;
        Pos::new(a / self.width, a % self.width)
    }

    /// Environment `i`'s current level (rebuilt from the state; allocates).
    pub fn level(&self, i: usize) -> Level {
        let cells = self.height * self.width;
        let grid = &self.compact[i * cells..(i + 1) * cells];
        let agent = self.agent(i);
        let mut level = Level::open(self.height, self.width, agent);
        for (index, &c) in grid.iter().enumerate() {
            let pos = Pos::new(index / self.width, index % self.width);
            let c = if pos == agent { self.slots[i].under } else { c };
            if c == code::WALL {
                level.set_wall(pos, true);
            } else if let Some(kind) = code::kind(c) {
                level.place(kind, pos);
            }
        }
        level
    }

    /// The state environment `i`'s *previous* episode ended in, for its final observation (the step
    /// that ended it also reset it, and the engine keeps no copy): that episode's level rebuilt
    /// from its seed, the agent put back where it stood before the last step (`from`, after
    /// `steps` steps), and the step rule applied to `action`. Objects never move or vanish in
    /// these levels, so the rebuilt state is the state the episode ended in.
    ///
    /// # Panics
    /// If environment `i` is still in its first episode.
    pub fn ended_level(&self, i: usize, from: Pos, steps: u32, action: Action) -> Level {
        let episode = self.slots[i]
            .episode
            .checked_sub(1)
            .expect("no episode of this environment has ended");
        let mut level = self
            .spec
            .generate(VecEnv::episode_seed(self.base_seed, i, episode));
        level.set_agent(from);
        self.config.step(&mut level, steps, action);
        level
    }
}

/// Load environment `env`'s current episode (`slot.episode`) into its slot and buffers (`planes` is
/// empty for compact observations).
fn reset_env(
    shared: &Shared,
    env: usize,
    slot: &mut Slot,
    grid: &mut [u8],
    planes: &mut [f32],
    workspace: &mut Workspace,
) {
    let seed = VecEnv::episode_seed(shared.base_seed, env, slot.episode);
    shared.spec.generate_into(seed, workspace);
    let level = &workspace.level;
    obs::write_compact(level, grid);
    slot.agent = level.index(level.agent()) as u32;
    slot.under = level
        .object_at(level.agent())
        .map_or(code::FLOOR, |o| code::object(o.kind));
    slot.steps = 0;
    if shared.planes {
        workspace.compute_cue();
        obs::write_planes(&workspace.level, &workspace.cue, planes);
    }
}
