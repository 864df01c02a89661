"""Validation of TEI documents against the project schema and the official TEI P5 schema.

The project schema (``schemas/tei-ingest.rng`` with the rules of
``schemas/tei-ingest.sch``) is small and compiles at once. The official ``tei_all.rng``
takes lxml several seconds to compile: it is compiled once per process, on first use.
Parsing is hardened: no network, no DTD loading, no external entity; the entities a
document declares itself are expanded within libxml2's bounds (``safe_parser``).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any, NamedTuple

from lxml import etree

if TYPE_CHECKING:
    from lxml import isoschematron  # type: ignore[attr-defined]

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
    here = Path(__file__).resolve().parent
    installed = here / "schemas"  # a regular install puts them inside the package
    return installed if (installed / PROJECT_RNG).is_file() else here.parent / "schemas"


def safe_parser(entities: bool = False, recover: bool = False, defaults: bool = False,
                parameter_entities: bool = False) -> etree.XMLParser:
    """Return an XML parser that never reads the network, a DTD or an external entity.

    ``entities``: expand the entities a document declares in its DOCTYPE, as every XML
    processor (jing included) expands them; libxml2 refuses expansions far larger than the
    file itself (a "billion laughs", a large entity referred to many times), so memory
    stays bounded. ``recover``: go on after an error (``_recovered``: a document whose sole
    errors are the ones ``_parse`` lets through, or one checked as far as it is well-formed).
    ``defaults``: give elements the attributes the DOCTYPE's internal subset declares with a
    default value (``<!ATTLIST p rend CDATA "x">``), as every XML processor does; libxml2
    would then read the DTD the DOCTYPE names, so it is given an empty one instead.
    ``parameter_entities``: also expand the parameter entities the internal subset declares
    and refers to (``<!ENTITY % e "..."> %e;``), which lxml's "internal" entities leave
    undefined; only for a document that declares no external entity (``_own_parser``).
    """
    parser = etree.XMLParser(
        resolve_entities=(True if parameter_entities else "internal") if entities  # type: ignore[arg-type]
        else False,  # "internal": lxml 5's value
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=defaults,
        huge_tree=False,
        remove_blank_text=False,
        recover=recover,
    )
    if defaults or parameter_entities:
        parser.resolvers.add(_NothingRead())
    return parser


class _NothingRead(etree.Resolver):
    """Answers every request to read a file or URL (an external DTD) with an empty text."""

    def resolve(self, system_url: str, public_id: str, context: object) -> Any:  # type: ignore[override]
        return self.resolve_string("", context)  # type: ignore[call-arg]  # (the stubs lack the context)


def _own_parser(data: bytes, recover: bool = False) -> etree.XMLParser:
    """The ``safe_parser`` for a document, with what its DOCTYPE's internal subset asks for:
    attributes given a default (``<!ATTLIST``), parameter entities it declares and refers to
    (when it declares no external entity, which would then be read as an empty text)."""
    declares = b"<!DOCTYPE" in data
    return safe_parser(entities=True, recover=recover, defaults=declares and b"<!ATTLIST" in data,
                       parameter_entities=declares and _PE_REFERRED.search(data) is not None
                       and _EXTERNAL_ENTITY.search(data) is None)


#: A parameter entity declared (``<!ENTITY % e``) and one referred to (``%e;``).
_PE_REFERRED = re.compile(rb"<!ENTITY\s+%[\s\S]*%[A-Za-z_:][\w.:-]*;")
#: Any entity declared with an external identifier.
_EXTERNAL_ENTITY = re.compile(rb"<!ENTITY\s+(?:%\s*)?[^\s\"'>]+\s+(?:SYSTEM|PUBLIC)\b")


def _parse(data: bytes, base_url: str) -> etree._Element:
    """Parse a document with ``safe_parser``, its own entities expanded and their elements
    in the namespace where they are referred to (``_entity_namespaces``).

    An ``xml:id`` that is not an NCName (empty, say), or a value two ``xml:id`` share,
    makes libxml2 stop, though the document is well-formed: the xml:id Recommendation (4)
    makes them errors that need not be fatal, and jing reports them among the schema's
    other errors. A document whose only errors are such values is parsed again, going on
    after them; the schema (``xml:id`` is an ID) then reports each where jing does: the
    value that is not a name, the second use of a value. So is a namespace name that is not
    a URI (``xmlns:x="file:///C:\\dir"``), which libxml2 reports as an error, and
    Namespaces in XML and jing do not.
    """
    parser = _own_parser(data)
    try:
        root = etree.fromstring(data, parser, base_url=base_url)
    except etree.XMLSyntaxError:
        errors = list(parser.error_log)  # this parse's own (the exception's holds the thread's earlier ones)
        fatal = [e for e in errors if e.type_name not in _NOT_FATAL and e.level_name != "WARNING"]
        if not errors:
            raise
        if fatal:  # the error that makes it not well-formed, not one of those let through
            raise etree.XMLSyntaxError(fatal[0].message, fatal[0].type, fatal[0].line,  # type: ignore[call-arg]
                                       fatal[0].column) from None
        return _recovered(data, base_url)
    if b"<!ENTITY" in data:
        _entity_namespaces(root)
    return root


def _recovered(data: bytes, base_url: str) -> etree._Element:
    """Parse a document as ``_parse`` does, going on after its errors (the tree libxml2
    recovers; raises XMLSyntaxError when there is none)."""
    root = etree.fromstring(data, _own_parser(data, recover=True), base_url=base_url)
    if root is None:
        raise etree.XMLSyntaxError("nothing could be recovered", 0, 0, 0)  # type: ignore[call-arg, arg-type]
    if b"<!ENTITY" in data:
        _entity_namespaces(root)
    return root


#: libxml2's errors that stop parsing a well-formed document (see ``_parse``).
_NOT_FATAL = frozenset({"DTD_XMLID_VALUE", "DTD_ID_REDEFINED", "WAR_NS_URI"})

#: An external parameter entity declared in a DOCTYPE: it would read another DTD.
_EXTERNAL_PE = re.compile(rb"<!ENTITY\s+%\s*([^\s\"'>]+)\s+(?:SYSTEM|PUBLIC)\b")


def entity_problem(msg: str, data: bytes) -> str | None:
    """Return, in plain words, why a document's entities stopped it from being parsed
    (``msg``: libxml2's message), or None when the error is not about entities."""
    if "entity amplification" in msg:
        return ("its entities expand to far more text than the file holds (a \"billion laughs\"); "
                "refused to bound memory")
    m = re.match(r"Entity '([^']+)' not defined", msg)
    if not m:
        return None
    name = re.escape(m.group(1).encode())
    if re.search(rb"<!ENTITY\s+%\s*" + name + rb"\s+[\"']", data):  # see _own_parser
        return (f"refers to the parameter entity '{m.group(1)}' in a DOCTYPE that also declares external "
                "entities; external entities are not read, and a parameter entity is expanded only where "
                "none is declared, so this file cannot be checked")
    if re.search(rb"<!ENTITY\s+" + name + rb"\s+(?:SYSTEM|PUBLIC)\b", data):
        return (f"refers to the external entity '{m.group(1)}'; external entities are not read (they "
                "can reach other files or the network), so this file cannot be checked")
    if re.search(rb"<!DOCTYPE[^>\[]*\b(?:SYSTEM|PUBLIC)\b", data[:65536]):
        return (f"refers to the entity '{m.group(1)}', which it does not declare itself: DTDs are not "
                "read, so declare it in the DOCTYPE's internal subset or write a character reference")
    return None


def _entity_namespaces(root: etree._Element) -> None:
    """Put the elements an entity brought in into the namespace in scope where it is referred to.

    libxml2 parses an entity's text apart from the document, so its elements come out in no
    namespace even under a default namespace declaration (``<TEI xmlns=...>&sig;``), where
    any namespace-aware parser (jing's) puts them in the TEI namespace. No element parsed in
    place can be like that: one in no namespace under a default one carries ``xmlns=""``,
    which its in-scope namespaces show.
    """
    for el in root.iter():
        tag = el.tag
        if isinstance(tag, str) and tag[0] != "{":
            default = el.nsmap.get(None)
            if default:
                el.tag = f"{{{default}}}{tag}"


def parser_message(msg: str) -> str:
    """Return libxml2's message, in plain words where it refused a document to bound memory."""
    if "Excessive depth" in msg or ("depth" in msg.lower() and "huge" in msg.lower()):
        return "elements are nested too deeply (over 256 levels); refused to bound memory"
    if "Buffer size limit exceeded" in msg or "Resource limit exceeded" in msg or "too long" in msg.lower():
        # libxml2 caps a single name, attribute value or text node at 10 MB unless told to parse
        # "huge" documents, which is never done here: memory stays bounded on hostile files.
        return "a single attribute value or text node is over 10 MB (the parser's limit); refused to bound memory"
    return msg


class Verdict(NamedTuple):
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
    from lxml import isoschematron  # type: ignore[attr-defined]

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
        self._compiled: tuple[etree.RelaxNG, Any] | None = None

    def prepare(self) -> None:
        """Compile the schemas (done on first use: a run whose documents are all cached never needs them)."""
        if self._compiled is None:
            self._compiled = (_compile_rng(str(self.rng_path)), _compile_sch(str(self.sch_path)))

    @property
    def rng(self) -> etree.RelaxNG:
        self.prepare()
        assert self._compiled is not None
        return self._compiled[0]

    @property
    def sch(self) -> Any:
        self.prepare()
        assert self._compiled is not None
        return self._compiled[1]

    def check(self, doc: etree._ElementTree, path: str) -> Verdict:
        """Check a parsed document."""
        issues: list[Issue] = []
        if not self.rng.validate(doc):
            issues.extend(_rng_issues(self.rng.error_log, path, "project-rng"))
        if not self.sch.validate(doc):
            issues.extend(_schematron_issues(self.sch, path))
        return Verdict(self.name, not issues, tuple(issues))


class TeiAllSchema:
    """The official TEI P5 ``tei_all.rng`` (RELAX NG part), reduced per document (``ingest.rng``)."""

    name = "tei_all"

    def __init__(self, path: Path, vocabulary: Path | None = None) -> None:
        """``vocabulary``: a RELAX NG schema whose element and attribute names the documents
        will mostly use (the project schema): one reduction of tei_all for them all."""
        from . import rng

        self.path = path
        self._vocabulary_path = vocabulary
        self._prepared = False
        self.vocabulary: tuple[frozenset[rng.Name], frozenset[rng.Name]] | None = None
        self._unions: dict[tuple[frozenset[rng.Name], frozenset[rng.Name]],
                           tuple[frozenset[rng.Name], frozenset[rng.Name]]] = {}
        if not path.is_file():
            rng.grammar(str(path))  # the error a missing schema gives, at start-up

    def prepare(self) -> None:
        """Read (and cache) the schema and the vocabulary: done before the first document is checked."""
        from . import rng

        if self._prepared:
            return
        rng.grammar(str(self.path))
        if self._vocabulary_path is not None:
            patterns = rng.grammar(str(self._vocabulary_path)).patterns
            self.vocabulary = (frozenset(p.name for p in patterns if not p.attribute),
                               frozenset(p.name for p in patterns if p.attribute))
        self._prepared = True

    def check(self, doc: etree._ElementTree, path: str, data: bytes | None = None) -> Verdict:
        """Check a parsed document (``data``: its bytes, to place the first error as jing does).

        The reduction covers the document's names and the vocabulary's, so every document
        within the vocabulary shares one compiled schema; the verdict is the same.
        """
        from . import rng

        self.prepare()
        names = rng.document_names(doc)
        if self.vocabulary is not None:
            # documents of a run mostly use the same names: the same union, the same sets, whose
            # validator is found without hashing them again
            union = self._unions.get(names)
            if union is None:
                if len(self._unions) >= 256:
                    self._unions.clear()
                union = self._unions[names] = (names[0] | self.vocabulary[0], names[1] | self.vocabulary[1])
            names = union
        elements, attributes = names
        # one reduction serves every document of a run: the one that checks them fastest
        (errors,) = rng.validate(str(self.path), [doc], [data], [(elements, attributes)], flat=True)
        if not errors:
            return Verdict(self.name, True)
        return Verdict(self.name, False, tuple(Issue("tei_all", path, e.message, e.line) for e in errors))


def find_tei_all(configured: str = "", env: Mapping[str, str] | None = None) -> Path | None:
    """Return the official tei_all.rng: from the environment, else the configuration."""
    env = os.environ if env is None else env
    for candidate in (env.get(TEI_ALL_ENV, ""), configured):
        if candidate:
            return Path(candidate)
    return None


# ------------------------------------------------------------------ checking files


class Problem(NamedTuple):
    """One problem in one file, as ``path:line:col: severity: message [rule]``."""

    path: str
    line: int
    column: int
    severity: str
    message: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message} [{self.rule}]"


