"""KeepSmiling core: data, detection, models, training, editing and evaluation. No Qt in here."""

__version__ = "0.1.0"
