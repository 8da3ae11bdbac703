"""Persistent preferences (recent files, last folders, training choices) through QSettings.

One organisation/application name for the whole app; INI format everywhere so a test can redirect
the storage to a temporary folder with ``QSettings.setPath`` and so the file is readable by a person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QSettings

ORGANIZATION = "KeepSmiling"
APPLICATION = "KeepSmiling"
MAX_RECENT = 8


def configure_application_names() -> None:
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)


def use_settings_folder(folder: Path) -> None:
    """Keep all settings under ``folder`` (tests, portable installs)."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))


class AppSettings:
    """Typed access to the few values the app remembers."""

    def __init__(self) -> None:
        self._qs = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)

    def value(self, key: str, default: Any = None, kind: type | None = None) -> Any:
        if kind is None:
            return self._qs.value(key, default)
        value = self._qs.value(key, default)
        try:
            if kind is bool and isinstance(value, str):
                return value.lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            return default

    def set_value(self, key: str, value: Any) -> None:
        self._qs.setValue(key, value)
        self._qs.sync()

    def remove(self, key: str) -> None:
        """Forget a value (its default applies again)."""
        self._qs.remove(key)
        self._qs.sync()

    def recent_files(self) -> list[Path]:
        raw = self._qs.value("recent/files", [])
        if isinstance(raw, str):
            raw = [raw]
        return [Path(p) for p in (raw or []) if p]

    def add_recent_file(self, path: Path) -> list[Path]:
        path = Path(path).resolve()
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT]
        self.set_value("recent/files", [str(p) for p in files])
        return files

    def clear_recent_files(self) -> None:
        self.set_value("recent/files", [])
