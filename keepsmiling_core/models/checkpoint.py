"""THE one checkpoint format, used for training runs and for the shipped models alike.

A checkpoint is a folder::

    model.safetensors   weights and buffers of every net, keys "<net>.<param>"
    optim.safetensors   optimizer moments + training state tensors (RNG); training checkpoints only
    checkpoint.json     format name/version, setup, preset, size, arch, step, config, optimizer
                        hyper-parameters, and the byte size + sha256 of each tensor file

Nothing is ever unpickled: tensors come from safetensors, everything else from JSON, so a model folder
from a stranger cannot run code. ``checkpoint.json`` is written last (and everything is first built in
a temporary folder, then moved with ``os.replace``), so a crash leaves either the old or the new
checkpoint, never a half-written one; the recorded sizes and hashes catch truncation or corruption later.

A training run keeps its checkpoints in ``RUN/checkpoints/step_XXXXXXXX/``; ``load_model(RUN)`` picks
the latest one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save
from torch import nn

from ..atomic import ensure_folder, write_bytes_verified, write_error
from ..device import pick_device
from ..errors import CheckpointError, ValidationError
from ..validation import (
    MAX_TENSOR_FILE_BYTES,
    check_checkpoint_meta,
    check_finite,
    check_optim_tensors,
    read_json_file,
)
from .registry import PRESETS, architecture, build_setup, known_setups, stored_architecture

FORMAT_NAME = "keepsmiling-checkpoint"
FORMAT_VERSION = 1
MODEL_FILE = "model.safetensors"
OPTIM_FILE = "optim.safetensors"
META_FILE = "checkpoint.json"
CHECKPOINTS_DIR = "checkpoints"


@dataclass
class LoadedModel:
    """Networks rebuilt from a checkpoint, in eval mode on ``device``, with the checkpoint's metadata."""

    setup: str
    preset: str
    size: int
    step: int
    nets: dict[str, nn.Module]
    meta: dict = field(repr=False)
    path: Path


# ----------------------------------------------------------------------------------------- writing


def save_checkpoint(
    dir: str | Path,
    nets: Mapping[str, nn.Module],
    *,
    setup: str,
    preset: str,
    size: int,
    step: int,
    config: Mapping[str, Any] | None,
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    extra: Mapping[str, Any] | None = None,
    half: bool = False,
    arch: Mapping[str, Any] | None = None,
    state_tensors: Mapping[str, torch.Tensor] | None = None,
) -> Path:
    """Write a checkpoint folder atomically and return it.

    ``half=True`` stores floating-point weights as float16 (shipping size); ``load_model`` casts back.
    ``optimizers`` and ``state_tensors`` (e.g. RNG states) go to ``optim.safetensors`` for resuming;
    ``extra`` is any JSON-able metadata (e.g. the scheduler's position, data order).
    """
    target = Path(dir)
    ensure_folder(target.parent, "checkpoint folder")
    resolved_arch = architecture(setup, preset, **dict(arch or {}))
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as exc:
        raise write_error(target, exc, "write the checkpoint") from None
    try:
        files: dict[str, dict[str, Any]] = {}
        _write_tensors(tmp / MODEL_FILE, _net_tensors(nets, half), target / MODEL_FILE)
        files[MODEL_FILE] = _file_record(tmp / MODEL_FILE)
        optim_meta: dict[str, Any] = {}
        if optimizers or state_tensors:
            tensors, optim_meta = _optimizer_tensors(optimizers or {})
            for key, value in (state_tensors or {}).items():
                tensors[f"state.{key}"] = value.detach().cpu().contiguous()
            _write_tensors(tmp / OPTIM_FILE, tensors, target / OPTIM_FILE)
            files[OPTIM_FILE] = _file_record(tmp / OPTIM_FILE)
        meta = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "setup": setup,
            "preset": preset,
            "size": int(size),
            "arch": resolved_arch,
            "step": int(step),
            "nets": sorted(nets),
            "dtype": "float16" if half else "float32",
            "config": dict(config or {}),
            "optimizers": optim_meta,
            "extra": dict(extra or {}),
            "files": files,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "torch_version": torch.__version__,
        }
        _write_json(tmp / META_FILE, meta, target / META_FILE)
        try:
            _move_into_place(tmp, target, list(files))
        except OSError as exc:
            raise write_error(target, exc, "publish the checkpoint") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def checkpoint_dir_for(run_dir: str | Path, step: int) -> Path:
    """Where a run keeps the checkpoint of ``step`` (zero-padded so names sort by step)."""
    return Path(run_dir) / CHECKPOINTS_DIR / f"step_{step:08d}"


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoints of a run (those with a checkpoint.json), oldest first."""
    folder = Path(run_dir) / CHECKPOINTS_DIR
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("step_*") if p.is_dir() and (p / META_FILE).is_file()]
    return sorted(found, key=lambda p: _step_of(p))


def prune_checkpoints(run_dir: str | Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints of a run."""
    for old in list_checkpoints(run_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)


