"""Data-parallel training over several processes (torchrun / ``keepsmiling train --nproc N``).

Each process ("rank") holds a full copy of the networks and trains on its own slice of every global
batch; gradients are averaged across ranks before every optimizer step, so all ranks take the same step
and their weights stay identical. NCCL carries the tensors between GPUs, gloo between CPU processes.

Why gradients are averaged by an optimizer hook instead of wrapping the networks in
``torch.nn.parallel.DistributedDataParallel``: DDP all-reduces in hooks armed by the wrapper's
``forward``, and the recipes step outside that pattern. They freeze the critic while the generator
updates (DDP then waits for gradients that never come and fails at the next step), ComplexGAN's
generator is called through ``forward_with_mask`` (DDP would skip its all-reduce without a word), and the
critics' R1 / gradient penalties differentiate twice. One flattened all-reduce per optimizer step, as in
StyleGAN2-ADA's training loop, is the same mathematics for every recipe, whatever it calls; it gives up
DDP's overlap of communication with the backward pass, which matters little for networks this small.

BatchNorm: on CUDA the networks that are never differentiated twice use ``SyncBatchNorm`` (batch
statistics over the global batch, so 2 x B matches 1 x 2B). Critics trained with a gradient penalty or
R1 keep per-rank BatchNorm, because ``SyncBatchNorm`` has no double backward; ``SyncBatchNorm`` also runs
only on GPUs, so CPU (gloo) runs use per-rank statistics everywhere. Running statistics are averaged over
the ranks before every sample grid and checkpoint, so every rank holds the same buffers there.

Per-sample randomness (flips, colour jitter, SimpleGAN's noise) is drawn for the global batch from the
shared RNG stream and each rank takes its slice: the RNG state is the same on every rank, a checkpoint's
RNG state serves any process count, and a 2 x B run draws exactly what a 1 x 2B run draws.
"""

from __future__ import annotations

import datetime
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from ..errors import KeepSmilingError, TrainingError

T = TypeVar("T")
TIMEOUT = datetime.timedelta(minutes=10)   # a rank silent this long (wedged, not dead) ends the job


@dataclass(frozen=True)
class Shard:
    """This process's place in the job: rank ``rank`` of ``world`` (1 = plain single-process training)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes checkpoints, metrics, TensorBoard events and sample grids."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def take(self, global_tensor: torch.Tensor) -> torch.Tensor:
        """This rank's slice (along dim 0) of something drawn for the whole global batch."""
        if self.world == 1:
            return global_tensor
        per_rank = global_tensor.shape[0] // self.world
        return global_tensor[self.rank * per_rank:(self.rank + 1) * per_rank]


SINGLE = Shard()


