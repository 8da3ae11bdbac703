"""Help ▸ About: what is running (versions, the device) and whose work it stands on (licences).

Kept apart from the window so the text can be checked without a dialog; versions are read from the
modules themselves, so the box never goes stale.
"""

from __future__ import annotations

import html


def _version(module: str) -> str:
    try:
        imported = __import__(module)
    except Exception:  # noqa: BLE001 - a missing optional library is reported, not raised
        return "not available"
    return str(getattr(imported, "__version__", "unknown"))


def library_versions() -> dict[str, str]:
    """KeepSmiling and the libraries whose versions matter when a result is reported."""
    from keepsmiling_core import __version__

    return {"KeepSmiling": __version__, "PyTorch": _version("torch"), "PySide6": _version("PySide6"),
            "dlib": _version("dlib")}


LICENCE_NOTES = (
    "<b>Face landmarks</b>: dlib's HOG and CNN face detectors and its 68-point shape predictor (from the "
    "<i>face-recognition-models</i> package). The landmark model was trained on the iBUG 300-W dataset, whose "
    "licence excludes commercial use: face detection here is for research and personal use only unless that "
    "model is replaced.",
    "<b>Training data</b>: MTFL — Zhang, Luo, Loy and Tang, <i>Facial Landmark Detection by Deep Multi-task "
    "Learning</i>, ECCV 2014 — for research use; the dataset is not shipped, only weights trained on it.",
    "<b>Evaluation data</b>: the MPLab GENKI-4K Dataset, Machine Perception Laboratory, UC San Diego "
    "(http://mplab.ucsd.edu), acknowledged for the detection results measured on it.",
)


def about_html(device: str) -> str:
    """The About box's text: versions, the device the models run on, and the licence notes."""
    versions = "".join(f"<tr><td>{html.escape(name)}</td><td>{html.escape(version)}</td></tr>"
                       for name, version in library_versions().items())
    notes = "".join(f"<p>{note}</p>" for note in LICENCE_NOTES)
    return (f"<h3>KeepSmiling {html.escape(library_versions()['KeepSmiling'])}</h3>"
            "<p>Make the people in a photo smile: GANs edit the mouth, the rest of the photo stays as it was.</p>"
            f"<table>{versions}<tr><td>Device in use</td><td>{html.escape(device)}</td></tr></table>{notes}")
