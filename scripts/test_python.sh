#!/usr/bin/env bash
# CI for the Python package spp_trt (python/): installs what it needs on Debian 12 (run as root), checks that the
# package installs with pip, and runs the tests with /usr/bin/python3. Exits non-zero on any failure.
#
#   scripts/test_python.sh [extra pytest args]
#
# Environment:
#   SPP_TRT_SKIP_APT=1      do not run apt-get (dependencies already installed)
#   SPP_TRT_SKIP_ORT=1      do not try to pip-install onnxruntime (its tests then skip, saying why)
#   SPP_TRT_ORT_VERSION     onnxruntime version to install from PyPI (default below)
#
# torch 1.13, onnx 1.12, numpy and pytest come from Debian. onnxruntime is optional: it is installed from PyPI with
# --no-deps (so Debian's numpy/protobuf stay untouched) when PyPI is reachable; otherwise the onnxruntime tests skip
# with the reason. The tests themselves never use the network (python/tests/conftest.py refuses connections).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=/usr/bin/python3
export PIP_ROOT_USER_ACTION=ignore
ORT_VERSION="${SPP_TRT_ORT_VERSION:-1.31.1}"

if [[ "${SPP_TRT_SKIP_APT:-0}" != "1" ]]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq \
        python3 python3-torch python3-onnx python3-pytest python3-numpy python3-pip python3-setuptools \
        python3-wheel >/dev/null
fi

"$PY" - <<'PYEOF'
import sys, numpy, onnx, torch
print(f"python {sys.version.split()[0]}  torch {torch.__version__}  onnx {onnx.__version__}  numpy {numpy.__version__}")
PYEOF

if [[ "${SPP_TRT_SKIP_ORT:-0}" != "1" ]] && ! "$PY" -c "import onnxruntime" 2>/dev/null; then
    if timeout 300 "$PY" -m pip install --quiet --disable-pip-version-check --no-deps --break-system-packages \
            "onnxruntime==${ORT_VERSION}"; then
        if ! "$PY" -c "import onnxruntime" 2>/dev/null; then
            echo "warning: onnxruntime ${ORT_VERSION} installed but does not import with this numpy; removing it" \
                 "(the onnxruntime tests will skip)"
            "$PY" -m pip uninstall -y --quiet --break-system-packages onnxruntime || true
        fi
    else
        echo "warning: could not install onnxruntime ${ORT_VERSION} from PyPI; the onnxruntime tests will skip"
    fi
fi
"$PY" -c "import onnxruntime; print('onnxruntime', onnxruntime.__version__)" 2>/dev/null \
    || echo "onnxruntime: not available"

# The package must install with pip (pure Python, setuptools). Build offline against Debian's setuptools into a
# scratch directory and import it from there.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp -r python "$scratch/src"
"$PY" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps \
    --target "$scratch/site" "$scratch/src"
(cd "$scratch" && PYTHONPATH="$scratch/site" "$PY" -c \
    "import spp_trt, torch; y = spp_trt.SpatialPyramidPooling()(torch.randn(1, 2, 5, 7)); assert y.shape == (1, 42); print('pip install ./python: ok,', spp_trt.__file__)")

PYTHONPATH=python "$PY" -m pytest -q -rs -p no:cacheprovider python/tests "$@"
