"""Bad arguments raise cruxlab.UserError (a ValueError) with the CLI's message; a panic in Rust
raises cruxlab.InternalError and leaves the interpreter running."""

import subprocess

import gymnasium
import pytest

import cruxlab
from cruxlab import _cruxlab


def cli_message(cli, *args):
    done = subprocess.run([cli, *args], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ")
    return line[len("error: "):]


@pytest.mark.parametrize(
    "kwargs, argv",
    [
        ({"experiment": "nope"}, ["run", "nope"]),
        ({"experiment": "retarget", "quick": True, "set": {"no_such_key": 1}},
         ["run", "retarget", "--quick", "--set", "no_such_key=1"]),
        ({"experiment": "retarget", "quick": True, "set": {"seeds": "many"}},
         ["run", "retarget", "--quick", "--set", 'seeds="many"']),
        ({"experiment": "retarget", "quick": True, "set": ["budgets=[1,"]},
         ["run", "retarget", "--quick", "--set", "budgets=[1,"]),
        ({"experiment": "retarget", "quick": True, "shard": "3/2"},
         ["run", "retarget", "--quick", "--shard", "3/2"]),
    ],
)
def test_bad_run_arguments_give_the_cli_message(tmp_path, cli, kwargs, argv):
    expected = cli_message(cli, *argv, "--out", str(tmp_path / "cli"))
    with pytest.raises(cruxlab.UserError) as raised:
        cruxlab.run(out=tmp_path / "py", **kwargs)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == expected
    assert not (tmp_path / "py").exists()


def test_bad_run_arguments_without_the_cli(tmp_path):
    with pytest.raises(ValueError, match="unknown experiment 'nope'"):
        cruxlab.run("nope", out=tmp_path / "x")
    with pytest.raises(cruxlab.UserError, match="no_such_key"):
        cruxlab.run("retarget", quick=True, set={"no_such_key": 1}, out=tmp_path / "y")


def test_show_unknown_experiment():
    with pytest.raises(cruxlab.UserError, match="unknown experiment 'nope'"):
        cruxlab.show("nope")


def test_bad_environment_arguments():
    with pytest.raises(cruxlab.UserError, match="spec maze:4"):
        gymnasium.make("cruxlab/Maze-v0", size=4)
    with pytest.raises(cruxlab.UserError, match="unknown object kind 'gold'"):
        gymnasium.make("cruxlab/Maze-v0", target="gold")
    with pytest.raises(cruxlab.UserError, match="region"):
        gymnasium.make("cruxlab/CornerMaze-v0", size=9, region=8)
    with pytest.raises(cruxlab.UserError, match="level"):
        gymnasium.make("cruxlab/Level-v0", text="#####\n#...#\n#####\n")
    env = gymnasium.make("cruxlab/Maze-v0").unwrapped
    env.reset(seed=0)
    with pytest.raises(cruxlab.UserError, match="action 7"):
        env.step(7)


def test_stepping_an_ended_episode_raises():
    env = gymnasium.make("cruxlab/Level-v0", text="#####\n#A.D#\n#####\n", max_steps=1).unwrapped
    env.reset(seed=0)
    env.step(0)
    with pytest.raises(cruxlab.UserError, match="call reset"):
        env.step(0)


def test_a_rust_panic_becomes_an_exception():
    with pytest.raises(cruxlab.InternalError, match=r"internal error \(a bug in cruxlab\): boom"):
        _cruxlab._panic("boom")
    # The interpreter and the module still work.
    assert "retarget" in set(cruxlab.list()["id"])
