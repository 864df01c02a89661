"""Assemble the metadata of one document from its structure: type, date, place, parties.

The document date is read from the dateline. The author of an article, a speech or a
report is the name it ends with, when it ends with one (a byline at the foot). A text without one gets no invented date:
the latest date it mentions becomes a lower bound (``@notBefore``) with low certainty,
because a text cannot be older than the events it reports.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..model import Block, BlockKind, Cert, DateValue, DocType, Extraction, Party, Place, Span, Structure
from .dates import find_dates, split_dateline
from .doctype import classify
from .language import assign_languages
from .people import closing_names, frequent_org, letter_parties
from .structure import leading_dateline

#: Blocks whose dates belong to the running text and may bound an undated document.
_TEXT_KINDS = (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM, BlockKind.HEADING, BlockKind.CLOSING)


_DELIVERED = re.compile(r"\b(?:prononcé|delivered|gehalten|pronunciado|pronunciato)\b", re.I)


def _at(value: DateValue | Place, block: int) -> DateValue | Place:
    """Move a span returned for a lone string into block coordinates."""
    span = value.span
    if span is None:
        return value
    return replace(value, span=Span(block, span.start, span.end))


def _all_dates(blocks: tuple[Block, ...], lang: str) -> tuple[DateValue, ...]:
    """Return every date mentioned in the text, in block order."""
    out: list[DateValue] = []
    for i, b in enumerate(blocks):
        if b.kind in (BlockKind.PAGEBREAK, BlockKind.BOILERPLATE):
            continue
        for d in find_dates(b.text, lang=b.lang or lang):
            moved = _at(d, i)
            assert isinstance(moved, DateValue)
            out.append(moved)
    return tuple(out)


def _document_date(
    blocks: tuple[Block, ...], dates: tuple[DateValue, ...], lang: str
) -> tuple[DateValue | None, Place | None]:
    """Return the document date and place from the dateline, else a bounded estimate."""
    for i, b in enumerate(blocks):
        if b.kind is BlockKind.DATELINE:
            found = split_dateline(b.text, lang=b.lang or lang)
            if found:
                place, date = found
                date = replace(date, method=f"dateline: {date.method}" if date.method else "dateline")
                moved_place = _at(place, i) if place else None
                moved_date = _at(date, i)
                assert isinstance(moved_date, DateValue)
                assert moved_place is None or isinstance(moved_place, Place)
                if moved_place is not None:
                    moved_place = replace(moved_place, method="dateline")
                return moved_date, moved_place
    # a dateline run into the first paragraph ("Besançon, 26 janvier 1840. Mes chers parents, …")
    paragraphs = [(i, b) for i, b in enumerate(blocks[:8]) if b.kind is BlockKind.PARAGRAPH][:2]
    for i, b in paragraphs:
        found = leading_dateline(b.text, b.lang or lang)
        if found:
            place, date = found
            date = replace(date, method="dateline at the start of the first paragraph: " + (date.method or ""))
            moved_date = _at(date, i)
            moved_place = replace(_at(place, i), method="dateline at the start of the first paragraph") \
                if place else None
            assert isinstance(moved_date, DateValue)
            assert moved_place is None or isinstance(moved_place, Place)
            return moved_date, moved_place
    # a speech that says when it was delivered ("Discours prononcé … le jeudi 7 novembre 1811")
    for d in dates:
        if d.span and d.span.block < 6 and d.when and len(d.when) == 10 \
                and _DELIVERED.search(blocks[d.span.block].text[: d.span.start]):
            return replace(d, cert=Cert.MEDIUM, method="the date the text says it was delivered"), None
    bounded = [
        d for d in dates
        if d.span and blocks[d.span.block].kind in _TEXT_KINDS and (d.iso or "")[:1].isdigit()
    ]
    if not bounded:
        return None, None
    latest = max(bounded, key=lambda d: (_end_of(d), d.span.block if d.span else 0))
    return (
        DateValue(
            text="",
            not_before=_end_of(latest),
            cert=Cert.LOW,
            method=(
                "not stated in the text; the latest date it mentions "
                f"({latest.text!r}) is taken as a lower bound"
            ),
        ),
        None,
    )


def _end_of(d: DateValue) -> str:
    """Return the latest ISO value a date mention stands for."""
    return d.to or d.not_after or d.when or d.from_ or d.not_before or ""


def extract(structure: Structure) -> tuple[Structure, Extraction]:
    """Infer the metadata of a document; return the structure with languages set, and it."""
    blocks, language, shares = assign_languages(structure.blocks)
    structure = replace(structure, blocks=blocks)
    doc_type, type_cert, type_method = classify(blocks)
    dates = _all_dates(blocks, language)
    date, place = _document_date(blocks, dates, language)
    senders: tuple[Party, ...] = ()
    addressees: tuple[Party, ...] = ()
    authors: tuple[Party, ...] = ()
    if doc_type.is_correspondence:
        senders, addressees = letter_parties(blocks)
    else:
        authors = tuple(closing_names(blocks))
        if not authors and doc_type in (DocType.PRESS_RELEASE, DocType.REPORT, DocType.MINUTES):
            issuer = frequent_org(blocks)
            authors = (issuer,) if issuer else ()
    subject = next((b.text for b in blocks if b.kind is BlockKind.SUBJECT), None)
    headline = next((b.text for b in blocks if b.kind is BlockKind.HEADING), None)
    return structure, Extraction(
        doc_type=doc_type,
        doc_type_cert=type_cert,
        doc_type_method=type_method,
        language=language,
        languages=shares,
        date=date,
        place=place,
        senders=senders,
        addressees=addressees,
        authors=authors,
        subject=" ".join(subject.split()) if subject else None,
        headline=" ".join(headline.split()) if headline else None,
        dates=dates,
        places=(place,) if place else (),
    )