class FileVerdict(NamedTuple):
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


#: The TEI Consortium's addresses of tei_all.rng: the current release, and each version in
#: the Vault (what oXygen's TEI templates and the Guidelines write in ``<?xml-model?>``).
_TEI_ALL_URL = re.compile(
    r"^https?://(?:www\.)?tei-c\.org/(?:release|Vault/P5/(?P<version>[^/]+))/xml/tei/custom/schema/relaxng/"
    r"tei_all\.rng$")


def _declared_schemas(doc: etree._ElementTree, path: Path, tei_all: Path | None = None,
                      notes: list[str] | None = None) -> list[Path]:
    """Return the local RELAX NG schemas a document declares in ``<?xml-model?>``.

    tei_all at a TEI Consortium address stands for the local ``tei_all`` (``--tei-all``,
    ``$TEI_ALL_RNG``), as an XML catalog would map it; for a version of the Vault,
    ``notes`` gets a warning that the local copy, perhaps of another version, was used.
    """
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
        official = _TEI_ALL_URL.match(href.strip())
        if official and tei_all is not None:
            if official.group("version") and notes is not None:
                notes.append(f"declares tei_all.rng of TEI P5 {official.group('version')}; checked against the "
                             f"local {tei_all} (pass --schema FILE.rng for that version's own)")
            out.append(tei_all)
            continue
        if official:
            raise SchemaError(Issue("schema.remote", str(path),
                f"declares {href!r}: set TEI_ALL_RNG or --tei-all to check it against a local tei_all.rng"))
        if re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I) and not href.startswith("file:"):
            raise SchemaError(Issue("schema.remote", str(path),
                f"declares the schema {href!r}, which is not a local file; pass --schema FILE.rng"))
        out.append((path.parent / href.removeprefix("file://")).resolve())
    return out


