"""The Gymnasium environments: Gymnasium's own checker, seeding, and the vector environment
against single environments replaying the same episodes."""

import subprocess

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import cruxlab
from cruxlab import _cruxlab
from cruxlab.envs import IDS, SAFETY_LEVELS, CruxlabVectorEnv

from conftest import ROOT

CORRIDOR = (ROOT / "levels" / "corridor.txt").read_text()

MAKE_KWARGS = {
    "cruxlab/Maze-v0": {},
    "cruxlab/Rooms-v0": {"size": 11},
    "cruxlab/CornerMaze-v0": {"size": 9, "region": 2, "p_anywhere": 0.1},
    "cruxlab/Level-v0": {"text": CORRIDOR},
    "cruxlab/Safety-v0": {},
}


def test_every_id_is_covered():
    assert set(MAKE_KWARGS) == set(IDS)


@pytest.mark.parametrize("env_id", [i for i in IDS if i != "cruxlab/Safety-v0"])
@pytest.mark.parametrize("obs", ["compact", "planes"])
def test_check_env(env_id, obs):
    env = gymnasium.make(env_id, obs=obs, **MAKE_KWARGS[env_id])
    check_env(env.unwrapped, skip_render_check=False)
    obs0, _ = env.reset(seed=3)
    assert env.observation_space.contains(obs0)


@pytest.mark.parametrize("mode", ["rgb_array", "ansi"])
def test_render_modes(mode):
    env = gymnasium.make("cruxlab/Maze-v0", render_mode=mode, tile=4)
    env.reset(seed=1)
    frame = env.render()
    if mode == "ansi":
        assert frame.count("\n") == 9 and "A" in frame
    else:
        assert frame.shape == (36, 36, 3) and frame.dtype == np.uint8


def test_reset_seed_plays_the_cli_level(cli):
    env = gymnasium.make("cruxlab/Maze-v0", size=13, render_mode="ansi")
    env.reset(seed=7)
    shown = subprocess.run([cli, "render", "--generate", "maze:13", "--seed", "7"],
                           capture_output=True, text=True, check=True).stdout
    assert env.render() == shown


def test_seeding_is_deterministic_and_seeds_differ():
    env = gymnasium.make("cruxlab/Maze-v0")
    a, _ = env.reset(seed=5)
    b, _ = env.reset(seed=5)
    c, _ = env.reset(seed=6)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_step_rule_reward_and_truncation():
    # A corridor: A then two floor cells then the diamond.
    env = gymnasium.make("cruxlab/Level-v0", text="######\n#A..D#\n######\n", max_steps=3)
    env.reset(seed=0)
    _, r, term, trunc, info = env.step(0)           # up: a wall
    assert (r, term, trunc, info["moved"]) == (0.0, False, False, False)
    env.step(3)
    _, r, term, trunc, info = env.step(3)           # third step: the limit, diamond not reached
    assert (r, term, trunc) == (0.0, False, True)
    env.reset(seed=0)
    for _ in range(2):
        env.step(3)
    _, r, term, trunc, info = env.step(3)
    assert (r, term, trunc, info["reached"]) == (1.0, True, False, "diamond")


def _replay_single(spec_size, seed, i, episode, actions, max_steps, obs):
    core = _cruxlab.GridEnv.generated(f"maze:{spec_size}", "diamond", max_steps, obs)
    first = core.reset(_cruxlab.GridVecEnv.episode_seed(seed, i, episode))
    out = [first]
    for a in actions:
        out.append(core.step(a))
    return out


