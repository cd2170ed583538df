"""``python -m hal_plugins.bench [options]``: the benchmark without hal's CLI (and its worker processes)."""

import sys

from hal_plugins.bench.command import main

sys.exit(main())
