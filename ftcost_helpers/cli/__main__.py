"""``python -m ftcost_helpers.cli``, the same as ``python -m ftcost_helpers``."""

import sys

from ftcost_helpers.cli import main

sys.exit(main())
