#!/usr/bin/env bash
# Failover time of a replicated partition, on Linux and in the simulator, with Kafka's default
# timeouts: from kill -9 of the partition's leader to the first acks=all acknowledgement of a
# record sent after the kill.
#   Linux: tests/interop/replication_failover_test.sh RUNS times (three kills each: kafka-python,
#          confluent-kafka and kafkajs each see one), three samsa processes on loopback.
#   Simulator: samsa-sim --scenario failover (two producers, five kills per seed) over SEEDS seeds.
# Writes experiments/results/replication_failover.md.
# Usage: experiments/run_replication_failover.sh [build-dir]   (RUNS=3 SEEDS=10 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-3}
seeds=${SEEDS:-10}
out=experiments/results/replication_failover.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= runs; r++)); do
  bash tests/interop/replication_failover_test.sh "$build/real/samsa" > "$tmp/linux-$r.txt" 2>&1 || { cat "$tmp/linux-$r.txt"; exit 1; }
  grep -E '^failover of partition' "$tmp/linux-$r.txt" | sed -E 's/.*\((.*)\): ([0-9]+) ms/\1 \2/' >> "$tmp/linux.txt"
done
"$build/sim/samsa-sim" --scenario failover --seed 1 --seeds "$seeds" > "$tmp/sim.txt" 2>&1 || { cat "$tmp/sim.txt"; exit 1; }
grep -oE 'failover \(kill to .*' "$tmp/sim.txt" | sed 's/.*: //' | tr ',' '\n' | grep -oE '^ ?[0-9]+ ms' | grep -oE '[0-9]+' > "$tmp/sim-ms.txt"
# min median max of a column of numbers
stats() { sort -n | awk '{ a[NR] = $1 } END { printf "%d | %d ms | %d ms | %d ms", NR, a[1], a[int((NR + 1) / 2)], a[NR] }'; }
dirty=""
git diff --quiet HEAD -- src real sim tests || dirty=" (with uncommitted changes)"
{
  echo "# Failover time of a replicated partition: Linux and the simulator"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores. Commit $(git log -1 --format=%h)$dirty,"
  echo "$(date -u +%Y-%m-%d); build $build ($(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" | cut -d= -f2)). Load average before the run: $load."
  echo "Command: \`RUNS=$runs SEEDS=$seeds experiments/run_replication_failover.sh $build\`."
  echo
  echo "Failover time: from kill -9 of a partition's leader to the first acks=all acknowledgement of a"
  echo "record the client handed over after the kill. Replication factor 3, min.insync.replicas=2,"
  echo "Kafka's default timeouts (broker.session.timeout.ms 9000: a killed broker's partitions move"
  echo "when the controller expires its session, since nothing told it the broker stopped)."
  echo
  echo "- Linux: three samsa processes with combined roles on loopback"
  echo "  (tests/interop/replication_failover_test.sh, $runs runs of three kills); each kill is timed by"
  echo "  the client writing to that partition."
  echo "- Simulator: \`samsa-sim --scenario failover\` (three combined nodes and a broker-only node, two"
  echo "  samsa-client producers, five kills per seed, seeds 1-$seeds), simulated time."
  echo
  echo "| where | client | kills | min | median | max |"
  echo "|---|---|---|---|---|---|"
  for c in kafka-python confluent-kafka kafkajs; do
    echo "| Linux | $c | $(grep "^$c " "$tmp/linux.txt" | awk '{ print $2 }' | stats) |"
  done
  echo "| Linux | all | $(awk '{ print $2 }' "$tmp/linux.txt" | stats) |"
  echo "| simulator | samsa client | $(stats < "$tmp/sim-ms.txt") |"
  echo
  echo "Simulator verdicts: $(grep -E '^[0-9]+ seeds, ' "$tmp/sim.txt" || grep -c '^seed' "$tmp/sim.txt")."
} > "$out"
cat "$out"
