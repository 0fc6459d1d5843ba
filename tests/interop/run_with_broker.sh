#!/usr/bin/env bash
# Usage: run_with_broker.sh SAMSA_BINARY COMMAND [ARGS...]
# Starts `samsa broker` on a free loopback port with a temporary data directory, exports
# SAMSA (the binary), BOOTSTRAP (host:port) and SAMSA_DATA, runs COMMAND, then stops the broker
# with SIGTERM and requires a clean exit. The exit code is COMMAND's (or 1 if the broker failed).
set -uo pipefail
SAMSA="$1"; shift
export SAMSA
SAMSA_DATA=$(mktemp -d /tmp/samsa-interop-XXXXXX)
export SAMSA_DATA
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export BOOTSTRAP="127.0.0.1:$PORT"
cat > "$SAMSA_DATA/server.properties" <<CONF
node.id=1
listeners=PLAINTEXT://127.0.0.1:$PORT
log.dirs=$SAMSA_DATA/data
num.partitions=1
log.flush.interval.messages=1
group.initial.rebalance.delay.ms=0
CONF
export SAMSA_CONFIG="$SAMSA_DATA/server.properties"

start_broker() {
  # shellcheck disable=SC2086  # SAMSA_BROKER_FLAGS: extra flags, e.g. -v for debug logs a test greps
  "$SAMSA" broker --config "$SAMSA_CONFIG" ${SAMSA_BROKER_FLAGS:-} >>"$SAMSA_DATA/broker.log" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 1 100); do
    if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "broker did not start"; cat "$SAMSA_DATA/broker.log"; return 1
}
stop_broker() {
  kill -TERM "$BROKER_PID" 2>/dev/null
  local rc=0
  wait "$BROKER_PID" 2>/dev/null || rc=$?  # never trip a caller's set -e
  if [ $rc -eq 127 ]; then  # started by another shell: wait for it to go
    for _ in $(seq 1 300); do kill -0 "$BROKER_PID" 2>/dev/null || return 0; sleep 0.1; done
    echo "broker did not stop"; return 1
  fi
  if [ $rc -ne 0 ]; then echo "broker exited with $rc"; cat "$SAMSA_DATA/broker.log"; return 1; fi
}
export -f start_broker stop_broker
export PORT

start_broker || exit 1
export BROKER_PID
"$@"
rc=$?
# The command may have restarted the broker; stop whichever runs now.
BROKER_PID=$(cat "$SAMSA_DATA/broker.pid" 2>/dev/null || echo "$BROKER_PID")
stop_broker || rc=1
if [ $rc -ne 0 ]; then echo "--- broker log"; tail -50 "$SAMSA_DATA/broker.log"; fi
rm -rf "$SAMSA_DATA"
exit $rc
