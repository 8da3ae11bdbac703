"""Reading and writing photos the way a user expects them to look.

Every image that enters the core goes through ``read_photo`` so the rest of the code can assume
RGB uint8 in *displayed* orientation: phone photos are stored sideways with an EXIF orientation tag,
and landmarks, crops and paste-back must all live in the pixels the user sees. The EXIF block is kept
(with the orientation reset to 1, because the pixels are already turned) so an edited photo can be
written back without losing its date, camera and GPS data; an XMP packet (ratings, captions, editing
history) is kept the same way.

Decisions worth knowing:
- Transparent images (RGBA, LA, P with transparency) are composited on **white**, like a viewer
  shows them, rather than dropping alpha (which would reveal arbitrary colours under clear pixels).
- An embedded ICC profile (CMYK print files, Display-P3 phone photos) is converted to sRGB when
  Pillow's LittleCMS is available; otherwise Pillow's plain mode conversion is used.
- 16-bit images are scaled to 8 bits (``value / 257``), 32-bit integer images are read as 16-bit data
  (their usual origin), float images as 0..1 when their maximum is at most 1, else 0..255.
- Decompression bombs are refused from the header size alone, before any pixel is decoded.
- Only regular files are opened (``check_regular_file``): a FIFO, device or socket named as a photo would
  block the reader forever (and pin a worker thread in the app), so it is refused before it is opened.
- Writes go through ``atomic.atomic_write_bytes``: the encoded photo is verified on disk before it
  replaces anything, and an existing file is replaced only when the caller says so (``overwrite``).
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from keepsmiling_core.atomic import atomic_write_bytes
from keepsmiling_core.errors import ImageReadError, KeepSmilingError, WriteError

MAX_PIXELS = 100_000_000  # decompression-bomb guard (≈ 100 MP; a 50 MP camera photo is well below)

_ORIENTATION_TAG = 0x0112
_JPEG_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif"}
_PNG_SUFFIXES = {".png"}


@dataclass
class Photo:
    """A decoded photo in displayed orientation, plus what is needed to save it back faithfully."""

    rgb: np.ndarray  # (H, W, 3) uint8, EXIF-transposed
    exif: bytes | None  # original EXIF block (orientation reset to 1) to write back
    path: Path | None
    xmp: bytes | None = None  # the XMP packet, written back by write_photo(xmp=...)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in displayed pixels."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


def read_photo(path: str | os.PathLike) -> Photo:
    """Decode ``path`` to RGB uint8 in displayed orientation; any failure is an ``ImageReadError``."""
    path = check_regular_file(path)
    try:
        with warnings.catch_warnings():
            # Our own MAX_PIXELS check below is the authority; PIL's warning threshold (≈ 89 MP) is lower.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                _check_size(img, path)
                img.load()
                shown = _transpose(img)  # before touching the EXIF: getexif() is cached on the image
                exif = _exif_for_writing(img)
                xmp = _xmp_of(img)
                rgb = _to_rgb_array(shown)
    except ImageReadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageReadError(
            f"{path} is too large to open safely ({exc}); refusing it as a possible decompression bomb."
        ) from None
    except UnidentifiedImageError:
        hint = ""
        if path.suffix.lower() in (".heic", ".heif", ".avif"):
            hint = " HEIC/HEIF/AVIF photos are not supported: export the photo as JPEG first."
        raise ImageReadError(
            f"{path} is not an image file Pillow can read (JPEG, PNG, TIFF, BMP, WebP, ...).{hint}"
        ) from None
    except PermissionError:
        raise ImageReadError(f"{path} cannot be read: permission denied.") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageReadError(f"{path} could not be decoded (truncated or corrupt?): {exc}") from None
    except MemoryError:
        raise ImageReadError(f"Not enough memory to decode {path}.") from None
    return Photo(rgb=rgb, exif=exif, path=path, xmp=xmp)


def check_regular_file(path: str | os.PathLike, what: str = "image file") -> Path:
    """``path`` as a Path when it is an existing regular file (or a link to one); else ``ImageReadError``.

    Uses ``stat`` only, which never blocks, so FIFOs, devices and sockets are refused before any open()."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageReadError(f"The {what} {path} does not exist.") from None
    except PermissionError:
        raise ImageReadError(f"{path} cannot be read: permission denied.") from None
    except OSError as exc:
        raise ImageReadError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageReadError(f"{path} is a folder, not an {what}.")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "not a regular file")
        raise ImageReadError(f"{path} is {kind}, not an {what}; give a photo file.")
    return path