#: Files larger than this are refused rather than read into memory (a TEI file is rarely over 50 MB).
MAX_BYTES = 256 * 1024 * 1024
#: Files checked together: one reduced schema is compiled per chunk, and a chunk's files are
#: all parsed before it is checked, so a chunk also holds at most CHUNK_BYTES of files (or one
#: larger file): memory stays bounded however many large files a run is given.
CHUNK = 200
CHUNK_BYTES = 16 * 1024 * 1024


def _read(path: Path, max_bytes: int, st: os.stat_result | None = None
          ) -> tuple[etree._ElementTree, bytes, list[Problem]] | FileVerdict:
    """Read and parse one file safely (with what reading it noted), or return its verdict
    when it cannot be checked (``st``: its status, when the caller has it)."""
    shown = str(path)

    def fail(line: int, col: int, message: str, rule: str) -> FileVerdict:
        return FileVerdict(shown, (Problem(shown, line, col, "error", message, rule),))

    try:
        if st is None:
            st = path.stat()
        if not S_ISREG(st.st_mode):  # a device or a pipe (/dev/zero behind a link) would be read forever
            return fail(0, 0, "is not a regular file (a folder, a device or a pipe); not read", "io")
        size = st.st_size
        if size > max_bytes:
            return fail(0, 0, f"is {size:,} bytes, over the limit of {max_bytes:,}; raise --max-bytes to check it",
                        "size")
        with path.open("rb") as fh:
            data = fh.read(size + 1)
            if len(data) > size:  # it grew since: read no more than the limit
                data += fh.read(max_bytes + 1 - len(data))
        if len(data) > max_bytes:
            return fail(0, 0, f"is over the limit of {max_bytes:,} bytes; raise --max-bytes to check it", "size")
    except OSError as exc:
        return fail(0, 0, f"cannot be read: {exc.strerror}", "io")
    declared = _ENCODING.match(data)
    if declared:
        refused = encoding_problem(declared.group(1).decode("ascii"))
        if refused:
            return fail(1, 0, refused, "xml.encoding")
    external = _EXTERNAL_PE.search(data)
    if external:
        return fail(data.count(b"\n", 0, external.start()) + 1, 0,
                    f"declares the external parameter entity '{external.group(1).decode(errors='replace')}', "
                    "which would read another DTD; DTDs and external entities are not read", "xml.entities")
    missing = _missing_dtd(data, path)
    if missing:
        return fail(missing[0], 0, missing[1], "xml.dtd")
    data = _line_ends(data)
    try:
        doc = etree.ElementTree(_parse(data, shown))
        if any(True for _ in doc.getroot().iter(_XI + "*")):
            notes: list[tuple[int, str]] = []
            problem = _include(doc, path, notes, data)
            if problem:
                # checked as it stands up to the first inclusion (see _checked_before)
                return (etree.ElementTree(_parse(data, shown)), data,
                        [Problem(shown, problem[0], 0, "error", problem[1], "xinclude")])
            # lines now span several files: libxml2's are kept; unless each inclusion took
            # its fallback, which is in the document (placed as jing reads it, see rng._jing_lines)
            own = (0, _FALLBACKS_ONLY) in notes
            return doc, data if own else b"", [Problem(shown, line, 0, "warning", message, "xinclude")
                                               for line, message in notes if (line, message) != (0, _FALLBACKS_ONLY)]
        return doc, data, []
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (0, 0)
        about_entities = entity_problem(exc.msg, data)
        if about_entities:
            return fail(line, col, about_entities, "xml.entities")
        stopped = Problem(shown, line, col, "error", parser_message(exc.msg), "well-formed")
        if line <= 1:
            return FileVerdict(shown, (stopped,))
        try:  # checked as far as it is well-formed (see _checked_before)
            return etree.ElementTree(_recovered(data, shown)), data, [stopped]
        except etree.XMLSyntaxError:
            return FileVerdict(shown, (stopped,))


