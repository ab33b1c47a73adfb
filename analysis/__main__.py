"""``python -m analysis`` runs the ``si-survey`` command."""

import sys

from analysis.cli import main

sys.exit(main())
