"""``keepsmiling prepare`` end to end through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keepsmiling_core.cli.main import main
from keepsmiling_core.data.cache import load_crop_cache


def test_prepare_writes_counts_with_limit_and_reuses_on_rerun(
    mtfl_subset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cache"
    args = ["prepare", "--dataset", f"mtfl:{mtfl_subset}", "--size", "32", "--out", str(out), "--limit", "60"]
    assert main(args) == 0
    first = capsys.readouterr()
    assert "Wrote 60 mouth crops" in first.out
    cache = load_crop_cache(out)
    assert cache.images.shape == (60, 32, 32, 3)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["total"] == 60
    assert manifest["counts"]["smiling"] + manifest["counts"]["not_smiling"] == 60
    assert manifest["source"] == f"mtfl:{mtfl_subset.resolve()}" and manifest["split"] == "training"
    assert len(manifest["source_sha256"]) == 64
    assert main(args) == 0
    again = capsys.readouterr()
    assert "up to date" in again.err and "Reused 60 mouth crops" in again.out


def test_prepare_testing_split_original_mode_and_pose(mtfl_subset: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "orig"
    assert main(["prepare", "--dataset", f"mtfl:{mtfl_subset}", "--size", "64", "--out", str(out),
                 "--split", "testing", "--mode", "original", "--pose", "3"]) == 0
    # The seed's box is degenerate for some faces (docs/original-setups.md#b6: a sliver once ordered);
    # they are skipped and counted.
    captured = capsys.readouterr()
    manifest = load_crop_cache(out).manifest
    counts = manifest["counts"]
    assert counts["skipped"] >= 1 and counts["total"] + counts["skipped"] == 100
    assert f"Wrote {counts['total']} mouth crops" in captured.out and "original framing" in captured.out
    assert f"Skipped {counts['skipped']} bad entries in the crops" in captured.err and "degenerate" in captured.err
    assert (manifest["mode"], manifest["pose"], manifest["split"]) == ("original", 3, "testing")


def test_prepare_reports_user_errors_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prepare", "--dataset", str(tmp_path), "--out", str(tmp_path / "c")]) == 2
    assert "mtfl:PATH" in capsys.readouterr().err
    assert main(["prepare", "--dataset", f"mtfl:{tmp_path / 'missing'}", "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("keepsmiling prepare: error:") and "does not exist" in err and "Traceback" not in err