def _net_tensors(nets: Mapping[str, nn.Module], half: bool) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    for name, net in nets.items():
        for key, value in net.state_dict().items():
            value = value.detach().cpu()
            if half and value.is_floating_point():
                value = value.to(torch.float16)
            tensors[f"{name}.{key}"] = value.clone().contiguous()
    return tensors


def _optimizer_tensors(optimizers: Mapping[str, torch.optim.Optimizer]) -> tuple[dict[str, torch.Tensor], dict]:
    """Split optimizer state dicts into tensors (safetensors) and JSON (param groups, plain numbers)."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    for name, optimizer in optimizers.items():
        state = optimizer.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for index, entries in state["state"].items():
            for key, value in entries.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"{name}.state.{index}.{key}"] = value.detach().cpu().clone().contiguous()
                else:
                    scalars.setdefault(str(index), {})[key] = value
        meta[name] = {"param_groups": state["param_groups"], "scalars": scalars}
    return tensors, meta


def _write_tensors(path: Path, tensors: dict[str, torch.Tensor], shown: Path) -> None:
    write_bytes_verified(path, save(tensors, metadata={"format": FORMAT_NAME}), shown=shown)


def _write_json(path: Path, data: dict, shown: Path) -> None:
    text = json.dumps(data, indent=2, default=_json_default) + "\n"
    write_bytes_verified(path, text.encode("utf-8"), shown=shown)


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | set):
        return list(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _file_record(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _move_into_place(tmp: Path, target: Path, tensor_files: list[str]) -> None:
    """A new folder is renamed in one step; an existing one (e.g. a shipped model folder that also holds
    latent files) gets its tensor files replaced first and checkpoint.json last."""
    if not target.exists():
        os.replace(tmp, target)
        return
    for name in tensor_files:
        os.replace(tmp / name, target / name)
    if OPTIM_FILE not in tensor_files and (target / OPTIM_FILE).exists():
        (target / OPTIM_FILE).unlink()  # a stale optimizer state would not match the new weights
    os.replace(tmp / META_FILE, target / META_FILE)


def _step_of(path: Path) -> int:
    try:
        return int(path.name.split("_", 1)[1])
    except (IndexError, ValueError):
        return -1


# ----------------------------------------------------------------------------------------- reading


def find_checkpoint(path: str | Path) -> Path:
    """Resolve a run folder (its latest checkpoint), a checkpoint folder, or a file inside one."""
    path = Path(path).expanduser()
    if path.is_file():
        path = path.parent
    if not path.exists():
        raise CheckpointError(f"No model found at {path}: the folder does not exist.")
    if (path / META_FILE).is_file():
        return path
    if (path / CHECKPOINTS_DIR).is_dir():
        found = list_checkpoints(path)
        if not found:
            raise CheckpointError(f"The training run {path} has no checkpoint yet; train it for some steps first.")
        return found[-1]
    raise CheckpointError(
        f"{path} is not a KeepSmiling model: it has neither {META_FILE} nor a {CHECKPOINTS_DIR}/ folder."
    )


def read_meta(path: str | Path) -> dict:
    """The validated checkpoint.json of a checkpoint (or of a run's latest checkpoint)."""
    folder = find_checkpoint(path)
    meta_path = folder / META_FILE
    try:
        meta = read_json_file(meta_path, "re-save the model or use an older checkpoint")
    except ValidationError as exc:
        raise CheckpointError(str(exc)) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{meta_path} is not a KeepSmiling checkpoint (format is not {FORMAT_NAME!r}).")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{meta_path} has checkpoint format version {version!r}; this KeepSmiling reads up to "
            f"version {FORMAT_VERSION}. Update KeepSmiling to open it."
        )
    missing = [k for k in ("setup", "preset", "size", "step", "files") if k not in meta]
    if missing:
        raise CheckpointError(f"{meta_path} lacks required field(s) {', '.join(missing)}; the file is damaged.")
    try:
        check_checkpoint_meta(meta, meta_path, setups=known_setups(), presets=PRESETS)
    except ValidationError as exc:
        raise CheckpointError(str(exc)) from None
    meta["_dir"] = str(folder)
    return meta


