#!/usr/bin/env bash
# Time to elect a new metadata-quorum leader after kill -9 of the leader, on Linux: three
# `samsa broker` processes with combined roles on loopback (tests/interop/quorum_failover_test.sh,
# ROUNDS rounds, default 10). Writes experiments/results/quorum_failover_linux.md.
# Usage: experiments/run_quorum_failover.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${ROUNDS:-10}
out=experiments/results/quorum_failover_linux.md
log=$(mktemp)
bash tests/interop/quorum_failover_test.sh "$build/real/samsa" "$rounds" | tee "$log"
grep -q '^PASS' "$log"
times=$(sed -nE 's/.* after ([0-9]+) ms$/\1/p' "$log" | sort -n)
n=$(echo "$times" | wc -l)
{
  echo "# Metadata-quorum failover on Linux (kill -9 of the leader)"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores. Commit"
  echo "$(git describe --always --dirty), $(date -u +%Y-%m-%d). Regenerate: \`ROUNDS=$rounds experiments/run_quorum_failover.sh\`."
  echo
  echo "Three samsa processes (process.roles=broker,controller) on loopback, Kafka's default quorum"
  echo "timeouts (quorum.fetch.timeout.ms 2000, quorum.election.timeout.ms 1000). Each round kills the"
  echo "leader with SIGKILL and polls \`samsa metadata-quorum describe --status\` every 50 ms until"
  echo "another node leads a higher epoch; the killed node then restarts and catches up. The time"
  echo "includes up to one polling interval and the tool's own start-up (a process per poll)."
  echo
  echo "| rounds | min | median | max |"
  echo "|---|---|---|---|"
  echo "| $n | $(echo "$times" | head -1) ms | $(echo "$times" | sed -n "$(( (n + 1) / 2 ))p") ms | $(echo "$times" | tail -1) ms |"
  echo
  echo "Per round:"
  echo
  echo '```'
  grep '^round' "$log"
  echo '```'
  echo
  echo "In the simulator the same failover takes 2.0 s median (experiments/results/raft.md); the floor"
  echo "is the 2 s fetch timeout after which a follower suspects the leader."
} > "$out"
rm -f "$log"
echo "wrote $out"
