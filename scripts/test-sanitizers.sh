#!/usr/bin/env bash
# The sanitizer half of the test suite (docs/building.md, "Sanitizers and fuzzing"), with clang:
#   1. build-asan: everything but the benchmarks and CUDA, with AddressSanitizer and
#      UndefinedBehaviorSanitizer (any report aborts), plus the libFuzzer targets of tests/fuzz
#      (one build: every library also carries the fuzzer's coverage instrumentation); the whole
#      test suite runs on it;
#   2. every fuzz target for FUZZ_SECONDS (30) from a scratch copy of its seed corpus, two at
#      a time: any crash, timeout (10 s an input), leak, memory blow-up (2 GB) or sanitizer
#      report fails the job and leaves the input under build-asan/fuzz/artifacts/;
#   3. build-tsan: ThreadSanitizer on what runs threads (dse's parallel batch evaluation and
#      search, sweeps, the executor's backends, sweeps over MPI ranks) and those suites.
# oneTBB and Open MPI are not instrumented: tests/sanitizers/{tsan,lsan}.supp hold the narrow
# suppressions for their internals, each saying why it is not hetmap's defect.
# Usage: scripts/test-sanitizers.sh [asan|fuzz|tsan]...   (default: all three, in that order)
# Environment: FUZZ_SECONDS (30), JOBS (2), FUZZ_SEED (1: each run tries the same inputs in the
# same order, as far as its time reaches, so CI fails after a change, not by luck; 0: a new
# random seed each run, for longer campaigns by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${JOBS:-2}
fuzz_seconds=${FUZZ_SECONDS:-30}
fuzz_seed=${FUZZ_SEED:-1}
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(asan fuzz tsan)

supp=$root/tests/sanitizers
# Every report is fatal and names its source line; LSan and TSan read the suppressions.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=1:second_deadlock_stack=1:print_suppressions=0"
command -v llvm-symbolizer-14 >/dev/null && export ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer-14) \
  TSAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer-14)

# Built to fit CI (30 minutes on 2 cores for everything, these builds included):
# -O1 without debug information but for line tables, a fast compile whose reports still name
# file and line; NDEBUG as in the Release build the other tests use; a unity build (each
# library's sources compiled a few at a time, its headers and templates once per batch: about
# a third less compile time) linked by lld (GNU ld takes several times longer on instrumented
# programs).
configure() {  # DIR SANITIZERS FUZZ [more cmake arguments]
  local dir=$1 sanitize=$2 fuzz=$3
  shift 3
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -gline-tables-only -DNDEBUG" -DCMAKE_UNITY_BUILD=ON \
    -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld \
    -DHETMAP_SANITIZE="$sanitize" -DHETMAP_FUZZ="$fuzz" -DHETMAP_CUDA=OFF -DHETMAP_BENCH=OFF \
    "${launcher[@]}" "$@" >/dev/null
}

stage() { echo "== test-sanitizers: $1 ($(date +%T))"; }

asan() {
  stage "ASan+UBSan build (build-asan)"
  configure build-asan address,undefined ON
  cmake --build build-asan -j"$jobs"
  stage "ASan+UBSan test suite"
  # But for two tests of test_dse that evaluate whole design spaces (up to a million mappings,
  # the evaluator's code the other tests run): a quarter of the suite's time under ASan with the
  # fuzzers' instrumentation. The TSan stage runs them.
  ctest --test-dir build-asan --output-on-failure -j"$jobs" \
    -E '^(SweepMpi\..*|Quality\.SearchReaches99PercentOfTheExhaustiveHypervolume|Exhaustive\.FrontIsTheExactNonDominatedSetAndThreadIndependent)$'
  # Open MPI has no frame pointers: only the slow unwinder follows its leaks' stacks down to
  # the MPI calls that lsan.supp names. Too slow for the whole suite, so for this one alone.
  ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0" \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -R '^SweepMpi\.'
}

# One fuzz target from a scratch copy of its corpus (the repository's stays as it is). Paths
# are absolute: fuzz_cli changes its working folder.
fuzz_one() {  # NAME
  local name=$1 work=$root/build-asan/fuzz
  local bin=$root/build-asan/tests/fuzz/fuzz_$name
  rm -rf "$work/corpus/$name" "$work/tmp/$name"
  mkdir -p "$work/corpus/$name" "$work/artifacts" "$work/tmp/$name" "$work/logs"
  cp -r "$root/tests/fuzz/corpus/$name/." "$work/corpus/$name/"
  local dict=()
  [ -f "$root/tests/fuzz/$name.dict" ] && dict=(-dict="$root/tests/fuzz/$name.dict")
  # TMPDIR: the targets' private folders, left behind by a crashing input, go with the scratch.
  if TMPDIR=$work/tmp/$name "$bin" -max_total_time="$fuzz_seconds" -seed="$fuzz_seed" -timeout=10 -rss_limit_mb=2048 \
      -close_fd_mask=1 -print_final_stats=1 "${dict[@]}" -artifact_prefix="$work/artifacts/$name-" \
      "$work/corpus/$name" >"$work/logs/$name.log" 2>&1; then
    echo "fuzz_$name: ok, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/logs/$name.log" | grep -o '[0-9]*$') runs"
  else
    echo "fuzz_$name: FAILED (log: $work/logs/$name.log)"
    tail -n 60 "$work/logs/$name.log"
    return 1
  fi
}

fuzz() {
  stage "fuzzing, ${fuzz_seconds}s a target, $jobs at a time"
  local targets=() failed=0 running=0
  for f in tests/fuzz/fuzz_*.cpp; do
    targets+=("$(basename "$f" .cpp | sed 's/^fuzz_//')")
  done
  for t in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
      wait -n || failed=1
      running=$((running - 1))
    fi
    fuzz_one "$t" &
    running=$((running + 1))
  done
  while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
  done
  return $failed
}

# The suites that run threads: dse (parallel batch evaluation, the search), sweep (parallel
# points), the executor (one thread pool per cluster) and sweeps over MPI ranks.
# The parallel loops run on hetmap's std::thread back-end here (HETMAP_TBB=OFF, the same
# loops and bodies; docs/building.md): oneTBB's headers are compiled into hetmap, instrumented,
# while the library that synchronizes them is not, so TSan reports oneTBB's own task objects
# (recycled by its small-object pool) as races. Their stacks share every frame with hetmap's
# loop bodies: no suppression could hide them without hiding hetmap's races too.
tsan_tests=(test_dse test_sweep test_executor test_sweep_mpi)
tsan() {
  stage "TSan build (build-tsan: ${tsan_tests[*]})"
  configure build-tsan thread OFF -DHETMAP_ONNX=OFF -DHETMAP_TBB=OFF
  cmake --build build-tsan -j"$jobs" --target hetmap "${tsan_tests[@]}"
  stage "TSan suites"
  # Only these programs are built: ctest lists the others as *_NOT_BUILT.
  ctest --test-dir build-tsan --output-on-failure -j"$jobs" -E '_NOT_BUILT$'
}

for s in "${stages[@]}"; do
  case $s in
    asan) asan ;;
    fuzz) fuzz ;;
    tsan) tsan ;;
    *) echo "test-sanitizers: unknown stage '$s' (expected asan, fuzz or tsan)" >&2; exit 2 ;;
  esac
done
stage "done"
