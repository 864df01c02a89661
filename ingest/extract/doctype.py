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
from .people import closing_names
from .structure import leading_dateline

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
    printed = _printed_form(blocks)
    if printed:
        return printed
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
_REPORT_WORDING = re.compile(
    r"\b(?:(?:submit|present|enclose) (?:the following|this|my|our) report|le (?:présent )?rapport (?:suivant|ci-dessous)|"
    r"(?:j['’]ai|nous avons) l['’]honneur de (?:vous )?(?:présenter|soumettre|adresser) (?:le|ce|mon|notre) rapport|"
    r"(?:folgenden|diesen) Bericht)\b",
    re.I,
)
_ATTENDANCE = re.compile(
    r"^(?:Present|Absent|Also present|Other persons present|Présents|Étaient présents|Absents|Excusés|Anwesend|"
    r"Abwesend|Presentes|Presenti)\b|\((?:absent|excusé|excused)\)",
    re.I | re.M,
)
_ACTION = re.compile(r"Recommendations?:?\s+That you\b|Recommandations?\s*:\s*Que vous\b")
_ROMAN_HEADING = re.compile(r"^(?:[IVX]{1,5})\.\s+[A-ZÀ-Þ][^\n]{2,100}$")
_TELEGRAM_TIME = re.compile(r",?\s\d{4}Z\.?$")
_SECOND_PERSON = re.compile(r"\b(?:vous|tu|te|toi|ton|ta|tes|you|your|Sie|Ihnen|du|dich|dir)\b")
_CLOSING_WORDS = re.compile(
    r"\b(?:je vous embrasse|je t'embrasse|agréez|veuillez|recevez|croyez|votre (?:tout )?dévoué|ton ami|"
    r"votre ami|adieu|mille amitiés|tout à vous|serviteur|respectueux|yours (?:truly|sincerely|faithfully|ever|respectfully)|sincerely|"
    r"faithfully yours|believe me|affectionately|ihr ergebener|herzlich|hochachtungsvoll|mit (?:besten )?grüßen)\b",
    re.I,
)


_CORRESPONDENCE_HEAD = re.compile(
    r"^(?:(?:our|domestic|foreign|editorial|special|occasional|regular)\s+)?(?:[\w.,' ]{0,40}\s)?"
    r"correspondence\b|^correspondances?\b|^(?:letters?|lettres?) (?:from|de|d['’])\s*[\"“«]?[A-Z]",
    re.I,
)
_TO_EDITOR = re.compile(r"^(?:Mr\.?|M\.|Monsieur le|Dear)\s+(?:Editor|Rédacteur)\b|^To the Editor\b|^Au rédacteur\b", re.I)
_REVIEW_HEAD = re.compile(r"^(?:Analyses et comptes rendus|Comptes rendus|Book reviews?|Reviews?|Rezensionen?)\b", re.I)
_BIBLIOGRAPHY = re.compile(r"\b1[5-9]\d\d,\s*(?:in-\d+|\d+\s?(?:p|pp|S)\.)|\b\d+\s?(?:p|pp)\.\s*in-\d+")
_DELIVERED = re.compile(
    r"\b(?:discours (?:prononcé|qui suit)|a prononcé le discours|address (?:delivered|given)|speech (?:delivered|given)|"
    r"remarks (?:delivered|made) (?:at|to|before)|Rede (?:gehalten|bei))\b",
    re.I,
)
_GUESTS = re.compile(
    r"\b(?:distinguished guests|ladies and gentlemen|fellow citizens|my fellow Americans|your excellencies|"
    r"chers (?:élèves|collègues|concitoyens)|mesdames et messieurs|meine (?:sehr verehrten )?damen und herren)\b",
    re.I,
)
_VOCATIVE_LINE = re.compile(r"^[^;!?\n]{1,200}[,:!]$")
_BROADCAST = re.compile(r"^(?:Good (?:evening|morning|afternoon)|Bonsoir|Bonjour à tous|Guten Abend|Buenas noches)\b", re.I)
_PETITION_HEAD = re.compile(r"^(?:Petition|Pétition|Petición|Petizione|Bittschrift)\b|^To the Honou?rable\b.*\bpetition", re.I)


