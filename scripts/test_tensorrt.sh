#!/usr/bin/env bash
# Build the TensorRT plugin library and run its conformance harness against every TensorRT header set found.
#
#   scripts/test_tensorrt.sh [--roots 'GLOB ...'] [--require-gpu] [--log-dir DIR] [--build-root DIR]
#
#   --roots        header sets to use (TensorRT install roots with include/NvInferVersion.h);
#                  default: /usr/local/TensorRT-*  (made by ../shared/tools/trt-headers)
#   --require-gpu  the harness's GPU enqueue checks must run: a missing GPU fails instead of skipping
#   --log-dir      write configure/build/check/test logs to DIR/<header set>/ (default: BUILD_ROOT/<set>-logs)
#   --build-root   where the per-header-set builds go (default: build-trt/ in the repository)
#
# For each header set: configure (fresh) with -DTENSORRT_ROOT, build libspp_trt_plugin.so, the harness and (when
# its sources exist) the sample's compile check, fail on compiler warnings other than TensorRT deprecation notices,
# check the exported/needed symbols with nm -D / readelf, and run the harness through ctest (label "tensorrt").
# Environment: CUDA_ARCHS (default 90), JOBS (default 2), CMAKE_GENERATOR (default Ninja when available).
# Exit status: 0 when every header set passed or none was found (said plainly); 1 otherwise.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
roots_glob="/usr/local/TensorRT-*"
require_gpu=0
log_dir=""
build_root="$repo/build-trt"
while [ $# -gt 0 ]; do
    case "$1" in
        --roots) roots_glob=$2; shift 2 ;;
        --require-gpu) require_gpu=1; shift ;;
        --log-dir) log_dir=$2; shift 2 ;;
        --build-root) build_root=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "test_tensorrt: unknown argument $1" >&2; exit 2 ;;
    esac
done
archs=${CUDA_ARCHS:-90}
jobs=${JOBS:-2}
generator=${CMAKE_GENERATOR:-}
if [ -z "$generator" ] && command -v ninja >/dev/null 2>&1; then generator=Ninja; fi
generator_args=()
[ -n "$generator" ] && generator_args=(-G "$generator")

roots=()
for candidate in $roots_glob; do
    if [ -f "$candidate/include/NvInferVersion.h" ] && [ -f "$candidate/include/NvInfer.h" ]; then
        roots+=("$candidate")
    fi
