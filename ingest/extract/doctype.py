"""Document type from form and wording, never from the file name.

An explicit genre label wins ("Press Release", "RAPPORT", "Memorandum"); then the form
of a letter (a salutation, a closing formula, a signature); then the furniture of a web
page around a news article. A text that shows none of these is "unknown": the type is
not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..model import Block, BlockKind, Cert, DocType

_LABELS: tuple[tuple[re.Pattern[str], DocType], ...] = tuple(
    (re.compile(rx, re.I), t)
    for rx, t in (
        (r"^(?:press release|news release|media release|communiqué(?: de presse)?|pressemitteilung|"
         r"comunicado(?: de prensa)?|comunicato(?: stampa)?)\b", DocType.PRESS_RELEASE),
        (r"^(?:telegram|télégramme|telegramm|telegrama|telegramma)\b", DocType.TELEGRAM),
        (r"^(?:memorandum|mémorandum|memo|note verbale|aide-mémoire)\b", DocType.MEMORANDUM),
        (r"^(?:minutes|procès-verbal|compte[- ]rendu|protokoll|verbale)\b", DocType.MINUTES),
        (r"^(?:rapport|report|bericht|informe|relazione)\b", DocType.REPORT),
        (r"^(?:speech|discours|allocution|address by|remarks by|rede|discurso|discorso)\b", DocType.SPEECH),
        (r"^(?:pétition|petition|petición|petizione)\b", DocType.PETITION),
    )
)


def classify(blocks: Sequence[Block]) -> tuple[DocType, Cert, str]:
    """Return the document type, its certainty and the cue it was read from."""
    for b in blocks[:8]:
        if b.kind in (BlockKind.LABEL, BlockKind.HEADING):
            for rx, doc_type in _LABELS:
                if rx.match(b.text.strip()):
                    return doc_type, Cert.HIGH, f"the label {b.text.split(chr(10))[0].strip()!r} at the top"
    kinds = {b.kind for b in blocks}
    if BlockKind.SALUTE in kinds and (BlockKind.CLOSING in kinds or BlockKind.SIGNATURE in kinds):
        return DocType.LETTER, Cert.HIGH, "a salutation and a closing formula or signature"
    salute = next((b.text.strip() for b in blocks if b.kind is BlockKind.SALUTE), "")
    if _AUDIENCE.match(salute) and not kinds & {BlockKind.CLOSING, BlockKind.SIGNATURE}:
        return DocType.SPEECH, Cert.MEDIUM, "an address to an audience and no closing formula"
    if BlockKind.SALUTE in kinds or BlockKind.CLOSING in kinds:
        return DocType.LETTER, Cert.MEDIUM, "a salutation or a closing formula"
    if BlockKind.BOILERPLATE in kinds and BlockKind.HEADING in kinds:
        return DocType.NEWS_ARTICLE, Cert.MEDIUM, "a headline inside web-page navigation"
    if BlockKind.ADDRESSEE in kinds and BlockKind.SIGNATURE in kinds:
        return DocType.LETTER, Cert.MEDIUM, "an addressee block and a signature"
    return _by_wording(blocks)


_AUDIENCE = re.compile(r"^(?:Mesdames(?:,| et) Messieurs|Ladies and Gentlemen|Meine (?:sehr verehrten )?Damen und Herren|"
                       r"Señoras y señores|Signore e signori)\b", re.I)
_MEMO = re.compile(r"^(?:SUBJECT\b|Subject:|MEMORANDUM\b|Memorandum for\b|MEMO\b|Objet\s*:)", re.M)
_REPORT = re.compile(r"^(?:POSITION PAPER|[A-Z ]*\bPAPER\b|REPORT\b|Report of\b|RAPPORT\b|Rapport\b|BERICHT\b|"
                     r"MINUTES\b|Minutes of\b|PROCÈS-VERBAL|Procès-verbal)", re.M)
_SPEECH = re.compile(r"^(?:Messieurs|Mesdames|Ladies and Gentlemen|Mr\. (?:President|Chairman|Speaker)|"
                     r"Meine (?:Damen|Herren)|Chers (?:collègues|amis|élèves)|Discours\b|Allocution\b|Address\b)")
_VOCATIVE = re.compile(
    r"^(?:(?:Mon|Ma|Mes|Mon très|Ma très) (?:cher|chère|chers|chères|bien|bon|bonne)|Cher|Chère|Dear|My dear|"
    r"Monsieur|Madame|Mademoiselle|M\. le|Sir|Madam|Lieber|Liebe|Sehr geehrte|Querido|Querida|Caro|Cara|Gentlemen|"
    r"(?:A|À|To) (?:M\.|Mme|Mr\.?|Mrs\.?|Monsieur|Madame|the)\s)"
)
_TELEGRAM_TIME = re.compile(r",?\s\d{4}Z\.?$")
_SECOND_PERSON = re.compile(r"\b(?:vous|tu|te|toi|ton|ta|tes|you|your|Sie|Ihnen|du|dich|dir)\b")
_CLOSING_WORDS = re.compile(
    r"\b(?:je vous embrasse|je t'embrasse|agréez|veuillez|recevez|croyez|votre (?:tout )?dévoué|ton ami|"
    r"votre ami|adieu|mille amitiés|tout à vous|serviteur|respectueux|yours (?:truly|sincerely|faithfully|ever|respectfully)|sincerely|"
    r"faithfully yours|believe me|affectionately|ihr ergebener|herzlich|hochachtungsvoll|mit (?:besten )?grüßen)\b",
    re.I,
)


def _by_wording(blocks: Sequence[Block]) -> tuple[DocType, Cert, str]:
    """Return the type read off the wording of the first and last blocks, or unknown."""
    head = [b.text.strip() for b in blocks[:6]]
    first = next((t for b, t in zip(blocks, head, strict=False)
                  if b.kind is not BlockKind.DATELINE and t and not t.isdigit()), "")
    dateline = next((b.text.strip() for b in blocks[:3] if b.kind is BlockKind.DATELINE), "")
    if dateline and _TELEGRAM_TIME.search(dateline):
        return DocType.TELEGRAM, Cert.MEDIUM, "a dateline with a transmission time (such as 1100Z)"
    if any(_MEMO.match(t) for t in head):
        return DocType.MEMORANDUM, Cert.MEDIUM, "a subject line or memorandum heading at the top"
    if any(_REPORT.match(t) for t in head):
        return DocType.REPORT, Cert.MEDIUM, "a report or paper heading at the top"
    if _SPEECH.match(first):
        return DocType.SPEECH, Cert.MEDIUM, "an address to an audience at the start"
    dated = any(b.kind is BlockKind.DATELINE for b in blocks[:3])
    tail = " ".join(b.text for b in blocks[-3:])
    vocative = bool(_VOCATIVE.match(first))
    closing = bool(_CLOSING_WORDS.search(tail))
    if (dated and (vocative or closing)) or (vocative and closing):
        return DocType.LETTER, Cert.MEDIUM, "a dateline, a salutation or a closing formula in the wording"
    words = sum(len(b.text.split()) for b in blocks)
    addressed = len(_SECOND_PERSON.findall(" ".join(b.text for b in blocks)))
    if dated and addressed >= max(3, words // 150):
        return DocType.LETTER, Cert.LOW, "a dateline and a text that addresses its reader"
    return DocType.UNKNOWN, Cert.UNKNOWN, "no cue of form or wording"
