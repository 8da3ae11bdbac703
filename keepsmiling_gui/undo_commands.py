"""The edit session's undo history on Qt's undo stack, for the Edit menu (step names, enabled state)
and the window title's clean/dirty mark.

The history itself is plain data in ``keepsmiling_core.editing.session`` (``EditHistory``): a command
only mirrors one recorded ``EditStep`` and asks its surface to undo or redo it there, so the two
stacks always move together. The session has already done the step when it is pushed, so the push's
own ``redo`` does nothing.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtGui import QUndoCommand

from keepsmiling_core.editing.session import EditStep


class HistorySurface(Protocol):
    def undo_step(self) -> None: ...

    def redo_step(self) -> None: ...


class SessionStepCommand(QUndoCommand):
    """One step of the session's history (a click, Smile all, one slider gesture)."""

    def __init__(self, surface: HistorySurface, step: EditStep):
        super().__init__(step.text)
        self.surface, self.step = surface, step
        self._pushed = False

    def redo(self) -> None:
        if self._pushed:
            self.surface.redo_step()
        self._pushed = True  # QUndoStack.push calls redo once: the session did the step already

    def undo(self) -> None:
        self.surface.undo_step()