def shard_from_env() -> Shard:
    """The shard torchrun describes in RANK / WORLD_SIZE / LOCAL_RANK (single process without them)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError as exc:
        raise TrainingError(f"Malformed torchrun environment (RANK/WORLD_SIZE/LOCAL_RANK): {exc}") from exc
    if world < 1 or not 0 <= rank < world:
        raise TrainingError(f"Malformed torchrun environment: rank {rank} of world size {world}.")
    return Shard(rank, world, local_rank)


def start(shard: Shard, device: torch.device) -> bool:
    """Join the process group (NCCL for CUDA, gloo for CPU); True when this call created it."""
    if not shard.distributed or dist.is_initialized():
        return False
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_available() or (backend == "nccl" and not dist.is_nccl_available()):
        raise TrainingError(f"This torch build has no {backend} backend for distributed training.")
    kwargs: dict[str, Any] = {"backend": backend, "timeout": TIMEOUT}
    if device.type == "cuda":
        kwargs["device_id"] = device  # binds NCCL to this rank's GPU up front
    try:
        dist.init_process_group(**kwargs)
    except (RuntimeError, ValueError) as exc:
        raise TrainingError(f"Could not join the distributed job (rank {shard.rank} of {shard.world}): {exc}") \
            from exc
    return True


def stop(created: bool) -> None:
    if created and dist.is_initialized():
        dist.destroy_process_group()


def device_for(shard: Shard, device: torch.device) -> torch.device:
    """Each rank on a node takes GPU ``LOCAL_RANK`` (torchrun's convention); CPU ranks share the CPU."""
    if device.type != "cuda" or not shard.distributed:
        return device
    if shard.local_rank >= torch.cuda.device_count():
        raise TrainingError(f"Rank {shard.rank} wants GPU {shard.local_rank}, but this machine has "
                            f"{torch.cuda.device_count()}; start at most that many processes per node.")
    torch.cuda.set_device(shard.local_rank)
    return torch.device("cuda", shard.local_rank)


def from_main(shard: Shard, fn: Callable[[], T]) -> T:
    """Run ``fn`` on rank 0 only and hand its result - or its user-facing error - to every rank.

    Reading the run folder (settings, checkpoints) on rank 0 alone means other nodes need no shared
    file system, and an error there ends every rank with the same message instead of a hang."""
    if not shard.distributed:
        return fn()
    box: list[Any] = [None]
    if shard.is_main:
        try:
            box[0] = ("ok", fn())
        except KeepSmilingError as exc:
            box[0] = ("error", exc)
    dist.broadcast_object_list(box, src=0)
    kind, value = box[0]
    if kind == "error":
        raise value
    return value


def broadcast_state(shard: Shard, nets: dict[str, nn.Module]) -> None:
    """Give every rank rank 0's parameters and buffers (after init, ``--init-from`` or a resume)."""
    if not shard.distributed:
        return
    with torch.no_grad():
        for net in nets.values():
            for tensor in [*net.parameters(), *net.buffers()]:
                dist.broadcast(tensor.data, src=0)


def average_buffers(shard: Shard, nets: dict[str, nn.Module]) -> None:
    """Average BatchNorm running statistics over the ranks (each rank saw other crops)."""
    if not shard.distributed:
        return
    with torch.no_grad():
        for net in nets.values():
            for buffer in net.buffers():
                if buffer.is_floating_point():
                    dist.all_reduce(buffer.data)
                    buffer.data.div_(shard.world)


def average_gradients_on_step(shard: Shard, optimizers: dict[str, torch.optim.Optimizer]) -> None:
    """Make every optimizer average its gradients over the ranks just before it steps."""
    if not shard.distributed:
        return

    def hook(optimizer: torch.optim.Optimizer, args, kwargs) -> None:
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat.div_(shard.world)
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    for optimizer in optimizers.values():
        optimizer.register_step_pre_hook(hook)


def mean_over_ranks(shard: Shard, values: dict[str, torch.Tensor]) -> dict[str, float]:
    """Loss tensors averaged over ranks and read out once (one device sync per logging interval)."""
    if not values:
        return {}
    keys = sorted(values)
    stacked = torch.stack([values[k].detach().float().reshape(()) for k in keys])
    if shard.distributed:
        dist.all_reduce(stacked)
        stacked.div_(shard.world)
    return dict(zip(keys, stacked.tolist(), strict=True))


def any_rank(shard: Shard, flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any (a stop asked of one rank stops them all)."""
    if not shard.distributed:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def ranks_identical(shard: Shard, nets: dict[str, nn.Module]) -> bool:
    """Whether every rank holds bit-identical weights and buffers, compared through a fingerprint.

    Each tensor contributes its sum and a position-weighted sum (so a swap or a sign flip shows); rank
    fingerprints are gathered and compared exactly."""
    if not shard.distributed:
        return True
    parts = []
    with torch.no_grad():
        for net in nets.values():
            for tensor in [*net.parameters(), *net.buffers()]:
                flat = tensor.detach().double().reshape(-1)
                weights = torch.arange(1, flat.numel() + 1, device=flat.device, dtype=torch.float64).sin_()
                parts.append(torch.stack([flat.sum(), (flat * weights).sum()]))
    mine = torch.cat(parts)
    gathered = [torch.empty_like(mine) for _ in range(shard.world)]
    dist.all_gather(gathered, mine)
    return all(torch.equal(gathered[0], other) for other in gathered[1:])


def convert_sync_batchnorm(nets: dict[str, nn.Module], twice_differentiated: set[str]) -> list[str]:
    """Swap BatchNorm for SyncBatchNorm (CUDA only) in every net not differentiated twice; returns their names."""
    converted = []
    for name, net in nets.items():
        if name in twice_differentiated:
            continue
        if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules()):
            nets[name] = nn.SyncBatchNorm.convert_sync_batchnorm(net)
            converted.append(name)
    return converted


def failure_message(exc: BaseException, shard: Shard) -> str:
    """A one-line reason when a collective fails because another rank died or the job was torn down."""
    return (f"Distributed training stopped on rank {shard.rank} of {shard.world}: another training process "
            f"ended or stopped answering ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}). "
            "Look for the first error above; --resume continues from the last checkpoint.")


# ----------------------------------------------------------------------------------------- launching

def launch(nproc: int, entrypoint: Callable[..., Any] | str, args: tuple = (), *,
           threads_per_process: int | None = None) -> dict[int, Any]:
    """Start ``nproc`` ranks on this machine, as ``torchrun --standalone --nproc_per_node nproc`` would.

    ``entrypoint`` is a program (e.g. ``sys.executable``) with its ``args``, or a picklable function
    called as ``entrypoint(*args)`` in each rank, whose return values come back per rank. When one rank
    fails the others are stopped and a ``TrainingError`` names the failed rank and its exit code."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if nproc < 1:
        raise TrainingError(f"--nproc must be at least 1, not {nproc}.")
    threads = threads_per_process or max(1, (os.cpu_count() or 1) // nproc)
    # torchrun sets OMP_NUM_THREADS=1 for several ranks; on CPU each rank may use its share of the cores.
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    config = LaunchConfig(
        min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=f"keepsmiling-{uuid.uuid4()}",
        rdzv_backend="c10d", rdzv_endpoint="localhost:0",
        max_restarts=0, monitor_interval=0.2, start_method="spawn",
    )
    try:
        return elastic_launch(config, entrypoint)(*args)
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        raise TrainingError(
            f"Training process rank {rank} of {nproc} failed (exit code {failure.exitcode}); the others were "
            f"stopped. Its error is printed above; --resume continues from the last checkpoint."
        ) from None


def launched_by_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ or int(os.environ.get("WORLD_SIZE", "1")) > 1


def python_module_command(module: str, argv: list[str]) -> tuple[str, tuple[str, ...]]:
    """(program, args) running ``python -m module argv`` in each rank."""
    return sys.executable, ("-m", module, *argv)
