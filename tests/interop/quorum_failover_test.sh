#!/usr/bin/env bash
# Usage: quorum_failover_test.sh SAMSA_BINARY [ROUNDS]
# Three `samsa broker` processes with combined roles form a KRaft metadata quorum on loopback.
# Each round: find the leader with `samsa metadata-quorum describe --status`, kill -9 it, wait
# until another node leads a higher epoch (printing how long that took), restart the killed node
# and wait until `describe --replication` shows it caught up. Also checks the --bootstrap-server
# path (a follower's broker names the leader, whose broker answers). Timings are printed, never
# asserted; the waits only guard against a hang (60 s).
set -uo pipefail
SAMSA="$1"; ROUNDS="${2:-2}"
DIR=$(mktemp -d /tmp/samsa-quorum-XXXXXX)
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A BPORT CPORT PID
for i in 1 2 3; do BPORT[$i]=$(free_port); CPORT[$i]=$(free_port); done
VOTERS="1@127.0.0.1:${CPORT[1]},2@127.0.0.1:${CPORT[2]},3@127.0.0.1:${CPORT[3]}"
CONTROLLERS="127.0.0.1:${CPORT[1]},127.0.0.1:${CPORT[2]},127.0.0.1:${CPORT[3]}"
for i in 1 2 3; do
  cat > "$DIR/node-$i.properties" <<CONF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$VOTERS
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:${BPORT[$i]},CONTROLLER://127.0.0.1:${CPORT[$i]}
log.dirs=$DIR/data-$i
CONF
done
start() { "$SAMSA" broker --config "$DIR/node-$1.properties" >>"$DIR/node-$1.log" 2>&1 & PID[$1]=$!; }
cleanup() { for i in 1 2 3; do kill -9 "${PID[$i]}" 2>/dev/null; done; rm -rf "$DIR"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for i in 1 2 3; do echo "--- node $i"; tail -20 "$DIR/node-$i.log"; done; exit 1; }
status() { "$SAMSA" metadata-quorum --bootstrap-controller "$CONTROLLERS" describe --status 2>/dev/null; }
field() { awk -v k="$1:" '$1 == k { print $2 }'; }
now_ms() { date +%s%3N; }

for i in 1 2 3; do start $i; done
leader=""; epoch=0
for _ in $(seq 1 600); do
  s=$(status); leader=$(echo "$s" | field LeaderId); epoch=$(echo "$s" | field LeaderEpoch)
  [ -n "$leader" ] && [ "$leader" != "-1" ] && break
  sleep 0.1
done
[ -n "$leader" ] && [ "$leader" != "-1" ] || fail "no leader elected"
echo "leader: node $leader in epoch $epoch"
echo "$s" | grep -q "CurrentVoters:          \[1,2,3\]" || fail "voters not listed: $s"

# A follower's broker listener: DescribeQuorum is answered by the leader it names.
follower=$(( leader % 3 + 1 ))
via_broker=$("$SAMSA" metadata-quorum --bootstrap-server "127.0.0.1:${BPORT[$follower]}" describe --status 2>&1)
[ "$(echo "$via_broker" | field LeaderId)" = "$leader" ] || fail "--bootstrap-server via node $follower: $via_broker"

for round in $(seq 1 "$ROUNDS"); do
  old=$leader; old_epoch=$epoch
  kill -9 "${PID[$old]}"; wait "${PID[$old]}" 2>/dev/null
  t0=$(now_ms); new=""
  for _ in $(seq 1 600); do
    s=$(status); new=$(echo "$s" | field LeaderId); epoch=$(echo "$s" | field LeaderEpoch)
    if [ -n "$new" ] && [ "$new" != "-1" ] && [ "$new" != "$old" ] && [ "$epoch" -gt "$old_epoch" ]; then break; fi
    new=""; sleep 0.05
  done
  [ -n "$new" ] || fail "round $round: no new leader after killing node $old"
  echo "round $round: killed leader $old (epoch $old_epoch); node $new leads epoch $epoch after $(( $(now_ms) - t0 )) ms"
  leader=$new
  start "$old"
  caught_up=""
  for _ in $(seq 1 600); do
    r=$("$SAMSA" metadata-quorum --bootstrap-controller "$CONTROLLERS" describe --replication 2>/dev/null)
    lag=$(echo "$r" | awk -v n="$old" '$1 == n { print $3 }')
    if [ "$lag" = "0" ]; then caught_up=yes; break; fi
    sleep 0.1
  done
  [ -n "$caught_up" ] || fail "round $round: node $old did not catch up: $r"
  echo "round $round: node $old restarted and caught up"
done
for i in 1 2 3; do kill -TERM "${PID[$i]}"; done
for i in 1 2 3; do wait "${PID[$i]}" || fail "node $i did not stop cleanly"; done
echo "PASS"
