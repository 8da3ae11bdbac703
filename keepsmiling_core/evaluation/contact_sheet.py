"""Contact sheets: the lower faces of finished photos, side by side, at the photo's native resolution.

No tile is ever scaled: a blur, a stain or a blob shows exactly as the saved photo shows it. Rows are
stacked in two columns so a 24-photo sheet stays readable on one screen.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

GAP = 4
LABEL_H = 14
BACKGROUND = 40


def _text(canvas: np.ndarray, text: str, x: int, y: int, scale: float = 0.38) -> None:
    cv2.putText(canvas, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), 1, cv2.LINE_AA)


def _row(name: str, tiles: list[np.ndarray]) -> np.ndarray:
    height = max(t.shape[0] for t in tiles)
    width = sum(t.shape[1] for t in tiles) + GAP * (len(tiles) - 1)
    row = np.full((LABEL_H + height, max(width, 120), 3), BACKGROUND, np.uint8)
    _text(row, name[:40], 2, LABEL_H - 3)
    x = 0
    for tile in tiles:
        row[LABEL_H:LABEL_H + tile.shape[0], x:x + tile.shape[1]] = tile
        x += tile.shape[1] + GAP
    return row


def _stack(rows: list[np.ndarray]) -> np.ndarray:
    width = max(r.shape[1] for r in rows)
    padded = [np.pad(r, ((0, GAP), (0, width - r.shape[1]), (0, 0)), constant_values=BACKGROUND) for r in rows]
    return np.concatenate(padded)


def build_sheet(rows: list[tuple[str, list[np.ndarray]]], columns: list[str], title: str) -> np.ndarray:
    """One RGB image: a title, the column names, then each photo's tiles at native size."""
    if not rows:
        raise ValueError("a contact sheet needs at least one row")
    built = [_row(name, tiles) for name, tiles in rows]
    halves = [built] if len(built) < 8 else [built[: (len(built) + 1) // 2], built[(len(built) + 1) // 2:]]
    blocks = [_stack(h) for h in halves]
    height = max(b.shape[0] for b in blocks)
    blocks = [np.pad(b, ((0, height - b.shape[0]), (0, 3 * GAP), (0, 0)), constant_values=BACKGROUND) for b in blocks]
    body = np.concatenate(blocks, axis=1)
    header = np.full((2 * LABEL_H + 6, body.shape[1], 3), BACKGROUND, np.uint8)
    _text(header, title, 2, LABEL_H, 0.45)
    _text(header, "columns: " + " | ".join(columns) + "   (native resolution, not scaled)", 2, 2 * LABEL_H + 2)
    return np.concatenate([header, body])


def write_sheet(path: Path, rows: list[tuple[str, list[np.ndarray]]], columns: list[str], title: str) -> Path:
    from keepsmiling_core.atomic import atomic_write_bytes, ensure_folder

    sheet = build_sheet(rows, columns, title)
    ensure_folder(path.parent, "contact-sheet folder")
    ok, data = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"could not encode the contact sheet {path}")
    return atomic_write_bytes(path, data.tobytes())
