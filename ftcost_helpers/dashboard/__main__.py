"""``python -m ftcost_helpers.dashboard``: serve the workshop dashboard (see the package)."""

import sys

from ftcost_helpers.dashboard import main

sys.exit(main())
