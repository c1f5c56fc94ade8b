"""Stable-Baselines3 PPO on the same mazes in two engines: cruxlab's `Maze-v0` and MiniGrid.

    scripts/python-test.sh -k nothing      # builds and installs the wheel (and SB3) into .venv
    .venv/bin/pip install minigrid
    .venv/bin/python scripts/python-bench-ppo.py [--size 7] [--budget 400000] [--target 0.9]
    # docs/benchmarks.md: --size 5 --target 0.7 --budget 600000 --eval-every 16384

MiniGrid has no maze generator, so its side plays cruxlab's levels: `MazeInMiniGrid` builds each
episode's grid from the level `cruxlab/Maze-v0` generates for the same seed (walls where the level
has walls, MiniGrid's goal on the diamond, the agent on the agent's cell facing right). Both sides
see the whole board (MiniGrid through its `FullyObsWrapper`, as its 9x9x3 object/colour/state
encoding; cruxlab as its six one-hot planes), both give reward only for reaching the goal, and both
truncate at 4 x size^2 steps (196 for 7x7). What cannot be the same: MiniGrid's agent turns and steps forward
(actions restricted to left, right, forward), cruxlab's moves in the four directions.

Same learner on both: SB3 `PPO("MlpPolicy")` with net_arch [64, 64] and no image scaling (SB3
would divide MiniGrid's uint8 board by 255), 8 environments, n_steps 128, batch 256, seed 0, one
torch thread. Every `--eval-every` env steps the greedy policy plays
`--eval-levels` fixed held-out levels (not timed); training stops when it solves `--target` of them or at `--budget` env steps.
Printed per engine: env steps and training wall time to the target, training env steps/s, and the
share of the training wall time spent inside the vectorised environments' `step`.
"""

from __future__ import annotations

import argparse
import time

import gymnasium
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnvWrapper

import cruxlab  # noqa: F401  (registers cruxlab/*)

SIZE = 7  # set by --size before anything is built
EVAL_SEEDS = range(1_000_000, 1_000_100)
_GENERATOR = None


def max_steps() -> int:
    return 4 * SIZE * SIZE


def level_text(seed: int) -> list[str]:
    """The level `cruxlab/Maze-v0` plays after `reset(seed=seed)`."""
    global _GENERATOR
    if _GENERATOR is None:
        _GENERATOR = cruxlab._cruxlab.GridEnv.generated(f"maze:{SIZE}")
    _GENERATOR.reset(seed)
    return _GENERATOR.ansi().strip().splitlines()


def minigrid_env_class():
    from minigrid.core.grid import Grid
    from minigrid.core.mission import MissionSpace
    from minigrid.core.world_object import Goal, Wall
    from minigrid.minigrid_env import MiniGridEnv

    class MazeInMiniGrid(MiniGridEnv):
        """A cruxlab maze (`maze:SIZE`, the level of the episode's seed) in MiniGrid."""

        def __init__(self, **kwargs):
            self._level_rng = np.random.default_rng(0)
            self._fixed_seed = None
            super().__init__(mission_space=MissionSpace(mission_func=lambda: "reach the goal"),
                             width=SIZE, height=SIZE, max_steps=max_steps(),
                             see_through_walls=True, **kwargs)
            self.action_space = spaces.Discrete(3)  # left, right, forward

        def reset(self, *, seed=None, options=None):
            if seed is not None:
                self._level_rng = np.random.default_rng(seed)
            self._fixed_seed = (options or {}).get("level_seed")
            return super().reset(seed=seed, options=options)

        def _gen_grid(self, width, height):
            seed = self._fixed_seed
            if seed is None:
                seed = int(self._level_rng.integers(0, 2**31))
            self.grid = Grid(width, height)
            for r, row in enumerate(level_text(seed)):
                for c, ch in enumerate(row):
                    if ch == "#":
                        self.grid.set(c, r, Wall())
                    elif ch == "D":
                        self.grid.set(c, r, Goal())
                    elif ch == "A":
                        self.agent_pos = (c, r)
                        self.agent_dir = 0
            self.mission = "reach the goal"

    return MazeInMiniGrid


