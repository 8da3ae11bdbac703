"""Where the window sits and how its toolbars wrap: the whole window (status bar included) always fits
the screen's available area (taskbars, panels and scaling), remembered or not.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QToolBar

PREFERRED_SIZE = QSize(1280, 820)  # on screens that have room for it


def place_on_screen(window: QMainWindow, geometry) -> None:
    """Restore the remembered ``geometry``, or take most of the available screen; then keep it on screen."""
    restored = geometry is not None and window.restoreGeometry(geometry)
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    available = screen.availableGeometry()
    if not restored:
        left, top, right, bottom = frame_margins(window)
        most = QSize(available.width() - left - right, available.height() - top - bottom)
        window.resize(min(PREFERRED_SIZE.width(), int(most.width() * 0.92)),
                      min(PREFERRED_SIZE.height(), int(most.height() * 0.92)))
        # move() places a top-level window's frame, not its contents
        window.move(available.left() + (available.width() - window.width() - left - right) // 2,
                    available.top() + (available.height() - window.height() - top - bottom) // 2)
    keep_on_screen(window)


def frame_margins(window: QMainWindow) -> tuple[int, int, int, int]:
    """The window frame's left, top, right, bottom; before the first show a generous estimate."""
    frame, inner = window.frameGeometry(), window.geometry()
    if frame != inner:
        return (inner.left() - frame.left(), inner.top() - frame.top(), frame.right() - inner.right(),
                frame.bottom() - inner.bottom())
    return 8, 36, 8, 8  # title bar and borders of common window managers


def keep_on_screen(window: QMainWindow) -> None:
    """Shrink and move the window so that its frame lies inside the screen's available area."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    available = screen.availableGeometry()
    left, top, right, bottom = frame_margins(window)
    width = min(window.width(), available.width() - left - right)
    height = min(window.height(), available.height() - top - bottom)
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
    # x(), y() and move() are the frame's top-left corner for a top-level window
    x = max(available.left(), min(window.x(), available.right() + 1 - (width + left + right)))
    y = max(available.top(), min(window.y(), available.bottom() + 1 - (height + top + bottom)))
    if (x, y) != (window.x(), window.y()):
        window.move(x, y)


def arrange_toolbars(window: QMainWindow, main: QToolBar, second: QToolBar) -> None:
    """Keep ``second`` (the model list) beside the editing tools while both fit; otherwise give it a row
    of its own, so that neither the slider nor the model list hides behind an extension button."""
    wrap = window.width() < main.sizeHint().width() + second.sizeHint().width()
    if wrap != window.toolBarBreak(second):
        if wrap:
            window.insertToolBarBreak(second)
        else:
            window.removeToolBarBreak(second)
