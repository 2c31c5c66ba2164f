#!/usr/bin/env bash
# The whole test suite. With no argument: the Release build made by scripts/setup.sh.
# `scripts/test.sh asan`: AddressSanitizer + UndefinedBehaviorSanitizer build and run.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" -j2
