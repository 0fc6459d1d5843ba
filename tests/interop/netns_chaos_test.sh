#!/usr/bin/env bash
# Usage: netns_chaos_test.sh SAMSA_BINARY CHAOS_CLIENT_BINARY [SEED]
# A real-network chaos test the simulator's model can be checked against: three `samsa broker`
# processes (combined roles), each in its own network namespace joined to a bridge by a veth
# pair, with the simulator's workload and queue checker (samsa-chaos-client, tests/chaos/) in the
# root namespace producing with acks=all to a topic with replication factor 3 and
# min.insync.replicas=2. For about 45 s a seeded nemesis takes a broker's link down (isolating
# it from everyone), drops one broker's packets to another (a blackhole route: one way) or both
# ways (a partition between brokers), or kills a broker with SIGKILL and restarts it; then
# everything heals and the client judges the history with samsa-sim's checks and verdict format.
# The test creates and removes only its own namespaces, veths, bridge and 10.x.y.0/24 addresses;
# without root or network namespaces it is skipped (exit 77) with the reason.
set -uo pipefail
SAMSA="$1"
CLIENT="$2"
SEED="${3:-1}"
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null || skip "needs iproute2's ip"
TAG=$(( $$ % 1000 ))
ip netns add "samsa${TAG}probe" 2>/dev/null || skip "this machine does not allow network namespaces"
ip netns del "samsa${TAG}probe"
NET="10.$(( 100 + $$ % 100 )).$(( ($$ / 100) % 250 ))"
BR="sbr$TAG"
DIR=$(mktemp -d /tmp/samsa-chaos-XXXXXX)
declare -A PID
ns() { echo "samsa$TAG-$1"; }
cleanup() {
  for i in 1 2 3; do kill -9 "${PID[$i]:-}" 2>/dev/null; done
  [ -n "${CPID:-}" ] && kill -9 "$CPID" 2>/dev/null
  for i in 1 2 3; do ip netns del "$(ns "$i")" 2>/dev/null; ip link del "sv$TAG-$i" 2>/dev/null; done
  ip link del "$BR" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "logs kept in $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for i in 1 2 3; do echo "--- node $i"; tail -5 "$DIR/node-$i.log"; done; KEEP=1; exit 1; }

ip link add "$BR" type bridge || skip "cannot create a bridge"
ip addr add "$NET.254/24" dev "$BR" && ip link set "$BR" up || fail "bridge address"
for i in 1 2 3; do
  ip netns add "$(ns "$i")" || fail "netns $i"
  ip link add "sv$TAG-$i" type veth peer name "sp$TAG-$i" || skip "cannot create veth pairs"
  ip link set "sp$TAG-$i" netns "$(ns "$i")"
  ip link set "sv$TAG-$i" master "$BR"
  ip link set "sv$TAG-$i" up
  ip netns exec "$(ns "$i")" ip addr add "$NET.$i/24" dev "sp$TAG-$i"
  ip netns exec "$(ns "$i")" ip link set "sp$TAG-$i" up
  ip netns exec "$(ns "$i")" ip link set lo up
done
VOTERS="1@$NET.1:9093,2@$NET.2:9093,3@$NET.3:9093"
BOOTSTRAP="$NET.1:9092,$NET.2:9092,$NET.3:9092"
# As in the simulator: the clients' metadata requests must not create the topic with the
# broker defaults (one partition, one replica) before the producers create it as asked.
for i in 1 2 3; do
  cat > "$DIR/node-$i.properties" <<CONF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$VOTERS
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$NET.$i:9092,CONTROLLER://$NET.$i:9093
log.dirs=$DIR/data-$i
auto.create.topics.enable=false
CONF
done
start() { ip netns exec "$(ns "$1")" "$SAMSA" broker --config "$DIR/node-$1.properties" >>"$DIR/node-$1.log" 2>&1 & PID[$1]=$!; }
for i in 1 2 3; do start "$i"; done
echo "brokers at $BOOTSTRAP (namespaces $(ns 1) $(ns 2) $(ns 3), bridge $BR)"

"$CLIENT" --bootstrap-server "$BOOTSTRAP" --topic chaos --partitions 3 --replication-factor 3 --min-insync 2 \
  --heal-file "$DIR/healed" --stop-file "$DIR/stop" --grace-ms 20000 --max-seconds 300 --seed "$SEED" >"$DIR/client.out" 2>&1 &
CPID=$!
sleep 8  # the cluster forms and the producers get going

RANDOM=$SEED
other() { local j=$(( RANDOM % 3 + 1 )); [ "$j" = "$1" ] && j=$(( j % 3 + 1 )); echo "$j"; }
cut_to() { ip netns exec "$(ns "$1")" ip route add blackhole "$NET.$2/32"; }
uncut_to() { ip netns exec "$(ns "$1")" ip route del blackhole "$NET.$2/32" 2>/dev/null; }
end=$(( SECONDS + 45 ))
while [ "$SECONDS" -lt "$end" ]; do
  i=$(( RANDOM % 3 + 1 )); j=$(other "$i"); d=$(( RANDOM % 6 + 2 ))
  case $(( RANDOM % 4 )) in
    0) echo "t+$SECONDS s: node $i's link down for $d s"
       ip link set "sv$TAG-$i" down; sleep "$d"; ip link set "sv$TAG-$i" up ;;
    1) echo "t+$SECONDS s: node $i's packets to node $j dropped (one way) for $d s"
       cut_to "$i" "$j"; sleep "$d"; uncut_to "$i" "$j" ;;
    2) echo "t+$SECONDS s: nodes $i and $j partitioned for $d s"
       cut_to "$i" "$j"; cut_to "$j" "$i"; sleep "$d"; uncut_to "$i" "$j"; uncut_to "$j" "$i" ;;
    3) echo "t+$SECONDS s: node $i killed (SIGKILL), restarted after $d s"
       kill -9 "${PID[$i]}"; wait "${PID[$i]}" 2>/dev/null; sleep "$d"; start "$i" ;;
  esac
  sleep $(( RANDOM % 3 ))
done
# Every kill above restarts its node in the same round: a node down now stopped by itself.
for i in 1 2 3; do
  kill -0 "${PID[$i]}" 2>/dev/null && continue
  wait "${PID[$i]}"
  fail "node $i stopped by itself during the faults (exit code $?)"
done
echo "t+$SECONDS s: healed"
touch "$DIR/healed"
sleep 35
touch "$DIR/stop"
wait "$CPID"
rc=$?
CPID=""
cat "$DIR/client.out"
[ "$rc" = 0 ] || fail "the checker found anomalies (exit code $rc)"
grep -q "verdict: PASS" "$DIR/client.out" || fail "no verdict"
echo "PASS: the simulator's checks hold on real brokers under link cuts, packet drops and kill -9 (seed $SEED)"
