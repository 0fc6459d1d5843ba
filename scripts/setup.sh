#!/usr/bin/env bash
# Installs samsa's build and test dependencies from Debian 12 packages, only when missing
# (python3 also runs the protocol code generator at build time).
set -euo pipefail
packages=(build-essential cmake g++ libboost-context-dev libfmt-dev librapidcheck-dev nlohmann-json3-dev
          libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
          zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
          kcat librdkafka-dev python3 python3-kafka python3-confluent-kafka
          iproute2   # ip: network namespaces and veth pairs for the netns chaos test
          parallel   # GNU parallel: the sharded-campaign test (README: campaigns across hosts)
          lld           # the linker (CMakeLists.txt): links the ~40 programs 3x faster than ld.bfd
          gnuplot-nox   # experiments' plots
          chromium      # headless: the timeline page's test (samsa-sim --timeline)
          nats-server redis-server)  # peers of experiments/run_produce_bench.sh (started by it, not as services)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js for the kafkajs interop test: Debian's, unless the machine already has a node.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends nodejs npm
fi
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -d "$here/tests/interop/node/node_modules/kafkajs" ]; then
  echo "setup: installing kafkajs (pinned in tests/interop/node/package.json)"
  npm install --no-audit --no-fund --prefix "$here/tests/interop/node" >/dev/null
fi
