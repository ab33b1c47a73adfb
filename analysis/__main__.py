"""``python -m analysis`` runs the ``si-survey`` command."""

import sys

from .cli import main

sys.exit(main())
