"""Cooperative stopping inside a training step, so a stop request is honoured in about a second.

A step of a GAN can take 20–30 s on a loaded CPU; waiting for its end made Quit freeze the app for
minutes. Threads cannot be killed safely, so the trainer asks instead: ``StopHooks`` puts a cheap check
on every layer's forward pass and on every parameter's gradient, which raises ``StopRequested`` within a
layer's time of ``stop()``. A step abandoned half-way has already changed some state (the critic's
update, BatchNorm statistics, the RNG), so ``StepSnapshot`` keeps a copy of everything a step changes,
taken at its start, and puts it back: the run is then exactly at the end of its last complete step and
the checkpoint written there resumes as if it had never been interrupted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import torch
from torch import nn

from ..errors import KeepSmilingError


class StopRequested(KeepSmilingError):
    """Raised inside a step (or a long preparation) once a stop was asked for; the caller cleans up."""

    def __init__(self, message: str = "Stopped on request.") -> None:
        super().__init__(message)


class StopHooks:
    """Checks ``should_stop`` at every layer's forward and every parameter's gradient while installed."""

    def __init__(self, nets: Iterable[nn.Module], should_stop: Callable[[], bool]) -> None:
        self.should_stop = should_stop
        self._handles: list = []
        for net in nets:
            for module in net.modules():
                if not any(True for _ in module.children()):  # leaves: the layers that do the work
                    self._handles.append(module.register_forward_pre_hook(self._forward_check))
            for param in net.parameters():
                if param.requires_grad:
                    self._handles.append(param.register_hook(self._gradient_check))

    def check(self) -> None:
        if self.should_stop():
            raise StopRequested()

    def _forward_check(self, _module, _inputs) -> None:
        self.check()

    def _gradient_check(self, _grad) -> None:
        self.check()

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> StopHooks:
        return self

    def __exit__(self, *_exc) -> None:
        self.remove()


class StepSnapshot:
    """A copy of the weights, buffers, optimizer moments and RNG state a training step may change.

    Buffers are allocated once and refilled with ``copy_`` at each step, so taking a snapshot costs a
    memory copy of the model and its optimizer state (a few ms for this project's networks).
    """

    def __init__(self, nets: Mapping[str, nn.Module], optimizers: Mapping[str, torch.optim.Optimizer]) -> None:
        self.nets = nets
        self.optimizers = optimizers
        self._pairs: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._layout: list[tuple[int, torch.Size]] = []
        self._with_state: dict[str, set[int]] = {}
        self._scalars: list[tuple[dict, str, object]] = []
        self._requires_grad: list[tuple[nn.Parameter, bool]] = []
        self._rng_cpu: torch.Tensor | None = None
        self._rng_cuda: list[torch.Tensor] | None = None

    def _tensors(self) -> list[torch.Tensor]:
        tensors = [t for net in self.nets.values() for t in net.state_dict(keep_vars=True).values()]
        for optimizer in self.optimizers.values():
            for state in optimizer.state.values():
                tensors.extend(v for v in state.values() if isinstance(v, torch.Tensor))
        return tensors

    def take(self) -> None:
        tensors = self._tensors()
        layout = [(id(t), t.shape) for t in tensors]
        if layout != self._layout:  # first step, or the optimizers created their moments
            self._pairs = [(t, torch.empty_like(t.detach())) for t in tensors]
            self._layout = layout
        with torch.no_grad():
            for tensor, copy in self._pairs:
                copy.copy_(tensor.detach())
        self._with_state = {name: {id(p) for p in opt.state} for name, opt in self.optimizers.items()}
        self._scalars = [(state, key, value) for opt in self.optimizers.values() for state in opt.state.values()
                         for key, value in state.items() if not isinstance(value, torch.Tensor)]
        self._requires_grad = [(p, p.requires_grad) for net in self.nets.values() for p in net.parameters()]
        self._rng_cpu = torch.get_rng_state()
        self._rng_cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None

    def restore(self) -> None:
        """Undo whatever the abandoned step changed."""
        with torch.no_grad():
            for tensor, copy in self._pairs:
                tensor.detach().copy_(copy)
        for name, optimizer in self.optimizers.items():
            kept = self._with_state.get(name, set())
            for param in [p for p in optimizer.state if id(p) not in kept]:
                del optimizer.state[param]  # moments created by the abandoned step's first update
        for state, key, value in self._scalars:
            state[key] = value
        for param, flag in self._requires_grad:  # the generator's half switches the critic's gradients off
            param.requires_grad_(flag)
        if self._rng_cpu is not None:
            torch.set_rng_state(self._rng_cpu)
        if self._rng_cuda is not None:
            torch.cuda.set_rng_state_all(self._rng_cuda)
