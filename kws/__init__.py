"""kws: spoken keywords in, microcontroller firmware out."""

__version__ = "0.1.0"
