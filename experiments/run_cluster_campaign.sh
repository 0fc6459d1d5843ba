#!/usr/bin/env bash
# The KRaft cluster with its data plane in the simulator (samsa-sim --scenario cluster: 3-5
# brokers, replicated acks=all and acks=1 topics, every fault kind of the scenario), on seeds CI
# does not run (CI runs 1..300): SEEDS seeds from FIRST (default 1001..3000) in JOBS worker
# processes, the per-check table, then (BUG_SEEDS > 0) every planted bug of the cluster scenario
# over BUG_SEEDS seeds. Writes experiments/results/cluster_sim.md.
# SHARDS_DIR=dir takes the campaign from dir/shard-*.jsonl instead of running it (each written by
# `samsa-sim --scenario cluster --seeds A..B --shard K/N --fault-ms F --quiet-ms Q --json
# dir/shard-K.jsonl`, on this machine or others): the README's sharded campaigns.
# Usage: experiments/run_cluster_campaign.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
first=${FIRST:-1001}
seeds=${SEEDS:-2000}
jobs=${JOBS:-$(nproc)}
fault_ms=${FAULT_MS:-15000}
quiet_ms=${QUIET_MS:-35000}
bug_seeds=${BUG_SEEDS:-20}
sim=$build/sim/samsa-sim
out=experiments/results/cluster_sim.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
last=$((first + seeds - 1))
commit=$("$sim" --version | cut -d" " -f2)  # what samsa-sim was built from, as its replay lines say
wall="each file run separately"
if [ -n "${SHARDS_DIR:-}" ]; then
  $sim --merge "$SHARDS_DIR"/shard-*.jsonl > "$tmp/base.txt" 2>&1 || true
  commit="$commit (the merging samsa-sim's; each shard's replay lines name the commit it ran)"
  how="merged by samsa-sim --merge from $(ls "$SHARDS_DIR"/shard-*.jsonl | wc -l) JSON-lines file(s), each a --shard K/N run or a --seeds run; seeds no file holds are listed as missing"
else
  start=$(date +%s)
  $sim --scenario cluster --seeds "$first..$last" --jobs "$jobs" --brief --fault-ms "$fault_ms" --quiet-ms "$quiet_ms" \
    --json "$tmp/base.jsonl" > "$tmp/run.txt" 2>&1 || true
  wall="$(( $(date +%s) - start )) s wall, $jobs worker processes"
  $sim --merge "$tmp/base.jsonl" > "$tmp/base.txt" 2>&1 || true
  how="one run"
fi
{
  echo "# The KRaft cluster and its replicated data under faults, in the simulator"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores."
  echo "Commit $commit, $(date -u +%Y-%m-%d). Build: $(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" | cut -d= -f2)."
  echo "Regenerate with \`FIRST=$first SEEDS=$seeds FAULT_MS=$fault_ms QUIET_MS=$quiet_ms BUG_SEEDS=$bug_seeds experiments/run_cluster_campaign.sh $build\`."
  echo
  echo "Each seed: the cluster scenario (3-5 brokers, the metadata quorum combined on three of them or"
  echo "on three controller-only nodes; acks=all and acks=1 topics with replication factor 2-3 and"
  echo "min.insync.replicas 1-2, producers and consumers; power losses of one broker and of all,"
  echo "kill -9, pauses, partitions between brokers, controllers and clients, one-way cuts, clogs,"
  echo "EIO, full and slow disks), $fault_ms ms of faults and $quiet_ms ms of quiet (simulated)."
  echo "CI runs seeds 1..300 of the same; these are seeds $first..$last ($how; $wall)."
  echo
  echo "## Seeds $first..$last without bugs"
  echo
  echo '```'
  sed -n '/^[0-9]* seeds, /,/^buggify/p' "$tmp/base.txt" | sed '$d'
  grep -E '^missing|^repeated' "$tmp/base.txt" || true
  echo '```'
  grep -E '^seed [0-9]+ \(|^  check .*FAIL|^  replay' "$tmp/base.txt" || true
  if [ "$bug_seeds" -gt 0 ]; then
    echo
    echo "## Planted bugs of the cluster scenario, $bug_seeds seeds each"
    echo
    echo "| bug | seeds failed | checks that failed (seeds) | first failing seed |"
    echo "|---|---|---|---|"
    for b in $($sim --list-bugs | awk '/\(cluster scenario\)/ { print $1 }'); do
      $sim --scenario cluster --seeds "1..$bug_seeds" --jobs "$jobs" --brief --bug "$b" > "$tmp/$b.txt" 2>&1 || true
      failed=$(grep -oE '^[0-9]+ seeds, [0-9]+ failed' "$tmp/$b.txt" | awk '{ print $3 }')
      checks=$(sed -n '/^check /,/^buggify/p' "$tmp/$b.txt" | awk 'NR > 1 && $2 > 0 && $1 != "buggify" { printf "%s%s (%s)", sep, $1, $2; sep = ", " }')
      first_failing=$(sed -n '/^check /,/^buggify/p' "$tmp/$b.txt" | awk 'NR > 1 && $2 > 0 && $1 != "buggify" { for (i = 1; i <= NF; i++) if ($i == "--seed") print $(i + 1) }' | sort -n | head -1)
      echo "| $b | $failed of $bug_seeds | ${checks:-none} | ${first_failing:--} |"
    done
    echo
    echo "Some bugs need a scripted schedule to be reached (kip-279, kip-320, controlled-shutdown: see"
    echo "replication_bugs.md and tests/cluster_test.cc); accept-stale-partition-epoch is caught by"
    echo "properties/controller_properties.cc on the pure controller."
  fi
} > "$out"
cat "$out"
