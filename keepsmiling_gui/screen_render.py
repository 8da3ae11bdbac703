"""The edited photo on screen: render requests for the session's smiling faces and their patches.

Renders go through a ``LatestOnlyRunner`` (its own thread) so a dragged slider only renders its newest
position. A face whose patch on screen already shows its strength is left alone, unless a render
still under way may change it or a face overlapping it changed. The patches come from the session's
``EditPlan.patches``, the core's one compositing path, so the screen equals ``EditSession.render()``
and the saved photo, overlapping faces included.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from keepsmiling_core.editing.compose import HELD_REASON, RenderOutcome, overlaps
from keepsmiling_core.editing.session import EditSession

from .photo_view import PhotoScene
from .workers import LatestOnlyRunner


class ScreenRender(QObject):
    """Keeps the scene's patches equal to the session's edits; ``settled`` when no render is left."""

    settled = Signal()
    blocked = Signal(object)  # {face: reason} newly refused by the model (they stopped smiling)

    def __init__(self, session: EditSession, scene: PhotoScene, runner: LatestOnlyRunner,
                 notify: Callable[[str, int], None], show_error: Callable[[str, str], None]):
        super().__init__(runner)
        self.session, self.scene, self.runner = session, scene, runner
        self.notify, self.show_error = notify, show_error
        self.shown: dict[int, float] = {}  # the strength of each face's patch on screen now
        self.last_render: RenderOutcome | None = None  # the render shown last
        self._unsettled: set[int] = set()  # faces in renders not delivered yet: they may still change
        self._stale: set[int] = set()  # faces whose overlapping neighbour stopped smiling
        self._error_shown = False  # one dialog per photo and model; later failures go to the status bar
        runner.delivered.connect(self._delivered)
        runner.failed.connect(self._failed)

    def reset(self) -> None:
        """A new photo or model: nothing on screen is current any more."""
        self.cancel()
        self.shown, self._stale = {}, set()
        self._error_shown = False

    def cancel(self) -> None:
        self.runner.cancel()
        self._unsettled = set()  # a cancelled render never lands, so it cannot change the screen

    def drop_unselected(self) -> None:
        """Take away the patches of faces that stopped smiling; faces they overlapped render again."""
        prepared = self.session.prepared
        for index in list(self.scene.patches):
            if index in self.session.strengths:
                continue
            self.scene.clear_patch(index)
            self.shown.pop(index, None)
            if index in prepared:
                self._stale |= {j for j in self.shown if j in prepared
                                and overlaps(prepared[index].region, prepared[j].region)}

    def request(self) -> None:
        """Render each smiling face at its own strength; only the newest request survives."""
        session = self.session
        if session.photo is None or session.editor is None:
            self._after()
            return
        plan = session.plan()
        if not plan.alphas:
            self.cancel()
            self.scene.clear_patches()
            self.shown, self._stale = {}, set()
            self._after()
            return
        targets = {i for i, a in plan.alphas.items()
                   if self.shown.get(i) != a or i in self._unsettled or i in self._stale}
        if not targets:
            self.cancel()
            self._after()
            return
        self._unsettled |= targets
        self._stale = set()
        editor, rgb = plan.editor, plan.photo.rgb
        self.runner.request(lambda: (editor, rgb, plan.patches(targets)))

    def _delivered(self, _generation: int, result) -> None:
        editor, rgb, outcome = result
        session = self.session
        if editor is not session.editor or session.photo is None or rgb is not session.photo.rgb:
            return
        dropped = bool(session.strengths.keys() & outcome.blocked.keys())
        refused = session.accept(outcome)
        for index, (x0, y0, patch) in outcome.patches.items():
            if index in session.strengths:
                self.scene.set_patch(index, x0, y0, patch)
                self.shown[index] = outcome.alphas[index]
        if self.runner.idle:
            self._unsettled = set()
        self.last_render = outcome
        if refused or dropped:
            self.blocked.emit(refused)
        if refused:  # the reason matters more than the timing: it stays longer
            self.notify(" ".join(f"Face {i + 1} cannot be edited: {reason}" for i, reason in refused.items()), 20000)
        elif outcome.patches:
            per_face = outcome.render_ms / len(outcome.patches)
            prepared = f", prepared in {outcome.prepare_ms:.0f} ms" if outcome.prepared else ""
            values = sorted({outcome.alphas[i] for i in outcome.patches})
            held = "".join(f"; face {i + 1} shows {shown:+.2f}" for i, shown in sorted(outcome.held.items()))
            reason = f" ({HELD_REASON})" if outcome.held else ""
            self.notify(f"Strength {', '.join(f'{v:+.2f}' for v in values)}: {len(outcome.patches)} face(s), "
                        f"{per_face:.0f} ms per face{prepared}{held}{reason}", 8000 if held else 5000)
        self._after()

    def _failed(self, _generation: int, text: str) -> None:
        """A render failed: the slider keeps moving, so say it once in a dialog and then in the status bar."""
        self._unsettled = set()
        if self._error_shown:
            self.notify(f"Cannot edit: {text}", 15000)
        else:
            self._error_shown = True
            self.show_error("Cannot edit", text)
        self._after()

    def _after(self) -> None:
        self.settled.emit()
