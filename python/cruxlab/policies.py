"""The learned experiments' trained networks, for your own interpretability work.

``misgeneralize``, ``shards`` and ``retarget-learned`` store every training run they make as an
artifact (``RUN/artifacts/ppo-run-*.bin``, or the suite's shared ``artifacts/``), with the network
at each snapshot. :func:`runs` lists them as a DataFrame; :meth:`Policy.load` loads one snapshot
(or a safetensors checkpoint); :meth:`Policy.forward` returns the logits, the value and every
activation site as numpy arrays, and can add to or replace a site's activation on the way
(steering vectors, activation patching)::

    import gymnasium, cruxlab
    from cruxlab.policies import Policy, runs

    r = runs("runs/suite-quick")                 # one row per stored training run
    net = Policy.load(r.path[0])                 # the final network of the first
    env = gymnasium.make("cruxlab/CornerMaze-v0", size=7, region=3, test=True, render_mode="ansi")
    env.reset(seed=1)
    obs = net.observe(env.render())              # [H, W, C] float32, as the experiments encode it
    out = net.forward(obs)
    out.activations["conv2"].shape               # (H, W, 16)
    net.forward(obs, add={"conv2": -vector})     # a steering vector at conv2

The encoding, the stored format and the edits are the Rust crates' (``cruxlab_learn``), so a
forward pass here is the one the experiments measure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from cruxlab import _cruxlab
from cruxlab.errors import UserError

_KIND = "ppo-run"


def _artifact_dirs(folder: Path) -> list[Path]:
    dirs = [folder, folder / "artifacts"]
    return [d for d in dirs if d.is_dir()]


def runs(folder: str | PathLike[str]) -> pd.DataFrame:
    """The training runs stored under ``folder`` (a run folder, a suite folder or an
    ``artifacts/`` folder): one row per run with its ``path`` and what it is a function of
    (``size``, ``planes``, ``net``, ``region``, ``p_anywhere``, ``master_seed``, ``seed``,
    ``total_steps``), sorted by those keys."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder")
    rows = []
    for d in _artifact_dirs(folder):
        for meta in sorted(d.glob(f"{_KIND}-*.json")):
            blob = meta.with_suffix(".bin")
            if not blob.is_file():
                continue
            inputs = json.loads(json.loads(meta.read_text())["inputs"])
            setup = inputs["setup"]
            rows.append({
                "path": str(blob),
                "size": setup["size"],
                "min_size": setup.get("min_size", 0),
                "planes": tuple(setup["planes"]),
                "net": json.dumps(setup["net"], sort_keys=True),
                "region": inputs["region"],
                "p_anywhere": inputs["p_anywhere"],
                "master_seed": inputs["master_seed"],
                "seed": inputs["seed"],
                "total_steps": setup["ppo"]["total_steps"],
            })
    columns = ["path", "size", "min_size", "planes", "net", "region", "p_anywhere", "master_seed", "seed",
               "total_steps"]
    df = pd.DataFrame(rows, columns=columns)
    return df.sort_values(columns[1:] + ["path"], ignore_index=True)


def _planes_of(path: Path) -> Optional[tuple[str, ...]]:
    meta = path.with_suffix(".json")
    if path.suffix == ".bin" and meta.is_file():
        try:
            inputs = json.loads(json.loads(meta.read_text())["inputs"])
            return tuple(inputs["setup"]["planes"])
        except (KeyError, ValueError):
            return None
    return None


@dataclass(frozen=True)
class Forward:
    """What :meth:`Policy.forward` returns. For a single observation the batch axis is dropped."""

    logits: np.ndarray
    """Action logits, ``[B, 4]`` (0 up, 1 down, 2 left, 3 right)."""
    value: np.ndarray | float
    """The critic's state value, ``[B]``."""
    activations: dict[str, np.ndarray]
    """Every activation site, input side first, as the pass saw it (after any edit):
    ``[B, H, W, C]`` for convolutions, ``[B, D]`` for fully connected layers."""

    @property
    def probs(self) -> np.ndarray:
        """Action probabilities (softmax of the logits)."""
        z = self.logits - self.logits.max(axis=-1, keepdims=True)
        e = np.exp(z.astype(np.float64))
        return e / e.sum(axis=-1, keepdims=True)


