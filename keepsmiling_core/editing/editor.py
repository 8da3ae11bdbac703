"""Make one face in a photo smile: crop -> encode once -> decode at α -> colour match -> feathered paste.

The split between ``prepare`` and ``render`` is what makes a live slider possible: everything that
does not depend on α (checking the face, the aligned crop, the mask, the encoder pass or the two
ComplexGAN translations) happens once per face; a slider move only decodes (SplitGAN) or interpolates
(ComplexGAN), colour-matches a tiny crop and blends inside the face's small photo region. What differs
per setup (encode, decode at α, reconstruct) is the setup's edit backend (``network_edits``), which its
spec in ``keepsmiling_core/setups`` provides; this module holds what every setup shares.

Guarantees the rest of the app relies on:
- pixels where the feathered mask is zero - everything outside the mouth region - are byte-identical
  to the input photo;
- the photo's low-frequency skin colour is kept (the seed's decoder lightened dark skin);
- a face that cannot be edited raises ``EditError`` saying why, instead of producing garbage.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import torch

from keepsmiling_core.compositing.mask import change_alpha, edit_window, mouth_mask, skin_weight
from keepsmiling_core.data.crops import (
    CropConfig,
    MouthCrop,
    apply_matrix,
    crop_mouth,
    invert_matrix,
    paste_back,
)
from keepsmiling_core.editing.checks import MIN_MOUTH_PX, check_face
from keepsmiling_core.editing.colour import (
    RERENDER_MOUTH_WEIGHT,
    ColourReference,
    apply_colour_reference,
    colour_reference,
    match_colour,
)
from keepsmiling_core.editing.compose import render_edits  # the one compositing loop
from keepsmiling_core.editing.latent import ALPHA_RANGE, LatentDirection
from keepsmiling_core.errors import CheckpointError, CropError, EditError, KeepSmilingError

T = TypeVar("T")
_RENDER_POOL: list[ThreadPoolExecutor] = []
_RENDER_POOL_LOCK = threading.Lock()
_RENDER_THREAD = "keepsmiling-render"


def _single_threaded_render_thread() -> None:
    """Initializer of the editor's one CPU render thread: it gets 1 intra-op thread of its own.

    With torch's OpenMP backend the thread count is per thread once a thread has run torch, and
    ``torch.set_num_threads`` also sets the default every new thread starts from. So this thread
    first fixes its own count (``get_num_threads`` initialises it), sets 1 for itself, and a short-lived
    helper thread puts the process default back: no other thread's setting ever changes. (With a
    non-OpenMP backend the helper restores the shared count; renders then simply use it.)"""
    default = torch.get_num_threads()
    torch.set_num_threads(1)
    helper = threading.Thread(target=torch.set_num_threads, args=(default,), name="keepsmiling-threads-restore")
    helper.start()
    helper.join()


def _render_pool() -> ThreadPoolExecutor:
    with _RENDER_POOL_LOCK:
        if not _RENDER_POOL:
            _RENDER_POOL.append(ThreadPoolExecutor(1, thread_name_prefix=_RENDER_THREAD,
                                                   initializer=_single_threaded_render_thread))
        return _RENDER_POOL[0]


def _on_cpu_render_thread(device: torch.device, fn: Callable[[], T]) -> T:
    """Run one tiny CPU forward pass on the editor's render thread, which uses a single intra-op thread.

    A 64 px decode is too small for intra-op threads to help; on a busy machine they make it several
    times slower (measured: 188 ms vs 34 ms per slider move on 2 loaded cores). The count is set once,
    when that thread starts - never by changing the process-wide setting from a worker thread while
    training or detection may be running in another."""
    if device.type != "cpu" or threading.current_thread().name.startswith(_RENDER_THREAD):
        return fn()
    return _render_pool().submit(fn).result()


BLENDS = ("alpha", "poisson")


@dataclass
class EditOptions:
    """How an edit is finished; the defaults are what the app and the evaluation use."""

    colour_match: bool = True       # keep the photo's low-frequency skin colour
    blend: str = "alpha"            # "alpha": feathered paste of the change; "poisson": cv2.seamlessClone
    keep_detail: bool = True        # paste only the change, keeping the photo's full-resolution texture
    residual: bool = True           # SplitGAN: x + De(z + shift) - De(z), so alpha = 0 is the photo itself
    smooth_change: bool = True      # SplitGAN residual: 3x3 low-pass of the change (removes the decoder's
                                    # checkerboard; costs ~6 points of classifier-judged success at α = 1)
    brightness_only: bool = True    # the photo takes the change in brightness only, never in colour (see
                                    # ``tone.brightness``): no teal lips, grey photos stay grey
    adaptive_mask: bool = True      # also paste where the edit changed the face (cheeks), inside a window
    part_lips: bool = True          # shape edits: the smile parts the lips and real teeth show between
                                    # them (``lip_parting``, ``teeth``) instead of the network's paint
    min_mouth_px: float = MIN_MOUTH_PX


@dataclass
class EditResult:
    image: np.ndarray                       # full photo with the edit blended in
    face_index: int
    alpha: float
    region: tuple[int, int, int, int]       # x0, y0, x1, y1 of the pixels that may differ
    mask: np.ndarray | None = None          # (y1-y0, x1-x0) float32 alpha actually used in the region


@dataclass
class PreparedFace:
    """Everything about one face that does not depend on α (cache it per face while a slider moves)."""

    face: object                            # detection Face (or anything with .landmarks and .mouth)
    face_index: int
    crop: MouthCrop                         # aligned mouth crop of the original photo
    mask: np.ndarray                        # (S, S) feathered mouth mask in crop space
    window: np.ndarray | None               # (S, S) outer limit of an adaptive edit (None: mouth mask only)
    skin: np.ndarray                        # (S, S) skin weight for colour matching
    region: tuple[int, int, int, int]       # photo box the edit can touch
    region_matrix: np.ndarray               # photo-region pixels -> crop
    base: np.ndarray                        # the photo's pixels in ``region`` before the edit
    colour: ColourReference | None = None   # the original crop's colour field, for colour matching
    region_alpha: np.ndarray | None = None  # the mouth mask warped onto ``region`` (H, W, 1) float32
    zero: np.ndarray | None = None          # the finished crop at α = 0 (what "no edit" renders as)
    state: dict = field(default_factory=dict)   # model-specific tensors (latent, translations)


def default_model_path(kind: str, must_exist: bool = True) -> Path:
    """The shipped model of a kind: resources/models/<kind>/ (EditError when it is not installed)."""
    from keepsmiling_core.paths import shipped_models_dir

    path = shipped_models_dir() / kind
    if must_exist and not (path / "checkpoint.json").is_file():
        raise EditError(
            f"No shipped {kind} model is installed ({path} is missing). Train one with "
            f"'keepsmiling train --setup {kind} ...' and pass its folder with --model, or pick a model folder.")
    return path


def model_crop_config(model) -> CropConfig:
    """The framing the model was trained with, at the model's size.

    Looked up in the checkpoint (``crop`` in its metadata, extra or config), else in the manifest of
    the crop cache it was trained on; the crop module's defaults are the last resort."""
    import json

    def section(owner: object, name: str) -> dict:
        value = owner.get(name) if isinstance(owner, dict) else None
        return value if isinstance(value, dict) else {}

    meta = getattr(model, "meta", {}) or {}
    config = section(meta, "config")
    manifest = section(section(config, "resolved"), "cache_manifest")
    sources = [meta.get("crop"), section(meta, "extra").get("crop"), config.get("crop"), manifest.get("crop")]
    data = config.get("data")
    if isinstance(data, str) and (Path(data) / "manifest.json").is_file():
        try:
            sources.append(section(json.loads((Path(data) / "manifest.json").read_text()), "crop"))
        except (OSError, ValueError):
            pass
    for source in sources:
        if isinstance(source, dict):
            keys = {k: source[k] for k in ("mode", "scale", "shift", "min_corner_margin") if k in source}
            try:
                return CropConfig(size=model.size, **keys)
            except (TypeError, ValueError, KeepSmilingError) as exc:
                raise CheckpointError(
                    f"{getattr(model, 'path', 'the model')}/checkpoint.json, field 'crop': {exc}; "
                    "the model folder is damaged: re-export the model or retrain.") from None
    return CropConfig(size=model.size)


