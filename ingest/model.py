"""Frozen records that flow between the stages of the pipeline.

Records never hold lxml elements. Every inferred value carries its evidence (a
:class:`Span` in a block of the structured text), its certainty and the method that
produced it; the encoder turns these into ``@cert``, ``@resp`` and inline tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Cert(StrEnum):
    """Certainty of an inferred value (TEI ``teidata.certainty``)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"


class DocType(StrEnum):
    """Document types the archive distinguishes (``textClass/catRef``)."""

    LETTER = "letter"
    TELEGRAM = "telegram"
    MEMORANDUM = "memorandum"
    PRESS_RELEASE = "press-release"
    REPORT = "report"
    MINUTES = "minutes"
    NEWS_ARTICLE = "news-article"
    ARTICLE = "article"
    SPEECH = "speech"
    PETITION = "petition"
    UNKNOWN = "unknown"

    @property
    def is_correspondence(self) -> bool:
        """Return True for types described with ``correspDesc``."""
        return self in (DocType.LETTER, DocType.TELEGRAM, DocType.MEMORANDUM)


class PartyKind(StrEnum):
    """Whether a correspondent or author is a person or an organisation."""

    PERSON = "person"
    ORG = "org"


class BlockKind(StrEnum):
    """The structural role of a block of text."""

    LETTERHEAD = "letterhead"
    BOILERPLATE = "boilerplate"
    PAGEBREAK = "pagebreak"
    DATELINE = "dateline"
    SENDER = "sender"
    ADDRESSEE = "addressee"
    REFERENCE = "reference"
    SUBJECT = "subject"
    SALUTE = "salute"
    HEADING = "heading"
    LABEL = "label"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list-item"
    CC_HEAD = "cc-head"
    CC_ITEM = "cc-item"
    CLOSING = "closing"
    SIGNATURE = "signature"
    FOOTNOTE = "footnote"


@dataclass(frozen=True, slots=True)
class Span:
    """Character offsets ``[start, end)`` in the text of block number ``block``."""

    block: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Inline:
    """Markup found in the source (emphasis, links), as offsets in a block's text."""

    start: int
    end: int
    tag: str
    attrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Block:
    """A block of the text: its role, its text (``\\n`` = source line break), its markup."""

    kind: BlockKind
    text: str
    first_line: int
    last_line: int
    inlines: tuple[Inline, ...] = ()
    label: str | None = None
    lang: str | None = None
    lang_cert: Cert = Cert.HIGH


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """A source file read from disk: fixity of the raw bytes and the decoded text."""

    path: str
    name: str
    stem: str
    size: int
    sha256: str
    encoding: str
    media_type: str
    text: str
    normalisations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DateValue:
    """A date as written and its ISO 8601 reading (``@when`` or a range or bounds)."""

    text: str
    when: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    from_: str | None = None
    to: str | None = None
    cert: Cert = Cert.HIGH
    method: str = ""
    span: Span | None = None

    @property
    def iso(self) -> str | None:
        """Return the single best ISO value: ``when``, else the start of the range or bound."""
        return self.when or self.from_ or self.not_before or self.not_after


@dataclass(frozen=True, slots=True)
class Place:
    """A place name as written, and its gazetteer entry when one matches unambiguously."""

    name: str
    cert: Cert = Cert.HIGH
    method: str = ""
    span: Span | None = None
    geonames: Gazetteered | None = None


@dataclass(frozen=True, slots=True)
class Gazetteered:
    """A GeoNames entry: id, preferred name, country code and coordinates."""

    id: int
    name: str
    country: str
    latitude: float | None = None
    longitude: float | None = None

    @property
    def uri(self) -> str:
        """Return the GeoNames URI of the entry."""
        return f"https://sws.geonames.org/{self.id}/"


@dataclass(frozen=True, slots=True)
class Affiliation:
    """A role phrase as written ("Directeur Général de l'OIM"), cut into role and organisation."""

    text: str
    role: str | None = None
    org: str | None = None
    span: Span | None = None
    role_span: Span | None = None
    org_span: Span | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """A correspondent, signatory or author: name, roles and organisation kept apart."""

    kind: PartyKind
    name: str | None = None
    honorific: str | None = None
    affiliations: tuple[Affiliation, ...] = ()
    signed: bool = False
    cert: Cert = Cert.MEDIUM
    method: str = ""
    span: Span | None = None
    name_span: Span | None = None
    refs: tuple[str, ...] = ()

    @property
    def org(self) -> str | None:
        """Return the first organisation named in the affiliations."""
        return next((a.org for a in self.affiliations if a.org), None)

    @property
    def label(self) -> str:
        """Return the display form: the name, else the office or organisation as written."""
        if self.name:
            return self.name
        if self.affiliations:
            return self.affiliations[0].text
        return "unknown"


@dataclass(frozen=True, slots=True)
class LanguageShare:
    """A language of the document (BCP 47) and its share of the text."""

    code: str
    percent: int
    chars: int


@dataclass(frozen=True, slots=True)
class Structure:
    """The text cut into typed blocks, and how the source was normalised to get there."""

    blocks: tuple[Block, ...]
    normalisations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Extraction:
    """Metadata inferred from a document's structure and text."""

    doc_type: DocType
    doc_type_cert: Cert
    doc_type_method: str
    language: str
    languages: tuple[LanguageShare, ...]
    date: DateValue | None = None
    place: Place | None = None
    senders: tuple[Party, ...] = ()
    addressees: tuple[Party, ...] = ()
    authors: tuple[Party, ...] = ()
    subject: str | None = None
    headline: str | None = None
    dates: tuple[DateValue, ...] = ()
    places: tuple[Place, ...] = ()
    people: tuple[Party, ...] = ()
    orgs: tuple[Party, ...] = ()


@dataclass(frozen=True, slots=True)
class Record:
    """Everything known about one document, ready to encode."""

    id: str
    source: SourceDocument
    structure: Structure
    extraction: Extraction
    title: str = ""
    warnings: tuple[str, ...] = field(default=())