class Policy:
    """One trained actor-critic network (``cruxlab_learn::ActorCritic``)."""

    def __init__(self, inner: "_cruxlab.Policy", planes: Optional[Sequence[str]] = None,
                 path: Optional[Path] = None):
        self._inner = inner
        self.planes: Optional[tuple[str, ...]] = tuple(planes) if planes is not None else None
        """The observation planes the network was trained on (``None`` when unknown)."""
        self.path = path

    @staticmethod
    def load(path: str | PathLike[str], snapshot: int = -1,
             planes: Optional[Sequence[str]] = None) -> "Policy":
        """The network at ``path``: a stored training run (``ppo-run-*.bin``; ``snapshot`` picks
        one, -1 the final network, 0 the initial one) or a safetensors checkpoint. ``planes``
        defaults to the run's own (read from the ``.json`` beside it)."""
        path = Path(path)
        inner = _cruxlab.Policy.load(path, snapshot)
        return Policy(inner, planes if planes is not None else _planes_of(path), path)

    @staticmethod
    def snapshot_steps(path: str | PathLike[str]) -> list[Optional[int]]:
        """The env steps of each snapshot stored at ``path``."""
        return _cruxlab.Policy.snapshot_steps(Path(path))

    @property
    def steps(self) -> Optional[int]:
        """Env steps of training behind this network."""
        return self._inner.steps

    @property
    def layers(self) -> list[str]:
        """Activation site names, input side first."""
        return self._inner.layers

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)`` of one observation."""
        return self._inner.input_shape

    @property
    def num_params(self) -> int:
        return self._inner.num_params

    @property
    def config(self) -> dict:
        """The architecture (``NetConfig``)."""
        return json.loads(self._inner.config_json)

    def activation_shape(self, layer: str) -> tuple[int, ...]:
        return tuple(self._inner.activation_shape(layer))

    def observe(self, level: str, planes: Optional[Sequence[str]] = None) -> np.ndarray:
        """The observation of ``level`` (text in the ``levels/`` format, e.g. a ``Maze-v0``
        environment's ``render()`` in ``"ansi"`` mode) as the network sees it: ``[H, W, C]``
        float32, channels last."""
        planes = planes if planes is not None else self.planes
        if planes is None:
            raise UserError("planes: unknown for this network; pass planes=[...]")
        return self._inner.observe(level, list(planes))

    def forward(self, obs: np.ndarray, add: Optional[Mapping[str, np.ndarray]] = None,
                replace: Optional[Mapping[str, np.ndarray]] = None) -> Forward:
        """A forward pass on ``obs`` (``[H, W, C]`` or ``[B, H, W, C]``). ``add`` adds an array
        to a site's activation (a steering vector), ``replace`` substitutes one (activation
        patching); each array has the site's per-sample shape (broadcast over the batch) or the
        batch's. Later sites read the edited activation."""
        obs = np.ascontiguousarray(obs, dtype=np.float32)
        add = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in (add or {}).items()}
        replace = {k: np.ascontiguousarray(v, dtype=np.float32)
                   for k, v in (replace or {}).items()}
        logits, value, acts = self._inner.forward(obs, add or None, replace or None)
        return Forward(logits=logits, value=value, activations=acts)

    def activations(self, obs: np.ndarray, layers: Optional[Sequence[str]] = None
                    ) -> dict[str, np.ndarray]:
        """The activations of ``obs`` at ``layers`` (default: every site)."""
        acts = self.forward(obs).activations
        if layers is None:
            return acts
        missing = [name for name in layers if name not in acts]
        if missing:
            raise UserError(f"layer {missing[0]}: no such activation site "
                            f"(the network has {', '.join(self.layers)})")
        return {name: acts[name] for name in layers}

    def __repr__(self) -> str:
        where = f" from {self.path}" if self.path else ""
        return (f"Policy({'/'.join(self.layers)}, input {self.input_shape}, "
                f"{self.num_params} parameters, {self.steps} steps{where})")
