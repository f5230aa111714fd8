#!/usr/bin/env bash
# Configures and builds iovsim and its tests in build/ (release: -O3).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
