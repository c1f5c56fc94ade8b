#!/usr/bin/env bash
# Run the Rust speed example and the Python trainers back to back, one at a time, on the same
# settings. Usage (from anywhere):
#   scripts/sb3/run_all.sh                                  # 1 and 2 threads, default steps
#   THREADS="1" NETS="cnn" IMPLS="rust torch" REPEATS=2 scripts/sb3/run_all.sh
#   KERNELS="avx2 avx512" ...                               # Rust once per convolution build
#   BASELINE=/path/to/examples/speed ...                    # also an earlier build, same rounds
# Before each run it waits (up to IDLE_WAIT seconds, default 300) until the CPUs are less than
# IDLE_PCT percent busy (default 15) over a 3-second sample. After each run it prints the run's own
# CPU time and the CPU time everything else on the machine took meanwhile: a run that shared the
# cores with other work (a compile, say) shows it there and should be repeated.
# With REPEATS > 1 the order of the runs within a round rotates from one round to the next.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="$here/.venv/bin/python"
THREADS="${THREADS:-1 2}"
NETS="${NETS:-cnn mlp}"
IMPLS="${IMPLS:-rust torch sb3}"
REPEATS="${REPEATS:-1}"
KERNELS="${KERNELS:-best}"
CNN_STEPS="${CNN_STEPS:-32768}"
MLP_STEPS="${MLP_STEPS:-65536}"
IDLE_PCT="${IDLE_PCT:-15}"
IDLE_WAIT="${IDLE_WAIT:-300}"
hz="$(getconf CLK_TCK)"

# Busy and total CPU ticks of the whole machine so far (steal counted as busy).
ticks() {
  local u n s i w q sq st
  read -r _ u n s i w q sq st _ < /proc/stat
  echo "$((u + n + s + q + sq + st)) $((u + n + s + i + w + q + sq + st))"
}

busy_pct() {
  local a b
  a=($(ticks)); sleep 3; b=($(ticks))
  echo $(( 100 * (b[0] - a[0]) / ((b[1] - a[1]) > 0 ? (b[1] - a[1]) : 1) ))
}

wait_idle() {
  local waited=0 b
  while b=$(busy_pct); [ "$b" -ge "$IDLE_PCT" ] && [ "$waited" -lt "$IDLE_WAIT" ]; do
    sleep 7; waited=$((waited + 10))
  done
  echo "== $(uptime | sed 's/^ *//'); CPUs ${b}% busy just before the run"
}

# Run a command, then report its CPU time and what the rest of the machine used meanwhile.
measured() {
  local before after own
  local tf; tf="$(mktemp)"
  before=($(ticks))
  /usr/bin/time -f "%e %U %S" -o "$tf" "$@"
  after=($(ticks))
  own=($(cat "$tf")); rm -f "$tf"
  awk -v w="${own[0]}" -v u="${own[1]}" -v s="${own[2]}" -v busy=$((after[0] - before[0])) -v hz="$hz" \
    'BEGIN { o = busy / hz - u - s; if (o < 0) o = 0;
             printf "== %.1f s wall, %.1f s user, %.1f s sys; other processes: %.1f CPU-s (%.0f%% of one core)\n",
                    w, u, s, o, 100 * o / w }'
}

if [[ " $IMPLS " == *" rust "* ]]; then
  (cd "$root" && cargo build --release -q -p cruxlab-learn --example speed)
fi
# One run of the Rust example (a build and a kernel), or of a Python trainer.
run_one() {
  local what=$1 arg=$2 net=$3 steps=$4 t=$5
  wait_idle
  case "$what" in
    rust)
      echo "== rust: speed -- $net $steps $t $arg"
      (cd "$root" && measured ./target/release/examples/speed "$net" "$steps" "$t" "$arg") ;;
    baseline)
      echo "== rust baseline: $BASELINE -- $net $steps $t $arg"
      measured "$BASELINE" "$net" "$steps" "$t" "$arg" ;;
    python)
      echo "== python: ppo_speed.py --impl $arg --net $net --steps $steps --threads $t"
      (cd "$here" && measured "$py" ppo_speed.py --impl "$arg" --net "$net" --steps "$steps" --threads "$t") ;;
  esac
}

# The runs of one round, in IMPLS order. Each round starts one place later in this list (round 1
# in IMPLS order, round 2 from the second run, ...): on this kind of shared VM the same binary has
# run 1.24x faster in one place of a round than in the next, so no trainer may always go first.
runs=()
for impl in $IMPLS; do
  if [ "$impl" = rust ]; then
    for k in $KERNELS; do
      runs+=("rust:$k")
      [ -z "${BASELINE:-}" ] || runs+=("baseline:$k")
    done
  else
    runs+=("python:$impl")
  fi
done
for rep in $(seq "$REPEATS"); do
  for t in $THREADS; do
    for net in $NETS; do
      steps=$CNN_STEPS; [ "$net" = mlp ] && steps=$MLP_STEPS
      n=${#runs[@]}
      for i in $(seq 0 $((n - 1))); do
        r=${runs[$(( (i + rep - 1) % n ))]}
        run_one "${r%%:*}" "${r#*:}" "$net" "$steps" "$t"
      done
    done
  done
done
