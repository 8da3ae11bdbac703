"""User-facing error types.

Everything the CLI or the GUI can show to a person derives from ``KeepSmilingError``: its message is
written for that person (what went wrong, which file, what to do), so front ends print ``str(err)``
and never a traceback.
"""


class KeepSmilingError(Exception):
    """Base of all errors whose message is fit to show a user."""


class ImageReadError(KeepSmilingError):
    """An image file is missing, unreadable, not an image, or too large to decode safely."""


class DatasetError(KeepSmilingError):
    """A dataset folder, annotation file or line is missing or malformed."""


class CropError(KeepSmilingError):
    """Landmarks do not allow a usable mouth crop (degenerate, too small, outside the photo)."""


class DetectionError(KeepSmilingError):
    """Face detection is unavailable (dlib or its model missing) or failed."""


class CheckpointError(KeepSmilingError):
    """A checkpoint or model folder is missing, truncated, corrupt or of another format/setup."""


class TrainingError(KeepSmilingError):
    """Training could not run (bad config, out of memory, no data)."""


class EditError(KeepSmilingError):
    """A face cannot be edited; the message says why (too small, profile, no model...)."""


class WriteError(KeepSmilingError):
    """A file could not be written (disk full, read-only, permission, a folder in the way); nothing was replaced."""


class ValidationError(KeepSmilingError):
    """A file read from disk (model, run, latent, metrics) does not have the expected structure or values."""
