"""A regular install (``pip install``, as CI jobs and pre-commit do) carries the project's schemas.

The schemas live in the repository's top-level ``schemas/``; the wheel installs them inside
the package, as ``ingest/schemas``, where ``schema_dir`` finds them. Without them an
installed ``tei-ingest validate`` (project schema) and ``tei-ingest ingest`` cannot run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow

SCHEMAS = ("tei-ingest.rng", "tei-ingest.sch", "manifest.schema.json", "bagit-profile.json")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    tree = tmp_path_factory.mktemp("tree")  # what a clean clone builds from (no build/ left by earlier builds)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy(ROOT / name, tree / name)
    for folder in ("ingest", "schemas"):
        shutil.copytree(ROOT / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(tree)],
                   check=True, capture_output=True)
    (found,) = out.glob("tei_ingest-*.whl")
    return found


def test_the_wheel_carries_every_schema(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SCHEMAS:
        assert f"ingest/schemas/{name}" in names
        assert (ROOT / "schemas" / name).is_file()  # the same files as the repository's


def test_an_installed_copy_validates_with_its_own_schemas(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k != "TEI_INGEST_SCHEMAS"}
    env["PYTHONPATH"] = str(target)
    probe = "from ingest.validate import schema_dir; print(schema_dir())"
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, check=True,
                          capture_output=True, text=True)
    assert Path(done.stdout.strip()) == target / "ingest" / "schemas"
    seed = next((ROOT / "tei").glob("*.xml"))
    done = subprocess.run([sys.executable, "-m", "ingest", "validate", str(seed)], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "1 valid, 0 invalid" in done.stdout + done.stderr
