#!/usr/bin/env bash
# Everything that needs the GPU machine, in one call (from the repository root; TensorRT headers copied to .trt/):
#   core tests + PyTorch oracle + benchmarks (device_check.sh), TensorRT plugin harness (device_tensorrt.sh),
#   ROI tests + torchvision oracle + ROI benchmarks (device_roi.sh), Python package tests on torch 2.11 + CUDA.
# The device tool returns at most 8 files, so logs are packed into $OUT/logs.tgz and the benchmark JSON copied
# beside it. Exit status non-zero if any part fails.
# One call of all parts takes about 10 minutes, the device tool's limit per command: name parts to split it, e.g.
#   scripts/device_all.sh core
#   scripts/device_all.sh tensorrt
#   ROI_SANITIZER=0 scripts/device_all.sh roi python
# (H100, session 13: `roi python` took 387 s). Never pipe a call through `tail` or `head`: a call stopped at the
# limit then returns nothing; the summary lines are printed as each part ends.
set -uo pipefail
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(core tensorrt roi python)
want() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
for p in "${parts[@]}"; do
    case $p in
        core | tensorrt | roi | python) ;;
        *) echo "device_all: unknown part '$p' (core tensorrt roi python)" >&2; exit 2 ;;
    esac
done
final=${OUT:-$PWD/device-out}
mkdir -p "$final"
work=$(mktemp -d)
status=0
# The logs are packed again after every part, so that a call the device tool stops at its time limit still brings
# back those of the parts that finished (the summary lines below are on stdout as each part ends).
# (written aside, then renamed: a call stopped during a pack keeps the previous archive)
pack() { tar czf "$final/logs.tgz.part" -C "$work" . && mv "$final/logs.tgz.part" "$final/logs.tgz"; }
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
    pack
}
if want core; then
    run core scripts/device_check.sh all
    grep -E "tests passed|grid|check_torch|GPU:|^N[0-9]|^launch|status" "$work/core.txt" | grep -v "^W"
fi
if want tensorrt; then
    run tensorrt scripts/device_tensorrt.sh
    grep -E "tests passed|FAIL|nm -D|header set|Skipped|skipped" "$work/tensorrt.txt" | head -20
fi
if want roi; then
    run roi scripts/device_roi.sh
    grep -E "PASSED|FAIL|roi grid|check_torchvision|^[A-Za-z0-9_]+ +(fp32|fp16)|status" "$work/roi.txt" | head -30
fi
if want python; then
    run python env PYTHONPATH=python python3 -m pytest -q -rs python/tests
    tail -15 "$work/python.txt"
fi
cp "$work"/spp_bench.json "$work"/torch_bench.json "$work"/roi/roi_bench.json "$work"/roi/torchvision_roi_bench.json \
    "$final"/ 2>/dev/null
pack
echo "device_all: status $status"
exit $status
