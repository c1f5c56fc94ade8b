"""The corner-maze task of `crates/learn` in Python, for throughput comparisons.

Mirrors, in numpy and plain Python:

- `crates/grid/src/generate.rs::maze`: a perfect maze on a `size x size` grid (size odd), carved by
  a randomized depth-first backtracker on the odd-coordinate cells with an explicit stack; the
  border is wall.
- `crates/learn/src/levels.rs::CornerMazes::training_level` with `p_anywhere = 0`: the diamond on a
  floor cell of the `region x region` square at the top-right corner (rows `1..=region`, columns
  `size-1-region ..= size-2`; region 1 is the corner cell `(1, size-2)`), the agent on a uniformly
  drawn floor cell outside the region.
- `crates/grid/src/env.rs` / `crates/learn/src/envs.rs::LevelEnvs`: four moves (up, down, left,
  right); a move into a wall leaves the agent in place and still counts; entering the diamond gives
  reward 1 and terminates; every other step gives 0; truncation at `max_steps` (default
  `2 * size^2`); every episode plays a freshly generated level.
- Observation: channels-last `[size, size, 3]` float32 one-hot planes (wall, agent, diamond), as the
  speed example's `planes = [Wall, Agent, Diamond]`.

Random numbers come from Python's `random.Random` (Mersenne Twister), not ChaCha8, so the levels
are drawn from the same distribution as the Rust ones but are not the same levels.

Two forms:

- `MazeEnv`: a Gymnasium `Env` (for Stable-Baselines3's `DummyVecEnv`).
- `VecMazeEnv`: `n` environments stepped together with numpy, with the same-step auto-reset of
  Gymnasium's vector API and of the Rust `Envs` trait (after a step that ends an episode, the
  observation is already the first of the next episode).

Run `python maze_env.py` to print a sample level and random-policy statistics.
"""

from __future__ import annotations

import random

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# Action order of `crates/grid/src/action.rs`: Up, Down, Left, Right.
DROW = np.array([-1, 1, 0, 0], dtype=np.int64)
DCOL = np.array([0, 0, -1, 1], dtype=np.int64)
PLANES = 3  # wall, agent, diamond
CH_WALL, CH_AGENT, CH_DIAMOND = 0, 1, 2


