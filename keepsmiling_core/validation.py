"""The one schema check for everything the core reads from disk that is not an image.

Model folders (``checkpoint.json``), run folders (``config.json``, ``metrics.jsonl``, the keys and RNG state
in ``optim.safetensors``) and smile directions (``latent.json``, ``latent.safetensors``) come from earlier
runs, other versions, a crash in the middle of a write, or a stranger. Each is checked here before any
value is used: types, ranges, and sizes capped *before* anything is allocated (an ``arch`` width of 10⁹
once tried to allocate 128 TB). Every failure is a ``ValidationError`` naming the file, the field and
what to do, so front ends show one line instead of a ``ValueError`` from deep inside torch.

Tensors are checked for finite values on load (``check_finite``): a NaN weight, direction, norm or
calibration used to erase the mouth silently and report success.

This module sits below every package that reads such files, so it imports nothing of theirs: the names a
field may take (setups, presets, a recipe's hyper-parameters, a latent file's format) come from the caller.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from .errors import ValidationError

MAX_JSON_BYTES = 32 * 1024 * 1024       # a checkpoint.json with a cache manifest is ~10 kB
MAX_METRICS_BYTES = 512 * 1024 * 1024   # one line per logged step: 10⁶ steps stay far below
MAX_TENSOR_FILE_BYTES = 8 * 1024**3     # the largest model here is ~60 MB
MAX_STEP = 10**9
MAX_ARCH_VALUE = 1024                   # widths, channels, noise size, block counts (shipped: <= 128)
MAX_LATENT_ELEMENTS = 10**7
SIZES = (16, 32, 64, 128, 256)
TENSOR_FILES = ("model.safetensors", "optim.safetensors")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_OPTIM_KEY = re.compile(r"^[A-Za-z_][\w]*\.state\.\d{1,9}\.[A-Za-z_]\w*$")
_STATE_KEY = re.compile(r"^state\.[A-Za-z_]\w*$")


def fail(path: str | os.PathLike, field: str | None, problem: str, todo: str) -> ValidationError:
    """The one message shape: which file, which field, what is wrong, what to do."""
    where = f"{path}" + (f", field '{field}'" if field else "")
    return ValidationError(f"{where}: {problem}; {todo}.")


# ------------------------------------------------------------------------------------------ files


def read_json_file(path: str | os.PathLike, todo: str, *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse a JSON file that must be a regular, bounded, UTF-8 file; ``todo`` says how to fix a bad one."""
    path = Path(path)
    data = read_regular_bytes(path, todo, max_bytes=max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise fail(path, None, "is not UTF-8 text", todo) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(path, None, f"is corrupt or truncated: not valid JSON (line {exc.lineno}: {exc.msg})",
                   todo) from None
    except RecursionError:
        raise fail(path, None, "is nested too deeply to be a KeepSmiling file", todo) from None


def read_regular_bytes(path: Path, todo: str, *, max_bytes: int) -> bytes:
    """The bytes of a regular file no larger than ``max_bytes`` (FIFOs and folders refused without opening)."""
    check_regular(path, todo)
    size = path.stat().st_size
    if size > max_bytes:
        raise fail(path, None, f"is {size:,} bytes, more than the {max_bytes:,} such a file can have", todo)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(path, None, f"cannot be read ({exc.strerror or exc})", todo) from None


def check_regular(path: Path, todo: str) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise fail(path, None, "is missing", todo) from None
    except OSError as exc:
        raise fail(path, None, f"cannot be read ({exc.strerror or exc})", todo) from None
    if stat.S_ISDIR(mode):
        raise fail(path, None, "is a folder where a file was expected", todo)
    if not stat.S_ISREG(mode):
        raise fail(path, None, "is not a regular file (a pipe, device or socket)", todo)


# ------------------------------------------------------------------------------------------ values


def need_dict(value: Any, path: Path, field: str | None, todo: str) -> dict:
    if not isinstance(value, dict):
        raise fail(path, field, f"must be a JSON object, not {_kind(value)}", todo)
    return value


def need_int(value: Any, path: Path, field: str, todo: str, *, low: int = 0, high: int = MAX_STEP) -> int:
    """An integer (a float with an integral value is accepted: JSON writers differ) within [low, high]."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(path, field, f"must be a whole number, not {_kind(value)}", todo)
    if not low <= value <= high:
        raise fail(path, field, f"is {value}, outside {low}..{high}", todo)
    return value


def need_float(value: Any, path: Path, field: str, todo: str, *, low: float = -1e12, high: float = 1e12,
               positive: bool = False) -> float:
    """A finite number within [low, high] (NaN, ±inf and 1e308-like values refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(path, field, f"must be a number, not {_kind(value)}", todo)
    value = float(value)
    if not math.isfinite(value):
        raise fail(path, field, f"is {value}, not a finite number", todo)
    if not low <= value <= high or (positive and value <= 0):
        raise fail(path, field, f"is {value:g}, outside the range {'(0' if positive else f'[{low:g}'}, {high:g}]", todo)
    return value


def need_str(value: Any, path: Path, field: str, todo: str, choices: Iterable[str] | None = None) -> str:
    if not isinstance(value, str):
        raise fail(path, field, f"must be text, not {_kind(value)}", todo)
    if choices is not None and value not in tuple(choices):
        raise fail(path, field, f"is {value!r}, not one of {', '.join(map(repr, choices))}", todo)
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"true/false ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:20] + "…"
        return f"text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"{type(value).__name__} {value!r}"[:60]


def check_arch(arch: Any, path: Path, todo: str, field: str = "arch") -> dict:
    """Network sizes: whole numbers in 0..MAX_ARCH_VALUE or true/false, checked before any network is built."""
    arch = need_dict(arch, path, field, todo)
    for name, value in arch.items():
        if isinstance(value, bool):
            continue
        need_int(value, path, f"{field}.{name}", todo, low=0, high=MAX_ARCH_VALUE)
    return arch


# ------------------------------------------------------------------------------------ checkpoints

CHECKPOINT_TODO = "the model folder is damaged: use another checkpoint, re-export the model or retrain"


def check_checkpoint_meta(meta: Any, path: Path, *, setups: Iterable[str], presets: Iterable[str]) -> dict:
    """A ``checkpoint.json`` after its format name and version were accepted: every field the loaders use.

    ``setups`` and ``presets``: the names the registry builds (``models/checkpoint.py`` passes them)."""
    todo = CHECKPOINT_TODO
    meta = need_dict(meta, path, None, todo)
    need_str(meta.get("setup"), path, "setup", todo, tuple(setups))
    need_str(meta.get("preset"), path, "preset", todo, tuple(presets))
    size = need_int(meta.get("size"), path, "size", todo, low=1, high=max(SIZES))
    if size not in SIZES:
        raise fail(path, "size", f"is {size}, not one of {', '.join(map(str, SIZES))}", todo)
    meta["size"] = size
    meta["step"] = need_int(meta.get("step"), path, "step", todo, low=0, high=MAX_STEP)
    files = need_dict(meta.get("files"), path, "files", todo)
    for name, record in files.items():
        if name not in TENSOR_FILES:
            raise fail(path, f"files.{name}", f"names an unknown file (expected {' or '.join(TENSOR_FILES)})", todo)
        record = need_dict(record, path, f"files.{name}", todo)
        need_int(record.get("bytes"), path, f"files.{name}.bytes", todo, low=1, high=MAX_TENSOR_FILE_BYTES)
        sha = record.get("sha256")
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise fail(path, f"files.{name}.sha256", "must be 64 lower-case hex digits", todo)
    if "model.safetensors" not in files:
        raise fail(path, "files", "does not list model.safetensors", todo)
    check_arch(meta.get("arch") or {}, path, todo)
    for name in ("config", "optimizers", "extra"):
        if meta.get(name) is not None:
            need_dict(meta[name], path, name, todo)
    if meta.get("dtype") is not None:
        need_str(meta["dtype"], path, "dtype", todo, ("float16", "float32"))
    if meta.get("nets") is not None and not (
        isinstance(meta["nets"], list) and all(isinstance(n, str) for n in meta["nets"])
    ):
        raise fail(path, "nets", "must be a list of network names", todo)
    return meta


def check_finite(tensors: Mapping[str, torch.Tensor], path: Path, todo: str = CHECKPOINT_TODO) -> None:
    """Refuse NaN or infinite values in any floating-point tensor (weights, moments, directions)."""
    for key, value in tensors.items():
        if value.is_floating_point() and value.numel() and not bool(torch.isfinite(value).all()):
            raise fail(path, key, "holds NaN or infinite values", todo)


def check_optim_tensors(tensors: Mapping[str, torch.Tensor], path: Path, optimizer_names: Iterable[str]) -> None:
    """Keys of ``optim.safetensors``: ``<optimizer>.state.<index>.<entry>`` or ``state.<name>``, nothing else."""
    todo = "the run's optimizer state is damaged: resume from an older checkpoint or start a new run"
    names = set(optimizer_names)
    for key in tensors:
        if _STATE_KEY.match(key):
            continue
        if not _OPTIM_KEY.match(key) or key.split(".", 1)[0] not in names:
            raise fail(path, key, "is not an optimizer state entry of this run", todo)
    check_finite(tensors, path, todo)


def check_rng_state(state: Mapping[str, torch.Tensor], path: Path) -> None:
    """The saved CPU (and CUDA) generator states must be byte tensors of the size torch uses."""
    todo = "the run's random-number state is damaged: resume from an older checkpoint or start a new run"
    for key, value in state.items():
        if not key.startswith("rng_"):
            continue
        expected = torch.get_rng_state() if key == "rng_cpu" else None
        if value.dtype != torch.uint8 or value.dim() != 1:
            raise fail(path, f"state.{key}", f"must be a 1-D byte tensor, not {value.dtype} {tuple(value.shape)}", todo)
        if expected is not None and value.shape != expected.shape:
            raise fail(path, f"state.{key}", f"has {value.numel()} bytes, torch needs {expected.numel()}", todo)


# ---------------------------------------------------------------------------------------- run folders

RUN_TODO = "fix or delete the file, or resume from the newest checkpoint (its settings are stored there)"


def check_run_config(data: Any, path: Path, *, setups: Iterable[str], presets: Iterable[str],
                     hyperparameters: Callable[[str, str, dict], Any]) -> dict:
    """A run's ``config.json`` (or the config stored in a checkpoint): the TrainConfig fields, typed and in range.

    ``setups``/``presets``: the trainable names; ``hyperparameters(setup, preset, hparams)`` raises ValueError
    or TypeError for an unknown name or a value of the wrong kind (``training/config.py`` passes the recipes')."""
    todo = RUN_TODO
    data = need_dict(data, path, None, todo)
    need_str(data.get("setup"), path, "setup", todo, tuple(setups))
    if "preset" in data:
        need_str(data["preset"], path, "preset", todo, tuple(presets))
    for name in ("data", "out", "device"):
        if name in data:
            need_str(data[name], path, name, todo)
    for name, low, high in (("steps", 1, MAX_STEP), ("checkpoint_every", 1, MAX_STEP), ("sample_every", 1, MAX_STEP),
                            ("log_every", 1, MAX_STEP), ("keep_checkpoints", 0, 10**6), ("seed", -(2**63), 2**64 - 1)):
        if name in data:
            data[name] = need_int(data[name], path, name, todo, low=low, high=high)
    if data.get("batch_size") is not None:
        data["batch_size"] = need_int(data["batch_size"], path, "batch_size", todo, low=1, high=65536)
    if data.get("size") is not None:
        size = need_int(data["size"], path, "size", todo, low=1, high=max(SIZES))
        if size not in SIZES:
            raise fail(path, "size", f"is {size}, not one of {', '.join(map(str, SIZES))}", todo)
    if data.get("lr") is not None:
        need_float(data["lr"], path, "lr", todo, high=10.0, positive=True)
    for name in ("resume", "tensorboard"):
        if name in data and not isinstance(data[name], bool):
            raise fail(path, name, f"must be true or false, not {_kind(data[name])}", todo)
    for name in ("init_from", "smile_from"):
        if data.get(name) is not None:
            need_str(data[name], path, name, todo)
    hparams = need_dict(data.get("hparams", {}), path, "hparams", todo)
    for name, value in hparams.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise fail(path, f"hparams.{name}", f"is {value}, not a finite number", todo)
    try:  # names and kinds against the setup's hyper-parameters (text for a loss weight, ...)
        hyperparameters(data["setup"], data.get("preset", "default"), hparams)
    except (ValueError, TypeError) as exc:
        raise fail(path, "hparams", str(exc), todo) from None
    check_arch(data.get("arch", {}), path, todo)
    resolved = data.get("resolved")
    if resolved is not None:
        resolved = need_dict(resolved, path, "resolved", todo)
        need_dict(resolved.get("hparams", {}), path, "resolved.hparams", todo)
        check_arch(resolved.get("arch", {}), path, todo, "resolved.arch")
    return data


def read_metrics(path: str | os.PathLike) -> tuple[list[dict], int]:
    """The records of a ``metrics.jsonl`` and how many lines were skipped as unreadable.

    A line that is not UTF-8, not JSON, not an object or has no whole-number ``step`` is skipped (a kill
    during an append leaves a partial last line); a folder or pipe in the file's place is an error."""
    path = Path(path)
    if not path.exists():
        return [], 0
    raw = read_regular_bytes(path, "delete metrics.jsonl (the checkpoints are not affected)",
                             max_bytes=MAX_METRICS_BYTES)
    records, skipped = [], 0
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            skipped += 1
            continue
        step = record.get("step") if isinstance(record, dict) else None
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            skipped += 1
            continue
        records.append(record)
    return records, skipped


# ------------------------------------------------------------------------------------ smile directions

LATENT_TODO = "recompute it with 'keepsmiling latent --run MODEL --data CACHE_DIR'"
MAX_CALIBRATION = 1e6


def check_latent_info(info: Any, path: Path, latent_format: str, latent_version: int,
                      methods: Iterable[str]) -> dict:
    """``latent.json``: format, method, norm, latent shape and the calibration, all finite and in range."""
    todo = LATENT_TODO
    info = need_dict(info, path, None, todo)
    if info.get("format") != latent_format:
        raise fail(path, "format", f"is {info.get('format')!r}, not {latent_format!r}", todo)
    need_int(info.get("format_version", latent_version), path, "format_version", todo, low=1, high=latent_version)
    need_str(info.get("method"), path, "method", todo, tuple(methods))
    need_float(info.get("norm"), path, "norm", todo, high=MAX_CALIBRATION, positive=True)
    shape = info.get("latent_shape")
    if not isinstance(shape, list) or not 1 <= len(shape) <= 4:
        raise fail(path, "latent_shape", "must be a list of 1 to 4 whole numbers", todo)
    elements = 1
    for i, dim in enumerate(shape):
        elements *= need_int(dim, path, f"latent_shape[{i}]", todo, low=1, high=MAX_LATENT_ELEMENTS)
    if elements > MAX_LATENT_ELEMENTS:
        raise fail(path, "latent_shape", f"describes {elements:,} values, more than {MAX_LATENT_ELEMENTS:,}", todo)
    calibration = need_dict(info.get("calibration"), path, "calibration", todo)
    low = need_float(calibration.get("non_smiling"), path, "calibration.non_smiling", todo,
                     low=-MAX_CALIBRATION, high=MAX_CALIBRATION)
    high = need_float(calibration.get("smiling"), path, "calibration.smiling", todo,
                      low=-MAX_CALIBRATION, high=MAX_CALIBRATION)
    if high == low:
        raise fail(path, "calibration", "has equal smiling and non-smiling projections (a zero-length edit)", todo)
    if info.get("model_step") is not None:
        need_int(info["model_step"], path, "model_step", todo, low=0, high=MAX_STEP)
    sha = info.get("tensors_sha256")
    if sha is not None and (not isinstance(sha, str) or not _SHA256.match(sha)):
        raise fail(path, "tensors_sha256", "must be 64 lower-case hex digits", todo)
    return info


def check_latent_tensors(tensors: Mapping[str, torch.Tensor], path: Path, latent_shape: list[int]) -> torch.Tensor:
    """The unit direction of ``latent.safetensors``: present, finite, of the shape latent.json gives, unit length."""
    todo = LATENT_TODO
    unit = tensors.get("direction")
    if unit is None:
        raise fail(path, "direction", "is missing", todo)
    if not unit.is_floating_point():
        raise fail(path, "direction", f"must be floating point, not {unit.dtype}", todo)
    expected = math.prod(latent_shape)
    if unit.dim() != 1 or unit.numel() != expected:
        raise fail(path, "direction", f"has shape {tuple(unit.shape)}, latent.json's latent_shape needs ({expected},)",
                   todo)
    check_finite(tensors, path, todo)
    length = float(unit.float().norm())
    if not 0.99 < length < 1.01:
        raise fail(path, "direction", f"has length {length:.4g}, not 1", todo)
    return unit.float()
