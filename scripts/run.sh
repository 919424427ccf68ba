#!/usr/bin/env bash
# Installs what is missing, builds a Release binary, and starts the exporter. Without arguments it
# runs on its embedded default config (the eight mail services of localhost); any arguments are
# passed on, e.g. ./scripts/run.sh --config.file=/etc/mailsec_exporter.toml
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/bootstrap.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAILSEC_TESTS=OFF >/dev/null
cmake --build build-release -j "$(nproc 2>/dev/null || echo 2)" --target mailsec_exporter
exec ./build-release/mailsec_exporter "$@"
