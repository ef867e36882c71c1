"""Churn candidate 2: a multilayer perceptron in torch, on a CUDA GPU when one is present.

Inputs are the same model columns as LightGBM's: nulls become 0 plus a missing-indicator column,
every value goes through ``sign(x)·log1p(|x|)`` (counts and money span orders of magnitude), then
is clipped to the range the training window spanned (an MLP extrapolates where trees clamp: a
season, or a recency, the training snapshots never reached) and standardised with its mean and
spread. On CUDA it trains in bfloat16 autocast, the training window copied to the device once
(from pinned memory) and batched there in batches sized to fill it; on the CPU in float32 with the
cores available. Batches are slices of a seeded permutation per epoch (a ``DataLoader`` fetched and
collated row by row: a third of the CPU time). Early stopping on the validation window's log loss;
seeded and deterministic.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from campaignflow.models.device import torch_device

log = logging.getLogger(__name__)

NAME = "churn_torch"
HIDDEN = (128, 64)
DROPOUT = 0.1
LEARNING_RATE = 2e-3
WEIGHT_DECAY = 1e-4
MAX_EPOCHS = 60
PATIENCE = 6
CPU_BATCH = 512
CUDA_BATCH = 16_384


@dataclass
class InputTransform:
    """Missing indicators, signed log, clipping to the training range and standardisation, fitted on
    the training window (``low``/``high`` None: a model saved before clipping, scored as it was)."""

    n_columns: int
    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    @classmethod
    def fit(cls, x: np.ndarray) -> InputTransform:
        z = _expand(x)
        spread = z.std(axis=0)
        std = np.where(spread > 1e-9, spread, 1.0)
        signed, seen = z[:, : x.shape[1]], np.isfinite(x)  # the range of the values present (not the nulls' 0)
        low = np.min(np.where(seen, signed, np.inf), axis=0, initial=np.inf)
        high = np.max(np.where(seen, signed, -np.inf), axis=0, initial=-np.inf)
        never = ~seen.any(axis=0)
        return cls(x.shape[1], z.mean(axis=0), std, np.where(never, 0.0, low), np.where(never, 0.0, high))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.shape[1] != self.n_columns:
            raise ValueError(f"expected {self.n_columns} model columns, got {x.shape[1]}")
        z = _expand(x)
        if self.low is not None and self.high is not None:
            n = self.n_columns
            z[:, :n] = np.where(np.isfinite(x), np.clip(z[:, :n], self.low, self.high), z[:, :n])
        return ((z - self.mean) / self.std).astype(np.float32)


def _expand(x: np.ndarray) -> np.ndarray:
    missing = ~np.isfinite(x)
    values = np.where(missing, 0.0, x)
    return np.concatenate([np.sign(values) * np.log1p(np.abs(values)), missing.astype(float)], axis=1)


def _network(n_inputs: int) -> Any:
    from torch import nn

    layers: list[Any] = []
    width = n_inputs
    for h in HIDDEN:
        layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(DROPOUT)]
        width = h
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


@dataclass
class TorchEstimator:
    network: Any
    transform: InputTransform

    def raw(self, x: np.ndarray) -> np.ndarray:
        import torch

        self.network.eval()
        with torch.no_grad():
            logits = self.network(torch.from_numpy(self.transform(x)))
        return torch.sigmoid(logits).squeeze(1).double().numpy()

    def to_files(self) -> dict[str, bytes]:
        import torch

        buf = io.BytesIO()
        torch.save(self.network.state_dict(), buf)
        spec = {
            "n_columns": self.transform.n_columns,
            "mean": self.transform.mean.tolist(),
            "std": self.transform.std.tolist(),
            **({} if self.transform.low is None else {"low": self.transform.low.tolist()}),
            **({} if self.transform.high is None else {"high": self.transform.high.tolist()}),
            "hidden": list(HIDDEN),
        }
        return {"model.pt": buf.getvalue(), "transform.json": json.dumps(spec).encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> TorchEstimator:
        import torch

        spec = json.loads(files["transform.json"])
        bounds = [np.asarray(spec[k]) if k in spec else None for k in ("low", "high")]
        transform = InputTransform(spec["n_columns"], np.asarray(spec["mean"]), np.asarray(spec["std"]), *bounds)
        network = _network(len(transform.mean))
        network.load_state_dict(torch.load(io.BytesIO(files["model.pt"]), map_location="cpu", weights_only=True))
        return cls(network.eval(), transform)


def fit(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    seed: int,
    *,
    horizon_days: int,
    device: str | None = None,
) -> tuple[TorchEstimator, dict[str, Any]]:
    """Train on ``device`` (default: CUDA if visible, else CPU); the estimator (on CPU) and a report."""
    import torch

    device = device or torch_device()
    torch.manual_seed(seed)
    cuda = device.startswith("cuda")
    if not cuda:
        torch.use_deterministic_algorithms(True)
    transform = InputTransform.fit(x_train)
    xt, yt = _on(device, transform(x_train)), _on(device, y_train.astype(np.float32))
    xv, yv = _on(device, transform(x_valid)), _on(device, y_valid.astype(np.float32))
    batch = CUDA_BATCH if cuda else CPU_BATCH
    shuffle = torch.Generator().manual_seed(seed)
    network = _network(xt.shape[1]).to(device)
    optimiser = torch.optim.AdamW(network.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    best, best_state, stale, epochs, seen = float("inf"), None, 0, 0, 0
    for epoch in range(MAX_EPOCHS):
        network.train()
        order = torch.randperm(len(xt), generator=shuffle).to(device)  # a new seeded order every epoch
        for rows in order.split(batch):
            xb, yb = xt[rows], yt[rows]
            optimiser.zero_grad(set_to_none=True)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=cuda):
                loss = loss_fn(network(xb).squeeze(1).float(), yb)
            loss.backward()
            optimiser.step()
            seen += len(xb)
        network.eval()
        with torch.no_grad(), torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=cuda):
            valid_loss = float(loss_fn(network(xv).squeeze(1).float(), yv))
        epochs = epoch + 1
        if valid_loss < best - 1e-5:
            best, stale = valid_loss, 0
            best_state = {k: v.detach().to("cpu").clone() for k, v in network.state_dict().items()}
        else:
            stale += 1
            if stale >= PATIENCE:
                break
    network = _network(xt.shape[1])
    assert best_state is not None
    network.load_state_dict(best_state)
    info = {"device": device, "epochs": epochs, "batch_size": batch, "samples_seen": seen, "valid_log_loss": best}
    log.info("torch churn MLP trained on %s: %d epochs, best validation log loss %.4f", device, epochs, best)
    return TorchEstimator(network.eval(), transform), info


def _on(device: str, values: np.ndarray) -> Any:
    """``values`` as a tensor on ``device``; to a GPU once, from pinned memory, so batches are slices there."""
    import torch

    tensor = torch.from_numpy(values)
    if device.startswith("cuda"):
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor


Estimator = TorchEstimator
