"""Undoable edits: which faces smile, and how strongly.

Commands only record the before/after state and hand it to the editor surface; the surface owns the
rendering, so undoing is exactly as fast as the original change (cached encodings are reused).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtGui import QUndoCommand


class EditSurface(Protocol):
    def apply_selection(self, selected: frozenset[int]) -> None: ...
    def apply_strength(self, value: float) -> None: ...


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


class SelectFacesCommand(QUndoCommand):
    def __init__(self, surface: EditSurface, old: frozenset[int], new: frozenset[int]):
        super().__init__(describe_selection(old, new))
        self.surface, self.old, self.new = surface, frozenset(old), frozenset(new)

    def redo(self) -> None:
        self.surface.apply_selection(self.new)

    def undo(self) -> None:
        self.surface.apply_selection(self.old)


class SetStrengthCommand(QUndoCommand):
    def __init__(self, surface: EditSurface, old: float, new: float):
        super().__init__(f"Strength {old:.2f} → {new:.2f}")
        self.surface, self.old, self.new = surface, float(old), float(new)

    def redo(self) -> None:
        self.surface.apply_strength(self.new)

    def undo(self) -> None:
        self.surface.apply_strength(self.old)
