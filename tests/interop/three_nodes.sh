# Sourced by the three-process cluster tests: free loopback ports for three combined nodes
# (broker and controller), their properties files in $DIR, and start N / cleanup. Needs DIR and
# SAMSA set; sets BPORT, CPORT, PID, VOTERS, CONTROLLERS and BOOTSTRAP.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A BPORT CPORT PID
for i in 1 2 3; do BPORT[$i]=$(free_port); CPORT[$i]=$(free_port); done
VOTERS="1@127.0.0.1:${CPORT[1]},2@127.0.0.1:${CPORT[2]},3@127.0.0.1:${CPORT[3]}"
CONTROLLERS="127.0.0.1:${CPORT[1]},127.0.0.1:${CPORT[2]},127.0.0.1:${CPORT[3]}"
BOOTSTRAP="127.0.0.1:${BPORT[1]},127.0.0.1:${BPORT[2]},127.0.0.1:${BPORT[3]}"
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
# create_topic NAME ARGS...: `samsa topics --create`, retried while the cluster starts; fails the
# test (the sourcing script's `fail`) if it never succeeds.
create_topic() {
  local name="$1" out=""
  shift
  for _ in $(seq 1 100); do
    out=$("$SAMSA" topics --create --topic "$name" "$@" --bootstrap-server "$BOOTSTRAP" 2>&1) && break
    sleep 0.2
  done
  echo "$out" | grep -q "Created topic $name" || fail "create $name: $out"
}
start() { "$SAMSA" broker --config "$DIR/node-$1.properties" >>"$DIR/node-$1.log" 2>&1 & PID[$1]=$!; }
cleanup() { for i in 1 2 3; do kill -9 "${PID[$i]}" 2>/dev/null; done; rm -rf "$DIR"; }
trap cleanup EXIT
