"""``python -m avr_gui.cli ARGS...``: the ``avr`` command."""

import sys

from avr_gui.cli import main

sys.exit(main())
