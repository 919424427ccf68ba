#!/usr/bin/env bash
# ThreadSanitizer over the code that shares state between threads: the scheduler (one loop per
# target on strands of an io_context run by several threads; Apply and Stop from other threads),
# its concurrency gate (net), and the snapshot store and collector (published by probes, read by
# scrapes). Builds only those unit tests, in build-tsan/ (-DMAILSEC_TSAN=ON links each against
# its own layer alone, so the http and app layers and the other tests are not built), runs each a
# few times and exits non-zero on any report. About 3 minutes from scratch on two cores.
#
#   ./scripts/tsan.sh                 # build and run
#   TSAN_REPEAT=20 ./scripts/tsan.sh  # more repetitions (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
repeat=${TSAN_REPEAT:-3}
targets=(unit_sched unit_net unit_export)

echo "=== configure build-tsan (ThreadSanitizer)"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" \
  -DMAILSEC_TSAN=ON >/dev/null
echo "=== build build-tsan (${targets[*]})"
cmake --build build-tsan --target "${targets[@]}" -j "$jobs"

status=0
for t in "${targets[@]}"; do
  echo "=== tsan $t (x$repeat)"
  # halt_on_error: the first race fails the run; the exit code is TSan's (66) or gtest's.
  if ! TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
    "build-tsan/tests/$t" --gtest_repeat="$repeat" --gtest_brief=1; then
    status=1
  fi
done
if [[ $status -ne 0 ]]; then
  echo "=== tsan FAILED"
else
  echo "=== tsan: no data race in ${targets[*]}"
fi
exit $status