def read_tensors(folder: Path, name: str, meta: dict) -> dict[str, torch.Tensor]:
    """Load one tensor file of a checkpoint after checking its recorded size and hash."""
    path = folder / name
    record = meta["files"].get(name)
    if record is None:
        raise CheckpointError(f"{folder} has no {name} listed in its {META_FILE}.")
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; the checkpoint is incomplete.")
    size = path.stat().st_size
    if size > MAX_TENSOR_FILE_BYTES:
        raise CheckpointError(f"{path} is {size:,} bytes, far larger than any KeepSmiling model; refusing it.")
    if size != record.get("bytes"):
        raise CheckpointError(
            f"{path} is truncated or damaged: it has {size} bytes but {record.get('bytes')} were written. "
            "Use another checkpoint or retrain."
        )
    if _sha256(path) != record.get("sha256"):
        raise CheckpointError(f"{path} is corrupt: its content does not match the checksum in {META_FILE}.")
    return load_safetensors(path, CheckpointError)


def load_safetensors(path: Path, error: type[Exception] = CheckpointError) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file (never a pickle); a damaged header or body raises ``error``."""
    try:
        return load(path.read_bytes())
    except (SafetensorError, OSError, ValueError, RuntimeError, MemoryError, OverflowError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"{path} cannot be read as safetensors ({first}); the file is damaged.") from None


def load_model(
    path: str | Path, device: str | torch.device | None = None, *, setup: str | None = None
) -> LoadedModel:
    """Rebuild the networks of a checkpoint (or a run's latest) in eval mode, as float32, on ``device``.

    ``setup`` guards against handing e.g. a ComplexGAN to code that needs a SplitGAN.
    """
    meta = read_meta(path)
    folder = Path(meta["_dir"])
    if setup is not None and meta["setup"] != setup:
        raise CheckpointError(f"{folder} holds a {meta['setup']} model, but a {setup} model is needed here.")
    target = device if isinstance(device, torch.device) else pick_device(device)
    nets = _build_from_meta(meta, folder)
    tensors = read_tensors(folder, MODEL_FILE, meta)
    _check_finite(tensors, folder / MODEL_FILE)
    _load_net_tensors(nets, tensors, folder)
    for net in nets.values():
        net.to(target).eval()
    return LoadedModel(
        setup=meta["setup"], preset=meta["preset"], size=int(meta["size"]), step=int(meta["step"]),
        nets=nets, meta=meta, path=folder,
    )


def load_training_state(
    path: str | Path,
    nets: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
) -> tuple[dict, dict[str, torch.Tensor]]:
    """Restore weights and optimizer state in place for ``--resume``; returns (meta, state tensors)."""
    meta = read_meta(path)
    folder = Path(meta["_dir"])
    weights = read_tensors(folder, MODEL_FILE, meta)
    _check_finite(weights, folder / MODEL_FILE)
    _load_net_tensors(nets, weights, folder)
    if OPTIM_FILE not in meta["files"]:
        raise CheckpointError(f"{folder} holds weights only (no optimizer state), so training cannot resume from it.")
    tensors = read_tensors(folder, OPTIM_FILE, meta)
    try:
        check_optim_tensors(tensors, folder / OPTIM_FILE, optimizers)
    except ValidationError as exc:
        raise CheckpointError(str(exc)) from None
    for name, optimizer in optimizers.items():
        saved = (meta.get("optimizers") or {}).get(name)
        if not isinstance(saved, dict) or not isinstance(saved.get("param_groups"), list) or not all(
            isinstance(group, dict) for group in saved["param_groups"]
        ) or not isinstance(saved.get("scalars", {}), dict):
            raise CheckpointError(
                f"{folder / META_FILE}, field 'optimizers.{name}': missing or malformed; "
                "resume from an older checkpoint or start a new run."
            )
        state: dict[int, dict[str, Any]] = {}
        prefix = f"{name}.state."
        for key, value in tensors.items():
            if key.startswith(prefix):
                index, entry = key[len(prefix):].split(".", 1)
                state.setdefault(int(index), {})[entry] = value
        for index, entries in saved.get("scalars", {}).items():
            if not str(index).isdigit() or not isinstance(entries, dict):
                raise CheckpointError(f"{folder / META_FILE}, field 'optimizers.{name}.scalars': malformed; "
                                      "resume from an older checkpoint or start a new run.")
            state.setdefault(int(index), {}).update(entries)
        groups = [
            {k: tuple(v) if k == "betas" else v for k, v in group.items()} for group in saved["param_groups"]
        ]
        try:
            optimizer.load_state_dict({"state": state, "param_groups": groups})
        except (ValueError, KeyError, RuntimeError, TypeError, IndexError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CheckpointError(f"The optimizer state in {folder} does not fit this run ({first}).") from None
    state_tensors = {k[len("state."):]: v for k, v in tensors.items() if k.startswith("state.")}
    return meta, state_tensors


def init_weights_from(path: str | Path, nets: Mapping[str, nn.Module], setup: str) -> list[str]:
    """Start a new run from another run's weights (fine-tuning); returns the parameters left freshly initialised.

    Only weights whose name and shape match are copied, so a recipe may add a head (e.g. a smile head on
    SplitGAN's critic) to networks trained without it. Optimizer state is not carried over: the new run's
    losses differ, and stale Adam moments would steer its first steps."""
    meta = read_meta(path)
    folder = Path(meta["_dir"])
    if meta["setup"] != setup:
        raise CheckpointError(f"{folder} holds a {meta['setup']} model; a {setup} run cannot start from it.")
    tensors = read_tensors(folder, MODEL_FILE, meta)
    _check_finite(tensors, folder / MODEL_FILE)
    fresh = []
    for name, net in nets.items():
        state = net.state_dict()
        for key, value in state.items():
            saved = tensors.get(f"{name}.{key}")
            if saved is None:
                fresh.append(f"{name}.{key}")
            elif saved.shape != value.shape:
                raise CheckpointError(
                    f"{folder / MODEL_FILE} does not fit this run: {name}.{key} has shape {tuple(saved.shape)}, "
                    f"the run's network needs {tuple(value.shape)} (same preset and size are required).")
            else:
                state[key] = saved.to(value.dtype)
        net.load_state_dict(state)
    if len(fresh) == sum(len(net.state_dict()) for net in nets.values()):
        raise CheckpointError(f"{folder} shares no weights with this run's networks.")
    return fresh


def _check_finite(tensors: dict[str, torch.Tensor], path: Path) -> None:
    try:
        check_finite(tensors, path)
    except ValidationError as exc:
        raise CheckpointError(str(exc)) from None


def _build_from_meta(meta: dict, folder: Path) -> dict[str, nn.Module]:
    try:
        arch = stored_architecture(meta["setup"], meta["preset"], dict(meta.get("arch") or {}))
        return build_setup(meta["setup"], meta["preset"], int(meta["size"]), **arch)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{folder / META_FILE} describes a model this version cannot build: {exc}") from exc


def _load_net_tensors(nets: Mapping[str, nn.Module], tensors: dict[str, torch.Tensor], folder: Path) -> None:
    for name, net in nets.items():
        prefix = f"{name}."
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        if not state:
            raise CheckpointError(f"{folder / MODEL_FILE} has no weights for the {name!r} network.")
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise CheckpointError(
                f"The weights in {folder / MODEL_FILE} do not fit the {name!r} network ({first})."
            ) from exc
