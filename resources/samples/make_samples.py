"""Rebuild the sample photos from scikit-image's public-domain ``astronaut`` (run from the repo root).

    .venv/bin/python resources/samples/make_samples.py

``group-composite.jpg`` is NOT a real group photo: it is four copies of the same portrait
(mirrored, scaled and re-lit) pasted with soft edges on a plain background, so the app has a
redistributable multi-face photo to demonstrate on.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage import data

from keepsmiling_core.imageio import write_photo

HERE = Path(__file__).resolve().parent

# (scale, mirrored, brightness gain, x of the crop's left edge, y of its top edge) on a 1400×560 canvas
PEOPLE = [(1.00, False, 1.00, 10, 190), (1.25, True, 0.92, 300, 150), (1.10, False, 1.08, 660, 170),
          (1.30, True, 0.85, 990, 130)]
HEAD = (95, 0, 360, 380)  # x0, y0, x1, y1 of the head-and-shoulders region in the 512×512 portrait


def group_composite(portrait: np.ndarray) -> np.ndarray:
    height, width = 560, 1400
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    canvas = (np.array([70, 90, 120], np.float32) * (1 - ramp) + np.array([170, 175, 185], np.float32) * ramp)
    canvas = np.broadcast_to(canvas, (height, width, 3)).copy()
    x0, y0, x1, y1 = HEAD
    head = portrait[y0:y1, x0:x1].astype(np.float32)
    mask = np.zeros(head.shape[:2], np.float32)
    cv2.ellipse(mask, ((x1 - x0) // 2, (y1 - y0) // 2 + 40), ((x1 - x0) // 2 - 10, (y1 - y0) // 2 + 20),
                0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 12)
    for scale, mirrored, gain, left, top in PEOPLE:
        person = cv2.resize(head, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) * gain
        alpha = cv2.resize(mask, (person.shape[1], person.shape[0]), interpolation=cv2.INTER_LINEAR)
        if mirrored:
            person, alpha = person[:, ::-1], alpha[:, ::-1]
        h = min(person.shape[0], height - top)
        w = min(person.shape[1], width - left)
        region = canvas[top:top + h, left:left + w]
        a = alpha[:h, :w, None]
        region[:] = region * (1 - a) + person[:h, :w] * a
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)


def main() -> None:
    portrait = data.astronaut()
    write_photo(HERE / "astronaut.jpg", portrait, quality=92)
    write_photo(HERE / "group-composite.jpg", group_composite(portrait), quality=90)


if __name__ == "__main__":
    main()
