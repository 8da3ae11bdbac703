"""``keepsmiling fit-shape`` measures the smile shape on real MTFL faces; ``--open-smiles`` a toothy one."""

from __future__ import annotations

import json

import numpy as np

from keepsmiling_core.cli.main import main as cli
from keepsmiling_core.editing.smile_shape import lip_opening, load_smile_shape


def parting(displacement: np.ndarray) -> float:
    """How much further apart the inner lips are on smiling faces (eye-frame units)."""
    return float((displacement[[65, 66, 67], 1] - displacement[[63, 62, 61], 1]).mean())


def test_fit_shape_measures_corners_up_and_open_smiles_part_the_lips(mtfl_root, tmp_path):
    common = ["fit-shape", "--dataset", f"mtfl:{mtfl_root}", "--split", "testing", "--per-class", "30"]
    assert cli([*common, "--out", str(tmp_path / "all")]) == 0
    assert cli([*common, "--out", str(tmp_path / "open"), "--open-smiles", "0.1"]) == 0
    every, toothy = load_smile_shape(tmp_path / "all"), load_smile_shape(tmp_path / "open")
    for shape in (every, toothy):
        move = shape.displacement
        assert move[48, 1] < -0.03 and move[54, 1] < -0.03      # both corners rise
        assert move[48, 0] < 0 < move[54, 0]                     # and move outwards
    assert toothy.counts["smiling"] < every.counts["smiling"]
    assert toothy.counts["not_smiling"] == every.counts["not_smiling"]
    assert parting(toothy.displacement) > parting(every.displacement) + 0.02
    assert "lips apart >= 0.1" in json.loads((tmp_path / "open" / "smile_shape.json").read_text())["source"]


def test_lip_opening_is_the_inner_gap_over_the_mouth_width():
    points = np.zeros((68, 2))
    points[48], points[54] = (0, 0), (40, 0)
    points[[61, 62, 63], 1] = -2.0
    points[[67, 66, 65], 1] = 2.0
    assert abs(lip_opening(points) - 0.1) < 1e-9