done
if [ ${#roots[@]} -eq 0 ]; then
    echo "test_tensorrt: NO TensorRT header set found (looked for $roots_glob with include/NvInferVersion.h)."
    echo "test_tensorrt: the TensorRT plugin was NOT built or tested. Make header sets with"
    echo "               ../shared/tools/trt-headers <NVIDIA/TensorRT mirror git dir>, or pass --roots."
    exit 0
fi
if ! command -v nvcc >/dev/null 2>&1 && [ ! -x /usr/local/cuda/bin/nvcc ]; then
    echo "test_tensorrt: nvcc not found - the plugin needs the CUDA kernels; nothing built" >&2
    exit 1
fi

trt_version() {
    local header=$1/include/NvInferVersion.h major minor patch
    major=$(grep -hE '#define (NV_TENSORRT_MAJOR|TRT_MAJOR_ENTERPRISE) [0-9]+' "$header" | awk '{print $3}' | head -1)
    minor=$(grep -hE '#define (NV_TENSORRT_MINOR|TRT_MINOR_ENTERPRISE) [0-9]+' "$header" | awk '{print $3}' | head -1)
    patch=$(grep -hE '#define (NV_TENSORRT_PATCH|TRT_PATCH_ENTERPRISE) [0-9]+' "$header" | awk '{print $3}' | head -1)
    echo "$major.$minor.$patch"
}

failures=()
summary=()
for root in "${roots[@]}"; do
    version=$(trt_version "$root")
    major=${version%%.*}
    name=$(basename "$root")
    build="$build_root/$name"
    if [ -n "$log_dir" ]; then logs="$log_dir/$name"; else logs="$build_root/$name-logs"; fi
    echo "=== $name: TensorRT $version headers ($root) -> $build"
    status=ok
    rm -rf "$build" "$logs"
    mkdir -p "$logs"
    if ! cmake -S "$repo" -B "$build" "${generator_args[@]}" -DCMAKE_BUILD_TYPE=Release \
        -DTENSORRT_ROOT="$root" -DCMAKE_CUDA_ARCHITECTURES="$archs" -DSPP_BUILD_BENCH=OFF \
        >"$logs/configure.log" 2>&1; then
        echo "--- configure FAILED (log: $logs/configure.log)"; tail -30 "$logs/configure.log"
        failures+=("$name: configure"); summary+=("$name: configure FAILED"); continue
    fi
    grep -E 'spp-trt:' "$logs/configure.log" | sed 's/^/    /'
    targets=(spp_trt_plugin spp_trt_plugin_tests)
    if cmake --build "$build" --target help 2>/dev/null | grep -q 'spp_trt_roi_plugin_tests'; then
        targets+=(spp_trt_roi_plugin_tests) # RoiSpatialPyramidPooling / MaxRoiPool harness
    fi
    if cmake --build "$build" --target help 2>/dev/null | grep -q 'sppnet_infer_compile_check'; then
        targets+=(sppnet_infer_compile_check)
    fi
    if cmake --build "$build" --target help 2>/dev/null | grep -qE '(^|[ :])sppnet_infer(:|$| )'; then
        targets+=(sppnet_infer)
    fi
    if ! cmake --build "$build" -j "$jobs" --target "${targets[@]}" >"$logs/build.log" 2>&1; then
        echo "--- build FAILED (log: $logs/build.log)"; grep -E 'error|Error' -A3 "$logs/build.log" | head -60
        failures+=("$name: build"); summary+=("$name: build FAILED"); continue
    fi
    # Warnings: only TensorRT's own deprecation notices are tolerated.
    warnings=$(grep -E 'warning:|warning #' "$logs/build.log" | grep -v -- '-Wdeprecated-declarations' || true)
    deprecations=$(grep -cE 'warning:.*-Wdeprecated-declarations' "$logs/build.log" || true)
    if [ -n "$warnings" ]; then
        echo "--- compiler warnings:"; echo "$warnings" | head -40
        status=fail; failures+=("$name: warnings")
    fi
    echo "    built ${targets[*]}; compiler warnings: $(echo -n "$warnings" | grep -c . || true) (TensorRT deprecation notices: $deprecations)"

    lib="$build/src/tensorrt/libspp_trt_plugin.so"
    if [ "$major" -ge 10 ]; then expected="getCreators setLoggerFinder"; else expected="getPluginCreators setLoggerFinder"; fi
    exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | sort | paste -sd' ' -)
    {
        echo "nm -D --defined-only $lib:"; nm -D --defined-only "$lib"
        echo; echo "NEEDED:"; readelf -d "$lib" | grep NEEDED
        echo; echo "undefined:"; nm -D --undefined-only "$lib"
    } >"$logs/symbols.log" 2>&1
    if [ "$exported" != "$expected" ]; then
        echo "--- exports are '$exported'; expected '$expected'"; status=fail; failures+=("$name: exports")
    fi
    if readelf -d "$lib" | grep NEEDED | grep -qiE 'nvinfer|nvonnxparser|cudart'; then
        echo "--- libspp_trt_plugin.so needs a TensorRT or shared CUDA runtime library:"; readelf -d "$lib" | grep NEEDED
        status=fail; failures+=("$name: NEEDED")
    fi
    if nm -D --undefined-only "$lib" | grep -qE 'nvinfer|getPluginRegistry|createInfer|getLogger|getInferLib'; then
        echo "--- libspp_trt_plugin.so references libnvinfer symbols:"
        nm -D --undefined-only "$lib" | grep -E 'nvinfer|getPluginRegistry|createInfer|getLogger|getInferLib'
        status=fail; failures+=("$name: libnvinfer symbols")
    fi
    echo "    nm -D exports: $exported; NEEDED: $(readelf -d "$lib" | awk '/NEEDED/ {print $5}' | tr -d '[]' | paste -sd' ' -)"

    export SPP_TRT_REQUIRE_GPU=$require_gpu
    if (cd "$build" && ctest -L tensorrt --no-tests=error --output-on-failure -j1 --output-log "$logs/ctest.log" >"$logs/test.log" 2>&1); then
        echo "    harness: $(grep -E 'tests passed' "$logs/test.log" | tail -1)"
    else
        echo "--- harness FAILED (log: $logs/test.log)"; tail -60 "$logs/test.log"
        status=fail; failures+=("$name: harness")
    fi
    skipped=$(grep -E '\(Skipped\)' "$logs/test.log" | sed -E 's/^[^-]*- /        /' | sort -u || true)
    if [ -n "$skipped" ]; then
        # The reason is printed by the test itself; ctest keeps it in the output log.
        reason=$("$build/tests/tensorrt/spp_trt_plugin_tests" --gtest_filter='*Gpu*' 2>&1 | grep -m1 -E 'SKIPPED GPU' || true)
        echo "    skipped: ${reason:-see $logs/ctest.log}"; echo "$skipped"
    fi
    summary+=("$name (TensorRT $version): $status")
done

echo "=== summary"
for line in "${summary[@]}"; do echo "    $line"; done
if [ ${#failures[@]} -gt 0 ]; then
    echo "test_tensorrt: FAILED: ${failures[*]}"
    exit 1
fi
echo "test_tensorrt: all ${#roots[@]} TensorRT header set(s) passed"