_XI = "{http://www.w3.org/2001/XInclude}"


def _line_ends(data: bytes) -> bytes:
    """Return a document's bytes with each carriage return not followed by a line feed (the
    line ends of old Mac files) made a line feed, as XML reads them (2.11): libxml2 counts
    only line feeds, so it put every error of such a file on line 1. A file in UTF-16 or
    UTF-32 is left as it is."""
    if b"\r" not in data:
        return data
    from .rng import ascii_compatible

    return _LONE_CR.sub(b"\n", data) if ascii_compatible(data) else data


_LONE_CR = re.compile(rb"\r(?!\n)")

#: A DOCTYPE's external identifier: the system literal, after a public one or not.
_DOCTYPE = re.compile(rb"""<!DOCTYPE\s+[^\s\[>]+\s+(?:SYSTEM|PUBLIC\s+(?:"[^"]*"|'[^']*'))\s+(?:"([^"]*)"|'([^']*)')""")
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _missing_dtd(data: bytes, path: Path) -> tuple[int, str] | None:
    """Return (line, message) when the DOCTYPE names a local DTD that is not there.

    No DTD is read here. But a parser that reads DTDs, as jing's does, stops on a DTD it
    cannot find, before the document: such a document is broken wherever it goes. A DTD
    named by a URL that is not a file is not looked for (no network access).
    """
    if b"<!DOCTYPE" not in data[:65536]:
        return None
    # comments out, their lines kept: a DOCTYPE in a comment is none
    head = _COMMENT.sub(lambda c: b"\n" * c.group().count(b"\n"), data[:65536])
    m = _DOCTYPE.search(head)
    if not m or re.search(rb"<[^?!]", head[:m.start()]):  # none, or not before the root element
        return None
    system = (m.group(1) if m.group(1) is not None else m.group(2) or b"").decode("utf-8", "replace")
    if not system:
        return None
    from urllib.parse import unquote, urlsplit

    if system.startswith("file:"):
        where = Path(unquote(urlsplit(system).path))
    elif _SCHEME.match(system) and not re.match(r"[A-Za-z]:[\\/]", system):
        return None  # http: and the like: not fetched
    else:
        where = path.parent / unquote(system)
    if where.is_file():
        return None
    return (head.count(b"\n", 0, m.start()) + 1,
            f"its DOCTYPE names the DTD '{system}', which cannot be found ({where}): a parser that reads "
            "DTDs, as jing's does, stops there (tei-ingest reads no DTD)")


