"""``keepsmiling smile`` on real photos: size and EXIF kept, input never overwritten, clear errors."""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image

from keepsmiling_core.cli.main import main
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.paths import samples_dir

CAMERA = "KeepSmiling test camera"


def _photo_with_exif(path):
    image = Image.open(samples_dir() / "astronaut.jpg")
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    exif[0x0132] = "2026:11:25 12:00:00"  # DateTime
    image.save(path, quality=95, exif=exif.tobytes())
    return path


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_smile_cli_keeps_size_and_exif_and_never_overwrites(tiny_splitgan_run, tmp_path, capsys):
    photo = _photo_with_exif(tmp_path / "portrait.jpg")
    before = _sha(photo)
    # --out is the input's own folder: the result must get a new name, the input stays byte-identical.
    assert main(["smile", str(photo), "--model", str(tiny_splitgan_run), "--alpha", "1.5", "--out", str(tmp_path),
                 "--device", "cpu"]) == 0
    result = tmp_path / "portrait_smile.jpg"
    assert f"-> {result}" in capsys.readouterr().out
    assert _sha(photo) == before
    with Image.open(result) as edited, Image.open(photo) as original:
        assert edited.size == original.size
        assert edited.getexif().get(0x010F) == CAMERA
    out, inp = read_photo(result).rgb.astype(int), read_photo(photo).rgb.astype(int)
    diff = np.abs(out - inp).max(axis=2)
    ys, xs = np.nonzero(diff > 12)  # beyond JPEG re-encoding noise (a few sharp edges elsewhere)
    assert len(xs) > 20
    in_mouth = (xs > 150) & (xs < 290) & (ys > 95) & (ys < 200)
    assert in_mouth.mean() > 0.97


def test_smile_cli_edits_only_chosen_faces_of_a_group(tiny_complexgan_run, tmp_path, capsys):
    group = samples_dir() / "group-composite.jpg"
    assert main(["smile", str(group), "--model", str(tiny_complexgan_run), "--faces", "0,2", "--out",
                 str(tmp_path), "--device", "cpu"]) == 0
    assert (tmp_path / "group-composite_smile.jpg").is_file()
    assert main(["smile", str(group), "--model", str(tiny_complexgan_run), "--faces", "9", "--out",
                 str(tmp_path)]) == 2
    assert "--faces asked for 9" in capsys.readouterr().err


def test_smile_cli_bad_inputs_give_clear_errors(tiny_splitgan_run, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_text("this is not a JPEG")
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(blank)
    code = main(["smile", str(broken), str(blank), str(tmp_path / "missing.jpg"), "--model", str(tiny_splitgan_run),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "broken.jpg" in err and "No face was found in" in err and "missing.jpg" in err
    assert not list((tmp_path / "out").iterdir())
    assert main(["smile", str(blank), "--model", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert main(["smile", str(blank), "--model", str(tiny_splitgan_run), "--alpha", "7", "--out",
                 str(tmp_path)]) == 2
    assert "outside the supported range" in capsys.readouterr().err
