#!/usr/bin/env bash
# Everything that needs the GPU machine, in one call (from the repository root; TensorRT headers copied to .trt/):
#   core tests + PyTorch oracle + benchmarks (device_check.sh), TensorRT plugin harness (device_tensorrt.sh),
#   ROI tests + torchvision oracle + ROI benchmarks (device_roi.sh), Python package tests on torch 2.11 + CUDA.
# The device tool returns at most 8 files, so logs are packed into $OUT/logs.tgz and the benchmark JSON copied
# beside it. Exit status non-zero if any part fails.
set -uo pipefail
final=${OUT:-$PWD/device-out}
mkdir -p "$final"
work=$(mktemp -d)
status=0
run() {
    local name=$1
    shift
    echo "=== $name"
    if OUT=$work "$@" > "$work/$name.txt" 2>&1; then
        echo "--- $name: ok"
    else
        echo "--- $name: FAILED"
        status=1
    fi
}
run core scripts/device_check.sh all
grep -E "tests passed|grid|check_torch|GPU:|^N[0-9]|status" "$work/core.txt" | grep -v "^W"
run tensorrt scripts/device_tensorrt.sh
grep -E "tests passed|FAIL|nm -D|header set|Skipped|skipped" "$work/tensorrt.txt" | head -20
run roi scripts/device_roi.sh
grep -E "PASSED|FAIL|roi grid|check_torchvision|^[A-Za-z0-9_]+ +(fp32|fp16)|status" "$work/roi.txt" | head -30
run python env PYTHONPATH=python python3 -m pytest -q -rs python/tests
tail -15 "$work/python.txt"
cp "$work"/spp_bench.json "$work"/torch_bench.json "$work"/roi/roi_bench.json "$work"/roi/torchvision_roi_bench.json \
    "$final"/ 2>/dev/null
tar czf "$final/logs.tgz" -C "$work" .
echo "device_all: status $status"
exit $status