#: The encoding an ASCII-compatible document names in its XML declaration.
_ENCODING = re.compile(rb"""(?:\xef\xbb\xbf)?<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")


def encoding_problem(name: str) -> str | None:
    """Return why an encoding name in an XML declaration is refused, or None.

    XML 1.0 (4.3.3) asks for the names registered with IANA. jing's parser refuses any
    name outside its table (``xml_encodings``) as a fatal error, and so does this check,
    though libxml2 would read the document: a file that names its encoding "utf8" is read
    by some processors and refused by others.
    """
    from .xml_encodings import ACCEPTED

    if name.upper() in ACCEPTED:
        return None
    import codecs

    hint = ""
    with contextlib.suppress(LookupError):
        python = codecs.lookup(name).name.upper()  # "utf-8", "cp1252", "iso8859-1", "shift_jis"
        for guess in (python, python.replace("_", "-"), re.sub(r"^CP(125\d)$", r"WINDOWS-\1", python),
                      re.sub(r"^ISO8859-(\d+)$", r"ISO-8859-\1", python)):
            if guess in ACCEPTED:
                shown = "Shift_JIS" if guess == "SHIFT_JIS" else guess.replace("WINDOWS-", "windows-")
                hint = f'; the registered name is "{shown}"'
                break
    return (f'declares the encoding "{name}", a name jing\'s XML parser refuses (XML asks for the names '
            f"registered with IANA){hint}")


def _include(doc: etree._ElementTree, path: Path, notes: list[tuple[int, str]], data: bytes = b""
             ) -> tuple[int, str] | None:
    """Expand the XIncludes of a document, reading only files in its own folder tree.

    Returns (line, message) when an inclusion is refused or fails: another folder, a
    URL, a missing file, an included file that is not well-formed, or inclusions nested
    more than ten deep; the line is where the inclusion ends, where jing, finding no
    fallback in it, stops (given the document's ``data``). An inclusion with an
    ``xi:fallback`` that cannot be read takes the fallback's content instead (XInclude
    1.0, 4.4); when it was refused (another folder, a URL) rather than missing, ``notes``
    gets a (line, message) saying so.
    """
    from lxml import ElementInclude  # type: ignore[attr-defined]

    misused = _misused(doc)
    root_dir = path.resolve().parent
    where = [0]
    included = [0]  # inclusions that read another file
    ordinal = {inc: k for k, inc in enumerate(doc.getroot().iter(_XI + "include"))}  # as the bytes have them
    asked: list[str] = []  # the last file asked for

    def loader(href: str, parse: str, encoding: str | None = None) -> Any:
        asked[:] = [href]
        if re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I) and not href.startswith("file:"):
            raise _Refused(f"includes {href!r}, which is not a local file; only files beside the document are read")
        target = Path(href.removeprefix("file://")).resolve()
        if root_dir not in target.parents:
            raise _Refused(f"includes {href!r}, outside the document's folder; refused")
        try:
            data = target.read_bytes()
        except OSError as exc:
            raise _Refused(f"includes {href!r}, which cannot be read: {exc.strerror}", missing=True) from None
        if parse == "text":
            return data.decode(encoding or "utf-8", errors="strict")
        external = _EXTERNAL_PE.search(data)
        if external:
            raise _Refused(f"includes {href!r}, which declares an external parameter entity; refused")
        try:
            return _parse(data, str(target))
        except etree.XMLSyntaxError as exc:
            about_entities = entity_problem(exc.msg, data)
            if about_entities:
                raise _Refused(f"includes {href!r}, which {about_entities}") from None
            raise

    for inc in list(doc.getroot().iter(_XI + "include")):
        href = inc.get("href", "")
        if href and not re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I):
            inc.set("href", str((root_dir / href).resolve()))
        line = inc.sourceline if isinstance(inc.sourceline, int) else 0
        fallback = inc.find(_XI + "fallback")
        if fallback is not None and inc.getparent() is not None:
            try:
                loader(inc.get("href", ""), inc.get("parse", "xml"), inc.get("encoding"))
            except (_Refused, etree.XMLSyntaxError, UnicodeDecodeError) as exc:
                if isinstance(exc, _Refused) and not exc.missing:
                    notes.append((line, f"{exc}: its xi:fallback was checked instead"))
                _use_fallback(inc, fallback)
                continue
        where[0] = where[0] or line
        included[0] += 1

    def failed_at() -> int:  # the end of the inclusion that failed, if it is one of the document's own
        inc = next((i for i in doc.getroot().iter(_XI + "include") if asked and i.get("href") == asked[0]), None)
        if inc is None or inc not in ordinal or not data:
            return where[0]
        from .rng import _XI_EXPAT

        return _end_line(data, _XI_EXPAT + "include", ordinal[inc]) or where[0]

    failed: tuple[int, str] | None = None
    try:
        ElementInclude.include(doc.getroot(), loader=loader, max_depth=10)
    except _Refused as exc:
        failed = failed_at(), str(exc)
    except (ElementInclude.FatalIncludeError, ElementInclude.LimitedRecursiveIncludeError,
            etree.XMLSyntaxError, UnicodeDecodeError) as exc:
        failed = failed_at(), f"XInclude failed: {exc}"
    if misused and (failed is None or not 0 < failed[0] < misused[0]):
        return misused  # (read as a stream, the document stops at whichever comes first)
    if failed:
        return failed
    if not included[0]:
        notes.append((0, _FALLBACKS_ONLY))
    return None


def _end_line(data: bytes, name: str, k: int) -> int | None:
    """Return the line where the k-th element of this (expat) name ends in the bytes, or None."""
    from xml.parsers import expat

    from .rng import expat_parser

    parser = expat_parser()
    seen = [0]
    starts: list[int] = []  # the ordinals of the open elements of that name

    class Found(Exception):
        pass

    def start(tag: str, attrs: Any) -> None:
        if tag == name:
            starts.append(seen[0])
            seen[0] += 1
        else:
            starts.append(-1)

    def end(tag: str) -> None:
        if starts.pop() == k:
            raise Found

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except Found:
        return int(parser.CurrentLineNumber)
    except expat.ExpatError:
        return None
    return None


#: A note of ``_include``: every inclusion took its fallback, so every line is the document's.
_FALLBACKS_ONLY = "fallbacks only"


def _misused(doc: etree._ElementTree) -> tuple[int, str] | None:
    """Return (line, message) for the first XInclude element used as XInclude 1.0 forbids
    (section 3), where an XInclude processor such as jing's stops: a second ``xi:fallback``
    in an ``xi:include``, another XInclude element in one, an ``xi:fallback`` outside
    one, an ``xi:include`` with neither ``href`` nor ``xpointer``."""
    for el in doc.getroot().iter(_XI + "*"):
        line = el.sourceline if isinstance(el.sourceline, int) else 0
        parent = el.getparent()
        in_include = parent is not None and parent.tag == _XI + "include"
        name = etree.QName(el).localname
        if name == "fallback":
            if not in_include:
                return line, "an xi:fallback outside an xi:include: XInclude allows it only as a child of one"
            if any(s.tag == el.tag for s in el.itersiblings(preceding=True)):
                return line, "a second xi:fallback in an xi:include: XInclude allows one"
        elif in_include:
            return line, f"an xi:{name} inside an xi:include, where XInclude allows only xi:fallback"
        if name == "include" and not el.get("href") and el.get("xpointer") is None:
            return line, "an xi:include with neither href nor xpointer: it names nothing to include"
    return None


class _Refused(Exception):
    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing  # the file is not there (else: refused by the rules above)


def _use_fallback(inc: etree._Element, fallback: etree._Element) -> None:
    """Put the content of an inclusion's fallback where the inclusion is."""
    parent = inc.getparent()
    assert parent is not None
    children = list(fallback)
    before = inc.getprevious()

    def add_text(text: str, after: etree._Element | None) -> None:
        if not text:
            return
        if after is not None:
            after.tail = (after.tail or "") + text
        else:
            parent.text = (parent.text or "") + text

    add_text(fallback.text or "", before)
    at = parent.index(inc)
    for k, child in enumerate(children):
        parent.insert(at + k, child)  # moved with its tail
    add_text(inc.tail or "", children[-1] if children else before)
    inc.tail = None
    parent.remove(inc)


def check_files(paths: Sequence[Path], schema: str, tei_all: Path | None = None, *, jobs: int = 1,
                schematron: bool = True, max_bytes: int = MAX_BYTES) -> list[FileVerdict]:
    """Check files against a schema; one verdict per file, in the order given.

    ``schema`` is "project", "tei_all", "declared" or the path of a RELAX NG file. A file
    that cannot be read or parsed gets its own verdict and never stops the others.
    """
    if schema == "tei_all" and tei_all is None:
        raise SchemaError(Issue("schema.missing", "tei_all", "tei_all.rng not found: set TEI_ALL_RNG or --tei-all"))
    if schema == "tei_all" and tei_all is not None and not tei_all.is_file():
        raise SchemaError(Issue("schema.missing", str(tei_all), "no such schema file"))
    args = [(c, schema, tei_all, schematron, max_bytes) for c in _chunks(paths)]
    if jobs > 1 and len(args) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(_check_chunk, args))
    else:
        results = [_check_chunk(a) for a in args]
    return [v for chunk in results for v in chunk]


