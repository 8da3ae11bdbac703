"""Undoable edits: which faces smile, how strongly each one does, and which faces the slider drives.

Commands only record the before/after ``EditState`` and hand it to the editor surface; the surface owns
the rendering, so undoing is exactly as fast as the original change (cached encodings are reused).
Whole snapshots rather than deltas: every face keeps its own strength, and undoing a slider gesture
must give back each face's own earlier value, not one shared number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from PySide6.QtGui import QUndoCommand


@dataclass(frozen=True)
class EditState:
    """What the user has edited: ``strengths`` maps each smiling face to its own strength (the keys are
    the selection); ``focus`` is the faces the slider shows and moves, restored on undo so the slider
    shows the value that came back."""

    strengths: Mapping[int, float] = field(default_factory=dict)
    focus: frozenset[int] = frozenset()

    def __post_init__(self) -> None:  # a private copy: later edits of the caller's dict cannot leak in
        object.__setattr__(self, "strengths", {int(i): float(a) for i, a in self.strengths.items()})
        object.__setattr__(self, "focus", frozenset(self.focus))

    @property
    def selected(self) -> frozenset[int]:
        return frozenset(self.strengths)


class EditSurface(Protocol):
    def apply_edit(self, state: EditState) -> None: ...


def describe_selection(old: frozenset[int], new: frozenset[int]) -> str:
    added, removed = new - old, old - new
    if len(added) > 1:
        return f"Smile {len(added)} faces"
    if added:
        return f"Smile face {min(added) + 1}"
    if len(removed) > 1:
        return f"Unselect {len(removed)} faces"
    if removed:
        return f"Unselect face {min(removed) + 1}"
    return "Select faces"


def describe_strength(old: EditState, new: EditState) -> str:
    """E.g. "Strength 1.00 → 2.00 (face 2)": the first face whose strength changed names the step."""
    changed = sorted(i for i, a in new.strengths.items() if old.strengths.get(i) != a)
    if not changed:
        return "Strength"
    first = changed[0]
    before = old.strengths.get(first)
    start = f"{before:.2f} → " if before is not None else ""
    faces = f"face {first + 1}" if len(changed) == 1 else f"{len(changed)} faces"
    return f"Strength {start}{new.strengths[first]:.2f} ({faces})"


class EditFacesCommand(QUndoCommand):
    def __init__(self, surface: EditSurface, old: EditState, new: EditState, text: str):
        super().__init__(text)
        self.surface, self.old, self.new = surface, old, new

    def redo(self) -> None:
        self.surface.apply_edit(self.new)

    def undo(self) -> None:
        self.surface.apply_edit(self.old)


class SelectFacesCommand(EditFacesCommand):
    """A face starts or stops smiling (a click, Smile all, Leave all as they were)."""

    def __init__(self, surface: EditSurface, old: EditState, new: EditState, text: str | None = None):
        super().__init__(surface, old, new, text or describe_selection(old.selected, new.selected))


class SetStrengthCommand(EditFacesCommand):
    """One slider gesture: the focused faces' strengths before and after (others are untouched)."""

    def __init__(self, surface: EditSurface, old: EditState, new: EditState):
        super().__init__(surface, old, new, describe_strength(old, new))
