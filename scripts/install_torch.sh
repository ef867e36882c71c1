#!/usr/bin/env bash
# Install torch matching the hardware: the CUDA build where an NVIDIA GPU is visible, else the CPU
# build (no multi-GB CUDA wheels on CPU-only machines and CI).
#   PIP            pip to use (default: .venv/bin/pip)
#   TORCH_VERSION  default 2.13.0
#   TORCH_BUILD    force "cpu" or "cuda" instead of detecting
set -euo pipefail
PIP=${PIP:-.venv/bin/pip}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
build=${TORCH_BUILD:-}
if [ -z "$build" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU; then build=cuda; else build=cpu; fi
fi
installed=$("$PIP" show torch 2>/dev/null | awk '/^Version:/ {print $2}' || true)
case "$build:$installed" in
  cpu:"$TORCH_VERSION+cpu"|cuda:"$TORCH_VERSION") echo "torch: $installed already installed"; exit 0 ;;
esac
if [ "$build" = cuda ]; then
  echo "torch: NVIDIA GPU found, installing the CUDA build of torch $TORCH_VERSION"
  # PyPI's Linux wheel is the CUDA build; ignore any local CPU wheel folder from pip config.
  PIP_FIND_LINKS="" "$PIP" install "torch==$TORCH_VERSION"
else
  echo "torch: no GPU found, installing the CPU build of torch $TORCH_VERSION"
  if ! "$PIP" install "torch==$TORCH_VERSION+cpu"; then
    echo "error: no CPU wheel torch==$TORCH_VERSION+cpu found. Point pip at PyTorch's CPU wheel index" >&2
    echo "  (PIP_EXTRA_INDEX_URL) or a folder holding the wheel (PIP_FIND_LINKS), then re-run make." >&2
    exit 1
  fi
fi
