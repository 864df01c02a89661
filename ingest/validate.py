"""Validation of TEI documents against the project schema and the official TEI P5 schema.

The project schema (``schemas/tei-ingest.rng`` with the rules of
``schemas/tei-ingest.sch``) is small and compiles at once. The official ``tei_all.rng``
takes lxml several seconds to compile: it is compiled once per process, on first use.
Parsing is hardened: no network, no DTD loading, no entity expansion.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree, isoschematron  # type: ignore[attr-defined]

from .errors import Issue, SchemaError

#: Environment variable naming the official ``tei_all.rng``.
TEI_ALL_ENV = "TEI_ALL_RNG"
#: Environment variable naming a folder holding the project schema (for installed copies).
SCHEMA_DIR_ENV = "TEI_INGEST_SCHEMAS"

PROJECT_RNG = "tei-ingest.rng"
PROJECT_SCH = "tei-ingest.sch"


def schema_dir(env: Mapping[str, str] | None = None) -> Path:
    """Return the folder holding the project schema."""
    env = os.environ if env is None else env
    override = env.get(SCHEMA_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "schemas"


def safe_parser() -> etree.XMLParser:
    """Return an XML parser that never reads the network, a DTD or an external entity."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of checking one document against one schema."""

    schema: str
    valid: bool
    issues: tuple[Issue, ...] = ()

    @property
    def status(self) -> str:
        """Return "valid" or "invalid"."""
        return "valid" if self.valid else "invalid"


def _rng_issues(log: etree._ListErrorLog, path: str, rule: str) -> tuple[Issue, ...]:
    """Turn an lxml error log into issues."""
    return tuple(Issue(rule, path, e.message, e.line) for e in log)


@cache
def _compile_rng(path: str) -> etree.RelaxNG:
    """Compile a RELAX NG schema (cached per process)."""
    try:
        return etree.RelaxNG(etree.parse(path, safe_parser()))
    except OSError as exc:
        raise SchemaError(Issue("schema.missing", path, f"cannot be read: {exc}")) from None
    except (etree.XMLSyntaxError, etree.RelaxNGParseError) as exc:
        raise SchemaError(Issue("schema.invalid", path, f"cannot be compiled: {exc}")) from None


@cache
def _compile_sch(path: str) -> isoschematron.Schematron:
    """Compile an ISO Schematron schema (XPath 1.0; cached per process)."""
    try:
        return isoschematron.Schematron(etree.parse(path, safe_parser()), store_report=True)
    except OSError as exc:
        raise SchemaError(Issue("schema.missing", path, f"cannot be read: {exc}")) from None
    except (etree.XMLSyntaxError, etree.SchematronParseError) as exc:
        raise SchemaError(Issue("schema.invalid", path, f"cannot be compiled: {exc}")) from None


def _schematron_issues(sch: isoschematron.Schematron, path: str) -> tuple[Issue, ...]:
    """Return the failed assertions and successful reports of the last Schematron run."""
    report = sch.validation_report
    if report is None:
        return ()
    svrl = "{http://purl.oclc.org/dsdl/svrl}"
    out = []
    for el in report.iter(svrl + "failed-assert", svrl + "successful-report"):
        text = " ".join("".join(el.itertext()).split())
        out.append(Issue("schematron", path, f"{text} (at {el.get('location')})"))
    return tuple(out)


class ProjectSchema:
    """The project's RELAX NG schema and Schematron rules."""

    name = "project"

    def __init__(self, folder: Path | None = None) -> None:
        folder = folder or schema_dir()
        self.rng_path = folder / PROJECT_RNG
        self.sch_path = folder / PROJECT_SCH
        self.rng = _compile_rng(str(self.rng_path))
        self.sch = _compile_sch(str(self.sch_path))

    def check(self, doc: etree._ElementTree, path: str) -> Verdict:
        """Check a parsed document."""
        issues: list[Issue] = []
        if not self.rng.validate(doc):
            issues.extend(_rng_issues(self.rng.error_log, path, "project-rng"))
        if not self.sch.validate(doc):
            issues.extend(_schematron_issues(self.sch, path))
        return Verdict(self.name, not issues, tuple(issues))


class TeiAllSchema:
    """The official TEI P5 ``tei_all.rng`` (RELAX NG part)."""

    name = "tei_all"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rng = _compile_rng(str(path))

    def check(self, doc: etree._ElementTree, path: str) -> Verdict:
        """Check a parsed document."""
        if self.rng.validate(doc):
            return Verdict(self.name, True)
        return Verdict(self.name, False, _rng_issues(self.rng.error_log, path, "tei_all"))


def find_tei_all(configured: str = "", env: Mapping[str, str] | None = None) -> Path | None:
    """Return the official tei_all.rng: from the environment, else the configuration."""
    env = os.environ if env is None else env
    for candidate in (env.get(TEI_ALL_ENV, ""), configured):
        if candidate:
            return Path(candidate)
    return None
