"""What the user does to faces — clicks, the strength slider, Smile all, undo — turned into session
changes, with the face outlines, the slider and the undo stack following.

Every face keeps its own smile: clicking a face makes it smile at the default strength and puts it
in *focus*; the slider shows and moves only the focused face(s), so the others keep the strength they
had. Clicking a smiling face that is not in focus focuses it; clicking the focused face again leaves
it as it was. *Smile all* gives every face the slider's value and focuses them all. The rules live in
``EditSession``; this module wires them to the widgets.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from keepsmiling_core.editing.compose import HELD_REASON
from keepsmiling_core.editing.session import EditSession, EditStep, SliderMove

from .photo_view import PhotoScene
from .screen_render import ScreenRender
from .strength import StrengthControl
from .undo_commands import SessionStepCommand


class FaceEditing(QObject):
    """Drives the session from the scene and the slider; ``needs_model`` when an edit waits for one."""

    changed = Signal()  # the edit state shown changed (the window updates its actions)
    needs_model = Signal()

    def __init__(self, session: EditSession, scene: PhotoScene, control: StrengthControl, undo_stack: QUndoStack,
                 screen: ScreenRender, notify: Callable[[str, int], None], show_error: Callable[[str, str], None]):
        super().__init__(undo_stack)
        self.session, self.scene, self.control, self.undo_stack, self.screen = session, scene, control, undo_stack, screen
        self.notify, self.show_error = notify, show_error
        scene.faceClicked.connect(self.toggle_face)
        control.changed.connect(self._strength_moved)
        control.committed.connect(self._strength_committed)
        screen.blocked.connect(self._faces_refused)
        screen.settled.connect(self.show_limit)

    # ------------------------------------------------------------------ user actions
    def toggle_face(self, index: int) -> None:
        """A click on a face: start its smile, focus it, or (when already focused) leave it as it was."""
        if index in self.session.blocked:
            self.show_error("This face cannot be edited", f"Face {index + 1}: {self.session.blocked[index]}")
            return
        step = self.session.click_face(index)
        if step is None:  # focus only: not an undo step, the photo is unchanged
            self.show_state()
            return
        self._push(step)
        if self.session.editor is None and step.after.strengths:
            self.needs_model.emit()

    def smile_all(self) -> None:
        """Every editable face smiles at the slider's current value, and the slider then moves them all."""
        step = self.session.smile_all(self.control.value())
        if step is None:
            self.show_state()
        else:
            self._push(step)
        if self.session.editor is None and self.session.editable:
            self.needs_model.emit()

    def clear_selection(self) -> None:
        step = self.session.clear()
        if step is not None:
            self._push(step)

    def set_focus(self, focus: frozenset[int]) -> None:
        """Let the slider drive these smiling faces, showing their strength."""
        self.session.set_focus(focus)
        self.show_state()

    def _strength_moved(self, value: float) -> None:
        """The slider moved: only the focused faces follow (a lone face needs no click)."""
        move = self.session.move_strength(value)
        if move is SliderMove.STARTED:
            self.show_state()
            if self.session.editor is None:
                self.needs_model.emit()
            self.screen.request()  # the control's ``committed`` records the undo step
        elif move is SliderMove.MOVED:
            for index in self.session.focus:
                self.scene.faces[index].set_edit(value, True)
            self.screen.request()
        elif move is SliderMove.CHOOSE:
            self.notify("Click a face to choose which one the slider edits, or use Smile all.", 8000)
        elif move is SliderMove.BLOCKED:
            self.notify(f"This face cannot be edited: {self.session.blocked[0]}", 15000)

    def _strength_committed(self, _old: float, _new: float) -> None:
        """One undo step per gesture, holding every face's strength from before it."""
        step = self.session.commit_strength()
        if step is not None:
            self._push(step)

    # ------------------------------------------------------------------ undo stack
    def _push(self, step: EditStep) -> None:
        self.undo_stack.push(SessionStepCommand(self, step))
        self.refresh()

    def undo_step(self) -> None:
        self.session.undo()
        self.refresh()

    def redo_step(self) -> None:
        self.session.redo()
        self.refresh()

    # ------------------------------------------------------------------ display
    def refresh(self) -> None:
        """Show the session's edits: outlines, slider, and the patches (faces no longer smiling lose theirs)."""
        self.screen.drop_unselected()
        self.show_state()
        self.screen.request()

    def show_state(self) -> None:
        """Face outlines, tooltips and the slider follow the session's strengths and focus."""
        session = self.session
        for item in self.scene.faces:
            item.set_edit(session.strengths.get(item.index), item.index in session.focus)
        if session.focus:
            self.control.set_value(session.strengths[min(session.focus)], notify=False)
        self.show_limit()
        self.changed.emit()

    def show_limit(self) -> None:
        """Beside the slider: the strength the face in focus stops at, when the slider asks for more."""
        held = self.session.held() if self.session.editor is not None else {}
        focused = sorted(self.session.focus & held.keys())
        self.control.show_limit(held[focused[0]] if focused else None, HELD_REASON)

    def _faces_refused(self, refused: dict[int, str]) -> None:
        for index, reason in refused.items():
            self.scene.faces[index].set_blocked(reason)
        self.show_state()

    def update_hint(self) -> None:
        """The slider's hint says what it will move now, and what to do when that is nothing yet."""
        count, focus = len(self.session.faces), self.session.focus
        if focus:
            faces = ", ".join(str(i + 1) for i in sorted(focus))
            hint = f"Smile strength of face {faces}" if len(focus) == 1 else f"Smile strength of faces {faces}"
            hint += (" (double outline; click another face to move that one instead)" if count > 1 else "")
        elif count == 1:
            hint = "Drag to make the face smile"
        elif count > 1:
            hint = f"{count} faces: click a face to choose which one the slider edits, or use Smile all"
        else:
            hint = "Open a photo with a face to edit"
        self.control.set_hint(f"{hint}. 0 leaves the mouth as it is, negative values frown.")
