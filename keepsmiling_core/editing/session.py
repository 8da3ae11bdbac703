"""One photo being edited, without Qt: the photo, its faces, the edit model, each face's own strength,
the faces the slider drives, the undo history as plain data, and how the result is rendered and saved.

The window drives an ``EditSession`` and only displays it; scripts and ``keepsmiling smile`` use the
same session, so the screen, the saved photo and the CLI render through one function
(``compose.render_edits``). Every face keeps its own smile: a click makes a face smile at the default
strength and puts it in *focus*; the slider moves only the focused faces; *Smile all* gives every
editable face one value.

Undo steps are whole before/after ``EditState`` snapshots rather than deltas: undoing a slider
gesture must give back each face's own earlier value, not one shared number. A slider drag is one
step (``move_strength`` many times, then ``commit_strength`` once), as the window records it.

Long work (preparing faces, rendering, writing) runs in worker threads on an ``EditPlan``, an
immutable snapshot, while the session itself is only touched by its owner's thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np

from keepsmiling_core.editing.compose import (
    RenderOutcome,
    compose_photo,
    held_at,
    prepare_face,
    render_patches,
)
from keepsmiling_core.errors import KeepSmilingError

DEFAULT_STRENGTH = 1.0  # a typical smile: what a face gets when it is clicked
SAVE_SUFFIXES = (".jpg", ".jpeg", ".png")  # what Save can write; other inputs are saved as JPEG


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


@dataclass(frozen=True)
class EditStep:
    """One undoable change: the whole state before and after it, and its name in the Edit menu."""

    before: EditState
    after: EditState
    text: str


@dataclass
class EditHistory:
    """Undo/redo as data: ``steps[:position]`` are done, the rest can be redone.

    ``saved_at`` is the position the saved file matches (None once that state can no longer be reached,
    because a new step replaced the redo steps that led to it)."""

    steps: list[EditStep] = field(default_factory=list)
    position: int = 0
    saved_at: int | None = 0

    def record(self, step: EditStep) -> None:
        """Add a step that has just been done; the steps that could have been redone are dropped."""
        if self.saved_at is not None and self.saved_at > self.position:
            self.saved_at = None
        del self.steps[self.position:]
        self.steps.append(step)
        self.position += 1

    def undo(self) -> EditStep | None:
        if not self.can_undo:
            return None
        self.position -= 1
        return self.steps[self.position]

    def redo(self) -> EditStep | None:
        if not self.can_redo:
            return None
        self.position += 1
        return self.steps[self.position - 1]

    @property
    def can_undo(self) -> bool:
        return self.position > 0

    @property
    def can_redo(self) -> bool:
        return self.position < len(self.steps)

    @property
    def undo_text(self) -> str:
        return self.steps[self.position - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self.steps[self.position].text if self.can_redo else ""

    @property
    def dirty(self) -> bool:
        return self.position != self.saved_at

    def mark_saved(self) -> None:
        self.saved_at = self.position

    def clear(self) -> None:
        self.steps.clear()
        self.position, self.saved_at = 0, 0


class SliderMove(Enum):
    """What a slider move did (the window says what to do next when nothing followed it)."""

    MOVED = "moved"            # the focused faces follow
    STARTED = "started"        # the photo's only face started smiling (no click needed)
    CHOOSE = "choose"          # several faces and none in focus: a click must say which
    BLOCKED = "blocked"        # the only face cannot be edited
    NO_FACE = "no face"


@dataclass(frozen=True, eq=False)
class EditPlan:
    """A snapshot of what to render and save, safe to use in a worker while the session changes."""

    editor: object | None
    photo: object                          # keepsmiling_core.imageio.Photo
    faces: tuple
    alphas: Mapping[int, float]            # editable smiling faces -> their strengths
    prepared: Mapping[int, object]         # faces prepared so far (a copy of the session's cache)

    def render(self, outcome: RenderOutcome | None = None) -> np.ndarray:
        """The whole photo with every edit (the photo itself when there is no model or no edit)."""
        if self.editor is None or not self.alphas:
            return self.photo.rgb.copy()
        return compose_photo(self.editor, self.photo.rgb, self.faces, self.alphas, self.prepared, outcome)

    def patches(self, targets) -> RenderOutcome:
        """Screen patches of ``targets`` and of the smiling faces overlapping them (``render_patches``)."""
        return render_patches(self.editor, self.photo.rgb, self.faces, self.alphas, targets, self.prepared)

    def save(self, path: Path, *, overwrite: bool = True, quality: int = 95) -> Path:
        """Write the edited photo with the original's EXIF and XMP (orientation already applied)."""
        from keepsmiling_core.imageio import write_photo

        return write_photo(path, self.render(), exif=self.photo.exif, quality=quality, xmp=self.photo.xmp,
                           overwrite=overwrite)

    def export_faces(self, folder: Path) -> list[Path]:
        """Each edited face's region before and after (at its own strength, alone), as PNGs named after the
        photo and the face number."""
        from keepsmiling_core.imageio import write_photo

        folder = Path(folder)
        if not folder.is_dir():
            raise KeepSmilingError(f"Cannot export into {folder}: the folder does not exist.")
        stem = Path(self.photo.path).stem if self.photo.path else "photo"
        outcome = RenderOutcome()
        written: list[Path] = []
        for index in sorted(self.alphas):
            prepared = prepare_face(self.editor, self.photo.rgb, self.faces, index, self.prepared, outcome)
            if prepared is None:
                continue
            after = self.editor.render(prepared, float(self.alphas[index]))
            name = f"{stem}-face{index + 1:02d}"
            written.append(write_photo(folder / f"{name}-before.png", prepared.base))
            written.append(write_photo(folder / f"{name}-after.png", after))
        if not written:
            raise KeepSmilingError("No edited faces to export: select at least one face that can be edited.")
        return written


