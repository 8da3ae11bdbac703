"""One entry point for every dataset: ``load_records("mtfl:PATH" | "celeba:PATH" | "folders:PATH", split)``.

The ``kind:PATH`` spec is what the CLI, the GUI and cache manifests store, so a cache can always say
where its faces came from and whether that source changed since.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from keepsmiling_core.errors import DatasetError

from .records import FaceRecord, Reporter

# kind -> module in this package providing load(root, split, skip_bad=, report=) and fingerprint_files(root, split)
KINDS = {"mtfl": "mtfl", "celeba": "celeba", "folders": "folders"}


@dataclass(frozen=True)
class SourceSpec:
    kind: str
    root: Path

    def __str__(self) -> str:
        return f"{self.kind}:{self.root}"


def parse_spec(spec: str) -> SourceSpec:
    """'mtfl:/data/MTFL' -> SourceSpec; DatasetError with the accepted forms when it is not one."""
    kind, sep, path = str(spec).partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in KINDS or not path.strip():
        raise DatasetError(
            f"Dataset {spec!r} is not understood: write mtfl:PATH, celeba:PATH or folders:PATH "
            "(folders: a folder with smiling/ and not_smiling/ inside)."
        )
    return SourceSpec(kind, Path(path.strip()).expanduser().resolve())


def _module(kind: str):
    return importlib.import_module(f"keepsmiling_core.data.{KINDS[kind]}")


def load_records(spec: str, split: str = "training", *, skip_bad: bool = False,
                 report: Reporter | None = None,
                 progress: Callable[[int, int], None] | None = None) -> list[FaceRecord]:
    """All faces of a dataset split; DatasetError (file and line named) on bad input unless ``skip_bad``.

    ``progress(done, total)`` is called by sources that do slow work per photo (labelled folders run the
    face detector); annotation-file sources parse in a moment and do not call it.
    """
    source = parse_spec(spec)
    loader = _module(source.kind).load
    if progress is not None and source.kind == "folders":
        return loader(source.root, split, skip_bad=skip_bad, report=report, progress=progress)
    return loader(source.root, split, skip_bad=skip_bad, report=report)


def fingerprint(spec: str, split: str = "training") -> str:
    """sha256 over what defines a split (annotation files, or the file list for folders).

    Cache reuse compares this, so editing an annotation file or adding photos rebuilds the cache while
    an unchanged dataset is never re-cropped.
    """
    source = parse_spec(spec)
    digest = hashlib.sha256(f"{source.kind}\n{split}\n".encode())
    for item in _module(source.kind).fingerprint_items(source.root, split):
        if isinstance(item, Path):
            with item.open("rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(block)
        else:
            digest.update(str(item).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def quick_counts(spec: str, split: str = "training") -> tuple[int, int]:
    """(smiling, not smiling) for showing a dataset's size before preparing it, without slow work.

    Annotation sources are parsed (bad lines skipped); labelled folders count image files per label
    instead of running the face detector on each, so the number is photos, an upper bound on faces.
    """
    source = parse_spec(spec)
    if source.kind == "folders":
        from .folders import photos, split_root

        items = photos(split_root(source.root, split))
        smiling = sum(1 for _, is_smiling in items if is_smiling)
        return smiling, len(items) - smiling
    records = load_records(spec, split, skip_bad=True)
    smiling = sum(1 for r in records if r.smiling)
    return smiling, len(records) - smiling
