"""``python -m ftcost_helpers``."""

import sys

from .cli import main

sys.exit(main())