def _chunks(paths: Sequence[Path]) -> list[list[tuple[Path, os.stat_result | None]]]:
    """Cut the files, in their order, into chunks of at most CHUNK files and CHUNK_BYTES
    bytes (a larger file is a chunk of its own), each with its status (None where it has
    none: ``_read`` says why)."""
    out: list[list[tuple[Path, os.stat_result | None]]] = []
    chunk: list[tuple[Path, os.stat_result | None]] = []
    size = 0
    for path in paths:
        try:
            st: os.stat_result | None = path.stat()
        except OSError:
            st = None
        n = st.st_size if st is not None else 0
        if chunk and (len(chunk) >= CHUNK or size + n > CHUNK_BYTES):
            out.append(chunk)
            chunk, size = [], 0
        chunk.append((path, st))
        size += n
    if chunk:
        out.append(chunk)
    return out


def _check_chunk(arg: tuple[list[tuple[Path, os.stat_result | None]], str, Path | None, bool, int]
                 ) -> list[FileVerdict]:
    """Check one chunk of files (in this process or a worker)."""
    from . import rng
    from . import schematron as sch

    files, schema, tei_all, with_rules, max_bytes = arg
    paths = [path for path, _ in files]
    verdicts: dict[int, FileVerdict] = {}
    problems: dict[int, list[Problem]] = {}
    by_schema: dict[str, list[int]] = {}
    docs: dict[int, etree._ElementTree] = {}
    raw: dict[int, bytes] = {}
    for i, (path, st) in enumerate(files):
        read = _read(path, max_bytes, st)
        if isinstance(read, FileVerdict):
            verdicts[i] = read
            continue
        docs[i], raw[i], problems[i] = read
        if schema == "project":
            by_schema.setdefault("project", []).append(i)
        elif schema == "tei_all":
            assert tei_all is not None
            by_schema.setdefault(str(tei_all), []).append(i)
        elif schema == "declared":
            notes: list[str] = []
            try:
                declared = _declared_schemas(docs[i], path, tei_all, notes)
                problems[i].extend(Problem(str(path), 1, 1, "warning", note, "declared")
                                   for note in dict.fromkeys(notes))
            except SchemaError as exc:
                issue = exc.issues[0]
                verdicts[i] = FileVerdict(str(path), (Problem(str(path), 1, 1, "error", issue.message, "declared"),))
                continue
            if not declared:
                verdicts[i] = FileVerdict(str(path), (Problem(str(path), 1, 1, "error",
                                                              "declares no RELAX NG schema in <?xml-model?>",
                                                              "declared"),))
                continue
            for d in dict.fromkeys(declared):  # the RELAX NG and the Schematron model often name one file
                by_schema.setdefault(str(d), []).append(i)
        else:
            by_schema.setdefault(schema, []).append(i)
    for key, members in by_schema.items():
        if key == "project":
            project = ProjectSchema()
            for i in members:
                for issue in project.check(docs[i], str(paths[i])).issues:
                    problems[i].append(Problem(str(paths[i]), issue.line or 0, 0, "error", issue.message, issue.code))
            continue
        names = {i: rng.document_usage(docs[i]) for i in members}
        try:
            if not Path(key).is_file():
                raise SchemaError(Issue("schema.missing", key, "no such schema file"))
            results = rng.validate(key, [docs[i] for i in members], [raw.get(i) or None for i in members],
                                   [names[i] for i in members])
        except SchemaError as exc:
            if schema != "declared" or (tei_all is not None and key == str(tei_all)):
                raise  # the schema the run was given: nothing can be checked
            # a schema one file declares: that file's error, the others are checked
            for i in members:
                problems[i].append(Problem(str(paths[i]), 1, 1, "error",
                                           f"declares the schema {key}, which cannot be used: {exc.issues[0].message}",
                                           "declared"))
            continue
        for i, errors in zip(members, results, strict=True):
            found = [Problem(str(paths[i]), e.line, e.column, "error", e.message, "relaxng") for e in errors]
            cut = _checked_before(docs[i], problems[i])
            if cut is not None:
                problems[i][:0] = [p for p in found if 0 < p.line < cut]
            else:
                problems[i].extend(found)
        if with_rules:
            rules = sch.rules_of(key)
            if rules.patterns:
                for i in members:
                    if _checked_before(docs[i], problems[i]) is not None:
                        continue
                    problems[i].extend(Problem(str(paths[i]), f.line, 0, f.severity, f.message, f"schematron {f.rule}")
                                       for f in rules.check(docs[i], names[i][:2]))
    return [verdicts[i] if i in verdicts else FileVerdict(str(paths[i]), tuple(problems[i]))
            for i in range(len(paths))]


