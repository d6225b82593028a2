"""Audio: wav I/O and validation, the bit-exact feature frontend, augmentation."""
