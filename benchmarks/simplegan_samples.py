"""How good are SimpleGAN's generated smiles? Smile rate and KID of samples against real smiling crops.

    .venv/bin/python benchmarks/simplegan_samples.py MODEL_DIR [MODEL_DIR ...] [--classifier DIR]
        [--data TEST_CACHE] [--samples 300] [--all-checkpoints]

For each SimpleGAN checkpoint: ``--samples`` images from fixed noise, the share the smile classifier
calls smiling, and KID (on the classifier's features, as ``keepsmiling evaluate``) against the real
smiling crops of a held-out cache; real non-smiling vs real smiling is printed as the reference scale.
Defaults: the shipped classifier, and the MTFL testing split cached under the user folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from keepsmiling_core.data.cache import build_crop_cache, load_crop_cache
from keepsmiling_core.data.tensors import to_image
from keepsmiling_core.editing.editor import default_model_path
from keepsmiling_core.evaluation.classifier import classifier_features, load_classifier, smile_probability
from keepsmiling_core.evaluation.metrics import kid
from keepsmiling_core.models.checkpoint import list_checkpoints, load_model
from keepsmiling_core.models.simplegan import sampling_generator
from keepsmiling_core.paths import mtfl_dir, user_dir


def generate(model_dir: Path, count: int, seed: int = 0) -> tuple[np.ndarray, str]:
    model = load_model(model_dir, device="cpu", setup="simplegan")
    generator = sampling_generator(model.nets)
    noise = torch.randn(count, generator.nz, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        images = to_image(generator(noise))
    return images, f"{model.preset}, step {model.step}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, help="SimpleGAN run/checkpoint folders (default: shipped)")
    parser.add_argument("--classifier", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=None, help="held-out 64x64 crop cache")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--all-checkpoints", action="store_true",
                        help="for run folders: score every kept checkpoint and their mean (one checkpoint of a "
                             "short GAN run is a noisy snapshot; KID can swing 10x between checkpoints 100 steps apart)")
    args = parser.parse_args()

    models = args.models or [default_model_path("simplegan")]
    classifier = load_classifier(args.classifier or default_model_path("classifier"), device="cpu")
    data = args.data or build_crop_cache(f"mtfl:{mtfl_dir()}", user_dir() / "caches" / "mtfl-testing-64",
                                         split="testing", size=64)
    cache = load_crop_cache(data)
    smiling = cache.images[cache.smiling][: args.samples]
    other = cache.images[~cache.smiling][: args.samples]
    real = classifier_features(classifier, smiling)
    reference, _ = kid(real, classifier_features(classifier, other))
    print(f"classifier: {args.classifier or 'shipped'}; real crops: {data} ({len(smiling)} smiling)")
    print(f"reference KID real non-smiling vs real smiling: {reference:.4f}")
    print("| model | samples | called smiling | KID vs real smiling |")
    print("|---|---|---|---|")
    for model_dir in models:
        checkpoints = list_checkpoints(model_dir) if args.all_checkpoints else []
        scores = []
        for path in checkpoints or [model_dir]:
            images, label = generate(path, args.samples)
            rate = float((smile_probability(classifier, images) > 0.5).mean())
            value, spread = kid(real, classifier_features(classifier, images))
            scores.append((rate, value))
            print(f"| {path} ({label}) | {len(images)} | {rate:.1%} | {value:.4f} ± {spread:.4f} |")
        if len(scores) > 1:
            rate, value = np.mean(scores, axis=0)
            print(f"| {model_dir}: mean of {len(scores)} checkpoints | | {rate:.1%} | {value:.4f} |")


if __name__ == "__main__":
    main()
