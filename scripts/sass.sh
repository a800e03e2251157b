#!/usr/bin/env bash
# SASS of the SPP kernels for sm_90, on a machine without a GPU (from the repository root):
#
#   scripts/sass.sh [function-regex] [-DKNOB=V ...]        e.g.  scripts/sass.sh 'sppTasksKernelIfLNS_8PoolModeE0'
#   SASS_SOURCE=src/cuda/roi_kernels.cu scripts/sass.sh 'roiSlicesKernelIfLNS_8PoolModeE0'
#
# Compiles src/cuda/spp_kernels.cu (or $SASS_SOURCE) as the Release build does (plus any tuning knobs given), prints ptxas' register and
# spill counts of the matching kernels and writes their SASS to build-sass/<n>.sass (one file per function, numbered
# in the order printed). cuobjdump and nvdisasm come from PATH or, when absent (the CUDA toolkit here has neither),
# from NVIDIA's PyPI wheels nvidia-cuda-cuobjdump / nvidia-cuda-nvdisasm, unpacked once into
# ${XDG_CACHE_HOME:-~/.cache}/spp-trt-tools. A development aid: nothing in the build or the tests needs it.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
regex=${1:-sppTasksKernel}
shift || true
out=build-sass
mkdir -p "$out"
if ! command -v cuobjdump > /dev/null || ! command -v nvdisasm > /dev/null; then
    tools=${XDG_CACHE_HOME:-$HOME/.cache}/spp-trt-tools
    if [ ! -x "$tools/bin/nvdisasm" ]; then
        mkdir -p "$tools/wheels" "$tools/bin"
        python3 -m pip download --quiet --no-deps -d "$tools/wheels" "nvidia-cuda-cuobjdump>=13" \
            "nvidia-cuda-nvdisasm>=13"
        for wheel in "$tools"/wheels/*.whl; do
            python3 -m zipfile -e "$wheel" "$tools/unpacked"
        done
        find "$tools/unpacked" -type f \( -name cuobjdump -o -name nvdisasm \) -exec cp {} "$tools/bin/" \;
        chmod +x "$tools/bin/"*
    fi
    export PATH=$tools/bin:$PATH
fi
nvcc -Iinclude -Isrc -O3 -DNDEBUG --generate-code=arch=compute_90,code=sm_90 --expt-relaxed-constexpr -std=c++17 \
    --resource-usage "$@" -c "${SASS_SOURCE:-src/cuda/spp_kernels.cu}" -o "$out/kernels.o" > "$out/ptxas.txt" 2>&1
cuobjdump -sass "$out/kernels.o" > "$out/all.sass"
if ! grep -q "Function : .*\($regex\)" "$out/all.sass"; then
    echo "sass.sh: no kernel matches '$regex' (names: grep 'Function :' $out/all.sass)" >&2
    exit 1
fi
grep -A2 "Function properties for .*\($regex\)" "$out/ptxas.txt" | grep -E "Function properties|spill|registers" \
    | sed -E 's/.*Function properties for /\n/'
awk -v re="$regex" -v dir="$out" '
    /Function : / { on = ($0 ~ re); if (on) { n++; file = dir "/" n ".sass"; print $0 > file; print n ": " $3 } next }
    on { print > file }' "$out/all.sass"
