#!/usr/bin/env bash
# Shrinking failing runs to minimal fault schedules (samsa-sim --shrink): for each of Kafka's
# historical replication bugs found by the random cluster nemesis and each planted controller
# bug, its first failing seed (replication_bugs.md, tests/cluster_test.cc) is shrunk; the table
# gives the events before and after, the fault durations before and after, the runs and wall
# time it took, the check that still fails, and the command that replays the shrunk schedule
# (the shrunk files are kept in experiments/results/shrunk/). Writes
# experiments/results/shrink.md. Usage: experiments/run_shrink_table.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sim=$build/sim/samsa-sim
out=experiments/results/shrink.md
dir=experiments/results/shrunk
mkdir -p "$dir"
# bug and the seed that fails with it (the random nemesis).
cases="truncate-to-hw:4 no-elr:16 unclean-election:16 keep-fenced-in-isr:2 elect-outside-isr:1 ack-before-commit:49"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  echo "# Shrinking failing runs to minimal fault schedules"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; one simulation at a time."
  echo "Commit $(git describe --always --dirty), $(date -u +%Y-%m-%d). Build: $(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" | cut -d= -f2)."
  echo "Regenerate with \`experiments/run_shrink_table.sh $build\`."
  echo
  echo "Each row: \`samsa-sim --scenario cluster --seed S --bug B --shrink FILE\` (40 s of faults, 40 s"
  echo "quiet): ddmin over the recorded events while the same check still fails, then each duration"
  echo "halved while it still fails. The shrunk schedules are in experiments/results/shrunk/."
  echo
  echo "| bug | seed | events before | events after | fault time before | after | runs | wall s | still failing | replay |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for c in $cases; do
    bug=${c%%:*} seed=${c##*:}
    file="$dir/$bug-seed$seed.txt"
    start=$(date +%s)
    "$sim" --scenario cluster --seed "$seed" --bug "$bug" --shrink "$file" > "$tmp/run.txt" 2>&1 || true
    wall=$(( $(date +%s) - start ))
    line=$(grep -E '^  shrunk ' "$tmp/run.txt" || true)
    if [ -z "$line" ]; then
      echo "| $bug | $seed | - | - | - | - | - | $wall | (the seed did not fail: nothing to shrink) | - |"
      continue
    fi
    # "  shrunk N events to M (fault durations X s to Y s) in R runs, W s; still failing C"
    read -r before after dbefore dafter runs failing <<< "$(sed -E 's/^  shrunk ([0-9]+) events to ([0-9]+) \(fault durations ([0-9.]+) s to ([0-9.]+) s\) in ([0-9]+) runs, [0-9.]+ s.*; still failing (.*)$/\1 \2 \3 \4 \5 \6/' <<< "$line")"
    echo "| $bug | $seed | $before | $after | ${dbefore} s | ${dafter} s | $runs | $wall | $failing | \`samsa-sim --replay $file\` |"
  done
} > "$out"
cat "$out"
