"""The one place that decides where tensors live.

CUDA when available, CPU otherwise; an explicit ``--device`` (``cpu``, ``cuda``, ``cuda:1``; ``mps`` only
where this torch build and machine have it) wins. Anything else is refused here with a clear message,
before it can reach torch as a traceback.
"""

from __future__ import annotations

import torch

from .errors import KeepSmilingError


def pick_device(requested: str | None = None) -> torch.device:
    """Return the device to run on; ``requested`` of None or "auto" means best available."""
    if requested in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(requested, str):
        raise KeepSmilingError(f"Unknown device {requested!r}: use 'auto', 'cpu' or 'cuda[:N]'.")
    try:
        device = torch.device(requested.strip().lower())
    except (RuntimeError, ValueError, TypeError):
        raise KeepSmilingError(f"Unknown device {requested!r}: use 'auto', 'cpu' or 'cuda[:N]'.") from None
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise KeepSmilingError(
                f"Device {requested!r} (Apple GPU) is not available in this build or on this machine; "
                "use 'auto' or 'cpu'.")
        return device
    if device.type not in ("cpu", "cuda"):
        raise KeepSmilingError(
            f"Device {requested!r} is not supported by KeepSmiling: use 'auto', 'cpu' or 'cuda[:N]'.")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise KeepSmilingError(f"Device {requested!r} was asked for, but no CUDA GPU is available here.")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise KeepSmilingError(
                f"Device {requested!r} does not exist: this machine has {torch.cuda.device_count()} GPU(s)."
            )
    return device


def device_name(device: torch.device) -> str:
    """Human-readable name for status bars and logs, e.g. 'NVIDIA H100 (cuda:0)' or 'CPU (2 threads)'."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"{torch.cuda.get_device_name(index)} (cuda:{index})"
    return f"CPU ({torch.get_num_threads()} threads)"


def is_out_of_memory(exc: BaseException) -> bool:
    """True for GPU out-of-memory errors, so callers can suggest a smaller batch instead of crashing."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
