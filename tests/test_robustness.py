"""Nothing a user does breaks it (issue #16): bad images, model folders, run folders, datasets, write targets
and kills during every file a run writes.

Every bad input must give a clear one-line error (no traceback), return promptly (FIFOs and devices are
refused, subprocesses run under timeouts), leave every existing file as it was, and never execute anything
(a pickle planted as weights is not unpickled). Cases run in-process through ``cli.main.main`` where they can;
only a hang or a kill is tested in a child process.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from keepsmiling_core import atomic
from keepsmiling_core.cli.main import main
from keepsmiling_core.cli.smile import plan_outputs
from keepsmiling_core.errors import KeepSmilingError, WriteError
from keepsmiling_core.imageio import read_photo, write_photo
from keepsmiling_core.models.checkpoint import list_checkpoints
from keepsmiling_core.paths import samples_dir
from keepsmiling_core.training.config import TrainConfig
from keepsmiling_core.training.lock import RunLock
from keepsmiling_core.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]


def _clear_error(code: int, err: str, *needles: str) -> None:
    """Exit code 2, exactly one error line, no traceback, and the line says what it is about."""
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_with_timeout(fn, seconds: float = 20.0):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it does not return in time."""
    result: dict = {}

    def target() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"call did not return within {seconds} s (hang)"
    if "error" in result:
        raise result["error"]
    return result["value"]


# ------------------------------------------------------------------------------------------ images


def _bad_image(kind: str, tmp: Path) -> Path:
    path = tmp / f"{kind}.jpg"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("not a photo at all")
    elif kind == "truncated":
        path.write_bytes((samples_dir() / "astronaut.jpg").read_bytes()[:2000])
    elif kind == "header_bomb":
        path = tmp / "bomb.png"
        Image.new("L", (1, 1)).save(path)
        data = bytearray(path.read_bytes())
        data[16:24] = (100_000).to_bytes(4, "big") * 2  # IHDR width and height: 10^10 pixels
        path.write_bytes(bytes(data))
    elif kind == "folder":
        path.mkdir()
    elif kind == "missing":
        pass
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")  # reading it never ends
    elif kind == "socket":
        path = tmp / "s.jpg"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()
    elif kind == "link_loop":
        os.symlink(tmp / "loop_b.jpg", path)
        os.symlink(path, tmp / "loop_b.jpg")
    elif kind == "heic":
        path = tmp / "phone.heic"
        path.write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))
    elif kind == "random_png":
        path = tmp / "noise.png"
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    return path


IMAGE_CASES = ["empty", "text", "truncated", "header_bomb", "folder", "missing", "fifo", "device", "socket",
               "link_loop", "heic", "random_png"]


@pytest.mark.parametrize("kind", IMAGE_CASES)
def test_bad_image_to_detect_is_one_clear_line(kind, tmp_path, capsys):
    path = _bad_image(kind, tmp_path)
    code = _run_with_timeout(lambda: main(["detect", str(path)]))
    _clear_error(code, capsys.readouterr().err, str(path))


