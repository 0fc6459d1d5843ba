#!/usr/bin/env bash
# Metadata records per second committed by the KRaft quorum, on Linux: one admin client
# (confluent-kafka) creates topics through a broker as fast as the controller answers; the
# quorum's high watermark before and after gives the records committed (every TopicRecord,
# PartitionRecord and ConfigRecord is one). Measured on a 1-voter quorum (the baseline: no
# replication round trip) and on the 3-voter cluster, in the same run, REPEATS times each.
# Writes experiments/results/metadata_throughput.md.
# Usage: experiments/run_metadata_throughput.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
SAMSA="$build/real/samsa"
repeats=${REPEATS:-3}
topics=${TOPICS:-500}
partitions=${PARTITIONS:-10}
batch=${BATCH:-50}
out=experiments/results/metadata_throughput.md
DIR=$(mktemp -d /tmp/samsa-mdtp-XXXXXX)
declare -A PID
cleanup() { for p in "${PID[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_cluster N: N combined nodes; sets BOOT and CONTROLLERS.
start_cluster() {
  local n=$1 voters="" i
  declare -gA BP CP
  for i in $(seq 1 "$n"); do BP[$i]=$(free_port); CP[$i]=$(free_port); voters+="${voters:+,}$i@127.0.0.1:${CP[$i]}"; done
  CONTROLLERS=""; BOOT=""
  for i in $(seq 1 "$n"); do
    rm -rf "$DIR/$n-$i"; mkdir -p "$DIR/$n-$i"
    cat > "$DIR/$n-$i.properties" <<CONF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:${BP[$i]},CONTROLLER://127.0.0.1:${CP[$i]}
log.dirs=$DIR/$n-$i
CONF
    "$SAMSA" broker --config "$DIR/$n-$i.properties" >"$DIR/$n-$i.log" 2>&1 &
    PID[$n-$i]=$!
    CONTROLLERS+="${CONTROLLERS:+,}127.0.0.1:${CP[$i]}"; BOOT+="${BOOT:+,}127.0.0.1:${BP[$i]}"
  done
  for _ in $(seq 1 300); do
    [ "$(kcat -b "$BOOT" -L 2>/dev/null | grep -c '  broker ')" = "$n" ] && return 0
    sleep 0.1
  done
  echo "the $n-node cluster did not come up"; exit 1
}
stop_cluster() { local n=$1 i; for i in $(seq 1 "$n"); do kill -TERM "${PID[$n-$i]}"; wait "${PID[$n-$i]}" || true; unset "PID[$n-$i]"; done; }
hw() { "$SAMSA" metadata-quorum --bootstrap-controller "$CONTROLLERS" describe --status | awk '$1 == "HighWatermark:" { print $2 }'; }

declare -A RATE CPU ELAPSED
for voters in 1 3; do
  for r in $(seq 1 "$repeats"); do
    start_cluster "$voters"  # afresh each run: every run starts from an empty metadata log
    before=$(hw)
    line=$(/usr/bin/python3 experiments/metadata_throughput.py "$BOOT" "v$voters-r$r" "$topics" "$partitions" "$batch" 1)
    after=$(hw)
    elapsed=$(echo "$line" | awk '{print $2}'); cpu=$(echo "$line" | awk '{print $4}')
    rate=$(awk -v a="$after" -v b="$before" -v e="$elapsed" 'BEGIN { printf "%.0f", (a - b) / e }')
    echo "voters=$voters run=$r records=$((after - before)) elapsed=${elapsed}s client_cpu=${cpu}s -> $rate records/s"
    RATE[$voters-$r]=$rate; CPU[$voters-$r]=$cpu; ELAPSED[$voters-$r]=$elapsed
    stop_cluster "$voters"
    rm -rf "$DIR"/"$voters"-*
  done
done
median() { tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
m1=$(for r in $(seq 1 "$repeats"); do echo -n "${RATE[1-$r]} "; done | median)
m3=$(for r in $(seq 1 "$repeats"); do echo -n "${RATE[3-$r]} "; done | median)
commit=$("$SAMSA" --version | cut -d" " -f2)  # what the measured binary was built from
{
  echo "# Metadata records committed per second by the KRaft quorum (Linux)"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; commit $commit; run $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Command: \`REPEATS=$repeats TOPICS=$topics PARTITIONS=$partitions BATCH=$batch experiments/run_metadata_throughput.sh $build\`."
  echo
  echo "One confluent-kafka AdminClient creates $topics topics of $partitions partitions (replication factor 1),"
  echo "$batch topics per CreateTopics request, through one broker, which forwards to the active controller;"
  echo "the controller writes each request's records ($((partitions + 1)) per topic) as one batch and"
  echo "answers after they commit. Records/s = growth of the metadata log's high watermark / elapsed time."
  echo "Every node fsyncs the metadata log before acknowledging (Raft), on this machine's disk."
  echo
  echo "| quorum | run | records/s | elapsed s | client CPU s | client CPU / elapsed |"
  echo "|---|---|---|---|---|---|"
  for voters in 1 3; do
    for r in $(seq 1 "$repeats"); do
      busy=$(awk -v c="${CPU[$voters-$r]}" -v e="${ELAPSED[$voters-$r]}" 'BEGIN { printf "%.0f%%", 100 * c / e }')
      echo "| $voters voter(s) | $r | ${RATE[$voters-$r]} | ${ELAPSED[$voters-$r]} | ${CPU[$voters-$r]} | $busy |"
    done
  done
  echo
  echo "Median: 1 voter $m1 records/s, 3 voters $m3 records/s; ratio 3/1 = $(awk -v a="$m3" -v b="$m1" 'BEGIN { printf "%.2f", a / b }')."
  echo "The last column is how busy the load generator was (its CPU time over the elapsed time, one core"
  echo "being 100%): well below a core means it was waiting for the cluster, not limiting it. Each request"
  echo "waits for its commit (fsync on the leader and a majority, plus a fetch round trip with 3 voters),"
  echo "one controller decision at a time. Each run starts a fresh cluster; the runs are short (well"
  echo "under 2 s), so their spread is wide: read the medians and the ratio, not a single run."
} > "$out"
cat "$out"
