#!/usr/bin/env bash
# Closes the loop on a CUDA machine (docs/validation.md, "GPU machine"): builds hetmap with the
# CUDA backend, checks every GPU op against the reference backend, then for each model
#   profile (CPU clusters + GPU, links, contention, power) -> explore (NSGA-II) ->
#   validate (the front, the baselines and random mappings, run for real) -> plots,
# and writes a summary. Everything goes under OUT; nothing else is written but the build folder.
#
#   scripts/gpu-validate.sh OUT
#
# Environment (all optional):
#   HETMAP_BUILD    build folder (default build-gpu beside the sources)
#   MODELS          models to validate (default "alexnet resnet50 ee-mobilenetv1")
#   RANDOM_MAPPINGS random mappings per model besides the front and baselines (default 16)
#   INPUTS          measured inputs per mapping (default 30, after 5 warm-up inputs)
#   JOBS            build jobs (default: all cores)
# The machine needs CMake, a C++17 compiler, the CUDA toolkit with cuDNN and cuBLAS, yaml-cpp,
# Boost.Graph, Eigen, fmt, spdlog, nlohmann-json and GoogleTest; oneTBB, CLI11, ONNX and MPI
# are optional (docs/building.md). python3 with matplotlib draws the plots (skipped without).
set -euo pipefail

OUT=${1:?usage: scripts/gpu-validate.sh OUT}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HETMAP_BUILD:-$ROOT/build-gpu}
MODELS=${MODELS:-"alexnet resnet50 ee-mobilenetv1"}
RANDOM_MAPPINGS=${RANDOM_MAPPINGS:-16}
INPUTS=${INPUTS:-30}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG="$OUT/log.txt"
: >"$LOG"
say() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$LOG"; }
start=$(date +%s)

say "machine: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'nvidia-smi unavailable'); $(nproc) CPUs"

# 1. Build: the CUDA backend, the hetmap binary and its GPU test.
arch=native
say "build: $BUILD (CUDA architectures: $arch)"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHETMAP_CUDA=ON \
  -DHETMAP_BENCH=OFF -DCMAKE_CUDA_ARCHITECTURES=$arch >>"$LOG" 2>&1
cmake --build "$BUILD" --target hetmap test_cuda_backend -j "$JOBS" >>"$LOG" 2>&1
HETMAP="$BUILD/hetmap"

# 2. Every op on the GPU against the reference backend; copies; executor; CLI.
say "test_cuda_backend"
(cd "$ROOT" && "$BUILD/tests/test_cuda_backend" --gtest_brief=1) >"$OUT/test_cuda_backend.txt" 2>&1 ||
  { tail -30 "$OUT/test_cuda_backend.txt"; say "GPU tests failed"; exit 1; }
tail -3 "$OUT/test_cuda_backend.txt" | tee -a "$LOG"

cd "$ROOT"
for model in $MODELS; do
  dir="$OUT/$model"
  mkdir -p "$dir"
  say "$model: profile"
  # Layer timings to 2% (95% CI), 10..40 passes; links, transfers and contention at the quick
  # caps (GPU copies vary little); 2 s power windows (20 updates of NVML's counter: the GPU's
  # idle power drifts by tens of watts within seconds, docs/validation.md).
  "$HETMAP" profile --backend cuda -m "models/$model.yaml" --out "$dir/profile" --quick \
    --warmup 2 --min-reps 10 --max-reps 40 --rel-ci 0.02 --time-cap-ms 300 --power-window 2 \
    >"$dir/profile.txt" 2>"$dir/profile.log"
  cat "$dir/profile.txt" >>"$LOG"

  # Objectives: latency for every model, worst-case latency and accuracy where there are
  # exits, energy where every processor's power was measured.
  objectives=mean_latency
  if grep -q "^exits:" "models/$model.yaml"; then
    objectives="$objectives,worst_latency"
    if grep -q "^final_accuracy:" "models/$model.yaml"; then objectives="$objectives,accuracy"; fi
  fi
  if [ "$(grep -c "^  - {.*active_w" "$dir/profile/platform.yaml" || true)" -ge \
       "$(grep -c "^  - {.*kind:" "$dir/profile/platform.yaml")" ]; then objectives="$objectives,energy"; fi
  say "$model: explore ($objectives)"
  "$HETMAP" explore -m "models/$model.yaml" -p "$dir/profile/platform.yaml" \
    --profile "$dir/profile/$model.csv" --objectives "$objectives" --generations 60 \
    --population 48 --seed 1 --out "$dir/explore" >"$dir/explore.txt" 2>&1

  say "$model: validate (front + baselines + $RANDOM_MAPPINGS random, $INPUTS inputs each)"
  "$HETMAP" validate --backend cuda -m "models/$model.yaml" --profile "$dir/profile" \
    --mappings "$dir/explore/mappings" --random "$RANDOM_MAPPINGS" --inputs "$INPUTS" \
    --warmup-inputs 5 --seed 1 --out "$dir/validate" >"$dir/validate.txt" 2>"$dir/validate.log"
  tail -2 "$dir/validate.txt" | tee -a "$LOG"

  if [ -z "${HETMAP_PYTHON:-}" ] && python3 -c "import matplotlib" 2>/dev/null; then
    export HETMAP_PYTHON=$(command -v python3)  # hetmap plot prefers /usr/bin/python3 otherwise
  fi
  if "${HETMAP_PYTHON:-python3}" -c "import matplotlib" 2>/dev/null; then
    "$HETMAP" plot "$dir/validate" >>"$LOG" 2>&1 || say "$model: validation plot failed"
    "$HETMAP" plot "$dir/explore" >>"$LOG" 2>&1 || say "$model: explore plots failed"
  fi
  say "$model: done ($(( $(date +%s) - start )) s so far)"
done

python3 "$ROOT/scripts/gpu-summary.py" "$OUT" $MODELS | tee "$OUT/summary.md"
say "all done in $(( $(date +%s) - start )) s; results in $OUT"
