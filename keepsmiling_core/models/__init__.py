"""The networks (the three GAN setups, the smile classifier), the registry that builds them by name, and
the one checkpoint format that stores them (``checkpoint.py``, below both training and editing)."""
