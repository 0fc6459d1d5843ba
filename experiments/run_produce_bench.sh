#!/usr/bin/env bash
# Produce throughput, the server's CPU per GB, and latency at half the peak: samsa beside NATS
# JetStream (file storage) and Redis Streams (XADD, AOF everysec and always), all measured in one
# run with the same load generator (experiments/loadgen/loadgen.cc: pre-built requests, several
# connections, a window of unanswered requests each), and that generator's own ceiling against
# a null sink (a server in the generator that answers every Produce at once). Each figure is the
# median of REPS runs of SECONDS each; the table gives ratios to same-run baselines.
# Writes experiments/results/produce_bench.md; plot_results.py draws produce_bench.png from it.
# Usage: experiments/run_produce_bench.sh [build-dir]   (REPS=3 SECONDS_PER_RUN=5 CONNS=4 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
reps=${REPS:-3}
secs=${SECONDS_PER_RUN:-5}
conns=${CONNS:-4}
size=1024   # bytes per record
batch=100   # records per request (Kafka), per pipeline (Redis, NATS)
samsa=$(realpath "$build/real/samsa")
gen=$(realpath "$build/experiments/samsa-loadgen")
out=experiments/results/produce_bench.md
dir=$(mktemp -d /tmp/samsa-produce-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened"; exit 1; }

# --- the servers. Each run starts its server on an empty data directory and stops it after;
# the directory is removed and the page cache written back (sync) before the next, so no run
# pays for an earlier run's dirty pages.
start_samsa() {
  port=$(free_port)
  mkdir -p "$dir/data"
  printf 'listeners=PLAINTEXT://127.0.0.1:%s\nlog.dirs=%s/data\n' "$port" "$dir" > "$dir/server.properties"
  "$samsa" broker --config "$dir/server.properties" > "$dir/broker.log" 2>&1 &
  server=$!; pids+=("$server")
  wait_port "$port"
  "$samsa" topics --create --topic bench --partitions "$conns" --bootstrap-server "127.0.0.1:$port" > /dev/null
  "$samsa" topics --create --topic sync --partitions 8 --config flush.messages=1 --bootstrap-server "127.0.0.1:$port" > /dev/null
}
start_redis_everysec() { start_redis everysec; }
start_redis_always() { start_redis always; }
start_redis() {  # $1: everysec | always
  port=$(free_port)
  mkdir -p "$dir/data"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/data" --appendonly yes --appendfsync "$1" --save "" \
    --daemonize no --logfile "$dir/redis.log" &
  server=$!; pids+=("$server")
  wait_port "$port"
}
start_nats() {
  port=$(free_port)
  nats-server -js -sd "$dir/data" -a 127.0.0.1 -p "$port" > "$dir/nats.log" 2>&1 &
  server=$!; pids+=("$server")
  wait_port "$port"
}
stop_server() {
  kill -TERM "$server"
  wait "$server" 2>/dev/null || true
  rm -rf "$dir/data"
  sync
}

raw=$dir/raw.txt
: > "$raw"
# run NAME START-FUNCTION LOADGEN-ARGS...: REPS lines "NAME key=value ..." into $raw, each on a
# fresh server (none for the null sink); $port and $server are the server's.
run() {
  local name=$1 start=$2; shift 2
  for _ in $(seq "$reps"); do
    if [ "$start" = none ]; then
      echo "$name $("$gen" --seconds "$secs" --size "$size" "$@")" | tee -a "$raw"
      continue
    fi
    "$start"
    echo "$name $("$gen" --seconds "$secs" --size "$size" --port "$port" --server-pid "$server" "$@")" | tee -a "$raw"
    stop_server
  done
}
val() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { grep "^$1 " "$raw" | val "$2" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# The generator's ceiling first, then each server.
run null-sink none --proto kafka --null-sink --conns "$conns" --batch "$batch"
run samsa-acks1 start_samsa --proto kafka --conns "$conns" --partitions "$conns" --batch "$batch" --acks 1
run samsa-acksall start_samsa --proto kafka --conns "$conns" --partitions "$conns" --batch "$batch" --acks -1
# fsync per message: 8 producers, one record per request, one request each in flight.
run samsa-sync8 start_samsa --proto kafka --topic sync --partitions 8 --conns 8 --window 1 --batch 1 --acks 1
half1=$(median samsa-acks1 records_per_s | awk '{ printf "%d", $1 / 2 }')
halfall=$(median samsa-acksall records_per_s | awk '{ printf "%d", $1 / 2 }')
run samsa-acks1-half start_samsa --proto kafka --conns "$conns" --partitions "$conns" --batch "$batch" --acks 1 --rate "$half1"
run samsa-acksall-half start_samsa --proto kafka --conns "$conns" --partitions "$conns" --batch "$batch" --acks -1 --rate "$halfall"
run redis-everysec start_redis_everysec --proto redis --conns "$conns" --batch "$batch"
run redis-always start_redis_always --proto redis --conns "$conns" --batch "$batch"
run redis-always-sync8 start_redis_always --proto redis --topic sync --partitions 8 --conns 8 --window 1 --batch 1
run nats-js start_nats --proto nats --topic BENCH --conns "$conns" --batch "$batch"

# --- the table
python3 - "$raw" "$out" "$reps" "$secs" "$conns" "$size" "$batch" "$(git describe --always --dirty)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores" <<'PY'
import statistics, sys
raw, out, reps, secs, conns, size, batch, commit, cpu = sys.argv[1:]
runs = {}
for line in open(raw):
    name, *kv = line.split()
    runs.setdefault(name, []).append(dict(x.split("=", 1) for x in kv if "=" in x))
def med(name, key):
    v = [float(r[key]) for r in runs.get(name, []) if key in r]
    return statistics.median(v) if v else float("nan")
null = med("null-sink", "MBps")
rows = [("samsa-acks1", "samsa, acks=1"), ("samsa-acksall", "samsa, acks=all (one replica)"),
        ("redis-everysec", "Redis XADD, appendfsync everysec"), ("redis-always", "Redis XADD, appendfsync always"),
        ("nats-js", "NATS JetStream, file storage")]
L = []
L.append("# Produce throughput beside NATS JetStream and Redis Streams")
L.append("")
L.append(f"Machine: {cpu}. Commit {commit}. Regenerate with `experiments/run_produce_bench.sh` (REPS={reps}, {secs} s per run).")
L.append("")
L.append(f"One load generator for all (experiments/loadgen/loadgen.cc): {conns} connections, each with up to 8 unanswered")
L.append(f"requests of {batch} records of {size} B (a Kafka Produce request with one pre-built batch; a pipeline of {batch}")
L.append(f"XADDs; {batch} JetStream publishes, each acknowledged by the stream). The servers run one at a time on the")
L.append("same machine as the generator (2 cores shared), each run on a fresh server with an empty data directory")
L.append("(removed and written back with sync before the next run). Medians of the runs. CPU s per GB: the server process's")
L.append("utime+stime from /proc over the run, per GB of record payload. The null sink is a server inside the")
L.append("generator that answers every Produce at once: the generator's ceiling in this run.")
L.append("")
L.append("| target | MB/s | records/s | x null sink | server CPU s per GB | p50 us | p99 us |")
L.append("|---|---|---|---|---|---|---|")
L.append(f"| null sink (the generator's ceiling) | {null:.1f} | {med('null-sink','records_per_s'):.0f} | 1.00 | - | {med('null-sink','p50_us'):.0f} | {med('null-sink','p99_us'):.0f} |")
for key, label in rows:
    mb = med(key, "MBps")
    L.append(f"| {label} | {mb:.1f} | {med(key,'records_per_s'):.0f} | {mb / null:.2f} | {med(key,'server_cpu_s_per_GB'):.2f} | "
             f"{med(key,'p50_us'):.0f} | {med(key,'p99_us'):.0f} |")
s1 = med("samsa-acks1", "MBps")
ratio = s1 / null if null == null and null > 0 else float("nan")
L.append("")
if ratio > 0.8:
    L.append(f"samsa at acks=1 reaches {ratio:.2f} of the null sink: the generator, not the broker, may be the limit here, and")
    L.append("that figure is not reported as the broker's throughput.")
else:
    L.append(f"samsa at acks=1 reaches {ratio:.2f} of the null sink: the generator is not the limit.")
L.append("")
L.append("Ratios (same run):")
L.append("")
L.append("| ratio | value | target |")
L.append("|---|---|---|")
def r(a, b):
    x, y = med(a, "MBps"), med(b, "MBps")
    return x / y if y > 0 else float("nan")
def c(a, b):
    x, y = med(a, "server_cpu_s_per_GB"), med(b, "server_cpu_s_per_GB")
    return x / y if y > 0 else float("nan")
L.append(f"| samsa acks=1 / NATS JetStream, throughput | {r('samsa-acks1','nats-js'):.2f} | >= 3 |")
L.append(f"| samsa acks=1 / Redis everysec, throughput | {r('samsa-acks1','redis-everysec'):.2f} | >= 2 |")
L.append(f"| samsa / NATS JetStream, CPU s per GB | {c('samsa-acks1','nats-js'):.2f} | < 1 |")
L.append(f"| samsa / Redis everysec, CPU s per GB | {c('samsa-acks1','redis-everysec'):.2f} | < 1 |")
sync = med("samsa-sync8", "records_per_s") / med("redis-always-sync8", "records_per_s")
L.append(f"| samsa flush.messages=1 / Redis appendfsync always, 8 producers, 1 record each in flight (records/s) | {sync:.2f} | >= 5 |")
L.append("")
L.append("fsync per message, 8 producers each with one record in flight: samsa "
         f"{med('samsa-sync8','records_per_s'):.0f} records/s (p50 {med('samsa-sync8','p50_us'):.0f} us), Redis always "
         f"{med('redis-always-sync8','records_per_s'):.0f} records/s (p50 {med('redis-always-sync8','p50_us'):.0f} us).")
L.append("")
L.append("Produce latency at half of the measured peak (paced by the generator, requests of "
         f"{batch} records): acks=1 p50 {med('samsa-acks1-half','p50_us'):.0f} us, p99 {med('samsa-acks1-half','p99_us'):.0f} us, "
         f"p999 {med('samsa-acks1-half','p999_us'):.0f} us; acks=all p50 {med('samsa-acksall-half','p50_us'):.0f} us, "
         f"p99 {med('samsa-acksall-half','p99_us'):.0f} us, p999 {med('samsa-acksall-half','p999_us'):.0f} us.")
L.append("")
L.append("Every run (name, then the generator's output line):")
L.append("")
L.append("```")
for line in open(raw):
    L.append(line.rstrip())
L.append("```")
open(out, "w").write("\n".join(L) + "\n")
print("\n".join(L))
PY
python3 experiments/plot_results.py
