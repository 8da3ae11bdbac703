"""How fast an edit feels: detection on a 12 MP photo, the first edit of a face, a slider move.

    .venv/bin/python benchmarks/edit_latency.py [--model RUN_OR_MODEL_DIR] [--device auto]
        [--repeats 7] [--threads N]

(a) detect_faces on a 12 MP photo (the astronaut sample upscaled to 4000x3000);
(b) first edit of a face: everything that does not depend on the strength (``prepare``) plus one render;
(c) slider change on a cached face: ``render`` of the face region only, which is what the GUI does while
    the slider moves (network: decode + colour match + blend; warp: scale the field + remap the photo).
Each figure is the median over repeats. Targets on CPU: (a) <= 300 ms, (c) <= 30 ms.
Without --model the app's default edit (the shipped landmark warp) is used; ``--model splitgan`` etc.
name a shipped model, and ``--model untrained`` an untrained default SplitGAN (timings do not depend on
the weights) with a random smile direction.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from keepsmiling_core.detection import detect_faces
from keepsmiling_core.device import device_name, pick_device
from keepsmiling_core.editing.backends import default_edit_model_path, open_editor
from keepsmiling_core.editing.latent import LatentDirection, save_direction
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.models.checkpoint import save_checkpoint
from keepsmiling_core.models.registry import build_setup
from keepsmiling_core.paths import samples_dir, shipped_models_dir


def twelve_megapixel_photo() -> np.ndarray:
    """The astronaut sample upscaled to 3000x3000 and padded (reflected) to 4000x3000 = 12 MP."""
    small = read_photo(samples_dir() / "astronaut.jpg").rgb
    big = cv2.resize(small, (3000, 3000), interpolation=cv2.INTER_CUBIC)
    return cv2.copyMakeBorder(big, 0, 0, 500, 500, cv2.BORDER_REFLECT)


def untrained_splitgan(folder: Path, size: int = 64) -> Path:
    torch.manual_seed(0)
    nets = build_setup("splitgan", "default", size)
    save_checkpoint(folder, nets, setup="splitgan", preset="default", size=size, step=0, config={})
    with torch.no_grad():
        shape = tuple(nets["encoder"](torch.zeros(1, 3, size, size)).shape[1:])
    unit = torch.randn(int(np.prod(shape)))
    direction = LatentDirection(unit=unit / unit.norm(), proj_non_smiling=0.0, proj_smiling=1.0,
                                latent_shape=shape, method="random", norm=1.0, meta={"model_step": 0})
    save_direction(folder, direction)
    return folder


def median_ms(fn, repeats: int, device: torch.device) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    tmp = None
    if args.model == "untrained":
        tmp = tempfile.TemporaryDirectory()
        model = untrained_splitgan(Path(tmp.name) / "splitgan")
        label = "untrained default SplitGAN 64 px (timings do not depend on weights)"
    elif args.model:
        model = shipped_models_dir() / args.model if (shipped_models_dir() / args.model).is_dir() else Path(args.model)
        label = str(model)
    else:
        model = default_edit_model_path()
        label = f"the app's default edit ({model})"
    editor = open_editor(model, device=device)
    print(f"device: {device_name(device)}")
    print(f"model: {label} [{editor.setup}]")

    photo = twelve_megapixel_photo()
    faces = detect_faces(photo)  # warm-up: loads the dlib models once
    if not faces:
        print("no face found in the 12 MP test photo")
        return 1
    face = faces[0]
    detect = median_ms(lambda: detect_faces(photo), args.repeats, device)
    print(f"detection (12 MP photo, {photo.shape[1]}x{photo.shape[0]}): {detect:.1f} ms")

    editor.smile(photo, face, 1.0)  # warm-up
    first = median_ms(lambda: editor.smile(photo, face, 1.0), args.repeats, device)
    prepared = editor.prepare(photo, face)
    first_region = median_ms(lambda: editor.render(editor.prepare(photo, face), 1.0), args.repeats, device)
    print(f"first edit of a face (prepare + render, full-photo copy): {first:.1f} ms")
    print(f"first edit of a face (prepare + render, region only): {first_region:.1f} ms")

    alphas = iter(np.tile(np.linspace(-1.0, 2.0, 13), 100))
    slider = median_ms(lambda: editor.render(prepared, next(alphas)), max(args.repeats, 30), device)
    x0, y0, x1, y1 = prepared.region
    print(f"slider change (cached face): {slider:.1f} ms  [face region {x1 - x0}x{y1 - y0} px]")
    print(f"targets on CPU: detection <= 300 ms -> {'met' if detect <= 300 else 'MISSED'}; "
          f"slider <= 30 ms -> {'met' if slider <= 30 else 'MISSED'}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
