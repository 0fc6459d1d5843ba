#!/usr/bin/env bash
# Installs what is needed, builds samsa twice (plain, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), runs every test with ctest in both, and checks that a simulator
# seed gives the same trace hash in both builds. Also compiles everything in Release (-O3, where
# g++ 12's optimiser-dependent warnings appear) so that every build type keeps building with
# warnings as errors. This is what .ci/run runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAMSA_SANITIZE=ON -DSAMSA_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-asan -j"$jobs"
echo "== Release build (compile check)"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSAMSA_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-release -j"$jobs"

echo "== determinism across builds"
for run in "--seed 3" "--seed 77" "--scenario groups --seed 5" "--scenario log-demo --seed 9" "--scenario raft --seed 7"; do
  seed="$run"
  plain=$(build/sim/samsa-sim $run | grep 'trace hash')
  asan=$(build-asan/sim/samsa-sim $run | grep 'trace hash')
  if [ "$plain" != "$asan" ]; then
    echo "seed $seed: trace hash differs between builds: '$plain' vs '$asan'"
    exit 1
  fi
  echo "seed $seed: $plain in both builds"
done

echo "== tests (plain build)"
ctest --test-dir build -j"$jobs" --output-on-failure
echo "== tests (address + undefined-behaviour sanitizers)"
ctest --test-dir build-asan -j"$jobs" --output-on-failure
