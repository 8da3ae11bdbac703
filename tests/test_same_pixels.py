"""The CLI, the app's save path and the evaluation deliver the same pixels for the same face and strength."""

from __future__ import annotations

import numpy as np
import pytest

from keepsmiling_core.cli.main import main
from keepsmiling_core.detection import detect_faces
from keepsmiling_core.editing.backends import open_editor
from keepsmiling_core.editing.compose import compose_photo
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.paths import samples_dir, shipped_models_dir


@pytest.mark.parametrize("model", ["warp", "splitgan", "complexgan"])
def test_cli_app_and_evaluation_agree(model, tmp_path):
    source = samples_dir() / "grace-hopper.jpg"
    photo = read_photo(source).rgb
    faces = detect_faces(photo)
    editor = open_editor(shipped_models_dir() / model)
    # the evaluation: prepare once, apply_all at the strength
    evaluated = editor.apply_all(photo, [(editor.prepare(photo, faces[0], 0), 1.5)])
    # the app: compose_photo is what File > Save writes
    saved = compose_photo(editor, photo, faces, {0: 1.5}, {})
    # the CLI, written losslessly
    png = tmp_path / "in.png"
    from PIL import Image

    Image.fromarray(photo).save(png)
    assert main(["smile", str(png), "--model", str(shipped_models_dir() / model), "--alpha", "1.5",
                 "--out", str(tmp_path / "out")]) == 0
    cli = read_photo(next((tmp_path / "out").glob("*.png"))).rgb
    assert np.array_equal(evaluated, saved)
    assert np.array_equal(evaluated, cli)
    assert not np.array_equal(evaluated, photo)
