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
    if BlockKind.SALUTE in kinds or BlockKind.CLOSING in kinds:
        return DocType.LETTER, Cert.MEDIUM, "a salutation or a closing formula"
    if BlockKind.BOILERPLATE in kinds and BlockKind.HEADING in kinds:
        return DocType.NEWS_ARTICLE, Cert.MEDIUM, "a headline inside web-page navigation"
    if BlockKind.ADDRESSEE in kinds and BlockKind.SIGNATURE in kinds:
        return DocType.LETTER, Cert.MEDIUM, "an addressee block and a signature"
    return DocType.UNKNOWN, Cert.UNKNOWN, "no cue of form or wording"
