"""``python -m ingest``: the same as the ``tei-ingest`` command."""

from .cli import main

raise SystemExit(main())
