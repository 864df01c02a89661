"""Project configuration (``tei-ingest.toml``) and build information.

The configuration names the corpus, its publisher and licence: values that belong to
the archive, not to the tool. The build date comes from ``SOURCE_DATE_EPOCH`` when it
is set (reproducible-builds.org), else from ``[build] source_date_epoch`` in the
configuration, else from the newest source file: never from the wall clock, so that
a re-run writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from . import __version__
from .errors import ConfigError, Issue

CONFIG_NAME = "tei-ingest.toml"
#: Keys of ``[export]``: where the exchange formats will be published.
EXPORT_KEYS = ("cmif_url", "oai_base_url")


@dataclass(frozen=True, slots=True)
class CorpusConfig:
    """What the archive says about its corpus (``[corpus]`` in ``tei-ingest.toml``)."""

    id: str = "corpus"
    title: str = "Untitled TEI corpus"
    description: str = ""
    publisher: str = "Unnamed publisher (set [corpus] publisher in tei-ingest.toml)"
    contact: str = ""
    licence: str = "Licence not stated (set [corpus] licence in tei-ingest.toml)"
    licence_url: str = ""
    availability: str = "unknown"
    identifier_base: str = ""
    source_date_epoch: int | None = None
    tei_all: str = ""
    authorities: str = ""
    cmif_url: str = ""  # [export]: the URL the CMIF file will be published at
    oai_base_url: str = ""  # [export]: the base URL of the OAI-PMH repository


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """The tool version and the build date every output is stamped with."""

    version: str
    epoch: int

    @property
    def timestamp(self) -> str:
        """Return the build time as ISO 8601 UTC (``2026-11-22T00:00:00Z``)."""
        return dt.datetime.fromtimestamp(self.epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def date(self) -> str:
        """Return the build date as ISO 8601 (``2026-11-22``)."""
        return self.timestamp[:10]


def load_config(path: Path | None) -> tuple[CorpusConfig, Path | None]:
    """Read the configuration file; return defaults when there is none."""
    if path is None:
        candidate = Path(CONFIG_NAME)
        if not candidate.is_file():
            return CorpusConfig(), None
        path = candidate
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(Issue("config.missing", str(path), "does not exist")) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(Issue("config.invalid", str(path), f"cannot be read as TOML: {exc}")) from None
    section = data.get("corpus", {})
    build = data.get("build", {})
    if not isinstance(section, Mapping) or not isinstance(build, Mapping):
        raise ConfigError(Issue("config.invalid", str(path), "[corpus] and [build] must be tables"))
    known = {f.name for f in fields(CorpusConfig)}
    values = dict(section)
    if "source_date_epoch" in build:
        values["source_date_epoch"] = build["source_date_epoch"]
    if "tei_all" in data.get("schemas", {}):
        tei_all = Path(data["schemas"]["tei_all"])
        values["tei_all"] = str(tei_all if tei_all.is_absolute() else path.parent / tei_all)
    registers = data.get("registers", {})
    if "authorities" in registers:
        reg = Path(registers["authorities"])
        values["authorities"] = str(reg if reg.is_absolute() else path.parent / reg)
    export = data.get("export", {})
    if not isinstance(export, Mapping):
        raise ConfigError(Issue("config.invalid", str(path), "[export] must be a table"))
    unknown_export = sorted(set(export) - set(EXPORT_KEYS))
    if unknown_export:
        raise ConfigError(Issue("config.unknown", str(path), f"unknown keys in [export]: {', '.join(unknown_export)}"))
    values.update(export)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(Issue("config.unknown", str(path), f"unknown keys: {', '.join(unknown)}"))
    for key, value in values.items():
        expected = int if key == "source_date_epoch" else str
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(Issue("config.invalid", str(path), f"{key} must be a {expected.__name__}"))
    return CorpusConfig(**values), path


def build_info(env: Mapping[str, str], config: CorpusConfig, sources: Iterable[Path]) -> BuildInfo:
    """Return the build information: SOURCE_DATE_EPOCH, else the configured epoch, else the newest source."""
    raw = env.get("SOURCE_DATE_EPOCH", "").strip()
    if raw:
        if not raw.isdigit():
            raise ConfigError(Issue("config.epoch", "SOURCE_DATE_EPOCH", f"{raw!r} is not a whole number of seconds"))
        return BuildInfo(__version__, int(raw))
    if config.source_date_epoch is not None:
        return BuildInfo(__version__, config.source_date_epoch)
    newest = 0
    for p in sources:
        try:
            newest = max(newest, int(p.stat().st_mtime))
        except OSError:
            continue
    return BuildInfo(__version__, newest)
