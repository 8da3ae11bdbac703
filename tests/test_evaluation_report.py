"""``keepsmiling evaluate`` end to end on held-out MTFL crops with the tiny trained models."""

from __future__ import annotations

import json

import cv2

from keepsmiling_core.cli.main import main


def test_evaluate_writes_table_json_and_figure(tiny_splitgan_run, tiny_complexgan_run, tiny_classifier,
                                               small_test_cache, tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(tiny_splitgan_run), "--model", str(tiny_complexgan_run),
                 "--classifier", str(tiny_classifier), "--data", str(small_test_cache), "--out", str(out),
                 "--limit", "24", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "| model |" in printed and "success α=1" in printed
    report = json.loads((out / "evaluation.json").read_text())
    assert report["count_non_smiling"] == 24 and report["count_smiling"] == 24
    assert [m["setup"] for m in report["models"]] == ["splitgan", "complexgan"]
    for model in report["models"]:
        assert set(model["success"]) == {"0.0", "0.5", "1.0", "1.5", "2.0"}
        assert all(0.0 <= v <= 1.0 for v in [*model["success"].values(), *model["removal"].values()])
        assert 5 < model["psnr_raw"] < 60 and 0 < model["ssim_raw"] <= 1
        final = float(model["psnr_final"])  # "inf" for ComplexGAN: its alpha-0 edit is the input itself
        assert final >= model["psnr_raw"] - 0.5  # blending only inside the mask can only help
        assert model["delta_e_final"] < 3.0  # colour matching keeps the skin tone
    assert report["models"][1]["psnr_final"] == "inf"
    figure = cv2.imread(str(out / "evaluation.png"))
    assert figure is not None and figure.shape[0] > 200 and figure.shape[1] > 400
    table = (out / "evaluation.md").read_text()
    assert table.count("\n| run |") == 2 and "KID of real non-smiling vs real smiling" in table
