"""The evaluation figure: a before/after grid per model and the success-vs-α curve, drawn with OpenCV.

Drawn by hand with cv2 (already a dependency) rather than adding matplotlib for one PNG.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from keepsmiling_core.atomic import atomic_write_bytes

CELL = 72
PAD = 6
WHITE = (255, 255, 255)
INK = (30, 30, 30)
COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (140, 86, 75)]
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.4, colour=INK) -> None:
    cv2.putText(img, text, org, FONT, scale, colour, 1, cv2.LINE_AA)


def _grid(model) -> np.ndarray:
    """Rows of [input | edit at each α] for one model."""
    alphas = list(model.examples[0][1]) if model.examples else []
    cols = 1 + len(alphas)
    rows = max(1, len(model.examples))
    height = 34 + rows * (CELL + PAD)
    img = np.full((height, PAD + cols * (CELL + PAD), 3), 255, np.uint8)
    _text(img, f"{model.name} ({model.setup}, step {model.step})", (PAD, 13), 0.42)
    for c, label in enumerate(["input"] + [f"a={a:g}" for a in alphas]):
        _text(img, label, (PAD + c * (CELL + PAD) + 4, 29))
    for r, (inp, edits) in enumerate(model.examples):
        y = 34 + r * (CELL + PAD)
        for c, crop in enumerate([inp] + [edits[a] for a in alphas]):
            x = PAD + c * (CELL + PAD)
            img[y:y + CELL, x:x + CELL] = cv2.resize(crop, (CELL, CELL), interpolation=cv2.INTER_NEAREST)
    return img


def _curve(report, width: int = 420, height: int = 300) -> np.ndarray:
    """Edit success rate against α for every model (α = 0 is the classifier's false-alarm floor)."""
    img = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 48, width - 12, 26, height - 40
    alphas = [0.0, *report.alphas]
    a_max = max(alphas) or 1.0

    def to_px(a: float, rate: float) -> tuple[int, int]:
        return int(left + (right - left) * a / a_max), int(bottom - (bottom - top) * rate)

    _text(img, "edit success (classifier says smiling)", (left - 30, 16), 0.42)
    cv2.rectangle(img, (left, top), (right, bottom), INK, 1)
    for rate in (0.0, 0.25, 0.5, 0.75, 0.9, 1.0):
        y = to_px(0, rate)[1]
        cv2.line(img, (left, y), (right, y), (225, 225, 225), 1)
        _text(img, f"{rate:.0%}", (4, y + 4), 0.35)
    for a in alphas:
        x = to_px(a, 0)[0]
        _text(img, f"{a:g}", (x - 6, bottom + 14), 0.35)
    _text(img, "alpha", ((left + right) // 2 - 15, bottom + 30), 0.4)
    for i, model in enumerate(report.models):
        colour = COLOURS[i % len(COLOURS)]
        pts = [to_px(a, model.success[str(float(a))]) for a in alphas]
        for p, q in zip(pts[:-1], pts[1:], strict=True):
            cv2.line(img, p, q, colour, 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(img, p, 3, colour, -1, cv2.LINE_AA)
        _text(img, model.name, (left + 8, top + 16 + 14 * i), 0.38, colour)
    return img


def write_figure(report, path: Path) -> Path:
    """Grids side by side, the curve to their right; written as PNG."""
    panels = [_grid(m) for m in report.models] + [_curve(report)]
    height = max(p.shape[0] for p in panels)
    padded = [np.vstack([p, np.full((height - p.shape[0], p.shape[1], 3), 255, np.uint8)]) for p in panels]
    figure = np.hstack(padded)
    path = Path(path)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(figure, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"could not encode the figure {path}")
    atomic_write_bytes(path, encoded.tobytes())
    return path
