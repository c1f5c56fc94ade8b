import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli():
    """The `cruxlab` binary, to compare messages and run folders with (CRUXLAB_BIN, else the
    workspace's release build). Tests that need it are skipped when there is none."""
    candidates = [os.environ.get("CRUXLAB_BIN"), ROOT / "target" / "release" / "cruxlab",
                  shutil.which("cruxlab")]
    for c in candidates:
        if c and Path(c).is_file():
            return str(c)
    pytest.skip("no cruxlab binary (set CRUXLAB_BIN or run cargo build --release -p cruxlab)")
