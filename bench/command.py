"""How the benchmarks start tei-ingest: as users do, by its installed command.

``tei-ingest`` beside this interpreter (the console script ``pip install`` writes) starts
a little faster than ``python -m ingest``, which first imports runpy; the benchmarks time
what users run. Without the script (the package put on the path by hand) it is the module.
"""

from __future__ import annotations

import sys
from pathlib import Path

_SCRIPT = Path(sys.executable).parent / "tei-ingest"
TEI_INGEST = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "ingest"]
