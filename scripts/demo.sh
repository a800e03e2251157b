#!/usr/bin/env bash
# Set-up + build + demo (the README's first command). Installs the build tools with apt when they are missing and we
# are root, configures (CUDA kernels when nvcc is found, CPU-only otherwise), builds, and runs spp-demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v ninja >/dev/null || missing+=(ninja-build)
command -v g++ >/dev/null || missing+=(g++)
[ -e /usr/lib/x86_64-linux-gnu/libgtest.a ] || [ -e /usr/lib/aarch64-linux-gnu/libgtest.a ] || missing+=(libgtest-dev)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "demo.sh: please install: ${missing[*]}" >&2
        exit 1
    fi
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release ${SPP_CMAKE_ARGS:-} >/dev/null
cmake --build build -j "${JOBS:-2}" --target spp-demo
build/samples/demo/spp-demo
