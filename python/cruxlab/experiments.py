"""Experiments from Python: the CLI's ``list``, ``show``, ``run``, ``audit`` and ``merge``, with
results as pandas DataFrames.

>>> import cruxlab
>>> r = cruxlab.run("retarget", quick=True, set={"seeds": 3})    # doctest: +SKIP
>>> r.metrics.head()                                               # doctest: +SKIP
>>> r.verdicts[["id", "verdict"]]                                  # doctest: +SKIP

A run writes the same run folder ``cruxlab run`` writes (``results.json``, ``per_seed.csv``,
plots, ``report.html``), by the same code, so its ``results.json`` is byte for byte the CLI's
for the same config, seeds and folder name.
"""

from __future__ import annotations

import builtins
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from cruxlab import _cruxlab
from cruxlab.errors import UserError


def _toml_value(value: Any) -> str:
    """A Python value as a TOML value, for ``--set key=value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, (builtins.list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if hasattr(value, "item"):  # numpy scalars
        return _toml_value(value.item())
    raise UserError(f"--set: cannot write a {type(value).__name__} as a TOML value")


def _sets(set: Mapping[str, Any] | Iterable[str] | None) -> builtins.list[str]:
    if set is None:
        return []
    if isinstance(set, Mapping):
        return [f"{k}={_toml_value(v)}" for k, v in set.items()]
    if isinstance(set, str):
        return [set]
    return [str(s) for s in set]


def list() -> pd.DataFrame:  # noqa: A001  (the CLI's command name)
    """Every registered experiment and the claim it tests, in suite order."""
    return pd.DataFrame(_cruxlab.list(), columns=["id", "claim"])


@dataclass(frozen=True)
class Experiment:
    """What ``cruxlab show`` prints: the claim, the model and the default config (TOML)."""

    id: str
    claim: str
    model: str
    config: str

    def __str__(self) -> str:
        return f"{self.id}\n\nClaim: {self.claim}\n\nModel: {self.model}\n\n{self.config}"


def show(experiment: str, quick: bool = False) -> Experiment:
    """An experiment's claim, model and default config (the quick one with ``quick=True``)."""
    return Experiment(*_cruxlab.show(experiment, quick))


class Results:
    """A finished run folder, read into DataFrames.

    - ``metrics``: one row per (metric, condition): the condition's keys as columns, then
      ``mean``, ``ci_low``, ``ci_high`` (Student-t 95%) and ``n``;
    - ``per_seed``: ``per_seed.csv``, one row per (condition, seed), one column per metric;
    - ``verdicts``: one row per claim: ``id``, ``claim``, ``verdict``, ``audit`` (status after an
      audit, else None) and ``rule``;
    - ``raw``: ``results.json`` as a dict; ``path``: the folder; ``report``: ``report.html``.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        results = self.path / "results.json"
        try:
            self.raw: dict = json.loads(results.read_text())
        except OSError as e:
            raise UserError(f"{results}: {e.strerror}") from None
        self.experiment: str = self.raw["experiment"]
        self.config: dict = self.raw["config"]
        self.report = self.path / "report.html"
        self._per_seed: pd.DataFrame | None = None

    @property
    def metrics(self) -> pd.DataFrame:
        rows = []
        for m in self.raw["metrics"]:
            row = {"metric": m["metric"]}
            row.update({k: (json.dumps(v) if isinstance(v, (dict, builtins.list)) else v)
                        for k, v in m["condition"].items()})
            mean = m["mean"]
            row.update(mean=float("nan") if mean is None else mean, ci_low=m["ci_low"],
                       ci_high=m["ci_high"], n=m["n"])
            rows.append(row)
        frame = pd.DataFrame(rows)
        for column in ("mean", "ci_low", "ci_high"):
            if column in frame:
                frame[column] = frame[column].astype(float)
        return frame

    @property
    def per_seed(self) -> pd.DataFrame:
        if self._per_seed is None:
            self._per_seed = pd.read_csv(self.path / "per_seed.csv")
        return self._per_seed

    @property
    def verdicts(self) -> pd.DataFrame:
        rows = [
            {
                "id": v["id"],
                "claim": v["claim"],
                "verdict": v["verdict"],
                "audit": (v.get("audit") or {}).get("status"),
                "rule": v["rule"],
            }
            for v in self.raw["verdicts"]
        ]
        return pd.DataFrame(rows, columns=["id", "claim", "verdict", "audit", "rule"])

    def __repr__(self) -> str:
        verdicts = ", ".join(f"{v['id']}: {v['verdict']}" for v in self.raw["verdicts"])
        return f"Results({self.experiment!r}, {str(self.path)!r}; {verdicts})"


@dataclass(frozen=True)
class Partial:
    """A run folder holding part of a sweep (a shard): ``done`` of ``total`` units."""

    path: Path
    done: int
    total: int


def _default_out(experiment: str, quick: bool, audit: bool) -> Path:
    return Path(f"runs/{experiment}{'-quick' if quick else ''}{'-audit' if audit else ''}")


def run(experiment: str, quick: bool = False, set: Mapping[str, Any] | Iterable[str] | None = None,
        seeds: int | None = None, config: str | Path | None = None,
        out: str | Path | None = None, shard: str | None = None, threads: int | None = None,
        audit: bool = False, max_units: int | None = None) -> Results | Partial:
    """Run one experiment, as ``cruxlab run`` (or ``cruxlab audit`` with ``audit=True``) does.

    ``set`` overrides config keys, as a dict (``{"sizes": [9, 15]}``: values are written as TOML)
    or as ``"key=value"`` strings; ``config`` is a TOML file applied first; ``seeds`` is the
    number of seeds. ``out`` is the run folder (default ``runs/ID[-quick][-audit]``, as the
    CLI's). ``shard="K/N"`` runs one shard and returns a :class:`Partial`; :func:`merge` joins
    the shards. Bad input raises :class:`cruxlab.UserError` with the CLI's message.
    """
    folder = Path(out) if out is not None else _default_out(experiment, quick, audit)
    json_text, done, total = _cruxlab.run(
        experiment,
        str(folder),
        quick=quick,
        sets=_sets(set),
        seeds=seeds,
        config=None if config is None else str(config),
        shard=shard,
        threads=threads,
        audit=audit,
        max_units=_cruxlab.DEFAULT_MAX_UNITS if max_units is None else max_units,
    )
    if json_text is None:
        return Partial(folder, done, total)
    return Results(folder)


def merge(dirs: Iterable[str | Path], out: str | Path | None = None) -> Results:
    """Combine shard folders of one run into a finished run folder (default: the first)."""
    dirs = [str(d) for d in dirs]
    if not dirs:
        raise UserError("merge: no shard folders given")
    folder = Path(out) if out is not None else Path(dirs[0])
    _cruxlab.merge(dirs, str(folder))
    return Results(folder)
