#!/usr/bin/env bash
# The project's one test command (README, .ci/run): the Rust workspace's tests, then the Python
# package's (scripts/python-test.sh builds the wheel from source and runs python/tests with
# Gymnasium's and PettingZoo's checkers, Stable-Baselines3 and Ray).
#
#   scripts/test.sh            # everything
#   CRUXLAB_NO_PYTHON=1 scripts/test.sh   # the Rust tests only (same as cargo test --release --workspace)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --workspace
if [ "${CRUXLAB_NO_PYTHON:-0}" != 1 ]; then
    scripts/python-test.sh
fi
