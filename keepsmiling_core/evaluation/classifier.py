"""Training and using the smile classifier that judges the editors.

The judge must be trustworthy before its verdicts mean anything, so training always ends with a
held-out accuracy (a stratified split of the cache, or a separate cache such as MTFL's testing split)
stored in the checkpoint and reported to the user. Weights go through the one checkpoint format with
``setup="classifier"``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from keepsmiling_core.errors import KeepSmilingError, TrainingError


@dataclass
class ClassifierConfig:
    data: Path                      # crop cache to train on
    out: Path                       # checkpoint folder to write
    steps: int = 1500
    batch_size: int = 64
    lr: float = 2e-3
    size: int | None = None         # None: the cache's crop size
    device: str | None = None       # None/"auto": pick_device decides
    seed: int = 0
    val: Path | None = None         # a separate held-out cache (e.g. MTFL testing); else a split of `data`
    val_fraction: float = 0.15


@dataclass
class ClassifierReport:
    path: Path
    val_accuracy: float             # plain accuracy on the held-out crops
    val_balanced_accuracy: float    # mean of per-class recalls (robust to the smiling majority)
    val_count: int
    train_count: int
    seconds: float


def stratified_holdout(smiling: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices, stratified by label, fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    train, held = [], []
    for label in (True, False):
        idx = np.flatnonzero(smiling == label)
        rng.shuffle(idx)
        n = max(1, int(round(len(idx) * fraction))) if len(idx) > 1 else 0
        held.append(idx[:n])
        train.append(idx[n:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(held))


def _augment(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Flip and mild colour jitter: the judge must not key on skin tone, which edits may shift."""
    n = batch.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    batch = torch.where(flip[:, None, None, None].to(batch.device), batch.flip(3), batch)
    gain = (1 + 0.2 * (torch.rand(n, 3, 1, 1, generator=gen) - 0.5)).to(batch.device)
    bias = (0.2 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)).to(batch.device)
    return (batch * gain + bias).clamp(-1, 1)


@torch.no_grad()
def _apply(net: nn.Module, images: np.ndarray, fn: str, batch_size: int = 256) -> np.ndarray:
    from keepsmiling_core.data.tensors import to_tensor

    net.eval()
    device = next(net.parameters()).device
    dtype = next(net.parameters()).dtype
    out = []
    for start in range(0, len(images), batch_size):
        x = to_tensor(images[start:start + batch_size]).to(device=device, dtype=dtype)
        out.append(getattr(net, fn)(x).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def smile_probability(net: nn.Module, images: np.ndarray) -> np.ndarray:
    """P(smiling) for uint8 NHWC crops."""
    return 1.0 / (1.0 + np.exp(-_apply(net, images, "forward")))


def classifier_features(net: nn.Module, images: np.ndarray) -> np.ndarray:
    """(N, 128) features of uint8 NHWC crops, the space KID is computed in."""
    return _apply(net, images, "features")


def accuracy(net: nn.Module, images: np.ndarray, smiling: np.ndarray) -> tuple[float, float]:
    """(accuracy, balanced accuracy) of the classifier on labelled crops."""
    pred = smile_probability(net, images) > 0.5
    smiling = np.asarray(smiling, bool)
    acc = float((pred == smiling).mean())
    recalls = [float((pred[smiling == c] == c).mean()) for c in (True, False) if (smiling == c).any()]
    return acc, float(np.mean(recalls))


def train_classifier(config: ClassifierConfig, progress: Callable[[int, int, float], None] | None = None,
                     should_stop: Callable[[], bool] | None = None) -> ClassifierReport:
    """Train the SmileClassifier on a crop cache and save it; returns the held-out accuracy.

    progress(step, total, loss) is called every few steps; should_stop() ends training early (the
    checkpoint is still written and evaluated).
    """
    from keepsmiling_core.data.cache import load_crop_cache
    from keepsmiling_core.data.tensors import to_tensor
    from keepsmiling_core.device import pick_device
    from keepsmiling_core.models.checkpoint import save_checkpoint
    from keepsmiling_core.models.classifier import SmileClassifier

    started = time.perf_counter()
    device = pick_device(config.device)
    cache = load_crop_cache(Path(config.data))
    size = config.size or cache.size
    if size != cache.size:
        raise TrainingError(f"The crops in {config.data} are {cache.size} px but --size {size} was asked for; "
                            f"build a cache with --size {size} or leave --size out.")
    smiling = np.asarray(cache.smiling, bool)
    if smiling.all() or not smiling.any():
        raise TrainingError(f"The crop cache {config.data} holds only one class; the classifier needs smiling "
                            "and non-smiling crops.")
    if config.val is not None:
        val_cache = load_crop_cache(Path(config.val))
        if val_cache.size != size:
            raise TrainingError(f"The validation crops in {config.val} are {val_cache.size} px, not {size} px.")
        train_idx = np.arange(len(smiling))
        val_images, val_smiling = val_cache.images, np.asarray(val_cache.smiling, bool)
    else:
        train_idx, val_idx = stratified_holdout(smiling, config.val_fraction, config.seed)
        val_images, val_smiling = cache.images[val_idx], smiling[val_idx]
    if len(train_idx) < 4:
        raise TrainingError(f"The crop cache {config.data} has too few crops ({len(smiling)}) to train on.")

    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    net = SmileClassifier(size).to(device)
    images = to_tensor(cache.images[train_idx])  # stays on the CPU; batches move to the device
    labels = torch.from_numpy(smiling[train_idx].astype(np.float32))
    n_pos = float(labels.sum())
    pos_weight = torch.tensor((len(labels) - n_pos) / max(n_pos, 1.0), device=device)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, config.steps) / max(config.steps, 1))))
    batch_size = min(config.batch_size, len(labels))
    step = 0
    net.train()
    while step < config.steps:
        if should_stop is not None and should_stop():
            break
        idx = torch.randint(len(labels), (batch_size,), generator=gen)
        x = _augment(images[idx], gen).to(device)
        loss = loss_fn(net(x), labels[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        if progress is not None and (step % 10 == 0 or step == config.steps):
            progress(step, config.steps, float(loss.detach()))
    if step == 0:
        raise KeepSmilingError("Classifier training was cancelled before the first step.")

    acc, bal = accuracy(net, val_images, val_smiling)
    saved_config = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    extra = {"val_accuracy": acc, "val_balanced_accuracy": bal, "val_count": int(len(val_smiling)),
             "train_count": int(len(train_idx)), "val_source": str(config.val) if config.val else "split"}
    path = save_checkpoint(Path(config.out), {"classifier": net}, setup="classifier", preset="default",
                           size=size, step=step, config=saved_config, extra=extra)
    return ClassifierReport(path=Path(path) if path else Path(config.out), val_accuracy=acc,
                            val_balanced_accuracy=bal, val_count=int(len(val_smiling)),
                            train_count=int(len(train_idx)), seconds=time.perf_counter() - started)


def load_classifier(path: str | Path, device: str | None = None) -> nn.Module:
    """The SmileClassifier network from a classifier checkpoint, in eval mode."""
    from keepsmiling_core.device import pick_device
    from keepsmiling_core.models.checkpoint import load_model

    model = load_model(Path(path), device=pick_device(device))
    if model.setup != "classifier":
        raise KeepSmilingError(f"{path} holds a {model.setup} model, not a smile classifier "
                               "(train one with keepsmiling train-classifier).")
    return model.nets["classifier"].eval()