def test_fifo_given_to_detect_in_a_child_process_does_not_hang(tmp_path):
    fifo = _bad_image("fifo", tmp_path)
    done = subprocess.run([sys.executable, "-m", "keepsmiling_core.cli.main", "detect", str(fifo)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    _clear_error(done.returncode, done.stderr, "named pipe")


@pytest.mark.parametrize("kind", ["fifo", "device", "socket"])
def test_non_regular_inputs_to_smile_are_refused_before_the_model_loads(kind, tmp_path, capsys):
    path = _bad_image(kind, tmp_path)
    # The model does not even exist: inputs are checked first, so the input's error is the one shown.
    code = _run_with_timeout(lambda: main(["smile", str(path), "--model", str(tmp_path / "none"),
                                           "--out", str(tmp_path / "out")]))
    _clear_error(code, capsys.readouterr().err, "not an image file")


def test_the_open_path_the_app_uses_refuses_a_fifo(tmp_path):
    fifo = _bad_image("fifo", tmp_path)
    with pytest.raises(KeepSmilingError, match="named pipe"):
        _run_with_timeout(lambda: read_photo(fifo), 5)


# ------------------------------------------------------------------------------------ model folders


@pytest.fixture
def model_copy(tiny_splitgan_run, tmp_path) -> Path:
    run = tmp_path / "model"
    shutil.copytree(tiny_splitgan_run, run)
    return run


@pytest.fixture(scope="module")
def blank_photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "blank.png"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(path)
    return path


def _checkpoint(run: Path) -> Path:
    return list_checkpoints(run)[-1]


def _edit_meta(run: Path, change) -> None:
    path = _checkpoint(run) / "checkpoint.json"
    if isinstance(change, bytes):
        path.write_bytes(change)
        return
    if isinstance(change, str):  # raw text edit: (old, new) pairs are not needed, the whole text is given
        path.write_text(change)
        return
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


def _set(keys: str, value):
    def change(meta: dict) -> None:
        *parents, last = keys.split(".")
        target = meta
        for key in parents:
            target = target[key]
        target[last] = value
    return change


class _RawStep:
    """Writes a step value JSON parses but Python's json.dumps cannot produce (e.g. 1e400)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, run: Path) -> None:
        path = _checkpoint(run) / "checkpoint.json"
        meta = json.loads(path.read_text())
        meta["step"] = "__STEP__"
        path.write_text(json.dumps(meta).replace('"__STEP__"', self.text))


META_CASES = {
    "step_text": (_set("step", "abc"), "step"),
    "step_null": (_set("step", None), "step"),
    "step_1e400": (_RawStep("1e400"), "step"),
    "step_negative": (_set("step", -5), "step"),
    "step_fraction": (_set("step", 1.5), "step"),
    "files_string": (_set("files", "model.safetensors"), "files"),
    "files_bytes_text": (lambda meta: meta["files"]["model.safetensors"].update(bytes="many"), "bytes"),
    "files_path_traversal": (_set("files", {"../../outside.safetensors": {"bytes": 1, "sha256": "0" * 64}}),
                             "outside"),
    "arch_negative": (_set("arch.width", -1), "arch.width"),
    "arch_huge": (_set("arch.width", 10**9), "arch.width"),
    "arch_text": (_set("arch.width", "wide"), "arch.width"),
    "size_odd": (_set("size", 7), "size"),
    "size_text": (_set("size", "64"), "size"),
    "setup_unknown": (_set("setup", "evil"), "setup"),
    "preset_number": (_set("preset", 3), "preset"),
    "config_string": (_set("config", "x"), "config"),
    "version_text": (_set("format_version", "1"), "version"),
    "json_list": (b"[]", "checkpoint.json"),
    "not_utf8": (b'{"format": "\xff\xfe"}', "UTF-8"),
    "truncated": (b'{"format": "keepsmiling-checkpoint", "st', "truncated"),
}


@pytest.mark.parametrize("case", sorted(META_CASES))
def test_damaged_checkpoint_json_is_one_clear_line(case, model_copy, blank_photo, tmp_path, capsys):
    change, needle = META_CASES[case]
    if isinstance(change, _RawStep):
        change(model_copy)
    else:
        _edit_meta(model_copy, change)
    code = main(["smile", str(blank_photo), "--model", str(model_copy), "--out", str(tmp_path / "out"),
                 "--device", "cpu"])
    _clear_error(code, capsys.readouterr().err, "checkpoint.json", needle)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def _rewrite_tensors(folder: Path, name: str, change) -> None:
    """Change a tensor file and record its new size and hash, as a careful forger would."""
    path = folder / name
    change(path)
    meta_path = folder / "checkpoint.json"
    meta = json.loads(meta_path.read_text())
    meta["files"][name] = {"bytes": path.stat().st_size, "sha256": _sha(path)}
    meta_path.write_text(json.dumps(meta))


def _poison(value: float):
    def change(path: Path) -> None:
        tensors = load_file(str(path))
        key = next(k for k, v in tensors.items() if v.is_floating_point() and v.numel() > 1)
        tensors[key] = tensors[key].clone()
        tensors[key].view(-1)[0] = value
        save_file(tensors, str(path))
    return change


class _Payload:
    """Unpickling this would create a marker file: proof that code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


WEIGHT_CASES = {
    "nan_weight": (_poison(float("nan")), "NaN"),
    "inf_weight": (_poison(float("inf")), "NaN or infinite"),
    "header_too_large": (lambda p: p.write_bytes(b"\xff" * 8 + b"{}"), "safetensors"),
    "pickle_instead": (None, "safetensors"),
}


@pytest.mark.parametrize("case", sorted(WEIGHT_CASES))
def test_damaged_weights_are_refused_and_nothing_runs(case, model_copy, blank_photo, tmp_path, capsys):
    change, needle = WEIGHT_CASES[case]
    marker = tmp_path / "executed"
    if change is None:
        def change(path: Path) -> None:
            path.write_bytes(pickle.dumps(_Payload(str(marker))))
    _rewrite_tensors(_checkpoint(model_copy), "model.safetensors", change)
    code = main(["smile", str(blank_photo), "--model", str(model_copy), "--out", str(tmp_path / "out"),
                 "--device", "cpu"])
    _clear_error(code, capsys.readouterr().err, "model.safetensors", needle)
    assert not marker.exists()


def test_truncated_weights_are_refused(model_copy, blank_photo, tmp_path, capsys):
    path = _checkpoint(model_copy) / "model.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    code = main(["smile", str(blank_photo), "--model", str(model_copy), "--out", str(tmp_path / "out")])
    _clear_error(code, capsys.readouterr().err, "truncated")


def _latent_json(change):
    def apply(run: Path) -> None:
        path = run / "latent.json"
        info = json.loads(path.read_text())
        change(info)
        path.write_text(json.dumps(info).replace('"__NAN__"', "NaN").replace('"__BIG__"', "1e308"))
    return apply


def _direction(value):
    """Change the direction and record the new file's hash, as a forger would (so the values are checked)."""
    def apply(run: Path) -> None:
        path = run / "latent.safetensors"
        tensors = load_file(str(path))
        tensors["direction"] = value(tensors["direction"])
        save_file(tensors, str(path))
        info = json.loads((run / "latent.json").read_text())
        info["tensors_sha256"] = _sha(path)
        (run / "latent.json").write_text(json.dumps(info))
    return apply


def _without(key):
    def change(info: dict) -> None:
        del info["calibration"][key]
    return change


LATENT_CASES = {
    "shape_strings": (_latent_json(_set("latent_shape", ["a", "b"])), "latent_shape"),
    "shape_wrong_size": (_latent_json(_set("latent_shape", [3, 3, 3])), "direction"),
    "shape_too_large": (_latent_json(_set("latent_shape", [100000, 100000, 100000])), "latent_shape"),
    "norm_text": (_latent_json(_set("norm", "big")), "norm"),
    "norm_nan": (_latent_json(_set("norm", "__NAN__")), "norm"),
    "norm_1e308": (_latent_json(_set("norm", "__BIG__")), "norm"),
    "calibration_missing": (_latent_json(_without("smiling")), "calibration.smiling"),
    "calibration_1e308": (_latent_json(_set("calibration.smiling", "__BIG__")), "calibration.smiling"),
    "calibration_nan": (_latent_json(_set("calibration.non_smiling", "__NAN__")), "calibration.non_smiling"),
    "calibration_equal": (_latent_json(_set("calibration", {"smiling": 1.0, "non_smiling": 1.0})), "calibration"),
    "method_unknown": (_latent_json(_set("method", "magic")), "method"),
    "json_list": (lambda run: (run / "latent.json").write_text("[1, 2]"), "latent.json"),
    "json_not_utf8": (lambda run: (run / "latent.json").write_bytes(b"\xff\xfe\x00"), "UTF-8"),
    "json_folder": (lambda run: ((run / "latent.json").unlink(), (run / "latent.json").mkdir()),
                    "no smile direction"),
    "tensors_header_too_large": (lambda run: (run / "latent.safetensors").write_bytes(b"\xff" * 8 + b"{}"),
                                 "latent.safetensors"),
    "direction_nan": (_direction(lambda d: torch.full_like(d, float("nan"))), "NaN"),
    "direction_zero": (_direction(torch.zeros_like), "length"),
    # a kill between the two writes of 'keepsmiling latent': new tensors beside the old latent.json
    "tensors_of_another_run": (lambda run: (run / "latent.safetensors").write_bytes(
        (run / "latent.safetensors").read_bytes() + b" "), "does not belong"),
}


@pytest.mark.parametrize("case", sorted(LATENT_CASES))
def test_damaged_smile_direction_is_one_clear_line(case, model_copy, blank_photo, tmp_path, capsys):
    change, needle = LATENT_CASES[case]
    change(model_copy)
    code = main(["smile", str(blank_photo), "--model", str(model_copy), "--out", str(tmp_path / "out")])
    _clear_error(code, capsys.readouterr().err, "latent", needle)


# ------------------------------------------------------------------------------------- run folders


@pytest.fixture(scope="module")
def short_run(small_cache, tmp_path_factory) -> Path:
    """A 2-step SplitGAN run with a checkpoint at each step (copied by every test that changes it)."""
    out = tmp_path_factory.mktemp("short") / "run"
    Trainer(TrainConfig(setup="splitgan", data=str(small_cache), out=str(out), steps=2, batch_size=8,
                        checkpoint_every=1, sample_every=2, log_every=1, keep_checkpoints=3, tensorboard=False,
                        device="cpu", seed=3)).run()
    return out


@pytest.fixture
def run_copy(short_run, tmp_path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(short_run, run)
    return run


def _resume(run: Path, cache: Path, *extra: str) -> int:
    return main(["train", "--setup", "splitgan", "--data", str(cache), "--out", str(run), "--resume",
                 "--device", "cpu", *extra])


CONFIG_DAMAGE = {
    "list": "[1, 2, 3]",
    "steps_text": None,
    "hparams_string": None,
    "hparam_text": None,
    "lr_text": None,
    "truncated": '{"setup": "splitgan", "ste',
    "not_utf8": b"\xff\xfe{}",
}


@pytest.mark.parametrize("case", sorted(CONFIG_DAMAGE))
def test_damaged_config_json_resumes_from_the_checkpoints_settings(case, run_copy, small_cache, capsys):
    path = run_copy / "config.json"
    damage = CONFIG_DAMAGE[case]
    if damage is None:
        data = json.loads(path.read_text())
        data.update({"steps_text": {"steps": "abc"}, "hparams_string": {"hparams": "fast"},
                     "hparam_text": {"hparams": {"lambda_rec": "abc"}}, "lr_text": {"lr": "fast"}}[case])
        path.write_text(json.dumps(data))
    elif isinstance(damage, bytes):
        path.write_bytes(damage)
    else:
        path.write_text(damage)
    # --resume alone: the length comes from the checkpoint's stored settings (2 steps, already done).
    assert _resume(run_copy, small_cache) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "resumed with the settings stored in step_00000002" in err
    assert json.loads(path.read_text())["steps"] == 2  # rewritten whole, from the checkpoint's copy


def _optim_file(run: Path, change) -> None:
    _rewrite_tensors(_checkpoint(run), "optim.safetensors", change)


def _rename_key(path: Path) -> None:
    tensors = load_file(str(path))
    key = next(k for k in tensors if ".state." in k and not k.startswith("state."))
    tensors["generator..state.x"] = tensors.pop(key)
    save_file(tensors, str(path))


def _rng_float(path: Path) -> None:
    tensors = load_file(str(path))
    tensors["state.rng_cpu"] = tensors["state.rng_cpu"].float()
    save_file(tensors, str(path))


def _both_damaged(run: Path) -> None:
    (run / "config.json").write_text("[]")
    _edit_meta(run, _set("config", {"setup": 5}))


RUN_ERRORS = {
    "metrics_folder": (lambda run: ((run / "metrics.jsonl").unlink(), (run / "metrics.jsonl").mkdir()),
                       "metrics.jsonl"),
    "optim_key_malformed": (lambda run: _optim_file(run, _rename_key), "optim.safetensors"),
    "rng_wrong_type": (lambda run: _optim_file(run, _rng_float), "rng_cpu"),
    "checkpoint_step_text": (lambda run: _edit_meta(run, _set("step", "abc")), "step"),
    "config_and_checkpoint_config": (_both_damaged, "setup"),
}


@pytest.mark.parametrize("case", sorted(RUN_ERRORS))
def test_damaged_run_folder_is_one_clear_line_on_resume(case, run_copy, small_cache, capsys):
    change, needle = RUN_ERRORS[case]
    change(run_copy)
    before = {p: _sha(p) for p in run_copy.rglob("*.safetensors")}
    code = _resume(run_copy, small_cache, "--steps", "3")
    _clear_error(code, capsys.readouterr().err, needle)
    assert {p: _sha(p) for p in run_copy.rglob("*.safetensors")} == before


def test_unreadable_metrics_lines_are_dropped_on_resume(run_copy, small_cache, capsys):
    metrics = run_copy / "metrics.jsonl"
    metrics.write_bytes(metrics.read_bytes() + b"[1, 2]\n\xff\xfe not utf-8\n{\"step\": \"x\"}\n{\"ste")
    assert _resume(run_copy, small_cache) == 0
    assert [json.loads(line)["step"] for line in metrics.read_text().splitlines()] == [1, 2]


BAD_ARGUMENTS = {
    "steps_zero": (["--steps", "0"], "--steps must be at least 1"),
    "epochs_zero": (["--epochs", "0"], "--epochs"),
    "device_mps": (["--device", "mps"], "mps"),
    "device_unknown": (["--device", "xla"], "xla"),
    "device_garbage": (["--device", "cuda:x"], "cuda:x"),
    "arch_huge": (["--arch", "width=1000000000"], "width"),
    "arch_text": (["--arch", "width=wide"], "width"),
    "hparam_nan": (["--set", "lambda_rec=NaN"], "lambda_rec"),
    "hparam_text": (["--set", "lambda_rec=abc"], "lambda_rec"),
    "hparam_unknown": (["--set", "rm_rf=1"], "rm_rf"),
    "checkpoint_every_zero": (["--checkpoint-every", "0"], "checkpoint-every"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_bad_training_arguments_are_refused_before_anything_is_written(case, small_cache, tmp_path, capsys):
    extra, needle = BAD_ARGUMENTS[case]
    code = main(["train", "--setup", "splitgan", "--data", str(small_cache), "--out", str(tmp_path / "run"), *extra])
    _clear_error(code, capsys.readouterr().err, needle)
    assert not (tmp_path / "run").exists()


def test_a_run_folder_in_use_is_refused(run_copy, small_cache, capsys):
    with RunLock(run_copy):
        code = _resume(run_copy, small_cache, "--steps", "3")
    _clear_error(code, capsys.readouterr().err, "in use by another training", f"process {os.getpid()}")
    assert [c.name for c in list_checkpoints(run_copy)] == ["step_00000001", "step_00000002"]


# ---------------------------------------------------------------------------------------- datasets


def _cache_copy(small_cache: Path, tmp: Path) -> Path:
    copy = tmp / "cache"
    shutil.copytree(small_cache, copy)
    return copy


DATASET_CASES = {
    "cache_missing": (lambda c, t: t / "nowhere", "not a crop cache"),
    "cache_is_a_file": (lambda c, t: (t / "file").write_text("x") and t / "file", "not a crop cache"),
    "manifest_list": (lambda c, t: ((d := _cache_copy(c, t)) / "manifest.json").write_text("[]") and d,
                      "manifest.json"),
    "crops_garbage": (lambda c, t: ((d := _cache_copy(c, t)) / "crops.npz").write_bytes(b"PK\x03\x04junk") and d,
                      "crops.npz"),
}


@pytest.mark.parametrize("case", sorted(DATASET_CASES))
def test_bad_crop_cache_for_training_is_one_clear_line(case, small_cache, tmp_path, capsys):
    make, needle = DATASET_CASES[case]
    data = make(small_cache, tmp_path)
    code = main(["train", "--setup", "splitgan", "--data", str(data), "--out", str(tmp_path / "run"),
                 "--device", "cpu", "--steps", "1"])
    _clear_error(code, capsys.readouterr().err, needle)


@pytest.mark.parametrize("spec", ["bogus:somewhere", "mtfl:/nonexistent/MTFL", "folders:/nonexistent"])
def test_bad_dataset_spec_for_prepare_is_one_clear_line(spec, tmp_path, capsys):
    code = main(["prepare", "--dataset", spec, "--out", str(tmp_path / "cache")])
    _clear_error(code, capsys.readouterr().err)


def test_mtfl_annotation_fifo_does_not_hang_prepare(tmp_path, capsys):
    root = tmp_path / "MTFL"
    root.mkdir()
    os.mkfifo(root / "training.txt")
    code = _run_with_timeout(lambda: main(["prepare", "--dataset", f"mtfl:{root}", "--out", str(tmp_path / "c")]))
    _clear_error(code, capsys.readouterr().err)


# ------------------------------------------------------------------------------------ write targets


@pytest.fixture(scope="module")
def portrait(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("portrait")
    shutil.copy(samples_dir() / "astronaut.jpg", folder / "grace.jpg")
    return folder / "grace.jpg"


def _fail_writes(monkeypatch, how: str) -> None:
    """Simulate a full disk (short write, then ENOSPC), an I/O error on fsync, or a read-only / forbidden folder."""
    real_write_all = atomic._write_all

    def short_write(fd, data, path):
        real_write_all(fd, data[: len(data) // 2], path)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def refuse_open(path, flags, mode=0o777, *, dir_fd=None):
        raise OSError({"read_only": errno.EROFS, "permission": errno.EACCES}[how], "refused")

    if how == "disk_full":
        monkeypatch.setattr(atomic, "_write_all", short_write)
    elif how == "fsync":
        monkeypatch.setattr(atomic.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error")))
    else:
        monkeypatch.setattr(atomic.os, "open", refuse_open)
        monkeypatch.setattr(atomic.tempfile, "mkstemp",
                            lambda **kw: refuse_open(kw.get("dir"), 0))


WRITE_FAILURES = {"disk_full": "disk is full", "fsync": "input/output error", "read_only": "read-only",
                  "permission": "permission denied"}


@pytest.mark.parametrize("how", sorted(WRITE_FAILURES))
def test_failed_save_over_a_photo_keeps_the_original(how, tmp_path, monkeypatch):
    target = tmp_path / "photo.jpg"
    shutil.copy(samples_dir() / "astronaut.jpg", target)
    before = _sha(target)
    _fail_writes(monkeypatch, how)
    with pytest.raises(WriteError, match=WRITE_FAILURES[how]) as info:
        write_photo(target, np.zeros((32, 32, 3), np.uint8))
    assert "\n" not in str(info.value) and str(target) in str(info.value)
    assert _sha(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["photo.jpg"]  # no temp file left behind


@pytest.mark.parametrize("how", ["disk_full", "fsync"])
def test_failed_run_file_writes_keep_the_previous_version(how, run_copy, monkeypatch):
    from keepsmiling_core.models.checkpoint import save_checkpoint

    config = run_copy / "config.json"
    before = _sha(config)
    _fail_writes(monkeypatch, how)
    with pytest.raises(WriteError, match=WRITE_FAILURES[how]):
        atomic.atomic_write_text(config, "{}")
    assert _sha(config) == before
    newest = _checkpoint(run_copy)
    hashes = {p.name: _sha(p) for p in newest.iterdir()}
    with pytest.raises(WriteError, match=WRITE_FAILURES[how]):
        save_checkpoint(newest, {"net": torch.nn.Linear(2, 2)}, setup="splitgan", preset="default", size=32,
                        step=9, config={})
    assert {p.name: _sha(p) for p in newest.iterdir()} == hashes


def test_smile_on_a_full_disk_is_one_line_and_writes_nothing(tiny_splitgan_run, portrait, tmp_path, monkeypatch,
                                                             capsys):
    _fail_writes(monkeypatch, "disk_full")
    code = main(["smile", str(portrait), "--model", str(tiny_splitgan_run), "--out", str(tmp_path / "out")])
    _clear_error(code, capsys.readouterr().err, "disk is full")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("target", ["existing_file", "parent_is_file"])
def test_smile_out_that_cannot_be_a_folder_is_one_clear_line(target, portrait, tmp_path, capsys):
    blocker = tmp_path / "blocker.txt"
    blocker.write_text("keep me")
    out = blocker if target == "existing_file" else blocker / "sub" / "out"
    code = main(["smile", str(portrait), "--model", str(tmp_path / "none"), "--out", str(out)])
    _clear_error(code, capsys.readouterr().err, "blocker.txt")
    assert blocker.read_text() == "keep me"


def test_smile_out_in_a_read_only_place_is_one_clear_line(portrait, tmp_path, monkeypatch, capsys):
    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if self.name == "out":
            raise OSError(errno.EROFS, "Read-only file system")
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    code = main(["smile", str(portrait), "--model", str(tmp_path / "none"), "--out", str(tmp_path / "out")])
    _clear_error(code, capsys.readouterr().err, "read-only")


def test_smile_never_replaces_an_existing_file_or_an_input(tiny_splitgan_run, portrait, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    grace = shutil.copy(portrait, folder / "grace.jpg")
    own = folder / "grace_smile.jpg"  # the user's own, unrelated file
    own.write_bytes(b"user data")
    second = shutil.copy(portrait, folder / "grace_smile_input.jpg")
    before = {p.name: _sha(p) for p in folder.iterdir()}
    assert main(["smile", str(grace), str(second), "--model", str(tiny_splitgan_run), "--out", str(folder)]) == 0
    captured = capsys.readouterr()
    assert own.read_bytes() == b"user data"
    assert {p: _sha(folder / p) for p in before} == before
    assert (folder / "grace_smile-2.jpg").is_file() and "grace_smile-2.jpg instead" in captured.err
    assert (folder / "grace_smile_input_smile.jpg").is_file()
    # --overwrite replaces the user's file (but still never an input).
    assert main(["smile", str(grace), "--model", str(tiny_splitgan_run), "--out", str(folder), "--overwrite"]) == 0
    assert own.read_bytes() != b"user data" and read_photo(own).size == read_photo(grace).size


def test_output_names_are_distinct_and_never_an_input(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    p_jpg, p_smile = tmp_path / "p.jpg", tmp_path / "p_smile.jpg"
    photos = [p_jpg, p_smile, tmp_path / "q.png", tmp_path / "q.webp", tmp_path / "a" / "x.jpg",
              tmp_path / "b" / "x.jpg"]
    plan, notes = plan_outputs(photos, out)
    assert len({str(t) for t in plan.values()}) == len(photos)
    assert plan[tmp_path / "q.webp"].name == "q_smile-2.png" and plan[tmp_path / "b" / "x.jpg"].name == "x_smile-2.jpg"
    same_folder, _ = plan_outputs([p_jpg, p_smile], tmp_path)
    assert same_folder[p_jpg].name == "p_smile-2.jpg"  # p_smile.jpg is an input of this run
    assert len(notes) == 2


# ------------------------------------------------------------------------------- kills during writes

KILL_POINTS = ["config.json", "metrics.jsonl", "step_00000004.png", "model.safetensors", "optim.safetensors",
               "checkpoint.json"]


def _train_in_child_until_killed(run: Path, cache: Path, file_name: str) -> int:
    """Fork; the child resumes the run to step 4 and SIGKILLs itself halfway through writing ``file_name``."""
    pid = os.fork()
    if pid == 0:  # child: never returns to pytest
        try:
            real = atomic._write_all

            def write_then_die(fd, data, path):
                if file_name in Path(path).name:
                    real(fd, data[: max(1, len(data) // 2)], path)
                    os.kill(os.getpid(), signal.SIGKILL)
                real(fd, data, path)

            atomic._write_all = write_then_die
            Trainer(_kill_config(run, cache)).run()
        finally:
            os._exit(3)  # only reached when the kill point was never hit
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the training child hung")


def _kill_config(run: Path, cache: Path) -> TrainConfig:
    return TrainConfig(setup="splitgan", data=str(cache), out=str(run), steps=4, batch_size=8, checkpoint_every=2,
                       sample_every=4, log_every=1, keep_checkpoints=1, tensorboard=False, device="cpu", seed=3,
                       resume=True)


@pytest.fixture(scope="module")
def straight_run(short_run, small_cache, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("straight") / "run"
    shutil.copytree(short_run, run)
    Trainer(_kill_config(run, small_cache)).run()
    return run


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("file_name", KILL_POINTS)
def test_kill_while_a_run_file_is_written_resumes_exactly(file_name, run_copy, straight_run, small_cache):
    status = _train_in_child_until_killed(run_copy, small_cache, file_name)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"kill point {file_name} not reached"
    Trainer(_kill_config(run_copy, small_cache)).run()  # the flock died with the child: taken over at once
    ours = load_file(str(_checkpoint(run_copy) / "model.safetensors"))
    reference = load_file(str(_checkpoint(straight_run) / "model.safetensors"))
    assert _checkpoint(run_copy).name == "step_00000004"
    assert all(torch.equal(ours[key], reference[key]) for key in reference)
    steps = [json.loads(line)["step"] for line in (run_copy / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_lock_of_a_killed_process_is_taken_over(run_copy, small_cache):
    """Another process holds the run lock (refused, naming it); once it is SIGKILLed, the next resume proceeds."""
    (run_copy / "train.lock").write_text(json.dumps({"pid": 999_999_999, "host": "gone"}))  # a stale record too
    script = (f"import sys, time\nfrom keepsmiling_core.training.lock import RunLock\n"
              f"RunLock({str(run_copy)!r}).acquire()\nprint('locked', flush=True)\ntime.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(KeepSmilingError, match=f"process {child.pid}"):
            RunLock(run_copy).acquire()
    finally:
        child.kill()
        child.wait(timeout=30)
    assert main(["train", "--setup", "splitgan", "--data", str(small_cache), "--out", str(run_copy), "--resume",
                 "--device", "cpu"]) == 0


# ------------------------------------------------------------------------------ the app's model list


def test_the_model_list_survives_whatever_lies_in_the_runs_folder(tiny_splitgan_run, tmp_path, monkeypatch):
    from keepsmiling_gui.model_catalog import find_models

    monkeypatch.setenv("KEEPSMILING_HOME", str(tmp_path / "home"))
    runs = tmp_path / "runs"
    runs.mkdir()
    for name, change in (("odd_step", _set("step", "abc")), ("meta_list", b"[]"), ("width_huge", _set("arch.width", 10**9))):
        shutil.copytree(tiny_splitgan_run, runs / name)
        _edit_meta(runs / name, change)
    shutil.copytree(tiny_splitgan_run, runs / "good")
    (runs / "just_started" / "checkpoints").mkdir(parents=True)          # no checkpoint yet
    (runs / "not_a_model").mkdir()
    (runs / "a_file.txt").write_text("x")
    os.symlink(tmp_path / "gone", runs / "broken_link")
    offered = {Path(e.path).name for e in find_models(runs) if not e.shipped}
    assert offered == {"good"}  # the picker offers only usable models
    entries = find_models(runs, include_damaged=True)
    by_name = {Path(e.path).name: e for e in entries if not e.shipped}
    assert set(by_name) == {"odd_step", "meta_list", "width_huge", "good"}
    assert by_name["good"].missing_for_edit() is None and by_name["good"].step > 0
    for name in ("odd_step", "meta_list", "width_huge"):
        reason = by_name[name].missing_for_edit()
        assert not by_name[name].can_edit and "checkpoint.json" in reason and "\n" not in reason, reason
    assert "step" in by_name["odd_step"].missing_for_edit()


# ----------------------------------------------------------------------------------------------- XMP

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"/></rdf:RDF></x:xmpmeta>')


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_xmp_metadata_is_kept_on_save(suffix, tmp_path):
    source = tmp_path / f"in{suffix}"
    write_photo(source, np.full((16, 16, 3), 90, np.uint8), xmp=XMP)
    photo = read_photo(source)
    assert photo.xmp == XMP
    again = write_photo(tmp_path / f"out{suffix}", photo.rgb, exif=photo.exif, xmp=photo.xmp)
    assert read_photo(again).xmp == XMP


def test_smile_keeps_the_inputs_xmp(tiny_splitgan_run, portrait, tmp_path):
    source = tmp_path / "tagged.jpg"
    photo = read_photo(portrait)
    write_photo(source, photo.rgb, xmp=XMP)
    assert main(["smile", str(source), "--model", str(tiny_splitgan_run), "--out", str(tmp_path / "out")]) == 0
    assert read_photo(tmp_path / "out" / "tagged_smile.jpg").xmp == XMP
