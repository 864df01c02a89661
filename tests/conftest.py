"""Shared fixtures: the seeds, pinned build settings, the compiled schemas."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ingest.config import BuildInfo, CorpusConfig, load_config
from ingest.validate import TEI_ALL_ENV

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
SHARED = Path(os.environ.get("TEI_INGEST_SHARED", ROOT.parent / "shared"))

#: The build date every test pins (2026-11-23T00:00:00Z), as the committed corpus does.
EPOCH = 1795392000


def tei_all_path() -> Path | None:
    """Return the official tei_all.rng: $TEI_ALL_RNG, else ../shared/schemas/tei/tei_all.rng."""
    candidate = os.environ.get(TEI_ALL_ENV) or str(SHARED / "schemas" / "tei" / "tei_all.rng")
    path = Path(candidate)
    return path if path.is_file() else None


def seed_copies(folder: Path, copies: int, broken: tuple[str, bytes]) -> Path:
    """Write the seeds ``copies`` times over into ``folder`` (as N-<seed>.txt), and one broken source."""
    folder.mkdir()
    for n in range(copies):
        for seed in SEEDS:
            (folder / f"{n}-{seed.name}").write_bytes(seed.read_bytes())
    (folder / broken[0]).write_bytes(broken[1])
    return folder


def seed_params() -> list[object]:
    """Return the seeds as pytest parameters named after their stem."""
    return [pytest.param(p, id=p.stem) for p in SEEDS]


@pytest.fixture(scope="session")
def config() -> CorpusConfig:
    """Return the project's corpus configuration."""
    cfg, _ = load_config(ROOT / "tei-ingest.toml")
    return cfg


@pytest.fixture(scope="session")
def build() -> BuildInfo:
    """Return the pinned build information."""
    from ingest import __version__

    return BuildInfo(__version__, EPOCH)


@pytest.fixture(scope="session")
def tei_all_file() -> Path:
    """Return the official tei_all.rng, or skip when it is not beside the project."""
    path = tei_all_path()
    if path is None:
        pytest.skip("tei_all.rng not found (set TEI_ALL_RNG or put ../shared beside the project)")
    return path


@pytest.fixture(scope="session")
def jing() -> str:
    """Return the jing executable, or fail: `make test` installs it."""
    exe = shutil.which("jing")
    if exe is None:
        pytest.fail("jing is not installed; `make test` installs the Debian package")
    return exe


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin SOURCE_DATE_EPOCH and run in a neutral folder state."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the schema cache of the tests out of the user's home."""
    os.environ["TEI_INGEST_CACHE"] = str(tmp_path_factory.mktemp("cache"))


#: Letters written for the export tests (a full date, a month, no date) beside the seeds.
LETTERS = ROOT / "tests" / "fixtures" / "letters"

#: The register of the export corpus: one sender with an authority id.
REGISTER = """[[person]]
name = "Jean Dupont"
refs = ["https://viaf.org/viaf/000000001"]

[[org]]
name = "Organisation Internationale pour les Migrations"
forms = ["OIM"]
refs = ["https://www.wikidata.org/wiki/Q000000002"]
"""


class ExportCorpus:
    """A corpus written for the export tests: its folder and the configuration it was built with."""

    def __init__(self, folder: Path, config_path: Path) -> None:
        self.folder = folder
        self.config_path = config_path


@pytest.fixture(scope="session")
def export_corpus(tmp_path_factory: pytest.TempPathFactory) -> ExportCorpus:
    """Ingest the seeds and the test letters once, with a register; do not modify the result."""
    from ingest.pipeline import run

    base = tmp_path_factory.mktemp("export-corpus")
    (base / "authorities.toml").write_text(REGISTER, encoding="utf-8")
    text = (ROOT / "tei-ingest.toml").read_text(encoding="utf-8")
    text = text.replace('tei_all = "../shared/', f'tei_all = "{SHARED}/')
    config_path = base / "tei-ingest.toml"
    config_path.write_text(text, encoding="utf-8")
    result = run([LETTERS, ROOT / "seeds"], base / "tei", config_path=config_path,
                 env={"SOURCE_DATE_EPOCH": str(EPOCH)}, progress=None)
    assert not result.rejected, result.rejected
    return ExportCorpus(base / "tei", config_path)
