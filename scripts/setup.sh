#!/usr/bin/env bash
# Installs samsa's build and test dependencies from Debian 12 packages, only when missing.
set -euo pipefail
packages=(build-essential cmake g++ libboost-context-dev libfmt-dev librapidcheck-dev
          libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev)
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
