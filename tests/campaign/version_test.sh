#!/usr/bin/env bash
# `samsa --version`, `samsa TOOL --version` and `samsa-sim --version` name one commit, the one the
# build took from git describe (or "unknown" outside a git checkout): what a replay file's commit
# is checked against. Usage: version_test.sh SAMSA SAMSA_SIM
set -euo pipefail
samsa=$1 sim=$2
fail() { echo "FAIL: $*"; exit 1; }
top=$("$samsa" --version) || fail "samsa --version exited $?"
[[ $top =~ ^samsa\ [0-9A-Za-z._-]+$ ]] || fail "samsa --version printed '$top'"  # git describe: a hash, or TAG-N-gHASH
commit=${top#samsa }
for tool in broker topics console-consumer metadata-quorum "metadata-quorum describe"; do
  # shellcheck disable=SC2086  # "metadata-quorum describe" is two words
  line=$("$samsa" $tool --version) || fail "samsa $tool --version exited $?"
  [[ $line == "$top" ]] || fail "samsa $tool --version printed '$line', samsa --version '$top'"
done
line=$("$sim" --version) || fail "samsa-sim --version exited $?"
[[ $line == "samsa-sim $commit" ]] || fail "samsa-sim --version printed '$line', samsa's commit is $commit"
# A failing seed's report and replay line name the same commit (a planted Raft bug that fails
# within seeds 1..20, in well under a second each).
# --brief: a passing seed prints one line without a heading, so the heading is a failing seed's.
report=$("$sim" --scenario raft --seeds 1..20 --bug vote-twice --brief 2>&1 || true)
replay=$(grep -m1 -o '# commit [^ ]*$' <<< "$report" || true)
[[ -n $replay ]] || fail "no replay line in the report of a planted bug: $(tail -5 <<< "$report")"
[[ $replay == "# commit $commit" ]] || fail "replay line says '$replay', samsa-sim --version $commit"
grep -qE "^seed [0-9]+ \(scenario raft, commit $commit\)" <<< "$report" || fail "the failing seed's heading names another commit than $commit"
echo "ok: $top"