class StepTimer(VecEnvWrapper):
    """Accumulates the wall time spent in the wrapped environments' steps."""

    def __init__(self, venv):
        super().__init__(venv)
        self.seconds = 0.0

    def reset(self):
        return self.venv.reset()

    def step_async(self, actions):
        self._t = time.perf_counter()
        self.venv.step_async(actions)

    def step_wait(self):
        out = self.venv.step_wait()
        self.seconds += time.perf_counter() - self._t
        return out


class Milestones(BaseCallback):
    def __init__(self, every: int, evaluate, target: float):
        super().__init__()
        self.every, self.evaluate, self.target = every, evaluate, target
        self.next = every
        self.eval_seconds = 0.0
        self.history: list[tuple[int, float, float]] = []
        self.start = time.perf_counter()

    def _on_step(self) -> bool:
        if self.num_timesteps < self.next:
            return True
        self.next += self.every
        t = time.perf_counter()
        solved = self.evaluate(self.model)
        self.eval_seconds += time.perf_counter() - t
        train_wall = time.perf_counter() - self.start - self.eval_seconds
        self.history.append((self.num_timesteps, train_wall, solved))
        print(f"    {self.num_timesteps:>8} steps  {train_wall:7.1f} s  solved {solved:.2f}",
              flush=True)
        return solved < self.target


def play(env, model, options_for) -> float:
    wins = 0
    for s in EVAL_SEEDS:
        obs, _ = env.reset(seed=s, options=options_for(s))
        done, reward = False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(int(action))
            done = terminated or truncated
        wins += reward > 0
    return wins / len(EVAL_SEEDS)


def engines():
    from minigrid.wrappers import FullyObsWrapper, ImgObsWrapper

    cls = minigrid_env_class()

    def minigrid():
        return ImgObsWrapper(FullyObsWrapper(cls()))

    def cruxlab_env():
        return gymnasium.make("cruxlab/Maze-v0", size=SIZE, obs="planes", max_steps=max_steps())

    return [
        ("cruxlab Maze-v0", cruxlab_env, lambda s: None),
        ("MiniGrid (cruxlab's levels)", minigrid, lambda s: {"level_seed": s}),
    ]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=7)
    p.add_argument("--budget", type=int, default=400_000)
    p.add_argument("--target", type=float, default=0.9)
    p.add_argument("--eval-every", type=int, default=32_768)
    p.add_argument("--eval-levels", type=int, default=100)
    args = p.parse_args()
    global SIZE, EVAL_SEEDS
    SIZE = args.size
    EVAL_SEEDS = range(1_000_000, 1_000_000 + args.eval_levels)
    torch.set_num_threads(1)
    rows = []
    for name, make, options_for in engines():
        print(f"{name}:", flush=True)
        venv = StepTimer(make_vec_env(make, n_envs=8, seed=0))
        # normalize_images=False: SB3 would otherwise read MiniGrid's uint8 board (object codes
        # up to 10) as an image and divide it by 255; cruxlab's planes are already in [0, 1].
        model = PPO("MlpPolicy", venv, n_steps=128, batch_size=256, seed=0, verbose=0,
                    policy_kwargs={"net_arch": [64, 64], "normalize_images": False})
        probe = make()
        callback = Milestones(args.eval_every, lambda m: play(probe, m, options_for), args.target)
        start = time.perf_counter()
        model.learn(total_timesteps=args.budget, callback=callback)
        wall = time.perf_counter() - start - callback.eval_seconds
        steps, _, solved = callback.history[-1] if callback.history else (model.num_timesteps, 0, 0)
        reached = solved >= args.target
        rows.append((name, model.num_timesteps, wall, solved, reached, venv.seconds))
    print()
    print(f"{SIZE}x{SIZE} mazes, {len(EVAL_SEEDS)} held-out levels per evaluation")
    print(f"| engine | env steps to {args.target:.0%} solved | training wall time | "
          "training env steps/s | share of the wall time in env `step` |")
    print("|---|---:|---:|---:|---:|")
    for name, steps, wall, solved, reached, env_seconds in rows:
        to_target = f"{steps:,}" if reached else f"not reached in {steps:,} (solved {solved:.2f})"
        print(f"| {name} | {to_target} | {wall:.0f} s | {steps / wall:,.0f} | "
              f"{env_seconds / wall:.0%} |")


if __name__ == "__main__":
    main()
