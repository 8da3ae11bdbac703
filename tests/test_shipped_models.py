"""The models shipped in resources/models/ load and do their job on real images (no mocks, no tiny stand-ins).

Each edit model makes the sample portraits' mouths read as *more* smiling to the shipped classifier as the
strength grows, and turns the closed mouth of the non-smiling portrait into one it calls smiling;
SimpleGAN's samples read as smiles; the classifier itself is right on held-out MTFL crops.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from keepsmiling_core.data.cache import build_crop_cache, load_crop_cache
from keepsmiling_core.data.tensors import to_image
from keepsmiling_core.detection import detect_faces
from keepsmiling_core.editing.backends import open_editor
from keepsmiling_core.editing.editor import default_model_path
from keepsmiling_core.evaluation.classifier import accuracy, load_classifier, smile_probability
from keepsmiling_core.imageio import read_photo
from keepsmiling_core.models.checkpoint import load_model, read_meta
from keepsmiling_core.paths import samples_dir

ALPHAS = (-2.0, -1.0, 0.0, 1.0, 2.0)
SHIPPED_LIMIT_MB = 60


@pytest.fixture(scope="module")
def test_cache_64(mtfl_subset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixed held-out MTFL testing subset (50 smiling / 50 not) at the shipped models' 64 px."""
    return build_crop_cache(f"mtfl:{mtfl_subset}", tmp_path_factory.mktemp("shipped64_test"), size=64,
                            split="testing", workers=1)


@pytest.fixture(scope="module")
def classifier():
    return load_classifier(default_model_path("classifier"), device="cpu")


@pytest.fixture(scope="module", params=["astronaut.jpg", "grace-hopper.jpg"])
def portrait(request):
    """(name, photo, face): the astronaut already smiles; Grace Hopper's mouth is closed."""
    photo = read_photo(samples_dir() / request.param).rgb
    faces = detect_faces(photo)
    assert len(faces) == 1
    return request.param, photo, faces[0]


def test_shipped_models_are_small_fp16_checkpoints() -> None:
    total = 0
    for kind in ("splitgan", "complexgan", "simplegan", "classifier"):
        folder = default_model_path(kind)
        meta = read_meta(folder)
        assert meta["setup"] == kind and meta["dtype"] == "float16" and meta["size"] == 64
        total += sum(f.stat().st_size for f in Path(folder).iterdir() if f.is_file())
    assert (default_model_path("splitgan") / "latent.json").is_file()
    assert total < SHIPPED_LIMIT_MB * 2**20


@pytest.mark.parametrize("kind", ["splitgan", "complexgan"])
def test_shipped_editor_moves_the_sample_mouth_toward_smiling(kind: str, classifier, portrait) -> None:
    name, photo, face = portrait
    editor = open_editor(default_model_path(kind), device="cpu")
    prepared = editor.prepare(photo, face)
    crops = np.stack([editor.edited_crop(prepared, alpha) for alpha in ALPHAS])
    p = smile_probability(classifier, crops).astype(np.float64)
    at = {alpha: p[i] for i, alpha in enumerate(ALPHAS)}
    logits = np.log(p / (1 - p))
    if name == "grace-hopper.jpg":
        # A closed, unsmiling mouth, called not smiling as it is. The shipped shape × texture networks move
        # the photo's own pixels and paint only between the lips (README: "Measured quality"): from α = 0 to 1
        # the crop classifier's logit rises and every step down removes smile. Past 1 they add little the
        # classifier reads (the slider saturates; ComplexGAN's logit even falls back a little). SplitGAN's
        # smile keeps the lips closed (its corners rise), which this brightness-reading crop classifier
        # credits less than ComplexGAN's parted lips: a rise of 0.40 here (its field, trained fold-free up
        # to strength 2, takes smaller steps per unit of strength), while the face judge on the whole photo
        # rises by 0.9 (``test_shipped_splitgan_smile_reads_as_a_smile_on_the_whole_photo``).
        assert at[0.0] < 0.5, p
        assert logits[3] - logits[2] > (1.0 if kind == "complexgan" else 0.3), (p, logits)
        assert logits[0] <= logits[1] + 0.2 and logits[1] < logits[2], (p, logits)
    else:
        # The astronaut already grins (p ≈ 1): more smile keeps it a smile and less moves it away. Only
        # ComplexGAN (trained to translate both ways) removes it; SplitGAN's removal is faint (README).
        assert at[-1.0] < at[0.0] and min(at[1.0], at[2.0]) > 0.9, p
        if kind == "complexgan":
            assert at[-2.0] < 0.5 < at[0.0], p

    result = editor.smile(photo, face, 1.0)
    assert result.image.shape == photo.shape
    x0, y0, x1, y1 = result.region
    outside = np.ones(photo.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(result.image[outside], photo[outside])


def test_shipped_splitgan_smile_reads_as_a_smile_on_the_whole_photo() -> None:
    """The measure the README reports: the face judge on the finished photo (not the mouth crop). On Grace
    Hopper's closed mouth its logit rises with the strength and falls below the photo's for a negative one
    (measured: -2.87 at 0, -1.98 at 1, -1.96 at 2, -3.86 at -1); a field that did nothing, or one that
    only brightened the lips, would not move the judge this far."""
    from keepsmiling_core.evaluation.face_judge import FaceJudge, face_view

    photo = read_photo(samples_dir() / "grace-hopper.jpg").rgb
    face = detect_faces(photo)[0]
    editor = open_editor(default_model_path("splitgan"), device="cpu")
    judge = FaceJudge.load(device="cpu")
    views = np.stack([face_view(editor.smile(photo, face, alpha).image, face.landmarks) for alpha in (-1.0, 0.0, 1.0, 2.0)])
    p = judge.smile_probability(views).astype(np.float64)
    logits = np.log(p / (1 - p))
    assert logits[2] - logits[1] > 0.5 and logits[3] - logits[1] > 0.5, logits
    assert logits[0] < logits[1] - 0.5, logits


def test_shipped_simplegan_generates_smiles(classifier) -> None:
    model = load_model(default_model_path("simplegan"), device="cpu")
    from keepsmiling_core.models.simplegan import sampling_generator

    generator = sampling_generator(model.nets)
    torch.manual_seed(0)
    with torch.no_grad():
        samples = to_image(generator(torch.randn(64, generator.nz)))
    assert samples.shape == (64, 64, 64, 3)
    assert samples.std() > 20  # not a collapsed, flat image
    assert (smile_probability(classifier, samples) > 0.5).mean() >= 0.6


def test_shipped_classifier_is_right_on_held_out_mtfl(classifier, test_cache_64: Path) -> None:
    cache = load_crop_cache(test_cache_64)
    acc, balanced = accuracy(classifier, cache.images, cache.smiling)
    assert balanced >= 0.75, (acc, balanced)