@pytest.mark.parametrize("obs", ["compact", "planes"])
def test_vector_env_matches_single_envs_and_keeps_final_obs(obs):
    n, size, max_steps, seed = 6, 7, 12, 11
    venv = gymnasium.make_vec("cruxlab/Maze-v0", num_envs=n, size=size, max_steps=max_steps,
                              obs=obs, vectorization_mode="vector_entry_point")
    assert isinstance(venv.unwrapped, CruxlabVectorEnv)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    first, _ = venv.reset(seed=seed)
    address = first.__array_interface__["data"][0]
    rng = np.random.default_rng(0)
    # Per environment: the actions of its current episode, and its episode index.
    actions = [[] for _ in range(n)]
    episode = [0] * n
    ended_by = {"terminated": 0, "truncated": 0}
    for _ in range(40):
        acts = rng.integers(0, 4, n)
        obs_v, rew, term, trunc, infos = venv.step(acts)
        assert obs_v.__array_interface__["data"][0] == address   # the same buffer, in place
        for i in range(n):
            actions[i].append(int(acts[i]))
            replay = _replay_single(size, seed, i, episode[i], actions[i], max_steps, obs)
            last = replay[-1]
            assert rew[i] == last[1] and term[i] == last[2] and trunc[i] == last[3]
            if term[i] or trunc[i]:
                ended_by["terminated" if term[i] else "truncated"] += 1
                assert infos["_final_obs"][i]
                assert np.array_equal(infos["final_obs"][i], last[0])
                episode[i] += 1
                actions[i] = []
                fresh = _replay_single(size, seed, i, episode[i], [], max_steps, obs)[0]
                assert np.array_equal(obs_v[i], fresh)
            else:
                assert not infos or not infos["_final_obs"][i]
                assert np.array_equal(obs_v[i], last[0])
    assert ended_by["truncated"] > 0


def test_vector_env_buffers_are_read_only_views():
    venv = CruxlabVectorEnv(4, spec="maze:9")
    obs, _ = venv.reset(seed=0)
    with pytest.raises(ValueError):
        obs[0, 0, 0] = 9
    obs2, *_ = venv.step(np.zeros(4, np.int64))
    assert obs2 is obs


def test_vector_env_bad_actions_raise():
    venv = CruxlabVectorEnv(4, spec="maze:9")
    venv.reset(seed=0)
    with pytest.raises(cruxlab.UserError, match="action 4: must lie in 0..4"):
        venv.step(np.array([0, 1, 2, 4]))
    with pytest.raises(cruxlab.UserError, match="one per environment"):
        venv.step(np.array([0, 1]))


@pytest.mark.parametrize("level", SAFETY_LEVELS)
def test_check_env_safety(level):
    env = gymnasium.make("cruxlab/Safety-v0", level=level, render_mode="ansi")
    check_env(env.unwrapped, skip_render_check=False)
    board, _ = env.reset(seed=0)
    assert env.render().replace("\n", "") == bytes(board.ravel()).decode()


def test_safety_hidden_performance_is_not_in_the_info():
    env = gymnasium.make("cruxlab/Safety-v0", level="side_effects_sokoban:0").unwrapped
    env.reset(seed=0)
    _, _, _, _, info = env.step(4)
    assert set(info) == {"steps", "ending"}
    assert isinstance(env.hidden_performance(), float)
    with pytest.raises(cruxlab.UserError, match="unknown safety level"):
        gymnasium.make("cruxlab/Safety-v0", level="nope")


def test_corner_mazes_of_varied_size_are_padded_with_walls():
    """``min_size``: every observation is the full grid, the maze inside it of an odd side drawn
    from ``min_size..size`` and centred, wall (code 1) all around it."""
    env = gymnasium.make("cruxlab/CornerMaze-v0", size=13, min_size=7, region=3)
    sides = set()
    for seed in range(60):
        obs, _ = env.reset(seed=seed)
        assert obs.shape == (13, 13)
        open_rows = [r for r in range(13) if (obs[r] != 1).any()]
        side = open_rows[-1] - open_rows[0] + 3
        pad = (13 - side) // 2
        assert open_rows[0] == pad + 1
        assert (obs[:pad + 1] == 1).all() and (obs[:, :pad + 1] == 1).all()
        sides.add(side)
    assert sides == {7, 9, 11, 13}
    # 0, as in the configs' train.min_size, means every maze fills the grid.
    obs, _ = gymnasium.make("cruxlab/CornerMaze-v0", size=13, min_size=0, region=3).reset(seed=1)
    assert (obs[1, 1:12] != 1).any()
    with pytest.raises(Exception, match="min_size"):
        gymnasium.make("cruxlab/CornerMaze-v0", size=13, min_size=8, region=3)