def carve_maze(size: int, rng: random.Random) -> list[bool]:
    """Walls of a perfect maze, row-major (`True` = wall). Same algorithm as the Rust `carve_maze`."""
    if size < 5 or size % 2 == 0:
        raise ValueError(f"a maze needs an odd size of at least 5, got {size}")
    walls = [True] * (size * size)
    n = (size - 1) // 2

    def at(i: int, j: int) -> int:
        return (2 * i + 1) * size + 2 * j + 1

    start = rng.randrange(n * n)
    stack = [start]
    walls[at(start // n, start % n)] = False
    while stack:
        i, j = divmod(stack[-1], n)
        options = []
        if i > 0 and walls[at(i - 1, j)]:
            options.append((i - 1, j))
        if i + 1 < n and walls[at(i + 1, j)]:
            options.append((i + 1, j))
        if j > 0 and walls[at(i, j - 1)]:
            options.append((i, j - 1))
        if j + 1 < n and walls[at(i, j + 1)]:
            options.append((i, j + 1))
        if not options:
            stack.pop()
            continue
        ni, nj = options[rng.randrange(len(options))]
        a, b = at(i, j), at(ni, nj)
        walls[(a + b) // 2] = False
        walls[b] = False
        stack.append(ni * n + nj)
    return walls


def corner_level(size: int, region: int, rng: random.Random):
    """A training level of `CornerMazes { size, region, p_anywhere: 0 }`.

    Returns `(walls, agent, diamond)`: row-major wall flags and `(row, col)` positions.
    """
    if region < 1 or region + 3 > size:
        raise ValueError(f"region must lie in 1..={size - 3} for size {size}")
    walls = carve_maze(size, rng)

    def in_region(r: int, c: int) -> bool:
        return 1 <= r <= region and size - 1 - region <= c <= size - 2

    floor = [divmod(k, size) for k in range(size * size) if not walls[k]]
    pool = [p for p in floor if in_region(*p)]
    diamond = pool[rng.randrange(len(pool))]
    starts = [p for p in floor if not in_region(*p) and p != diamond]
    agent = starts[rng.randrange(len(starts))]
    return walls, agent, diamond


class MazeEnv(gym.Env):
    """One corner-maze environment with Gymnasium semantics (see the module docs)."""

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, size: int = 9, region: int = 1, max_steps: int | None = None,
                 render_mode: str | None = None):
        self.size = size
        self.region = region
        self.max_steps = max_steps if max_steps is not None else 2 * size * size
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, (size, size, PLANES), np.float32)
        self.action_space = spaces.Discrete(4)
        self._rng: random.Random | None = None
        self._walls = np.ones((size, size), dtype=bool)
        self._base = np.zeros((size, size, PLANES), dtype=np.float32)
        self._agent = (1, 1)
        self._diamond = (1, size - 2)
        self._steps = 0

    def _obs(self) -> np.ndarray:
        obs = self._base.copy()
        obs[self._agent[0], self._agent[1], CH_AGENT] = 1.0
        return obs

    def reset(self, *, seed: int | None = None, options=None):
        super().reset(seed=seed)
        if seed is not None or self._rng is None:
            self._rng = random.Random(int(self.np_random.integers(2**63)))
        walls, self._agent, self._diamond = corner_level(self.size, self.region, self._rng)
        self._walls = np.array(walls, dtype=bool).reshape(self.size, self.size)
        self._base = np.zeros((self.size, self.size, PLANES), dtype=np.float32)
        self._base[..., CH_WALL] = self._walls
        self._base[self._diamond[0], self._diamond[1], CH_DIAMOND] = 1.0
        self._steps = 0
        return self._obs(), {}

    def step(self, action):
        a = int(action)
        r, c = self._agent[0] + int(DROW[a]), self._agent[1] + int(DCOL[a])
        if not self._walls[r, c]:
            self._agent = (r, c)
        self._steps += 1
        terminated = self._agent == self._diamond
        truncated = not terminated and self._steps >= self.max_steps
        reward = 1.0 if terminated else 0.0
        return self._obs(), reward, terminated, truncated, {"steps": self._steps}

    def render(self):
        rows = []
        for r in range(self.size):
            row = []
            for c in range(self.size):
                if (r, c) == self._agent:
                    row.append("A")
                elif (r, c) == self._diamond:
                    row.append("D")
                else:
                    row.append("#" if self._walls[r, c] else ".")
            rows.append("".join(row))
        return "\n".join(rows)


class VecMazeEnv:
    """`num_envs` corner-maze environments stepped together (numpy; same-step auto-reset).

    `step(actions)` returns `(obs, rewards, terminated, truncated, lengths)`; `obs` is
    `[num_envs, size, size, 3]` float32 and, for an environment whose episode just ended, already
    the first observation of its next episode; `lengths` holds each episode's step count as of this
    step (the ended episodes' lengths).
    """

    def __init__(self, num_envs: int, size: int = 9, region: int = 1,
                 max_steps: int | None = None, seed: int = 1):
        self.num_envs = num_envs
        self.size = size
        self.region = region
        self.max_steps = max_steps if max_steps is not None else 2 * size * size
        self.obs_shape = (size, size, PLANES)
        self._rngs = [random.Random(seed * 1_000_003 + i) for i in range(num_envs)]
        self._idx = np.arange(num_envs)
        self.walls = np.ones((num_envs, size, size), dtype=bool)
        self.base = np.zeros((num_envs, size, size, PLANES), dtype=np.float32)
        self.arow = np.zeros(num_envs, dtype=np.int64)
        self.acol = np.zeros(num_envs, dtype=np.int64)
        self.drow = np.zeros(num_envs, dtype=np.int64)
        self.dcol = np.zeros(num_envs, dtype=np.int64)
        self.steps = np.zeros(num_envs, dtype=np.int64)
        for i in range(num_envs):
            self._load(i)

    def _load(self, i: int) -> None:
        walls, agent, diamond = corner_level(self.size, self.region, self._rngs[i])
        w = np.array(walls, dtype=bool).reshape(self.size, self.size)
        self.walls[i] = w
        self.base[i] = 0.0
        self.base[i, ..., CH_WALL] = w
        self.base[i, diamond[0], diamond[1], CH_DIAMOND] = 1.0
        self.arow[i], self.acol[i] = agent
        self.drow[i], self.dcol[i] = diamond
        self.steps[i] = 0

    def obs(self) -> np.ndarray:
        out = self.base.copy()
        out[self._idx, self.arow, self.acol, CH_AGENT] = 1.0
        return out

    def step(self, actions: np.ndarray):
        actions = np.asarray(actions, dtype=np.int64)
        nr = self.arow + DROW[actions]
        nc = self.acol + DCOL[actions]
        free = ~self.walls[self._idx, nr, nc]
        self.arow = np.where(free, nr, self.arow)
        self.acol = np.where(free, nc, self.acol)
        self.steps += 1
        terminated = (self.arow == self.drow) & (self.acol == self.dcol)
        truncated = ~terminated & (self.steps >= self.max_steps)
        rewards = terminated.astype(np.float32)
        lengths = self.steps.copy()
        for i in np.flatnonzero(terminated | truncated):
            self._load(int(i))
        return self.obs(), rewards, terminated, truncated, lengths


def _main() -> None:
    import time

    env = MazeEnv(9)
    env.reset(seed=0)
    print(env.render())
    print()
    for size in (9, 7):
        venv = VecMazeEnv(32, size=size, seed=0)
        rng = np.random.default_rng(0)
        steps, episodes, successes, length_sum = 4096, 0, 0, 0
        t = time.perf_counter()
        for _ in range(steps):
            _, _, term, trunc, lengths = venv.step(rng.integers(0, 4, size=32))
            done = term | trunc
            episodes += int(done.sum())
            successes += int(term.sum())
            length_sum += int(lengths[done].sum())
        dt = time.perf_counter() - t
        print(f"size {size}: random policy over {steps * 32} steps: {episodes} episodes, "
              f"success {successes / max(episodes, 1):.3f}, mean length {length_sum / max(episodes, 1):.1f}; "
              f"VecMazeEnv {steps * 32 / dt:,.0f} env steps/s (random actions, no network)")


if __name__ == "__main__":
    _main()
