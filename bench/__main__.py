"""`python -m bench [areas...]`: see ``bench.runner``."""

import sys

from bench.runner import main

sys.exit(main())
