"""How the benchmarks start tei-ingest: as users do, by its installed command.

``regular_install`` makes a fresh one with ``pip install`` (not editable); ``TEI_INGEST``
is the command of the environment the benchmark runs in.

``tei-ingest`` beside this interpreter (the console script ``pip install`` writes) starts
a little faster than ``python -m ingest``, which first imports runpy; the benchmarks time
what users run. Without the script (the package put on the path by hand) it is the module.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_SCRIPT = Path(sys.executable).parent / "tei-ingest"
TEI_INGEST = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "ingest"]
ROOT = Path(__file__).resolve().parents[1]


def regular_install(folder: Path) -> list[str]:
    """Install the project into a new virtual environment in folder, as users do; return its command.

    A regular ``pip install`` (what a CI job or a pre-commit hook runs) writes the package's
    bytecode and no import hook, where the development environment's editable install
    puts a finder on every interpreter start (some 10 ms) and writes no bytecode when
    PYTHONDONTWRITEBYTECODE is set.
    """
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(ROOT)], check=True,
                   capture_output=True)
    return [str(venv / "bin" / "tei-ingest")]
