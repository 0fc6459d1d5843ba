#!/usr/bin/env bash
# Installs what is needed, builds samsa twice (Release: -O3, where g++ 12's optimiser-dependent
# warnings appear, so warnings-as-errors holds for the strictest build type; and RelWithDebInfo with
# AddressSanitizer + UndefinedBehaviorSanitizer), runs every test with ctest in both, and checks
# that simulator seeds give the same trace hash in both builds. This is what .ci/run runs.
# (The development build in build/ is RelWithDebInfo; it compiles the same sources.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)
started=$(date +%s)
stamp() { echo "== $1 ($(( $(date +%s) - started )) s so far)"; }

stamp "Release build"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$jobs"
stamp "sanitized build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAMSA_SANITIZE=ON -DSAMSA_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-asan -j"$jobs"

stamp "determinism across builds"
for run in "--seed 3" "--seed 77" "--scenario groups --seed 5" "--scenario log-demo --seed 9" "--scenario raft --seed 7"; do
  plain=$(build-release/sim/samsa-sim $run | grep 'trace hash')
  asan=$(build-asan/sim/samsa-sim $run | grep 'trace hash')
  if [ "$plain" != "$asan" ]; then
    echo "$run: trace hash differs between builds: '$plain' vs '$asan'"
    exit 1
  fi
  echo "$run: $plain in both builds"
done

stamp "tests (Release build)"
ctest --test-dir build-release -j"$jobs" --output-on-failure
stamp "tests (address + undefined-behaviour sanitizers)"
ctest --test-dir build-asan -j"$jobs" --output-on-failure
stamp "done"
