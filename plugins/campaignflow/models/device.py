"""Which accelerator torch work runs on: a CUDA GPU when one is visible, else the CPU (said in the log)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def torch_device() -> str:
    """``"cuda"`` if torch sees a GPU, else ``"cpu"`` (with a log line saying so)."""
    import torch

    if torch.cuda.is_available():
        log.info("torch %s: using CUDA device %s", torch.__version__, torch.cuda.get_device_name(0))
        return "cuda"
    log.info("torch %s: no CUDA device visible, falling back to CPU", torch.__version__)
    return "cpu"
