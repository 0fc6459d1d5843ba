#!/usr/bin/env bash
# Broker throughput and produce latency with librdkafka (its public API) against samsa, and in
# the same run the loopback TCP ceiling for the same bytes as the baseline.
#   experiments/run_broker_bench.sh [BUILD_DIR] [RECORDS]
set -euo pipefail
build=${1:-build}
records=${2:-200000}
here=$(cd "$(dirname "$0")/.." && pwd)
bench="$build/experiments/rdkafka_bench"
samsa="$build/real/samsa"
dir=$(mktemp -d /tmp/samsa-bench-XXXXXX)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listeners=PLAINTEXT://127.0.0.1:%s\nlog.dirs=%s/data\n' "$port" "$dir" > "$dir/server.properties"
"$samsa" broker --config "$dir/server.properties" > "$dir/broker.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
echo "# $(date -u +%FT%TZ) commit $(git -C "$here" rev-parse --short HEAD) records=$records"
for size in 100 1024; do
  "$samsa" topics --create --topic "bench-$size" --partitions 1 --bootstrap-server "127.0.0.1:$port" > /dev/null
  "$bench" --bootstrap "127.0.0.1:$port" --topic "bench-$size" --records "$records" --size "$size"
  "$bench" --tcp-baseline --records "$records" --size "$size"
done
# Paced produce latency (no client-side queueing): 2,000 records/s for 10 s, acks=all, with the
# broker fsyncing nothing (default) and then every message (a topic with flush.messages=1).
"$samsa" topics --create --topic paced --partitions 1 --bootstrap-server "127.0.0.1:$port" > /dev/null
"$bench" --bootstrap "127.0.0.1:$port" --topic paced --records 20000 --size 100 --rate 2000
"$samsa" topics --create --topic paced-sync --partitions 1 --config flush.messages=1 --bootstrap-server "127.0.0.1:$port" > /dev/null
"$bench" --bootstrap "127.0.0.1:$port" --topic paced-sync --records 20000 --size 100 --rate 2000
