"""read_photo / write_photo on real MTFL photos converted to the awkward formats users actually have."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import ExifTags, Image

from keepsmiling_core.errors import ImageReadError, KeepSmilingError
from keepsmiling_core.imageio import MAX_PIXELS, Photo, read_photo, write_photo

PHOTO = "lfw_5590/Aaron_Eckhart_0001.jpg"


@pytest.fixture(scope="module")
def real_rgb(mtfl_root: Path) -> np.ndarray:
    photo = read_photo(mtfl_root / PHOTO)
    assert isinstance(photo, Photo)
    assert photo.rgb.shape == (250, 250, 3) and photo.rgb.dtype == np.uint8
    assert photo.path == mtfl_root / PHOTO
    return photo.rgb


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_exif_orientation_applied_and_exif_kept_for_writing(real_rgb, tmp_path):
    stored = real_rgb[:, :180]  # 180 wide, 250 high: a non-square photo so a rotation shows
    img = Image.fromarray(stored)
    exif = img.getexif()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90° clockwise to display"
    exif[ExifTags.Base.Make] = "KeepSmilingTestCam"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2020:01:02 03:04:05"
    img.save(tmp_path / "phone.jpg", quality=98, exif=exif.tobytes())

    photo = read_photo(tmp_path / "phone.jpg")
    assert photo.rgb.shape == (180, 250, 3)
    expected = np.rot90(stored, k=-1)  # clockwise
    assert _diff(photo.rgb, expected) < 3.0

    kept = Image.Exif()
    kept.load(photo.exif)
    assert kept[ExifTags.Base.Orientation] == 1
    assert kept[ExifTags.Base.Make] == "KeepSmilingTestCam"

    out = write_photo(tmp_path / "edited.jpg", photo.rgb, photo.exif)
    again = read_photo(out)
    assert again.rgb.shape == photo.rgb.shape  # not rotated a second time
    assert _diff(again.rgb, photo.rgb) < 1.5
    with Image.open(out) as written:
        written_exif = written.getexif()
        assert written_exif[ExifTags.Base.Make] == "KeepSmilingTestCam"
        assert written_exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] == "2020:01:02 03:04:05"


def test_grayscale_becomes_three_equal_channels(real_rgb, tmp_path):
    gray = Image.fromarray(real_rgb).convert("L")
    gray.save(tmp_path / "gray.png")
    rgb = read_photo(tmp_path / "gray.png").rgb
    assert rgb.shape == (250, 250, 3)
    assert np.array_equal(rgb[..., 0], np.asarray(gray)) and np.array_equal(rgb[..., 0], rgb[..., 2])


def test_rgba_and_la_are_composited_on_white(real_rgb, tmp_path):
    rgba = np.dstack([real_rgb, np.full(real_rgb.shape[:2], 255, np.uint8)])
    rgba[:50, :, 3] = 0  # top band fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    rgb = read_photo(tmp_path / "alpha.png").rgb
    assert (rgb[:50] == 255).all()
    assert np.array_equal(rgb[50:], real_rgb[50:])

    la = Image.fromarray(rgba, "RGBA").convert("LA")
    la.save(tmp_path / "la.png")
    rgb_la = read_photo(tmp_path / "la.png").rgb
    assert (rgb_la[:50] == 255).all() and rgb_la.shape == (250, 250, 3)

    palette = Image.fromarray(real_rgb).quantize(32)
    indices = np.asarray(palette).copy()
    indices[:50] = 31
    transparent = Image.fromarray(indices, "P")
    transparent.putpalette(palette.getpalette())
    transparent.save(tmp_path / "transparent.gif", transparency=31)
    rgb_p = read_photo(tmp_path / "transparent.gif").rgb
    assert (rgb_p[:50] == 255).all() and not (rgb_p[50:] == 255).all()


def test_palette_cmyk_and_16_bit(real_rgb, tmp_path):
    palette = Image.fromarray(real_rgb).quantize(64)
    palette.save(tmp_path / "palette.png")
    assert np.array_equal(read_photo(tmp_path / "palette.png").rgb, np.asarray(palette.convert("RGB")))

    Image.fromarray(real_rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=98)
    cmyk = read_photo(tmp_path / "cmyk.jpg").rgb
    assert cmyk.shape == (250, 250, 3) and _diff(cmyk, real_rgb) < 3

    gray8 = np.asarray(Image.fromarray(real_rgb).convert("L"))
    gray16 = gray8.astype(np.uint16) * 257
    Image.fromarray(gray16).save(tmp_path / "gray16.png")
    with Image.open(tmp_path / "gray16.png") as check:
        assert check.mode.startswith("I")  # really a 16-bit file
    rgb16 = read_photo(tmp_path / "gray16.png").rgb
    assert np.array_equal(rgb16[..., 1], gray8)

    Image.fromarray(gray16.astype(np.int32), "I").save(tmp_path / "gray32.tif")
    assert np.array_equal(read_photo(tmp_path / "gray32.tif").rgb[..., 0], gray8)


def test_48_bit_rgb_is_scaled_to_8_bit(real_rgb, tmp_path):
    rgb16 = real_rgb.astype(np.uint16) * 257 + 100  # full 16-bit range, not just shifted bytes
    for name in ("rgb16.png", "rgb16.tif"):
        assert cv2.imwrite(str(tmp_path / name), rgb16[..., ::-1])  # OpenCV writes BGR
        assert np.abs(read_photo(tmp_path / name).rgb.astype(int) - real_rgb).max() <= 1


def test_decompression_bomb_refused_before_decoding(tmp_path):
    side = int(np.sqrt(MAX_PIXELS)) + 100  # just over the limit, below PIL's own error threshold
    Image.new("1", (side, side)).save(tmp_path / "bomb.png")  # a few kB on disk
    assert (tmp_path / "bomb.png").stat().st_size < 2_000_000
    with pytest.raises(ImageReadError, match="bomb.png.*megapixels"):
        read_photo(tmp_path / "bomb.png")

    # A header that claims 30000×30000 RGB (over PIL's own hard limit too), followed by almost nothing.
    (tmp_path / "huge.png").write_bytes(_png_header(30_000, 30_000) + _png_chunk(b"IEND", b""))
    with pytest.raises(ImageReadError, match="huge.png"):
        read_photo(tmp_path / "huge.png")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)


def test_bad_files_name_the_file(mtfl_root, tmp_path):
    data = (mtfl_root / PHOTO).read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageReadError, match="truncated.jpg"):
        read_photo(tmp_path / "truncated.jpg")

    (tmp_path / "notes.jpg").write_text("this is not a picture\n")
    with pytest.raises(ImageReadError, match="notes.jpg.*not an image"):
        read_photo(tmp_path / "notes.jpg")

    with pytest.raises(ImageReadError, match="missing.jpg.*does not exist"):
        read_photo(tmp_path / "missing.jpg")
    with pytest.raises(ImageReadError, match="folder"):
        read_photo(tmp_path)


def test_write_photo_png_is_lossless_and_atomic(real_rgb, tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"old contents")
    assert write_photo(target, real_rgb) == target
    assert np.array_equal(read_photo(target).rgb, real_rgb)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temp file left behind


def test_write_photo_refuses_unknown_suffix_and_missing_folder(real_rgb, tmp_path):
    with pytest.raises(KeepSmilingError, match=r"\.gif"):
        write_photo(tmp_path / "out.gif", real_rgb)
    with pytest.raises(KeepSmilingError, match="does not exist"):
        write_photo(tmp_path / "nowhere" / "out.jpg", real_rgb)
    assert list(tmp_path.iterdir()) == []
