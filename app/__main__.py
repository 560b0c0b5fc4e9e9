"""``python -m botloom.app [BOT]``: open the designer (the same as ``python -m botloom.app.main``)."""

import sys

from .main import main

sys.exit(main())