def write_photo(
    path: str | os.PathLike, rgb: np.ndarray, exif: bytes | None = None, quality: int = 95,
    xmp: bytes | None = None, *, overwrite: bool = True,
) -> Path:
    """Save ``rgb`` atomically, verified on disk before it replaces anything (``atomic_write_bytes``).

    The format follows the suffix: JPEG (``quality``, 4:4:4 chroma so edited mouths keep their
    colour edges) or PNG (lossless); EXIF and XMP are kept in both. ``overwrite=False`` refuses an
    existing target (``WriteError``). Returns the written path.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in _JPEG_SUFFIXES:
        fmt = "JPEG"
        options: dict = {"quality": int(quality), "subsampling": 0, "optimize": True}
    elif suffix in _PNG_SUFFIXES:
        fmt = "PNG"
        options = {"compress_level": 6}
    else:
        raise KeepSmilingError(
            f"Cannot save {path}: unknown image type '{path.suffix or '(no suffix)'}'. "
            "Use a .jpg/.jpeg or .png file name."
        )
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"write_photo expects an (H, W, 3) uint8 array, got {rgb.dtype} {rgb.shape}")
    if exif:
        options["exif"] = exif
    if xmp:
        if fmt == "JPEG":
            options["xmp"] = xmp
        else:
            from PIL.PngImagePlugin import PngInfo

            info = PngInfo()
            info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8", "replace"))
            options["pnginfo"] = info
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise WriteError(f"Cannot save {path}: the folder {parent} does not exist.")
    if path.is_dir():
        raise WriteError(f"Cannot save {path}: it is a folder.")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise WriteError(f"Cannot save {path}: the file exists already and will not be overwritten.")

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(buffer, format=fmt, **options)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    return atomic_write_bytes(path, buffer.getvalue(), mode=mode, overwrite=overwrite)


def _check_size(img: Image.Image, path: Path) -> None:
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageReadError(f"{path} has an empty size ({width}×{height}).")
    if width * height > MAX_PIXELS:
        raise ImageReadError(
            f"{path} is {width}×{height} = {width * height / 1e6:.0f} megapixels, more than the "
            f"{MAX_PIXELS / 1e6:.0f} MP this program opens (a possible decompression bomb). "
            "Scale it down first."
        )


def _exif_for_writing(img: Image.Image) -> bytes | None:
    """The EXIF block with orientation set to 1, or None when the photo has none or it is unreadable."""
    try:
        exif = img.getexif()
        if not exif:
            return None
        if _ORIENTATION_TAG in exif:
            exif[_ORIENTATION_TAG] = 1
        return exif.tobytes()
    except Exception:  # malformed EXIF must not stop a photo from opening; we just do not keep it
        return None


def _xmp_of(img: Image.Image) -> bytes | None:
    """The raw XMP packet (JPEG APP1, WebP chunk or PNG iTXt), or None."""
    value = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
    if isinstance(value, str):
        value = value.encode("utf-8")
    return bytes(value) if isinstance(value, bytes | bytearray) and value else None


def _transpose(img: Image.Image) -> Image.Image:
    try:
        if img.getexif().get(_ORIENTATION_TAG, 1) not in range(2, 9):
            return img  # upright already: exif_transpose would only copy the pixels (~20 ms at 12 MP)
        return ImageOps.exif_transpose(img) or img
    except Exception:  # a broken orientation tag: show the pixels as stored rather than fail
        return img


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        values = np.asarray(img).astype(np.float64)
        gray = np.clip(values, 0, 65535) / 257.0
        return _gray_to_rgb(gray)
    if mode == "F":
        values = np.asarray(img, dtype=np.float64)
        finite = values[np.isfinite(values)]
        peak = float(finite.max()) if finite.size else 0.0
        gray = np.nan_to_num(values) * (255.0 if peak <= 1.0 else 1.0)
        return _gray_to_rgb(gray)

    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba).convert("RGB")
    elif mode == "P":
        img = img.convert("RGB")

    converted = _icc_to_srgb(img)
    if converted is not None:
        img = converted
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8).copy()


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    gray8 = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
    return np.repeat(gray8[:, :, None], 3, axis=2)


def _icc_to_srgb(img: Image.Image) -> Image.Image | None:
    """Colour-manage to sRGB when the photo carries a profile; None when not possible or not needed."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "CMYK", "L"):
        return None
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if img.mode == "RGB" and "srgb" in (ImageCms.getProfileDescription(source) or "").lower():
            return None  # already sRGB: skip a costly no-op transform on big photos
        return ImageCms.profileToProfile(img, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except Exception:  # missing LittleCMS or a broken profile: fall back to Pillow's plain conversion
        return None