def _printed_form(blocks: Sequence[Block]) -> tuple[DocType, Cert, str] | None:
    """Return the type of a text printed for the public (article, review, speech), or None.

    These forms borrow the furniture of a letter (a salutation, a signature), so they are
    read first: a newspaper-correspondence heading, a letter to the editor, a review's
    bibliographic reference, an address delivered to an assembly.
    """
    top = [b.text.strip() for b in blocks[:6] if b.kind not in (BlockKind.PAGEBREAK, BlockKind.BOILERPLATE)]
    for t in top[:3]:
        if _CORRESPONDENCE_HEAD.match(t) and len(t) <= 80:
            return DocType.ARTICLE, Cert.MEDIUM, f"the newspaper-correspondence heading {t!r}"
        if _PETITION_HEAD.match(t):
            return DocType.PETITION, Cert.MEDIUM, "the text opens as a petition"
    for t in top:
        if _TO_EDITOR.match(t):
            return DocType.ARTICLE, Cert.MEDIUM, "a letter addressed to the editor of a paper"
        if _DELIVERED.search(t):
            return DocType.SPEECH, Cert.MEDIUM, "the text says it was delivered as an address"
    for t in top[:4]:
        if _REVIEW_HEAD.match(t) or (_BIBLIOGRAPHY.search(t) and len(t) <= 300):
            return DocType.ARTICLE, Cert.MEDIUM, "a review: a bibliographic reference at the top"
    opening = [t for t in top if _VOCATIVE_LINE.match(t)]
    salute = next((b.text.strip() for b in blocks[:6] if b.kind is BlockKind.SALUTE), "")
    if any(_GUESTS.search(t) for t in [salute, *opening]):
        return DocType.SPEECH, Cert.MEDIUM, "an address to an assembled audience"
    if any(_BROADCAST.match(t) for t in opening):
        return DocType.SPEECH, Cert.MEDIUM, "a greeting to listeners (\"Good evening:\")"
    if salute and salute.count(",") >= 3 and len(re.findall(r"\b(?:Mr|Mrs|Madam|Monsieur|Madame)\b\.?", salute)) >= 2:
        return DocType.SPEECH, Cert.MEDIUM, "an address to several dignitaries at once"
    return None


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
    dated = any(b.kind is BlockKind.DATELINE for b in blocks[:3]) or any(
        leading_dateline(b.text) for b in blocks[:2] if b.kind is BlockKind.PARAGRAPH)
    signed = bool(closing_names(blocks))
    if _SPEECH.match(first) and not (dated and signed):
        return DocType.SPEECH, Cert.MEDIUM, "an address to an audience at the start"
    if any(_REPORT_WORDING.search(t) for t in head):
        return DocType.REPORT, Cert.MEDIUM, "the text presents itself as a report"
    if any(_ATTENDANCE.search(b.text) for b in blocks[:12]):
        return DocType.MINUTES, Cert.MEDIUM, "a list of those present or absent at a meeting"
    if any(_ACTION.match(b.text) for b in blocks):
        return DocType.MEMORANDUM, Cert.MEDIUM, "a recommendation put to the reader (\"Recommendation: That you …\")"
    tail = " ".join(b.text for b in blocks[-3:])
    # "Messieurs," opens an address, or a letter to a body when the text is dated and signed
    opening = [t for b, t in zip(blocks, head, strict=False)
               if b.kind in (BlockKind.PARAGRAPH, BlockKind.SALUTE) and t][:3]
    vocative = any(_VOCATIVE.match(t) for t in opening) or bool(_SPEECH.match(first) and dated and signed)
    closing = bool(_CLOSING_WORDS.search(tail))
    if (dated and (vocative or closing)) or (vocative and closing):
        return DocType.LETTER, Cert.MEDIUM, "a dateline, a salutation or a closing formula in the wording"
    words = sum(len(b.text.split()) for b in blocks)
    addressed = len(_SECOND_PERSON.findall(" ".join(b.text for b in blocks)))
    if dated and addressed >= max(3, words // 150):
        return DocType.LETTER, Cert.LOW, "a dateline and a text that addresses its reader"
    sections = sum(1 for b in blocks if _ROMAN_HEADING.match(b.text) or (
        b.kind is BlockKind.LIST_ITEM and re.fullmatch(r"[IVX]{1,5}\.", b.label or "") and len(b.text) <= 100
        and not b.text.rstrip().endswith(".")))
    if sections >= 2 and BlockKind.SALUTE not in {b.kind for b in blocks}:
        return DocType.REPORT, Cert.LOW, f"{sections} sections numbered I, II, ... and no salutation"
    titled = bool(blocks) and (blocks[0].kind is BlockKind.HEADING or (
        len(blocks[0].text) <= 100 and all(len(x) <= 60 for x in blocks[0].text.split("\n"))))
    if titled and signed and not dated and not closing and len(blocks) >= 4:
        return DocType.ARTICLE, Cert.LOW, "a title at the top and the author's name at the foot"
    return DocType.UNKNOWN, Cert.UNKNOWN, "no cue of form or wording"
