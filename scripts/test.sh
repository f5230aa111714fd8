#!/usr/bin/env bash
# Builds iovsim and runs the whole test suite; fails when a test fails or when no test ran.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
log=$(mktemp)
set +e
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 600 "$@" | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if ! grep -Eq "tests passed|tests failed" "$log" || grep -q "No tests were found" "$log"; then
    echo "error: no test ran" >&2
    exit 1
fi
exit "$rc"
