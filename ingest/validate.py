"""Validation of TEI documents against the project schema and the official TEI P5 schema.

The project schema (``schemas/tei-ingest.rng`` with the rules of
``schemas/tei-ingest.sch``) is small and compiles at once. The official ``tei_all.rng``
takes lxml several seconds to compile: it is compiled once per process, on first use.
Parsing is hardened: no network, no DTD loading, no entity expansion.
"""

from __future__ import annotations

import os
import re
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


# ------------------------------------------------------------------ checking files


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in one file, as ``path:line:col: severity: message [rule]``."""

    path: str
    line: int
    column: int
    severity: str
    message: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message} [{self.rule}]"


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """Every problem found in one file (none: the file is valid)."""

    path: str
    problems: tuple[Problem, ...]

    @property
    def valid(self) -> bool:
        """Return True when no error was found."""
        return not any(p.severity == "error" for p in self.problems)


_XML_MODEL = re.compile(r'\bhref\s*=\s*"([^"]*)"|\bhref\s*=\s*\'([^\']*)\'')
_SCHEMATYPENS = re.compile(r'\bschematypens\s*=\s*["\']([^"\']*)["\']')
RNG_NS = "http://relaxng.org/ns/structure/1.0"


def _declared_schemas(doc: etree._ElementTree, path: Path) -> list[Path]:
    """Return the local RELAX NG schemas a document declares in ``<?xml-model?>``."""
    out = []
    node = doc.getroot().getprevious()
    pis = []
    while node is not None:
        if isinstance(node, etree._ProcessingInstruction) and node.target == "xml-model":
            pis.append(node.text or "")
        node = node.getprevious()
    for text in reversed(pis):
        href_m = _XML_MODEL.search(text)
        ns_m = _SCHEMATYPENS.search(text)
        href = (href_m.group(1) or href_m.group(2)) if href_m else ""
        if not href or (ns_m and ns_m.group(1) != RNG_NS and not href.endswith(".rng")):
            continue
        if re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I) and not href.startswith("file:"):
            raise SchemaError(Issue("schema.remote", str(path),
                f"declares the schema {href!r}, which is not a local file; pass --schema FILE.rng"))
        out.append((path.parent / href.removeprefix("file://")).resolve())
    return out


def check_file(path: Path, schema: str, tei_all: Path | None = None) -> FileVerdict:
    """Check one file: well-formed, then valid against the chosen schema (and its rules)."""
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileVerdict(shown, (Problem(shown, 0, 0, "error", f"cannot be read: {exc.strerror}", "io"),))
    if re.search(rb"<!ENTITY", data[:65536]):
        return FileVerdict(shown, (Problem(shown, 1, 1, "error", "declares entities in a DTD; "
                                           "entity declarations are refused (they can expand without bound)",
                                           "xml.entities"),))
    try:
        doc = etree.ElementTree(etree.fromstring(data, safe_parser()))
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (0, 0)
        return FileVerdict(shown, (Problem(shown, line, col, "error", exc.msg, "well-formed"),))
    problems: list[Problem] = []
    if schema == "project":
        v = ProjectSchema().check(doc, shown)
        for i in v.issues:
            problems.append(Problem(shown, i.line or 0, 0, "error", i.message, i.code))
        return FileVerdict(shown, tuple(problems))
    if schema == "tei_all":
        if tei_all is None:
            raise SchemaError(Issue("schema.missing", "tei_all", "tei_all.rng not found: set TEI_ALL_RNG or --tei-all"))
        rngs = [tei_all]
    elif schema == "declared":
        rngs = _declared_schemas(doc, path)
        if not rngs:
            return FileVerdict(shown, (Problem(shown, 1, 1, "error", "declares no RELAX NG schema in <?xml-model?>",
                                               "declared"),))
    else:
        rngs = [Path(schema)]
    for rng_path in rngs:
        rng = _compile_rng(str(rng_path))
        if not rng.validate(doc):
            for e in rng.error_log:
                problems.append(Problem(shown, e.line, e.column, "error", e.message, "relaxng"))
    return FileVerdict(shown, tuple(problems))


def format_verdicts(verdicts: list[FileVerdict], fmt: str) -> str:
    """Return the verdicts as text lines, JSON, JUnit XML or GitHub workflow annotations."""
    import json
    from xml.sax.saxutils import quoteattr

    if fmt == "json":
        return json.dumps([{"path": v.path, "valid": v.valid,
                            "problems": [{"line": p.line, "column": p.column, "severity": p.severity,
                                          "message": p.message, "rule": p.rule} for p in v.problems]}
                           for v in verdicts], ensure_ascii=False, indent=2)
    if fmt == "github":
        return "\n".join(f"::{p.severity} file={p.path},line={p.line},col={p.column}::{p.message} [{p.rule}]"
                         for v in verdicts for p in v.problems)
    if fmt == "junit":
        failures = sum(not v.valid for v in verdicts)
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 f'<testsuite name="tei-ingest validate" tests="{len(verdicts)}" failures="{failures}">']
        for v in verdicts:
            lines.append(f"  <testcase classname=\"validate\" name={quoteattr(v.path)}>")
            if not v.valid:
                body = "\n".join(str(p) for p in v.problems)
                lines.append(f"    <failure message={quoteattr(v.problems[0].message)}>{_xml_text(body)}</failure>")
            lines.append("  </testcase>")
        lines.append("</testsuite>")
        return "\n".join(lines)
    out = [str(p) for v in verdicts for p in v.problems]
    return "\n".join(out)


def _xml_text(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text)
