"""Trained networks from Python: stored runs listed, snapshots loaded, activations as numpy, edits
that change exactly what lies downstream of them, and the errors."""

import gymnasium
import numpy as np
import pytest

import cruxlab
from cruxlab.policies import Policy, runs

# Two tiny training runs: two seeds, one training distribution, a small CNN, 2,048 env steps.
TINY = [
    "seeds=2",
    "p_anywhere=[0.0]",
    "eval_levels=10",
    "train.checkpoints=1",
    "train.ppo.total_steps=2048",
    'train.net={kind="cnn", conv=[4], hidden=[8]}',
]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    out = tmp_path_factory.mktemp("policies") / "run"
    cruxlab.run("misgeneralize", quick=True, set=TINY, out=out)
    return out


@pytest.fixture(scope="module")
def level_text():
    env = gymnasium.make("cruxlab/CornerMaze-v0", size=7, region=1, test=True,
                         render_mode="ansi")
    env.reset(seed=3)
    return env.render()


def test_runs_lists_the_stored_run(stored):
    table = runs(stored)
    assert len(table) == 2 and list(table.seed) == [0, 1]
    row = table.iloc[0]
    assert (row["size"], row["region"], row["p_anywhere"], row["seed"]) == (7, 1, 0.0, 0)
    assert row["min_size"] == 0
    assert row["planes"] == ("wall", "agent", "diamond")
    assert row["total_steps"] == 2048


def test_snapshots_load(stored):
    path = runs(stored).path[0]
    steps = Policy.snapshot_steps(path)
    assert steps[0] == 0 and steps[-1] == 2048 and steps == sorted(steps)
    final, first = Policy.load(path), Policy.load(path, snapshot=0)
    assert final.steps == 2048 and first.steps == 0
    assert final.layers == ["conv1", "fc1"]
    assert final.input_shape == (7, 7, 3)
    assert final.planes == ("wall", "agent", "diamond")
    assert final.config["kind"] == "cnn"
    # 4 * (9 * 3 + 1) conv + 8 * (7 * 7 * 4 + 1) fc + 4 * 9 policy + 9 value
    assert final.num_params == 4 * 28 + 8 * 197 + 36 + 9
    assert final.activation_shape("conv1") == (7, 7, 4)
    assert final.activation_shape("fc1") == (8,)


def test_observe_is_the_environments_encoding(stored, level_text):
    net = Policy.load(runs(stored).path[0])
    obs = net.observe(level_text)
    assert obs.shape == (7, 7, 3) and obs.dtype == np.float32
    env = gymnasium.make("cruxlab/CornerMaze-v0", size=7, region=1, test=True, obs="planes")
    planes, _ = env.reset(seed=3)
    # The environment's planes are (6, H, W): wall, agent, diamond, cheese, key, cue.
    assert np.array_equal(obs, planes[:3].transpose(1, 2, 0))


def test_forward_returns_every_site(stored, level_text):
    net = Policy.load(runs(stored).path[0])
    obs = net.observe(level_text)
    out = net.forward(obs)
    assert out.logits.shape == (4,)
    assert isinstance(out.value, float)
    assert list(out.activations) == ["conv1", "fc1"]
    assert out.activations["conv1"].shape == (7, 7, 4)
    assert out.activations["fc1"].shape == (8,)
    assert (out.activations["conv1"] >= 0).all()  # ReLU
    assert out.probs.sum() == pytest.approx(1.0)
    # A batch is the singles stacked.
    other = net.observe(level_text.replace("D", ".", 1), planes=net.planes)
    batch = net.forward(np.stack([obs, other]))
    assert batch.logits.shape == (2, 4) and batch.value.shape == (2,)
    assert np.allclose(batch.logits[0], out.logits, atol=1e-6)
    assert np.allclose(batch.activations["conv1"][0], out.activations["conv1"], atol=1e-6)
    assert net.activations(obs, ["fc1"]).keys() == {"fc1"}


def test_edits_change_exactly_what_is_downstream(stored, level_text):
    net = Policy.load(runs(stored).path[0])
    a = net.observe(level_text)
    b = net.observe(level_text.replace("D", ".", 1))
    fa, fb = net.forward(a), net.forward(b)
    assert not np.allclose(fa.activations["conv1"], fb.activations["conv1"])
    # Patching the whole first site with b's activation gives b's pass downstream of it.
    patched = net.forward(a, replace={"conv1": fb.activations["conv1"]})
    assert np.allclose(patched.activations["fc1"], fb.activations["fc1"], atol=1e-6)
    assert np.allclose(patched.logits, fb.logits, atol=1e-6)
    # Adding at fc1 leaves conv1 alone and moves what follows.
    v = np.ones(8, dtype=np.float32)
    steered = net.forward(a, add={"fc1": v})
    assert np.array_equal(steered.activations["conv1"], fa.activations["conv1"])
    assert np.allclose(steered.activations["fc1"], fa.activations["fc1"] + v, atol=1e-6)
    assert not np.allclose(steered.logits, fa.logits)
    # Adding zero changes nothing.
    same = net.forward(a, add={"conv1": np.zeros((7, 7, 4), np.float32)})
    assert np.array_equal(same.logits, fa.logits)


def test_errors(stored, level_text, tmp_path):
    path = runs(stored).path[0]
    net = Policy.load(path)
    with pytest.raises(cruxlab.UserError, match=r"obs: shape \[7, 7\]"):
        net.forward(np.zeros((7, 7), np.float32))
    with pytest.raises(cruxlab.UserError, match="layer conv9: no such activation site"):
        net.forward(net.observe(level_text), add={"conv9": np.zeros(8, np.float32)})
    with pytest.raises(cruxlab.UserError, match=r"add\[fc1\]: shape \[3\]"):
        net.forward(net.observe(level_text), add={"fc1": np.zeros(3, np.float32)})
    with pytest.raises(cruxlab.UserError, match="snapshot 9:"):
        Policy.load(path, snapshot=9)
    with pytest.raises(cruxlab.UserError, match="plane wal: unknown"):
        net.observe(level_text, planes=["wal"])
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"{not a run}\n")
    with pytest.raises(cruxlab.UserError, match="junk.bin: not a stored training run"):
        Policy.load(junk)
    with pytest.raises(cruxlab.UserError, match="No such file"):
        Policy.load(tmp_path / "absent.bin")
    with pytest.raises(cruxlab.UserError, match="not a folder"):
        runs(tmp_path / "absent")
