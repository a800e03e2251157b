#!/usr/bin/env bash
# GPU-machine run of the TensorRT plugin checks. From the repository root:
#
#   scripts/device_tensorrt.sh
#
# Uses every header set under .trt/ (TensorRT-<version>/include, copied there from /usr/local/TensorRT-*),
# configures and builds each with -DTENSORRT_ROOT=$PWD/.trt/TensorRT-<version> for sm_90 (CUDA_ARCHS overrides),
# checks nm -D, and runs the conformance harness with SPP_TRT_REQUIRE_GPU=1: the enqueue checks against the CPU
# reference must run, a missing GPU is a failure. Logs go to $OUT/tensorrt/<header set>/ when OUT is set.
# Exit status non-zero on any failure, and when .trt/ holds no header set.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
shopt -s nullglob
sets=(.trt/TensorRT-*)
if [ ${#sets[@]} -eq 0 ]; then
    echo "device_tensorrt: no header set under $repo/.trt/ (copy /usr/local/TensorRT-* there first)" >&2
    exit 1
fi
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
fi
log_args=()
if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT/tensorrt"
    log_args=(--log-dir "$OUT/tensorrt")
fi
export CUDA_ARCHS=${CUDA_ARCHS:-90}
export JOBS=${JOBS:-$(nproc)}
status=0
scripts/test_tensorrt.sh --roots "$repo/.trt/TensorRT-*" --require-gpu --build-root "$repo/build-trt-device" \
    "${log_args[@]}" 2>&1 | tee ${OUT:+"$OUT/tensorrt/summary.log"}
status=${PIPESTATUS[0]}
exit "$status"
