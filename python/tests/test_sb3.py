"""Stable-Baselines3 on cruxlab's environments: its own environment checker, and a PPO smoke run
that must learn (a trained policy solves more held-out mazes than the untrained one)."""

import gymnasium
import pytest

import cruxlab  # noqa: F401  (registers the ids)

sb3 = pytest.importorskip("stable_baselines3")
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.env_checker import check_env  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402


@pytest.mark.parametrize("obs", ["compact", "planes"])
@pytest.mark.parametrize("env_id", ["cruxlab/Maze-v0", "cruxlab/CornerMaze-v0"])
def test_sb3_env_checker(env_id, obs):
    check_env(gymnasium.make(env_id, obs=obs).unwrapped, warn=False)


def solved(model, mazes=100, size=5):
    env = gymnasium.make("cruxlab/Maze-v0", size=size, obs="planes")
    wins = 0
    for seed in range(10_000, 10_000 + mazes):
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(int(action))
            done = terminated or truncated
        wins += reward > 0
    return wins


def test_ppo_smoke_run_learns():
    import torch

    torch.set_num_threads(1)
    env = make_vec_env("cruxlab/Maze-v0", n_envs=8, seed=1,
                       env_kwargs={"size": 5, "obs": "planes"})
    model = PPO("MlpPolicy", env, n_steps=128, batch_size=256, seed=1, verbose=0)
    before = solved(model)
    model.learn(total_timesteps=30_000)
    after = solved(model)
    assert after >= before + 30, (before, after)
