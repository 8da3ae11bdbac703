"""The one shape every dataset loader produces, so crops, caches and tests never care where a face came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Names of the five landmark rows, in the dataset order every part of the code uses.
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "left_mouth", "right_mouth")

Reporter = Callable[[str], None]


@dataclass(frozen=True)
class FaceRecord:
    """One annotated face: where its photo is, its 5 landmarks in photo pixels, and whether it smiles.

    ``meta`` carries what a loader knows beyond that (``line`` and ``source`` so errors found later, e.g.
    while cropping, can still name the annotation line; ``pose`` for MTFL's pose filter).
    """

    image_path: Path
    landmarks: np.ndarray
    smiling: bool
    meta: dict = field(default_factory=dict)

    def where(self) -> str:
        """'training.txt line 17 (lfw_5590/x.jpg)' - the phrase error messages use to point at this face."""
        source = self.meta.get("source")
        line = self.meta.get("line")
        name = self.meta.get("file", self.image_path)
        if source and line:
            return f"{source} line {line} ({name})"
        return str(name)


@dataclass
class SkipLog:
    """Counts what a loader skipped with ``skip_bad=True`` and tells the user once, with the first examples."""

    what: str
    report: Reporter | None = None
    reasons: list[str] = field(default_factory=list)

    def add(self, reason: str) -> None:
        self.reasons.append(reason)

    def flush(self) -> None:
        if not self.reasons or self.report is None:
            return
        examples = "; ".join(self.reasons[:3])
        more = f" (and {len(self.reasons) - 3} more)" if len(self.reasons) > 3 else ""
        self.report(f"Skipped {len(self.reasons)} bad entries in {self.what}: {examples}{more}")


def check_landmarks(values: np.ndarray) -> str | None:
    """Why these landmarks cannot describe a face, or None when they can.

    Caught at load time so a NaN or a collapsed mouth is reported against its annotation line instead of
    surfacing as a broken crop (or NaN loss) much later.
    """
    if values.shape != (5, 2):
        return f"expected 5 landmark points, got shape {values.shape}"
    if not np.all(np.isfinite(values)):
        return "landmarks contain a non-number"
    if np.any(values < -1e4) or np.any(values > 1e5):
        return "landmarks lie far outside any photo"
    corners = float(np.linalg.norm(values[4] - values[3]))
    if corners < 1.0:
        return "the two mouth corners coincide"
    return None
