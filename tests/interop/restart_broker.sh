#!/usr/bin/env bash
# Restarts the broker started by run_with_broker.sh (for tests that check persistence).
set -euo pipefail
BROKER_PID=$(cat "$SAMSA_DATA/broker.pid" 2>/dev/null || echo "$BROKER_PID")
export BROKER_PID
stop_broker
start_broker
echo "$BROKER_PID" > "$SAMSA_DATA/broker.pid"
