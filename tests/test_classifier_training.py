"""The smile classifier learns real signal on MTFL crops and goes through the one checkpoint format."""

from __future__ import annotations

import json

import numpy as np

from keepsmiling_core.cli.main import main
from keepsmiling_core.data.cache import load_crop_cache
from keepsmiling_core.evaluation.classifier import accuracy, load_classifier
from keepsmiling_core.models.classifier import SmileClassifier


def test_tiny_classifier_beats_chance_on_held_out_crops(tiny_classifier, small_test_cache):
    meta = json.loads((tiny_classifier / "checkpoint.json").read_text())
    assert meta["setup"] == "classifier" and meta["extra"]["val_count"] > 0
    net = load_classifier(tiny_classifier, device="cpu")
    assert isinstance(net, SmileClassifier)
    test = load_crop_cache(small_test_cache)  # MTFL testing split: other people, other source (AFLW)
    acc, balanced = accuracy(net, test.images, np.asarray(test.smiling, bool))
    assert balanced > 0.6, f"classifier is near chance on held-out crops ({balanced:.1%})"


def test_train_classifier_cli_reports_held_out_accuracy(small_cache, small_test_cache, tmp_path, capsys):
    out = tmp_path / "clf"
    assert main(["train-classifier", "--data", str(small_cache), "--val", str(small_test_cache),
                 "--out", str(out), "--steps", "15", "--batch-size", "16", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "accuracy on the held-out cache (100 crops)" in printed
    meta = json.loads((out / "checkpoint.json").read_text())
    assert meta["step"] == 15 and 0.0 <= meta["extra"]["val_accuracy"] <= 1.0
    assert main(["train-classifier", "--data", str(tmp_path / "nothing"), "--out", str(out)]) == 2
    assert "nothing" in capsys.readouterr().err