def _checked_before(doc: etree._ElementTree, problems: list[Problem]) -> int | None:
    """Return the line from which a document is not checked, or None (all of it is).

    jing reads a document as a stream: it reports the schema's errors as it meets them,
    and stops where the document is not well-formed or an inclusion cannot be made. Such
    a document is checked as libxml2 recovers it, or without its inclusions, and only its
    errors on lines before that point (and before its first ``xi:include``, where included
    content would begin) are kept, before the error that stops it. The Schematron rules,
    which need the whole document, are not run.
    """
    failed = [p.line for p in problems if p.rule in ("xinclude", "well-formed") and p.severity == "error"]
    if not failed:
        return None
    for inc in doc.getroot().iter(_XI + "include"):
        line = inc.sourceline
        if isinstance(line, int):
            failed.append(line)
    return min(failed)


def check_file(path: Path, schema: str, tei_all: Path | None = None) -> FileVerdict:
    """Check one file: well-formed, then valid against the chosen schema (and its rules)."""
    return check_files([path], schema, tei_all)[0]


def format_verdicts(verdicts: list[FileVerdict], fmt: str) -> str:
    """Return the verdicts as text lines, JSON, JUnit XML or GitHub workflow annotations."""
    if fmt == "json":
        import json

        return json.dumps([{"path": v.path, "valid": v.valid,
                            "problems": [{"line": p.line, "column": p.column, "severity": p.severity,
                                          "message": p.message, "rule": p.rule} for p in v.problems]}
                           for v in verdicts], ensure_ascii=False, indent=2)
    if fmt == "github":
        return "\n".join(f"::{p.severity} file={p.path},line={p.line},col={p.column}::{p.message} [{p.rule}]"
                         for v in verdicts for p in v.problems)
    if fmt == "junit":
        from xml.sax.saxutils import quoteattr

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
