#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: once in a normal build, once more under
# AddressSanitizer + UndefinedBehaviorSanitizer, the scheduler's and snapshot store's unit tests
# under ThreadSanitizer, then every fuzz target for a few seconds.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/bootstrap.sh

jobs=$(nproc 2>/dev/null || echo 2)
status=0

run_suite() {
  local dir=$1
  shift
  echo "=== configure $dir ($*)"
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  echo "=== build $dir"
  cmake --build "$dir" -j "$jobs"
  echo "=== test $dir"
  if ! ctest --test-dir "$dir" --output-on-failure --timeout 600 -j "$jobs"; then
    status=1
  fi
}

# Full debug info doubles the build time of this template-heavy code on CI's two cores: the
# normal build has none, the sanitizer build line tables only (enough for symbolized reports).
run_suite build -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DMAILSEC_SANITIZE=ON

# ThreadSanitizer over the scheduler, its gate and the snapshot store: only their unit tests are
# built (about 3 minutes on two cores); scripts/tsan.sh says what and how.
if ! TSAN_REPEAT=2 ./scripts/tsan.sh; then
  status=1
fi

# Every libFuzzer target of tests/fuzz/ for a short bounded time (MAILSEC_FUZZ_SECONDS each,
# clang); `tests/fuzz/CMakeLists.txt` says how to run one for longer.
echo "=== configure build-fuzz (clang, libFuzzer)"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DMAILSEC_FUZZ=ON -DMAILSEC_FUZZ_SECONDS=5 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" >/dev/null
echo "=== build build-fuzz"
cmake --build build-fuzz --target fuzz_all -j "$jobs"
echo "=== fuzz build-fuzz"
if ! ctest --test-dir build-fuzz -L fuzz --output-on-failure --timeout 120 -j "$jobs"; then
  status=1
fi

if [[ $status -ne 0 ]]; then
  echo "=== FAILED"
else
  echo "=== all tests passed (normal, ASan+UBSan and TSan builds, fuzz targets)"
fi
exit $status
