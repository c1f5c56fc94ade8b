"""Experiments from Python: DataFrames, the CLI's run folder byte for byte, shards and merge."""

import subprocess

import pandas as pd
import pytest

import cruxlab

SMALL = {"seeds": 3, "sizes": [9], "budgets": [1, 8, 64]}


def test_list_and_show():
    table = cruxlab.list()
    assert list(table.columns) == ["id", "claim"]
    assert "retarget" in set(table["id"])
    shown = cruxlab.show("retarget", quick=True)
    assert shown.id == "retarget" and "seeds" in shown.config


def test_run_returns_dataframes(tmp_path):
    r = cruxlab.run("retarget", quick=True, set=SMALL, out=tmp_path / "run")
    assert isinstance(r.metrics, pd.DataFrame) and isinstance(r.per_seed, pd.DataFrame)
    assert {"metric", "mean", "ci_low", "ci_high", "n"} <= set(r.metrics.columns)
    assert r.metrics["n"].max() == 3 and (r.metrics["n"] <= 3).all()
    # per_seed: one row per (condition, seed)
    conditions = r.metrics.drop(columns=["metric", "mean", "ci_low", "ci_high", "n"])
    assert len(r.per_seed) == 3 * len(conditions.drop_duplicates())
    assert set(r.verdicts["verdict"]) <= {"supported", "refuted", "inconclusive"}
    assert len(r.verdicts) == len(r.raw["verdicts"]) > 0
    # The mean in the table is the mean of the per-seed column.
    row = r.metrics.iloc[0]
    assert row["mean"] == pytest.approx(r.raw["metrics"][0]["mean"])


def test_run_equals_the_cli_byte_for_byte(tmp_path, cli):
    py = cruxlab.run("retarget", quick=True, set=SMALL, out=tmp_path / "py")
    args = [f"--set={k}={v}".replace(" ", "") for k, v in
            {"seeds": 3, "sizes": "[9]", "budgets": "[1,8,64]"}.items()]
    subprocess.run([cli, "run", "retarget", "--quick", *args, "--out", str(tmp_path / "cli")],
                   check=True, capture_output=True)
    assert (py.path / "results.json").read_bytes() == \
        (tmp_path / "cli" / "results.json").read_bytes()


def test_shards_merge_to_the_single_run(tmp_path):
    whole = cruxlab.run("retarget", quick=True, set=SMALL, out=tmp_path / "whole")
    parts = []
    for k in (1, 2, 3):
        part = cruxlab.run("retarget", quick=True, set=SMALL, out=tmp_path / f"s{k}",
                           shard=f"{k}/3")
        assert isinstance(part, cruxlab.Partial) and part.total > part.done > 0
        parts.append(part.path)
    merged = cruxlab.merge(parts, out=tmp_path / "merged")
    assert (merged.path / "results.json").read_bytes() == \
        (whole.path / "results.json").read_bytes()
