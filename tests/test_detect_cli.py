"""``keepsmiling detect`` through the real command dispatcher, on the shipped samples and real bad inputs."""

from __future__ import annotations

import json

import numpy as np
from PIL import ExifTags, Image
from skimage import data as skdata

from keepsmiling_core.cli.main import main
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.paths import samples_dir


def _check_schema(record: dict, faces: int) -> None:
    assert len(record["faces"]) == faces
    for face in record["faces"]:
        assert set(face) == {"box", "landmarks", "mouth", "score", "points"}
        assert len(face["box"]) == 4 and face["box"][0] < face["box"][2] and face["box"][1] < face["box"][3]
        assert np.array(face["landmarks"]).shape == (5, 2)
        assert np.array(face["mouth"]).shape == (20, 2)
        assert isinstance(face["score"], float)
        # dataset order: image-left eye, image-right eye, nose, left and right mouth corners
        (lx, _), (rx, _), _, (mlx, _), (mrx, _) = face["landmarks"]
        assert lx < rx and mlx < mrx


def test_json_for_one_photo_is_one_object(capsys):
    assert main(["detect", str(samples_dir() / "astronaut.jpg"), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["size"] == [512, 512] and record["photo"].endswith("astronaut.jpg")
    _check_schema(record, faces=1)


def test_json_lines_for_several_photos_and_overlays(capsys, tmp_path):
    photos = [samples_dir() / "astronaut.jpg", samples_dir() / "group-composite.jpg"]
    show = tmp_path / "overlays"
    assert main(["detect", *map(str, photos), "--json", "--show", str(show)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [r["photo"] for r in records] == [str(p) for p in photos]
    _check_schema(records[0], faces=1)
    _check_schema(records[1], faces=4)
    lefts = [face["box"][0] for face in records[1]["faces"]]
    assert lefts == sorted(lefts)
    assert sorted(p.name for p in show.iterdir()) == ["astronaut.faces.png", "group-composite.faces.png"]


def test_show_draws_on_the_photo(capsys, tmp_path):
    photo = samples_dir() / "astronaut.jpg"
    out = tmp_path / "faces.png"
    assert main(["detect", str(photo), "--show", str(out)]) == 0
    assert "1 face" in capsys.readouterr().out
    drawn, original = read_photo(out).rgb, read_photo(photo).rgb
    assert drawn.shape == original.shape
    changed = np.abs(drawn.astype(int) - original.astype(int)).sum(axis=2) > 30
    ys, xs = np.nonzero(changed)
    # Only the face is annotated: box (≈179..267, 83..171) plus its label just above it.
    assert changed.sum() > 300
    assert 170 < xs.min() and xs.max() < 275 and 60 < ys.min() and ys.max() < 180


def test_exif_rotated_photo_reports_displayed_pixels(capsys, tmp_path):
    upright = read_photo(samples_dir() / "astronaut.jpg").rgb
    image = Image.fromarray(np.ascontiguousarray(np.rot90(upright, k=-1)))  # stored turned clockwise
    exif = image.getexif()
    exif[ExifTags.Base.Orientation] = 8  # 8: turn 90° counter-clockwise to show
    image.save(tmp_path / "phone.jpg", quality=97, exif=exif.tobytes())

    assert main(["detect", str(tmp_path / "phone.jpg"), "--json"]) == 0
    face = json.loads(capsys.readouterr().out)["faces"][0]
    assert main(["detect", str(samples_dir() / "astronaut.jpg"), "--json"]) == 0
    reference = json.loads(capsys.readouterr().out)["faces"][0]
    assert np.abs(np.array(face["landmarks"]) - np.array(reference["landmarks"])).max() < 3.0


def test_photo_without_a_face_exits_1_with_a_message(capsys, tmp_path):
    Image.fromarray(skdata.camera()).save(tmp_path / "cameraman.png")
    assert main(["detect", str(tmp_path / "cameraman.png"), "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["faces"] == []
    assert "cameraman.png: no face found" in captured.err
    assert "Traceback" not in captured.err


def test_unreadable_photo_exits_2_and_other_photos_still_run(capsys, tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    code = main(["detect", str(tmp_path / "broken.jpg"), str(samples_dir() / "astronaut.jpg"), "--json"])
    assert code == 2
    captured = capsys.readouterr()
    assert "broken.jpg" in captured.err and "Traceback" not in captured.err
    assert len(captured.out.strip().splitlines()) == 1  # the good photo was still reported


def test_bad_show_target_is_refused_before_work(capsys, tmp_path):
    assert main(["detect", str(samples_dir() / "astronaut.jpg"), "--show", str(tmp_path / "out.gif")]) == 2
    assert ".png or .jpg" in capsys.readouterr().err