@dataclass
class EditSession:
    """The state of one photo's edit; every change goes through a method, so the history stays true."""

    editor: object | None = None            # Editor or WarpEditor (``backends.open_editor``)
    photo: object | None = None             # keepsmiling_core.imageio.Photo
    faces: list = field(default_factory=list)
    strengths: dict[int, float] = field(default_factory=dict)   # smiling faces -> own strength
    focus: frozenset[int] = frozenset()      # the smiling faces the slider shows and moves
    blocked: dict[int, str] = field(default_factory=dict)       # faces the model refuses, with the reason
    prepared: dict[int, object] = field(default_factory=dict)   # per-face cache of the model's prepare()
    history: EditHistory = field(default_factory=EditHistory)
    save_path: Path | None = None            # where Save writes (after the first Save As)
    gesture_before: EditState | None = None  # the state when the slider gesture under way began

    # ------------------------------------------------------------------ photo and model
    def open(self, photo, faces: list | None = None) -> None:
        """Start editing ``photo``: no faces yet (detection follows), no edits, an empty history."""
        self.photo = photo
        self.faces = list(faces or [])
        self.strengths, self.focus = {}, frozenset()
        self.blocked, self.prepared = {}, {}
        self.history.clear()
        self.save_path = None
        self.gesture_before = None

    def set_faces(self, faces: list) -> None:
        self.faces = list(faces)

    def set_editor(self, editor) -> None:
        """Another model: its prepared faces and refusals start afresh; the edits and history stay."""
        self.editor = editor
        self.prepared, self.blocked = {}, {}

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> EditState:
        return EditState(self.strengths, self.focus)

    @property
    def selected(self) -> frozenset[int]:
        return frozenset(self.strengths)

    @property
    def editable(self) -> frozenset[int]:
        return frozenset(i for i in range(len(self.faces)) if i not in self.blocked)

    @property
    def dirty(self) -> bool:
        """Edits the saved file (or the original, before any save) does not have."""
        return self.photo is not None and self.history.dirty

    def edited_alphas(self) -> dict[int, float]:
        """Each editable smiling face with its own strength, in face order: what is shown and written."""
        return {i: a for i, a in sorted(self.strengths.items()) if i not in self.blocked}

    def apply(self, state: EditState) -> None:
        """Show exactly this state (never on a face known to be refused); not an undo step by itself."""
        self.strengths = {i: a for i, a in state.strengths.items() if i not in self.blocked}
        self.focus = state.focus & self.strengths.keys()
        self.gesture_before = None

    # ------------------------------------------------------------------ edits (each returns its undo step)
    def _record(self, new: EditState, text: str | None = None) -> EditStep | None:
        old = self.state
        if new == old:
            return None
        step = EditStep(old, new, text or describe_selection(old.selected, new.selected))
        self.history.record(step)
        self.apply(new)
        return step

    def click_face(self, index: int) -> EditStep | None:
        """A click on a face: start its smile and focus it, focus it (a smiling face not in focus: no
        step, the photo is unchanged), or, when it is the focused face, leave it as it was."""
        if index in self.blocked or not 0 <= index < len(self.faces):
            return None
        if index in self.strengths and self.focus != {index}:
            self.set_focus(frozenset({index}))
            return None
        strengths = dict(self.strengths)
        if index in strengths:
            del strengths[index]
            return self._record(EditState(strengths, frozenset()))
        strengths[index] = DEFAULT_STRENGTH
        return self._record(EditState(strengths, frozenset({index})))

    def smile_all(self, value: float) -> EditStep | None:
        """Every editable face at ``value``, all in focus (only a focus change when they already are)."""
        editable = self.editable
        new = EditState({i: value for i in editable}, editable)
        if new.strengths == self.strengths:
            self.set_focus(editable)
            return None
        return self._record(new, f"Smile all at {value:.2f}")

    def clear(self) -> EditStep | None:
        """Every face as it was."""
        return self._record(EditState()) if self.strengths else None

    def set_focus(self, focus: frozenset[int]) -> None:
        """Let the slider drive these smiling faces."""
        self.focus = frozenset(focus) & self.strengths.keys()
        self.gesture_before = None

    def move_strength(self, value: float) -> SliderMove:
        """The slider moved (live, many times per gesture): the focused faces take ``value``. With a
        single face in the photo it needs no click; with several and none in focus nothing changes."""
        if not self.focus:
            if len(self.faces) == 1 and self.editable:
                self.gesture_before = self.state
                self.strengths, self.focus = {0: float(value)}, frozenset({0})
                return SliderMove.STARTED
            if len(self.faces) > 1:
                return SliderMove.CHOOSE
            return SliderMove.BLOCKED if self.faces else SliderMove.NO_FACE
        if self.gesture_before is None:
            self.gesture_before = self.state
        for index in self.focus:
            self.strengths[index] = float(value)
        return SliderMove.MOVED

    def commit_strength(self) -> EditStep | None:
        """The gesture ended: one undo step holding every face's strength from before it."""
        before, self.gesture_before = self.gesture_before, None
        if before is None or before == self.state:
            return None
        step = EditStep(before, self.state, describe_strength(before, self.state))
        self.history.record(step)
        return step

    def undo(self) -> EditStep | None:
        step = self.history.undo()
        if step is not None:
            self.apply(step.before)
        return step

    def redo(self) -> EditStep | None:
        step = self.history.redo()
        if step is not None:
            self.apply(step.after)
        return step

    # ------------------------------------------------------------------ rendering and saving
    def plan(self) -> EditPlan:
        """What the screen and Save render now, as a snapshot for a worker."""
        return EditPlan(self.editor, self.photo, tuple(self.faces), self.edited_alphas(), dict(self.prepared))

    def accept(self, outcome: RenderOutcome) -> dict[int, str]:
        """Keep what a render learnt: prepared faces, and faces the model refuses (they stop smiling).
        Returns the newly refused faces with their reasons."""
        self.prepared.update(outcome.prepared)
        refused = {i: reason for i, reason in outcome.blocked.items() if i not in self.blocked}
        self.blocked.update(refused)
        if self.strengths.keys() & outcome.blocked.keys():
            self.strengths = {i: a for i, a in self.strengths.items() if i not in outcome.blocked}
            self.focus = self.focus & self.strengths.keys()
        return refused

    def prepare_all(self) -> dict[int, str]:
        """Prepare every smiling face now (on this thread); returns the newly refused faces."""
        outcome = RenderOutcome()
        for index in sorted(self.strengths):
            prepare_face(self.editor, self.photo.rgb, self.faces, index, self.prepared, outcome)
        return self.accept(outcome)

    def held(self) -> dict[int, float]:
        """The prepared smiling faces whose strength lies past their limits, with the strength they show."""
        alphas = self.edited_alphas()
        found = {i: held_at(self.prepared[i], alphas[i]) for i in alphas if i in self.prepared}
        return {i: shown for i, shown in found.items() if shown is not None}

    def render(self) -> np.ndarray:
        """The photo with every edit, exactly as Save writes it and the window shows it."""
        outcome = RenderOutcome()
        image = self.plan().render(outcome)
        self.accept(outcome)
        return image

    def save(self, path: Path, *, overwrite: bool = True) -> Path:
        """Write the edited photo (EXIF and XMP kept) and remember it as saved."""
        written = self.plan().save(Path(path), overwrite=overwrite)
        self.mark_saved(written)
        return written

    def mark_saved(self, path: Path | None = None) -> None:
        if path is not None:
            self.save_path = Path(path)
        self.history.mark_saved()

    def suggested_path(self, folder: Path | None = None) -> Path:
        """``<photo>-smiling.<jpg|png>`` in ``folder`` (default: beside the photo)."""
        original = Path(self.photo.path)
        suffix = original.suffix.lower() if original.suffix.lower() in SAVE_SUFFIXES else ".jpg"
        return Path(folder if folder is not None else original.parent) / f"{original.stem}-smiling{suffix}"

    def replaces_original(self, path: Path) -> bool:
        """Saving to ``path`` would overwrite the photo being edited (the window asks first)."""
        return self.photo is not None and self.photo.path is not None and \
            Path(path).resolve() == Path(self.photo.path).resolve()


def save_target(path: Path) -> Path:
    """A name without a suffix is saved as JPEG."""
    path = Path(path)
    return path.with_suffix(".jpg") if path.suffix == "" else path
