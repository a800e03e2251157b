#!/usr/bin/env bash
# The project's test command (the README's second command; .ci/run calls exactly this). Builds everything and runs
# every test that can run on this machine:
#   1. C++: CPU tests everywhere; GPU tests run with a GPU and otherwise skip, printing why (ctest).
#   2. TensorRT plugins: for every header set /usr/local/TensorRT-* (or $TENSORRT_ROOTS), build the headers-only plugin
#      library, check its exports, run the conformance harness (scripts/test_tensorrt.sh). Says so when there is none.
#   3. Python package: pytest on Debian's torch (scripts/test_python.sh; installs its packages with apt).
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs=${JOBS:-2}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

echo "=== [1/3] C++ library, CPU reference, kernels: build + ctest"
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release ${SPP_CMAKE_ARGS:-}
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure --no-tests=error -j "$jobs")

echo "=== [2/3] TensorRT plugins against every TensorRT header set found"
if [ -n "${TENSORRT_ROOTS:-}" ]; then
    scripts/test_tensorrt.sh --roots "$TENSORRT_ROOTS"
else
    scripts/test_tensorrt.sh
fi

echo "=== [3/3] Python package (PyTorch module, ONNX export)"
scripts/test_python.sh

echo "=== all tests passed"
