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


@pytest.fixture(scope="session", autouse=True)
def sb3_logs_in_pytest_tmp(tmp_path_factory):
    """Stable-Baselines3 makes a log folder per model, under the system's temporary folder unless
    SB3_LOGDIR says where: keep them in pytest's own temporary folders, which pytest prunes."""
    old = os.environ.get("SB3_LOGDIR")
    os.environ["SB3_LOGDIR"] = str(tmp_path_factory.mktemp("sb3-logs"))
    yield
    if old is None:
        os.environ.pop("SB3_LOGDIR", None)
    else:
        os.environ["SB3_LOGDIR"] = old


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With CRUXLAB_NO_SKIPS=1 (scripts/python-test.sh sets it when it installed every optional
    package), a skipped test fails: in CI a missing Ray, Stable-Baselines3 or CLI must not pass
    quietly."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CRUXLAB_NO_SKIPS") == "1" and \
            not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CRUXLAB_NO_SKIPS=1: {report.longrepr}"
