#!/usr/bin/env bash
# Replication's cost, side by side in one run on three `samsa broker` processes (combined roles,
# loopback, tests/interop/three_nodes.sh): librdkafka (rdkafka_bench) producing with acks=all to
# a topic with replication factor 1 and to one with replication factor 3 and
# min.insync.replicas=2, one partition each, in alternation, REPS times each:
#   - saturated: RECORDS records of 100 B enqueued as fast as librdkafka takes them (throughput);
#   - paced: 2,000 records/s of 100 B for 10 s (latency without client-side queueing: p50, p99).
# Baselines from the same run: librdkafka's own mock cluster (rdkafka_bench --mock: the load
# generator's ceiling, which shows it is not the bottleneck) and loopback TCP (the transport's).
# Writes experiments/results/replication_bench.md.
# Usage: experiments/run_replication_bench.sh [build-dir]   (RECORDS=200000 REPS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
records=${RECORDS:-200000}
reps=${REPS:-3}
SAMSA=$(realpath "$build/real/samsa")
bench=$(realpath "$build/experiments/rdkafka_bench")
out=experiments/results/replication_bench.md
DIR=$(mktemp -d /tmp/samsa-replbench-XXXXXX)
. tests/interop/three_nodes.sh
raw=$DIR/raw.txt
load=$(cut -d' ' -f1-3 /proc/loadavg)
for i in 1 2 3; do start "$i"; done
create() {
  for _ in $(seq 1 100); do
    "$SAMSA" topics --create --topic "$1" --partitions 1 --replication-factor "$2" --config min.insync.replicas="$3" \
      --bootstrap-server "$BOOTSTRAP" >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "could not create $1"; exit 1
}
create rf1 1 1
create rf3 3 2
sleep 2  # every replica of rf3 in the ISR
# key=value line -> the value of KEY
val() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
for ((r = 1; r <= reps; r++)); do
  for t in rf1 rf3; do
    echo "saturated $t $("$bench" --bootstrap "$BOOTSTRAP" --topic "$t" --records "$records" --size 100 --acks all)" >> "$raw"
    echo "paced $t $("$bench" --bootstrap "$BOOTSTRAP" --topic "$t" --records 20000 --size 100 --rate 2000 --acks all)" >> "$raw"
  done
  echo "saturated mock $("$bench" --mock --records "$records" --size 100 --acks all)" >> "$raw"
  echo "saturated tcp $("$bench" --tcp-baseline --records "$records" --size 100)" >> "$raw"
done
cat "$raw"
# The median over the repetitions of KEY in the lines starting with PREFIX.
median() { grep "^$1 " "$raw" | val "$2" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
dirty=""
git diff --quiet HEAD -- src real sim experiments || dirty=" (with uncommitted changes)"
{
  echo "# Replication's cost: replication factor 3 against 1, in one run"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, shared by the three"
  echo "brokers and the client. Commit $(git log -1 --format=%h)$dirty, $(date -u +%Y-%m-%d); build $build"
  echo "($(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" | cut -d= -f2)). Load average before the run: $load."
  echo "Command: \`RECORDS=$records REPS=$reps experiments/run_replication_bench.sh $build\`."
  echo
  echo "Three samsa processes with combined roles on loopback (Kafka's defaults: no fsync per"
  echo "message). librdkafka $(dpkg-query -W -f '${Version}' librdkafka-dev 2>/dev/null || echo '?'), acks=all, one partition per"
  echo "topic: rf1 (replication factor 1) and rf3 (replication factor 3, min.insync.replicas=2), run in"
  echo "alternation $reps times; medians shown. Saturated: $records records of 100 B enqueued at once"
  echo "(latencies there are client-side queueing). Paced: 2,000 records/s for 10 s, linger 0 (the"
  echo "broker's latency; the pacing loop spins a core)."
  echo
  echo "| run | produce MB/s | produce records/s | p50 | p99 |"
  echo "|---|---|---|---|---|"
  for t in rf1 rf3; do
    echo "| saturated, $t | $(median "saturated $t" produce_MBps) | $(median "saturated $t" produce_rps) | $(median "saturated $t" p50_us) us | $(median "saturated $t" p99_us) us |"
  done
  for t in rf1 rf3; do
    echo "| paced 2,000/s, $t | - | - | $(median "paced $t" p50_us) us | $(median "paced $t" p99_us) us |"
  done
  echo "| baseline: librdkafka mock cluster | $(median "saturated mock" produce_MBps) | $(median "saturated mock" produce_rps) | - | - |"
  echo
  echo "Ratios (rf3 / rf1, same run): saturated throughput $(ratio "$(median "saturated rf3" produce_rps)" "$(median "saturated rf1" produce_rps)"),"
  echo "paced p50 $(ratio "$(median "paced rf3" p50_us)" "$(median "paced rf1" p50_us)"), paced p99 $(ratio "$(median "paced rf3" p99_us)" "$(median "paced rf1" p99_us)")."
  echo "The load generator is not the bottleneck: against librdkafka's in-process mock cluster it"
  echo "produces $(ratio "$(median "saturated mock" produce_rps)" "$(median "saturated rf1" produce_rps)") times the rf1 rate. Loopback TCP carries"
  echo "$(grep '^saturated tcp ' "$raw" | head -1 | cut -d' ' -f3-) (first repetition)."
  echo
  echo "Raw lines:"
  echo
  echo '```'
  cat "$raw"
  echo '```'
} > "$out"
cat "$out"
