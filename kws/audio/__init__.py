"""Audio: wav reading and writing (``io.py``) and the bit-exact feature
frontend (parameters, integer tables, the Python twin of the C code, the
generated C headers). Clip validation lives in ``kws.data.validate``,
augmentation in ``kws.train.augment``."""
