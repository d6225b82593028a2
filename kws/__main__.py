"""`python -m kws` runs the kws command."""

from kws.cli import main

main()