class Editor:
    """Smile edits with one trained network model (SplitGAN, ComplexGAN: any setup with an edit backend).

    ``network_editor`` picks this or ``ShapeEditor`` (networks that move the photo's pixels) for a folder."""

    def __init__(self, model, device: str | torch.device | None = None, options: EditOptions | None = None,
                 direction: LatentDirection | None = None, given: Path | None = None) -> None:
        """``model``: a folder, or a ``LoadedModel`` with ``given`` the folder the user named (where
        its smile direction may live)."""
        from keepsmiling_core.device import pick_device
        from keepsmiling_core.models.checkpoint import load_model
        from keepsmiling_core.setup_spec import editable_setups, find_setup

        if isinstance(model, (str, Path)):
            given = Path(model)
            device = device if isinstance(device, torch.device) else pick_device(device)
            model = load_model(given, device=device)
        spec = find_setup(model.setup)
        if spec is None or not spec.can_edit:
            names = " or ".join(find_setup(name).display_name for name in editable_setups())
            raise EditError(f"The {model.setup} model in {model.path} cannot edit photos; pick a {names} model.")
        self.model = model
        self.options = options or EditOptions()
        if self.options.blend not in BLENDS:
            raise KeepSmilingError(f"Unknown blend {self.options.blend!r}: use one of {', '.join(BLENDS)}.")
        self.crop_config = model_crop_config(model)
        first = next(iter(model.nets.values()))
        self.device = next(first.parameters()).device
        self.dtype = next(first.parameters()).dtype
        for net in model.nets.values():
            net.eval()
        self.backend = spec.edit_backend(model, self.options, direction=direction, given=given)
        # Colour matching may only look at the skin when α = 0 leaves the photo's own mouth in place
        # (residual SplitGAN decode, ComplexGAN's attention output); a full re-render needs the mouth too.
        self._mouth_weight = 0.0 if self.backend.keeps_input else RERENDER_MOUTH_WEIGHT
        self.direction: LatentDirection | None = getattr(self.backend, "direction", None)

    @property
    def setup(self) -> str:
        return self.model.setup

    # ---------------------------------------------------------------- per face, once
    def prepare(self, photo: np.ndarray, face, face_index: int = 0) -> PreparedFace:
        """Check the face, crop it (the one crop module), build its mask and run the α-independent nets."""
        crop = self.checked_crop(photo, face)
        landmarks = np.asarray(face.landmarks, np.float64)
        mouth = getattr(face, "mouth", None)
        size = self.crop_config.size
        mask = mouth_mask(size, crop.matrix, landmarks[3:5], mouth)
        window = edit_window(size, crop.matrix, landmarks[3:5], mouth) if self.options.adaptive_mask else None
        region = _mask_region(mask if window is None else np.maximum(mask, window), crop.matrix, photo.shape)
        x0, y0 = region[0], region[1]
        region_matrix = region_to_crop(crop.matrix, region)
        skin = skin_weight(mask)
        prepared = PreparedFace(face=face, face_index=face_index, crop=crop, mask=mask, window=window, skin=skin,
                                region=region, region_matrix=region_matrix,
                                base=photo[region[1]:region[3], region[0]:region[2]].copy(),
                                colour=colour_reference(crop.image, skin, mouth_weight=self._mouth_weight),
                                region_alpha=_warp_mask(mask, region_matrix, (region[3] - y0, region[2] - x0))[..., None])
        prepared.state = _on_cpu_render_thread(self.device, lambda: self._encode(crop.image[None]))
        prepared.zero = self.edited_crop(prepared, 0.0)
        return prepared

    def checked_crop(self, photo: np.ndarray, face) -> MouthCrop:
        """The face's aligned crop at the model's framing; EditError saying why when it cannot be edited."""
        check_face(face, photo.shape, self.options.min_mouth_px)
        try:
            return crop_mouth(photo, np.asarray(face.landmarks, np.float32), self.crop_config)
        except CropError as exc:
            raise EditError(f"This face cannot be edited: {exc}") from exc

    def _encode(self, crops: np.ndarray) -> dict:
        from keepsmiling_core.data.tensors import to_tensor

        x = to_tensor(crops).to(self.device, self.dtype)
        with torch.no_grad():
            return self.backend.encode(x)

    # ---------------------------------------------------------------- per α
    def decode(self, state: dict, alpha: float) -> torch.Tensor:
        """The model's edited crops at strength α, as a float tensor in [-1, 1] (no colour match yet)."""
        alpha = float(np.clip(alpha, *ALPHA_RANGE))
        with torch.no_grad():
            return self.backend.decode(state, alpha)

    def edited_crop(self, prepared: PreparedFace, alpha: float) -> np.ndarray:
        """The finished crop at α: decoded and colour-matched to the photo (uint8, crop space)."""
        from keepsmiling_core.data.tensors import to_image

        decoded = _on_cpu_render_thread(self.device,
                                        lambda: to_image(self.decode(prepared.state, alpha).float().cpu())[0])
        if self.options.colour_match:
            reference = prepared.colour or colour_reference(prepared.crop.image, prepared.skin,
                                                            mouth_weight=self._mouth_weight)
            decoded = apply_colour_reference(decoded, reference)
        return decoded

    def blend_weights(self, prepared: PreparedFace, crop: np.ndarray) -> np.ndarray:
        """Crop-space alpha for this edited crop: the mouth mask, grown to where the edit changed the face."""
        if prepared.window is None or prepared.zero is None:
            return prepared.mask
        change = np.abs(crop.astype(np.float32) - prepared.zero.astype(np.float32)).mean(axis=2)
        return change_alpha(prepared.mask, prepared.window, change)

    def render(self, prepared: PreparedFace, alpha: float, base: np.ndarray | None = None) -> np.ndarray:
        """The photo's ``prepared.region`` with the edit at α blended in (the slider's fast path).

        ``base``: the region's current pixels to blend onto (default: the original photo's)."""
        return self.render_with_alpha(prepared, alpha, base)[0]

    def render_with_alpha(self, prepared: PreparedFace, alpha: float, base: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
        """``render`` plus the blend weights it used in the region ((H, W) float32; 0 = pixel untouched)."""
        base = prepared.base if base is None else base
        crop = self.edited_crop(prepared, alpha)
        weights = self.blend_weights(prepared, crop)
        if weights is prepared.mask and prepared.region_alpha is not None:
            region_alpha = prepared.region_alpha
        else:
            region_alpha = _warp_mask(weights, prepared.region_matrix, base.shape[:2])[..., None]
        if self.options.blend == "poisson":
            return _poisson(base, crop, prepared.region_matrix, region_alpha[..., 0]), region_alpha[..., 0]
        if not self.options.keep_detail:
            patch = paste_back(base, crop, prepared.region_matrix, weights, keep_detail=False)
            return patch, region_alpha[..., 0]
        return _paste_change(base, crop, prepared, region_alpha), region_alpha[..., 0]

    def region_mask(self, prepared: PreparedFace) -> np.ndarray:
        """The mask in photo pixels of ``prepared.region`` (float32, 0 where the photo stays untouched)."""
        if prepared.region_alpha is not None:
            return prepared.region_alpha[..., 0]
        x0, y0, x1, y1 = prepared.region
        return _warp_mask(prepared.mask, prepared.region_matrix, (y1 - y0, x1 - x0))

    # ---------------------------------------------------------------- whole photos
    def smile(self, photo: np.ndarray, face, alpha: float, face_index: int = 0) -> EditResult:
        """Edit one face of a photo at strength α and return the full photo."""
        prepared = self.prepare(photo, face, face_index)
        patch, weights = self.render_with_alpha(prepared, alpha)
        image = photo.copy()
        x0, y0, x1, y1 = prepared.region
        image[y0:y1, x0:x1] = patch
        return EditResult(image=image, face_index=face_index, alpha=float(alpha), region=prepared.region,
                          mask=weights)

    def apply_all(self, photo: np.ndarray, prepared_faces_and_alphas: Iterable[tuple[PreparedFace, float]]
                  ) -> np.ndarray:
        """A copy of the photo with every prepared face rendered at its α (faces may overlap)."""
        return render_edits(self, photo, prepared_faces_and_alphas)

    # ---------------------------------------------------------------- crops only (evaluation)
    def reconstruct(self, crops: np.ndarray, smiling: bool = False, batch_size: int = 128) -> np.ndarray:
        """The model's plain reconstruction of uint8 crops: De(E(x)) for SplitGAN, G(x, own label) for
        ComplexGAN (whose α = 0 edit is the input itself, so α = 0 would not measure the network)."""
        from keepsmiling_core.data.tensors import to_image

        out = []
        for start in range(0, len(crops), batch_size):
            state = self._encode(crops[start:start + batch_size])
            with torch.no_grad():
                out.append(to_image(self.backend.reconstruct(state, smiling).float().cpu()))
        return np.concatenate(out)

    def edit_crops(self, crops: np.ndarray, alpha: float, masks: np.ndarray | None = None,
                   blend: bool = True, windows: np.ndarray | None = None,
                   batch_size: int = 128) -> tuple[np.ndarray, np.ndarray]:
        """Edit a batch of dataset crops the way a photo edit would, in crop space.

        Returns (decoded, final): the model's raw output crops and the finished crops - colour-matched
        (skin = outside ``masks`` (N, S, S)) and, with ``blend``, alpha-blended with the masks (grown
        inside ``windows`` where the edit changed the face, when the options ask for an adaptive mask)
        exactly as ``render`` blends them into a photo.
        """
        from keepsmiling_core.data.tensors import to_image

        adaptive = self.options.adaptive_mask and windows is not None and masks is not None and blend
        decoded_all, final_all = [], []
        for start in range(0, len(crops), batch_size):
            batch = crops[start:start + batch_size]
            state = self._encode(batch)
            decoded = to_image(self.decode(state, alpha).float().cpu())
            zero = to_image(self.decode(state, 0.0).float().cpu()) if adaptive else None
            final = np.empty_like(decoded)
            for i, (orig, dec) in enumerate(zip(batch, decoded, strict=True)):
                mask = None if masks is None else masks[start + i]
                skin = None if mask is None else skin_weight(mask)
                out = self._match(dec, orig, skin)
                if mask is not None and blend:
                    weights = mask
                    if adaptive:
                        still = self._match(zero[i], orig, skin)
                        change = np.abs(out.astype(np.float32) - still.astype(np.float32)).mean(axis=2)
                        weights = change_alpha(mask, windows[start + i], change)
                    a = weights[..., None]
                    out = np.clip(np.rint(orig + a * (out.astype(np.float32) - orig)), 0, 255).astype(np.uint8)
                final[i] = out
            decoded_all.append(decoded)
            final_all.append(final)
        return np.concatenate(decoded_all), np.concatenate(final_all)

    def _match(self, decoded: np.ndarray, original: np.ndarray, skin: np.ndarray | None) -> np.ndarray:
        if not self.options.colour_match:
            return decoded
        return match_colour(decoded, original, skin, mouth_weight=self._mouth_weight)


def network_editor(model: str | Path, device=None, options: EditOptions | None = None) -> Editor:
    """The editor a network model folder needs: ``ShapeEditor`` when its networks emit shape × texture
    edits, else ``Editor``. The model is loaded once."""
    from keepsmiling_core.device import pick_device
    from keepsmiling_core.editing.shape_editor import ShapeEditor
    from keepsmiling_core.models.checkpoint import load_model
    from keepsmiling_core.models.shape_texture import is_shape_net

    given = Path(model)
    loaded = load_model(given, device=device if isinstance(device, torch.device) else pick_device(device))
    shape = any(is_shape_net(net) for net in loaded.nets.values())
    return (ShapeEditor if shape else Editor)(loaded, options=options, given=given)


def _paste_change(base: np.ndarray, crop: np.ndarray, prepared: PreparedFace, alpha: np.ndarray) -> np.ndarray:
    """Add the upsampled *change* (edited - original crop) to the photo region, weighted by the mask.

    The same blend as ``crops.paste_back(keep_detail=True)``, but with the original crop and the warped
    mask taken from ``prepare`` instead of being resampled from the photo on every slider move; the
    inverse warp is still the crop module's. Where the mask is zero the photo is returned unchanged.
    """
    from keepsmiling_core.data.crops import warp_to_photo

    change = crop.astype(np.float32) - prepared.crop.image.astype(np.float32)
    out = warp_to_photo(change, prepared.region_matrix, base.shape[:2])
    out *= alpha  # in place: this runs on every slider move over a few hundred thousand pixels
    out += base
    np.rint(out, out=out)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def region_to_crop(matrix: np.ndarray, region: tuple[int, int, int, int]) -> np.ndarray:
    """The photo -> crop affine ``matrix`` re-based to pixels of ``region`` (x0, y0, ...)."""
    out = np.array(matrix, np.float64, copy=True)
    out[:, 2] += out[:, :2] @ np.array(region[:2], np.float64)
    return out


def _warp_mask(mask: np.ndarray, region_matrix: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from keepsmiling_core.data.crops import warp_to_photo

    return warp_to_photo(mask.astype(np.float32), region_matrix, shape)


def _mask_region(mask: np.ndarray, matrix: np.ndarray, photo_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Photo box around the mask's non-zero part, plus a margin for the crop's anti-alias blur."""
    ys, xs = np.nonzero(mask > 0)
    if len(xs) == 0:
        raise EditError("The mouth mask of this face is empty; it cannot be edited.")
    box = np.array([[xs.min() - 1, ys.min() - 1], [xs.max() + 1, ys.min() - 1],
                    [xs.min() - 1, ys.max() + 1], [xs.max() + 1, ys.max() + 1]], np.float64)
    corners = apply_matrix(invert_matrix(matrix), box)
    zoom = math.sqrt(abs(float(np.linalg.det(np.asarray(matrix)[:, :2]))))
    sigma = 0.45 * math.sqrt(max(1.0 / max(zoom, 1e-6) ** 2 - 1.0, 0.0))
    margin = int(math.ceil(3 * sigma)) + 3 + int(math.ceil(1.0 / max(zoom, 1e-6)))
    h, w = photo_shape[:2]
    x0 = max(0, int(math.floor(corners[:, 0].min())) - margin)
    y0 = max(0, int(math.floor(corners[:, 1].min())) - margin)
    x1 = min(w, int(math.ceil(corners[:, 0].max())) + margin + 1)
    y1 = min(h, int(math.ceil(corners[:, 1].max())) + margin + 1)
    if x1 <= x0 or y1 <= y0:
        raise EditError("This face's mouth lies outside the photo; it cannot be edited.")
    return x0, y0, x1, y1


def _poisson(base: np.ndarray, crop: np.ndarray, region_matrix: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Gradient-domain paste (cv2.seamlessClone) of the edited crop; untouched where ``alpha`` is zero."""
    from keepsmiling_core.data.crops import warp_to_photo

    warped = warp_to_photo(crop, region_matrix, base.shape[:2])
    inside = (alpha > 0.5).astype(np.uint8) * 255
    inside[[0, -1], :] = 0
    inside[:, [0, -1]] = 0
    if not inside.any():
        return base.copy()
    ys, xs = np.nonzero(inside)
    centre = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
    cloned = cv2.seamlessClone(warped, base, inside, centre, cv2.NORMAL_CLONE)
    out = base.copy()
    keep = alpha > 0
    out[keep] = cloned[keep]
    return out
