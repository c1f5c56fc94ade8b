"""A sweep's shards spread over a Ray cluster, merged into one run folder.

Each shard ``K/N`` runs as one Ray task (``cruxlab.run(..., shard="K/N")``, the same code as
``cruxlab run --shard K/N``) in a scratch folder on whichever node Ray picks. The task sends the
folder's files back to the driver, so the nodes need no shared file system; the driver writes them
to ``OUT-shards/K`` and merges them into ``OUT`` (``cruxlab merge``). Every unit depends only on
(config, condition, seed), so the merged ``results.json`` is byte for byte the single-machine
run's.

>>> import ray, cruxlab.distributed
>>> ray.init()                                                              # doctest: +SKIP
>>> r = cruxlab.distributed.run_on_ray("retarget", shards=8, out="runs/retarget-ray",
...                                    quick=True)                          # doctest: +SKIP

Ray is not a dependency of the package: install it (``pip install ray``) where you use this.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from cruxlab.errors import UserError
from cruxlab.experiments import Partial, Results, merge, run

#: Files of a run folder that stay with the process that wrote them.
_LOCAL = {".cruxlab.lock"}


def _run_shard(experiment: str, shard: str, kwargs: dict) -> dict[str, bytes]:
    """Run one shard in a scratch folder and return its files (relative path -> bytes)."""
    with tempfile.TemporaryDirectory(prefix="cruxlab-shard-") as scratch:
        folder = Path(scratch) / "run"
        run(experiment, out=folder, shard=shard, **kwargs)
        return {
            str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in _LOCAL
        }


def run_on_ray(experiment: str, shards: int, out: str | Path, quick: bool = False,
               set: Mapping[str, Any] | Iterable[str] | None = None, seeds: int | None = None,
               threads: int | None = 1, audit: bool = False,
               num_cpus: float = 1) -> Results:
    """Run ``experiment`` as ``shards`` Ray tasks and merge them into ``out``.

    Call ``ray.init(...)`` first (a local ``ray.init()`` or ``ray.init(address="auto")`` on a
    cluster). ``threads`` is each task's thread count (``num_cpus`` what it asks Ray for).
    """
    import ray

    if shards < 1:
        raise UserError(f"shards {shards}: must be at least 1")
    out = Path(out)
    kwargs = {"quick": quick, "set": set, "seeds": seeds, "threads": threads, "audit": audit}
    task = ray.remote(num_cpus=num_cpus)(_run_shard)
    pending = [task.remote(experiment, f"{k}/{shards}", kwargs) for k in range(1, shards + 1)]
    dirs = []
    for k, files in enumerate(ray.get(pending), start=1):
        folder = out.parent / f"{out.name}-shards" / str(k)
        for rel, data in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        dirs.append(folder)
    return merge(dirs, out=out)


__all__ = ["run_on_ray", "Partial"]
