"""``keepsmiling evaluate-photos``: whole real photos through the app's edit path, judged as a person would."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from keepsmiling_core.errors import KeepSmilingError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--photos", default=None, metavar="KIND:PATH",
                        help="labelled photos: genki:DIR (default ../shared/data/GENKI-4K-dev), folders:DIR "
                             "(smiling/ + not_smiling/) or list:FILE (lines 'PHOTO 1|0')")
    parser.add_argument("--part", default="eval", choices=("eval", "judge"),
                        help="GENKI part (default eval: the part nothing is trained on)")
    parser.add_argument("--model", action="append", default=None, metavar="MODEL",
                        help="'none' or an edit model folder; repeat for several (default: none, the shipped "
                             "warp, SplitGAN and ComplexGAN)")
    parser.add_argument("--strengths", default="-1,0,0.5,1,1.5,2", help="comma-separated strengths (-2..3)")
    parser.add_argument("--limit", type=int, default=200, help="at most N photos, a fixed stratified subset")
    parser.add_argument("--large", action="append", default=None, metavar="PHOTO",
                        help="high-resolution photos measured for realism only (default: the shipped samples)")
    parser.add_argument("--out", default="docs/evaluation/photos", metavar="DIR",
                        help="folder for photo-eval.json and the contact sheets")
    parser.add_argument("--cache", default=None, metavar="DIR", help="detection cache folder")
    parser.add_argument("--judge", default=None, metavar="DIR", help="face judge folder (default: shipped)")
    parser.add_argument("--sheet", type=int, default=24, help="photos on each model's contact sheet")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-detectability", action="store_true", help="skip the two-sample test (faster)")
    parser.add_argument("--device", default=None, help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--align", default="finished", choices=("finished", "input"),
                        help="align the judge's view and the detectability crops on the landmarks dlib finds on "
                             "the finished photo, as on any real photo (default), or on the input photo's "
                             "(before session 16: an edit's mouth then sits off the crop's frame)")


def _strengths(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise KeepSmilingError(f"--strengths must be numbers separated by commas (got {text!r}).") from None
    if not values or any(not -2.0 <= v <= 3.0 for v in values):
        raise KeepSmilingError("--strengths must lie between -2 and 3.")
    return values


def default_models() -> list[str]:
    from keepsmiling_core.paths import shipped_models_dir

    shipped = shipped_models_dir()
    return ["none"] + [str(shipped / name) for name in ("warp", "splitgan", "complexgan") if (shipped / name).is_dir()]


def run(args: argparse.Namespace) -> int:
    from keepsmiling_core.atomic import atomic_write_text
    from keepsmiling_core.evaluation.contact_sheet import write_sheet
    from keepsmiling_core.evaluation.photo_sets import LabelledPhoto, fixed_subset, load_photo_set
    from keepsmiling_core.evaluation.photos import SHEET_STRENGTHS, PhotoEvalConfig, evaluate_photos
    from keepsmiling_core.paths import samples_dir, shared_data_dir

    spec = args.photos or f"genki:{shared_data_dir() / 'GENKI-4K-dev'}"
    if args.limit is not None and args.limit < 10:
        raise KeepSmilingError("--limit must be at least 10 photos.")
    photos = fixed_subset(load_photo_set(spec, args.part), args.limit, args.seed)
    large = [LabelledPhoto(Path(p), None) for p in args.large] if args.large is not None else \
        [LabelledPhoto(p, None) for p in sorted(samples_dir().glob("*.jpg"))]
    config = PhotoEvalConfig(photos=photos, models=args.model or default_models(), strengths=_strengths(args.strengths),
                             large=large, cache_dir=Path(args.cache) if args.cache else None,
                             judge=Path(args.judge) if args.judge else None, sheet_photos=args.sheet,
                             seed=args.seed, detectability=not args.no_detectability, device=args.device,
                             align=args.align)
    report, sheets = evaluate_photos(config)
    report["photo_set"] = {"spec": spec, "part": args.part, "limit": args.limit, "seed": args.seed}
    report["aligned_on"] = args.align
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def public() -> dict:   # the report without the per-photo probabilities kept for the summary
        return {**report, "models": {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")}
                                     for k, v in report["models"].items()}}

    # Written before the sheets too: the measurements of a long run must survive a failing sheet.
    atomic_write_text(out / "photo-eval.json", json.dumps(public(), indent=1) + "\n")
    columns = ["input"] + [f"strength {a:g}" for a in SHEET_STRENGTHS]
    for label, rows in sheets.items():
        name = label.split(" ")[0]
        small = [(p.path.name, tiles) for p, tiles in rows if p.smiling is not None]
        big = [(p.path.name, tiles) for p, tiles in rows if p.smiling is None]
        files = {}
        if small:
            files["photos"] = str(write_sheet(out / f"sheet-{name}.png", small, columns, f"{label}: {spec}"))
        if big:
            files["large"] = str(write_sheet(out / f"sheet-{name}-large.png", big, columns, f"{label}: full-size photos"))
        report["models"][label]["sheets"] = files
    atomic_write_text(out / "photo-eval.json", json.dumps(public(), indent=1) + "\n")
    print(format_table(public()))
    print(f"report: {out / 'photo-eval.json'}")
    return 0


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _num(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def format_table(report: dict) -> str:
    """The README's table: per model, coverage, success/removal, detectability and realism at strength 1."""
    lines = ["| model | edited | success 0.5 / 1 / 1.5 / 2 | removal −1 | detectability | sharpness small / large "
             "| skin-ring ΔE (worst sector) | untouched | lips parted 1 / 2 | teeth detail 1 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for label, summary in report["models"].items():
        rows = summary["by_strength"]
        success = " / ".join(_pct(rows.get(k, {}).get("success")) for k in ("0.5", "1.0", "1.5", "2.0"))
        one = rows.get("1.0", {})
        detect = summary.get("detectability") or {}
        lines.append(
            f"| {label} | {_pct(summary['coverage']['edited_share'])} | {success} | "
            f"{_pct(rows.get('-1.0', {}).get('removal'))} | {_pct(detect.get('accuracy'))} | "
            f"{_num(one.get('sharpness_small_median'))} / {_num(one.get('sharpness_large_median'))} | "
            f"{_num(one.get('ring_delta_e_mean'))} ({_num(one.get('worst_sector_delta_e_mean'))}) | "
            f"{_pct(one.get('untouched_min'))} | {_pct(one.get('lips_parted_non_smiling'))} / "
            f"{_pct(rows.get('2.0', {}).get('lips_parted_non_smiling'))} | "
            f"{_num(one.get('teeth_detail_median_non_smiling'))} |")
    judge = report.get("judge") or {}
    ref = report.get("detectability_reference") or {}
    lines.append(f"\nface judge on the unedited photos: accuracy {_pct(judge.get('accuracy'))}, smile recall "
                 f"{_pct(judge.get('smile_recall'))}, false positives {_pct(judge.get('false_positive_rate'))}; "
                 f"detectability of real vs real smiling faces {_pct(ref.get('accuracy'))}")
    lines.append(f"real smiling faces with their lips parted: {_pct(judge.get('smiles_lips_parted'))}; judged smiling "
                 f"with closed lips {_pct(judge.get('smile_recall_closed_lips'))}, with parted lips "
                 f"{_pct(judge.get('smile_recall_parted_lips'))}")
    real_teeth = next((m["by_strength"].get("0.0", {}).get("teeth_detail_median_smiling")
                       for m in report["models"].values()), None)
    lines.append(f"teeth detail (LoG σ 1 between the inner lips ÷ the skin around the mouth) of real smiles with "
                 f"parted lips: {_num(real_teeth)}")
    return "\n".join(lines)
