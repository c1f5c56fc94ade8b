"""Stepping through Python: cruxlab's Gymnasium environments against MiniGrid's.

    scripts/python-test.sh -k nothing      # builds and installs the wheel into .venv
    .venv/bin/pip install minigrid
    RAYON_NUM_THREADS=1 .venv/bin/python scripts/python-bench.py

Uniformly random actions drawn ahead of time; every figure includes the resets of the episodes
that end (a fresh level each time). Prints a Markdown table (best of `--repeats` timed runs).
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium
import numpy as np

import cruxlab  # noqa: F401  (registers cruxlab/*)
from cruxlab.envs import CruxlabVectorEnv


def single_steps_per_second(env, steps: int, seed: int = 0) -> float:
    actions = np.random.default_rng(seed).integers(0, env.action_space.n, steps).tolist()
    env.reset(seed=seed)
    start = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def vector_steps_per_second(venv, num_envs: int, calls: int, seed: int = 0) -> float:
    n_actions = int(venv.single_action_space.n)
    table = np.random.default_rng(seed).integers(0, n_actions, (64, num_envs))
    venv.reset(seed=seed)
    start = time.perf_counter()
    for k in range(calls):
        venv.step(table[k % 64])
    return calls * num_envs / (time.perf_counter() - start)


def best(f, repeats: int) -> float:
    return max(f() for _ in range(repeats))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--single-steps", type=int, default=20_000)
    args = p.parse_args()
    rows = []
    threads = os.environ.get("RAYON_NUM_THREADS", "all cores")

    raw = gymnasium.make("cruxlab/Maze-v0", size=9).unwrapped
    cruxlab_raw = best(lambda: single_steps_per_second(raw, args.single_steps), args.repeats)
    rows.append(("cruxlab `Maze-v0` 9x9, env.unwrapped", cruxlab_raw))
    wrapped = gymnasium.make("cruxlab/Maze-v0", size=9)
    rows.append(("cruxlab `Maze-v0` 9x9, gymnasium.make wrappers",
                 best(lambda: single_steps_per_second(wrapped, args.single_steps),
                      args.repeats)))
    minigrid = None
    try:
        import minigrid  # noqa: F401

        mg = gymnasium.make("MiniGrid-SimpleCrossingS9N1-v0").unwrapped
        minigrid = best(lambda: single_steps_per_second(mg, args.single_steps // 10),
                        args.repeats)
        rows.append(("MiniGrid `SimpleCrossingS9N1-v0` 9x9, env.unwrapped", minigrid))
        mgw = gymnasium.make("MiniGrid-SimpleCrossingS9N1-v0")
        rows.append(("MiniGrid `SimpleCrossingS9N1-v0` 9x9, gymnasium.make wrappers",
                     best(lambda: single_steps_per_second(mgw, args.single_steps // 10),
                          args.repeats)))
        mvec = gymnasium.make_vec("MiniGrid-SimpleCrossingS9N1-v0", num_envs=64,
                                  vectorization_mode="sync")
        rows.append(("MiniGrid 9x9, gymnasium SyncVectorEnv, 64 envs",
                     best(lambda: vector_steps_per_second(mvec, 64, 40), args.repeats)))
    except ImportError:
        pass
    for n in (256, 1024, 4096):
        venv = CruxlabVectorEnv(n, spec="maze:9")
        rows.append((f"cruxlab `CruxlabVectorEnv` maze:9, {n} envs",
                     best(lambda: vector_steps_per_second(venv, n, max(20, 400_000 // n)),
                          args.repeats)))
        venv = CruxlabVectorEnv(n, spec="maze:9", keep_final=False)
        rows.append((f"cruxlab `CruxlabVectorEnv` maze:9, {n} envs, keep_final=False",
                     best(lambda: vector_steps_per_second(venv, n, max(20, 400_000 // n)),
                          args.repeats)))
    print(f"threads (RAYON_NUM_THREADS): {threads}\n")
    print("| case | steps/s |")
    print("|------|--------:|")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} |")
    if minigrid:
        print(f"\nsingle env, unwrapped: cruxlab / MiniGrid = {cruxlab_raw / minigrid:.1f}x")


if __name__ == "__main__":
    main()
