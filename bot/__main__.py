"""``python -m bot`` runs the birdwatch command."""

import sys

from .cli import main

sys.exit(main())
