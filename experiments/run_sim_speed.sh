#!/usr/bin/env bash
# How fast the simulator runs, on one core: for each scenario, SEEDS seeds in one process
# (--jobs 1), simulated seconds per wall second and seeds per core-hour; then how that scales
# with the cluster scenario's number of brokers (--cluster-brokers 3..9, the quorum combined on
# three of them) and with the broker scenario's number of producers (1..16). Simulated time per
# seed comes from samsa-sim's JSON lines; wall time from the clock around each run (the machine
# otherwise idle: run nothing else meanwhile). Writes experiments/results/sim_speed.md; then
# experiments/plot_results.py draws sim_speed.png from it.
# Usage: experiments/run_sim_speed.sh [build-dir]   (SEEDS=10 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seeds=${SEEDS:-10}
sim=$build/sim/samsa-sim
out=experiments/results/sim_speed.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME ARGS...: one line "NAME seeds wall_s simulated_s steps" into $tmp/rows.
measure() {
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$sim" "$@" --seeds "1..$seeds" --jobs 1 --brief --json "$tmp/run.jsonl" > /dev/null 2>&1 || true
  end=$(date +%s.%N)
  python3 - "$name" "$start" "$end" "$tmp/run.jsonl" >> "$tmp/rows" <<'EOF'
import json, sys
name, start, end, path = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
recs = [json.loads(l) for l in open(path) if l.strip()]
print(name, len(recs), f"{float(end) - float(start):.2f}", f"{sum(r['simulated_s'] for r in recs):.1f}",
      sum(r['steps'] for r in recs), sum(0 if r['ok'] else 1 for r in recs))
EOF
}

: > "$tmp/rows"
measure broker --scenario broker
measure groups --scenario groups
measure groups-cluster --scenario groups --brokers 3
measure raft --scenario raft
measure cluster --scenario cluster
measure failover --scenario failover
for b in 3 4 5 7 9; do measure "cluster-brokers-$b" --scenario cluster --cluster-brokers "$b"; done
for p in 1 2 4 8 16; do measure "broker-producers-$p" --scenario broker --producers "$p"; done
# The offered load: a 3-broker cluster whose three producers each send R times a second.
for r in 1 2 5 10 20 50; do measure "cluster-3-rate-$r" --scenario cluster --cluster-brokers 3 --send-rate "$r"; done

python3 - "$tmp/rows" > "$tmp/table.md" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
print("| run | seeds | failed | wall s | simulated s | x real time | seeds per core-hour | steps per wall s | steps per simulated s | us per step |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, n, wall, simulated, steps, failed in rows:
    n, wall, simulated, steps = int(n), float(wall), float(simulated), int(steps)
    speed = simulated / wall if wall > 0 else 0
    per_hour = 3600 * n / wall if wall > 0 else 0
    per_sim = steps / simulated if simulated > 0 else 0
    us = 1e6 * wall / steps if steps > 0 else 0
    print(f"| {name} | {n} | {failed} | {wall:.1f} | {simulated:.0f} | {speed:.1f} | {per_hour:.0f} | {steps / wall:.0f} | {per_sim:.0f} | {us:.2f} |")
EOF
commit=$("$sim" --version | cut -d" " -f2)  # what samsa-sim was built from, as its replay lines say
{
  echo "# Simulation speed"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; one simulation at a time, one core."
  echo "Commit $commit, $(date -u +%Y-%m-%d). Build: $(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" | cut -d= -f2)."
  echo "Regenerate with \`SEEDS=$seeds experiments/run_sim_speed.sh $build\`."
  echo
  echo "Each row: seeds 1..$seeds of the scenario with its default fault and quiet times, in one process."
  echo "x real time = simulated seconds / wall seconds; seeds per core-hour = 3600 x seeds / wall seconds."
  echo "cluster-brokers-N: the cluster scenario with N brokers (quorum combined on three);"
  echo "broker-producers-N: the broker scenario with N producer nodes;"
  echo "cluster-3-rate-R: the cluster scenario with 3 brokers whose three producers send R times a second each"
  echo "(samsa-sim --send-rate R; the other rows draw 12-250 sends/s per producer from the seed). Plot: sim_speed.png."
  echo "x real time = steps per simulated s x us per step: the goal of 1000x needs both small, see below."
  echo "failed: seeds whose verdict failed (these runs are small campaigns too: each failure is a finding,"
  echo "followed up in the README's findings of the speed runs)."
  echo
  cat "$tmp/table.md"
} > "$out"
cat "$out"
python3 experiments/plot_results.py  # sim_speed.png (and the other plots) from the tables
