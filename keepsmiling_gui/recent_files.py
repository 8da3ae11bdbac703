"""File ▸ Open recent: the photos opened last (kept by ``AppSettings``), newest first, and Clear list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMenu

from .settings import AppSettings


class RecentFiles:
    """Fills ``menu`` from the settings; picking an entry calls ``open_photo`` with its path."""

    def __init__(self, menu: QMenu, settings: AppSettings, open_photo: Callable[[Path], None]):
        self.menu, self.settings, self.open_photo = menu, settings, open_photo
        self.rebuild()

    def add(self, path: Path) -> None:
        self.settings.add_recent_file(path)
        self.rebuild()

    def rebuild(self) -> None:
        self.menu.clear()
        files = self.settings.recent_files()
        for path in files:
            action = self.menu.addAction(str(path))
            action.triggered.connect(lambda _=False, p=path: self.open_photo(p))
        if files:
            self.menu.addSeparator()
            self.menu.addAction("Clear list", self.clear)
        self.menu.setEnabled(bool(files))

    def clear(self) -> None:
        self.settings.clear_recent_files()
        self.rebuild()
