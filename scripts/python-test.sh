#!/usr/bin/env bash
# The Python package's tests: build the wheel from source with maturin (from the package
# registry, like every other Python dependency), install it into a virtual environment, run
# python/tests with pytest. Needs a Rust toolchain and CPython >= 3.9 with venv; nothing else.
#
#   scripts/python-test.sh [PYTEST ARGS...]
#
# CRUXLAB_VENV: the virtual environment (default .venv, created if missing).
# CRUXLAB_SB3_NEED_GB: the free disk (GB) below which PyTorch is not installed (default 10).
# CRUXLAB_NO_RAY=1: skip installing Ray; CRUXLAB_NO_SB3=1: skip installing Stable-Baselines3
#   (it pulls PyTorch, about 6 GB installed with the CUDA runtime wheels). Their tests are then skipped;
#   otherwise no test may be skipped (CRUXLAB_NO_SKIPS=1, see python/tests/conftest.py).
# CARGO_TARGET_DIR: defaults to the workspace's target/, so the build reuses `cargo test`'s.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=${CRUXLAB_VENV:-$root/.venv}
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
packages=(numpy pandas gymnasium pettingzoo pytest)
no_skips=1
if [ "${CRUXLAB_NO_RAY:-0}" != 1 ]; then
    packages+=(ray)
else
    no_skips=0
fi
# PyTorch with its CUDA runtime wheels takes about 6 GB installed and 3 GB more while pip unpacks
# them. Where the disk has less room than that, say so and leave Stable-Baselines3 out (its tests
# are then reported as skipped) rather than fail half-way through an install.
sb3_need_gb=${CRUXLAB_SB3_NEED_GB:-10}
if [ "${CRUXLAB_NO_SB3:-0}" != 1 ] && ! "$venv/bin/python" -c 'import stable_baselines3' 2>/dev/null; then
    # pip unpacks under TMPDIR and installs into the venv: the smaller of the two disks counts.
    free_gb=$(df -Pk "$venv" "${TMPDIR:-/tmp}" 2>/dev/null |
        awk 'NR > 1 { g = int($4 / 1048576); if (m == "" || g < m) m = g } END { print m }') || true
    if ! [[ "$free_gb" =~ ^[0-9]+$ && "$sb3_need_gb" =~ ^[0-9]+$ ]]; then
        echo "python-test.sh: cannot tell the free disk ('$free_gb') or CRUXLAB_SB3_NEED_GB" \
            "('$sb3_need_gb') is not a whole number of GB" >&2
        exit 2
    fi
    if [ "$free_gb" -lt "$sb3_need_gb" ]; then
        echo "python-test.sh: only $free_gb GB free on the disks of $venv and the temporary folder; Stable-Baselines3 and" \
            "PyTorch need about $sb3_need_gb GB, so they are not installed and their tests are" \
            "skipped (CRUXLAB_NO_SB3=1 says the same without this message)" >&2
        CRUXLAB_NO_SB3=1
    fi
fi
if [ "${CRUXLAB_NO_SB3:-0}" != 1 ]; then
    packages+=(stable-baselines3)
else
    no_skips=0
fi
# No download cache: the wheels would be stored twice, once cached and once installed.
"$venv/bin/python" -m pip install --quiet --no-cache-dir "${packages[@]}"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
# The CLI, which the tests compare messages and run folders with, built as `cargo test --release
# --workspace` builds it (the same features, so after scripts/test.sh's Rust tests this is a no-op).
cargo test --release --quiet --workspace --no-run
export CRUXLAB_BIN=$CARGO_TARGET_DIR/release/cruxlab
# The package as README installs it (`pip install ./python`: maturin builds the wheel from
# source), into the same target folder as the workspace, so the library crates are reused.
"$venv/bin/python" -m pip install --quiet --no-cache-dir --force-reinstall --no-deps ./python
# From the repository root, so `import cruxlab` finds the installed wheel, not python/cruxlab.
CRUXLAB_NO_SKIPS=$no_skips "$venv/bin/python" -I -m pytest -q -p no:cacheprovider python/tests "$@"
