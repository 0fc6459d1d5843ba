#!/usr/bin/env bash
# samsa-loadgen (experiments/loadgen) against a real broker (run_with_broker.sh): its pre-built
# Produce requests are answered without error at acks=all over several connections, and every
# record it was acknowledged for is in the log (kcat reads them back); then against its own null
# sink. The benchmark's figures are only as good as the requests it sends.
# Usage (from ctest): run_with_broker.sh SAMSA bash loadgen_test.sh SAMSA_LOADGEN
set -euo pipefail
gen=$1
fail() { echo "FAIL: $*"; exit 1; }
command -v kcat >/dev/null || fail "kcat is not installed (scripts/setup.sh installs it)"
port=${BOOTSTRAP##*:}
val() { tr ' ' '\n' <<< "$1" | sed -n "s/^$2=//p"; }

"$SAMSA" topics --create --topic lg --partitions 2 --bootstrap-server "$BOOTSTRAP" > /dev/null
out=$("$gen" --proto kafka --port "$port" --topic lg --partitions 2 --conns 2 --window 4 --batch 10 --size 100 \
  --seconds 1 --acks -1) || fail "the generator failed: $out"
echo "$out"
requests=$(val "$out" requests)
[ "$(val "$out" failed)" = 0 ] || fail "requests answered with an error"
[ "$requests" -gt 0 ] || fail "no request answered"
stored=$(kcat -b "$BOOTSTRAP" -C -t lg -e -q -f '%o\n' | wc -l)
[ "$stored" -eq $((requests * 10)) ] || fail "the log holds $stored records, the generator was acknowledged for $((requests * 10))"
echo "ok: $stored records acknowledged and read back"

null=$("$gen" --null-sink --seconds 0.5 --conns 2 --batch 10 --size 100) || fail "null sink: $null"
echo "$null"
[ "$(val "$null" requests)" -gt 0 ] || fail "the null sink answered nothing"
echo "ok: null sink"
