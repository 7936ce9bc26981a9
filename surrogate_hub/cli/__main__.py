"""``python -m surrogate_hub.cli``."""

from . import main

raise SystemExit(main())
