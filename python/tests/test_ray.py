"""The Ray recipe: shards as Ray tasks on a local cluster, merged, equal to the single run."""

import pytest

import cruxlab
from cruxlab.distributed import run_on_ray

ray = pytest.importorskip("ray")

SMALL = {"seeds": 4, "sizes": [9], "budgets": [1, 8, 64]}


def test_ray_shards_merge_to_the_single_machine_run(tmp_path):
    whole = cruxlab.run("retarget", quick=True, set=SMALL, out=tmp_path / "whole")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        merged = run_on_ray("retarget", shards=3, out=tmp_path / "ray", quick=True, set=SMALL)
    finally:
        ray.shutdown()
    assert (merged.path / "results.json").read_bytes() == \
        (whole.path / "results.json").read_bytes()
    assert merged.verdicts.equals(whole.verdicts)
