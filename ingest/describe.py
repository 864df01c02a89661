"""Descriptive titles and display forms generated from the extracted metadata.

A title is a catalogue description in English ("Letter from X to Y, Bamako, 6 November
2017"), not a transcription: the names inside it keep the spelling of the source.
"""

from __future__ import annotations

import re

from .model import DateValue, DocType, Extraction, Party

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)

_TYPE_LABELS = {
    DocType.LETTER: "Letter",
    DocType.TELEGRAM: "Telegram",
    DocType.MEMORANDUM: "Memorandum",
    DocType.PRESS_RELEASE: "Press release",
    DocType.REPORT: "Report",
    DocType.MINUTES: "Minutes",
    DocType.NEWS_ARTICLE: "News article",
    DocType.ARTICLE: "Article",
    DocType.SPEECH: "Speech",
    DocType.PETITION: "Petition",
    DocType.UNKNOWN: "Document",
}

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def type_label(doc_type: DocType) -> str:
    """Return the English name of a document type ("Press release")."""
    return _TYPE_LABELS[doc_type]


def human_iso(iso: str) -> str:
    """Return an ISO date at its precision in words: "6 November 2017", "March 1921", "1921"."""
    m = _ISO.match(iso)
    if not m:
        return iso
    year, month, day = m.groups()
    if month is None:
        return year
    name = _MONTHS[int(month) - 1]
    return f"{int(day)} {name} {year}" if day else f"{name} {year}"


def human_date(date: DateValue | None) -> str:
    """Return a date for a title, saying when it is a bound or a range rather than a date."""
    if date is None:
        return "undated"
    if date.when:
        text = human_iso(date.when)
        return text if date.cert.value in ("high", "medium") else f"c. {text}"
    if date.from_ and date.to:
        return f"{human_iso(date.from_)} – {human_iso(date.to)}"
    if date.not_before and date.not_after:
        return f"between {human_iso(date.not_before)} and {human_iso(date.not_after)}"
    if date.not_before:
        return f"undated, not before {human_iso(date.not_before)}"
    if date.not_after:
        return f"undated, not after {human_iso(date.not_after)}"
    return "date unknown"


def party_label(party: Party) -> str:
    """Return a party for a title: the name with its first organisation, else the office."""
    if party.name:
        org = party.org
        return f"{party.name} ({org})" if org else party.name
    return party.label


def _clip(text: str, limit: int = 120) -> str:
    """Return text shortened at a word boundary, marked with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def make_title(extraction: Extraction, fallback: str) -> str:
    """Return the descriptive title of a document from its type, parties, place and date."""
    x = extraction
    label = type_label(x.doc_type)
    date = human_date(x.date)
    place = x.place.name if x.place else None
    if x.doc_type.is_correspondence:
        parts = [label]
        if x.senders:
            parts.append("from " + " and ".join(party_label(p) for p in x.senders))
        if x.addressees:
            parts.append("to " + " and ".join(party_label(p) for p in x.addressees))
        title = " ".join(parts)
        return ", ".join(s for s in (title, place, date) if s)
    what = x.headline or x.subject or fallback
    by = ", ".join(party_label(p) for p in x.authors)
    detail = ", ".join(s for s in (by, place, date) if s)
    return f"{label}: {_clip(what)} ({detail})"
