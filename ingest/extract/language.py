"""Languages of a document, of its passages and of runs in another script.

langdetect is made deterministic (``DetectorFactory.seed = 0``) and is only asked about
passages long enough for its character n-gram profiles to be reliable: a dateline such
as "Bamako le 06 Novembre 2017" is read as Slovenian, so short passages (datelines,
reference numbers, names) inherit the document language instead. Runs of a script
that belongs to another language (the Arabic line of a French letterhead) are found by
their Unicode script, which is more reliable than n-grams on a few words.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import replace

from ..model import Block, BlockKind, Cert, LanguageShare

#: Scripts that identify a language well enough on their own (BCP 47 subtags).
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ar", re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc]")),
    ("he", re.compile(r"[\u0590-\u05ff\ufb1d-\ufb4f]")),
    ("el", re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")),
)
_RUN_CHARS = {
    code: re.compile(rf"{rx.pattern}(?:[\s\d\W]*{rx.pattern})*") for code, rx in _SCRIPTS
}
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]{2,}")

#: A passage needs this many letters and words before langdetect is asked about it.
MIN_LETTERS = 60
MIN_WORDS = 8
#: A passage in another language than the document's needs this probability.
MIN_FOREIGN_PROB = 0.9

_lock = threading.Lock()
_ready = False


def _load() -> None:
    """Load langdetect's profiles once, with a fixed seed so results are repeatable."""
    global _ready
    with _lock:
        if not _ready:
            from langdetect import DetectorFactory

            DetectorFactory.seed = 0
            _ready = True


def detect(text: str) -> tuple[str, float] | None:
    """Return (language subtag, probability) for a long enough text, else None."""
    if len(_LETTER.findall(text)) < MIN_LETTERS or len(_WORD.findall(text)) < MIN_WORDS:
        return None
    _load()
    from langdetect import detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    try:
        # langdetect's profiles are built from running text: an all-capitals heading
        # ("RAPPORT DE LA RÉUNION ...") is misread unless lower-cased first.
        best = detect_langs(text.lower())[0]
    except LangDetectException:
        return None
    return str(best.lang).split("-")[0], float(best.prob)


def script_language(text: str) -> str | None:
    """Return the language of a text written mostly in a language-specific script."""
    letters = _LETTER.findall(text)
    if not letters:
        return None
    for code, rx in _SCRIPTS:
        if sum(1 for c in letters if rx.match(c)) > 0.5 * len(letters):
            return code
    return None


def foreign_runs(text: str, lang: str) -> list[tuple[int, int, str]]:
    """Return (start, end, language) of runs in a script foreign to lang."""
    runs: list[tuple[int, int, str]] = []
    for code, rx in _RUN_CHARS.items():
        if code == lang:
            continue
        for m in rx.finditer(text):
            if len(_LETTER.findall(m.group())) >= 3:
                runs.append((m.start(), m.end(), code))
    return sorted(runs)


def _letters_outside(text: str, runs: list[tuple[int, int, str]]) -> str:
    """Return the text with the foreign-script runs cut out."""
    out, pos = [], 0
    for start, end, _ in runs:
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return " ".join(out)


def _shares(counts: Counter[str], main: str = "") -> tuple[LanguageShare, ...]:
    """Turn letter counts into whole percentages summing to 100 (largest remainder).

    The main language comes first (the text's own @xml:lang), then the others by share.
    """
    total = sum(counts.values())
    if not total:
        return ()
    exact = {code: 100 * n / total for code, n in counts.items()}
    floor = {code: max(int(v), 1) for code, v in exact.items()}
    left = 100 - sum(floor.values())
    for code in sorted(exact, key=lambda c: (-(exact[c] - int(exact[c])), c)):
        if left <= 0:
            break
        floor[code] += 1
        left -= 1
    order = sorted(counts, key=lambda c: (c != main, -counts[c], c))
    return tuple(LanguageShare(code, floor[code], counts[code]) for code in order)


def assign_languages(blocks: tuple[Block, ...]) -> tuple[tuple[Block, ...], str, tuple[LanguageShare, ...]]:
    """Set each block's language; return the blocks, the main language and the shares."""
    detected: list[tuple[str, float] | None] = []
    for b in blocks:
        own = script_language(b.text)
        if own:
            detected.append((own, 1.0))
            continue
        runs = foreign_runs(b.text, "")
        detected.append(detect(_letters_outside(b.text, runs)))
    weights: Counter[str] = Counter()
    for b, d in zip(blocks, detected, strict=True):
        if d and b.kind is not BlockKind.BOILERPLATE:
            weights[d[0]] += len(_LETTER.findall(b.text))
    if weights:
        main = max(sorted(weights), key=lambda c: weights[c])
    else:
        text = " ".join(b.text for b in blocks)
        whole = detect(_letters_outside(text, foreign_runs(text, "")))
        main = whole[0] if whole else script_language(text) or "und"
    out: list[Block] = []
    counts: Counter[str] = Counter()
    for b, d in zip(blocks, detected, strict=True):
        lang, cert = main, Cert.MEDIUM
        if d and (d[0] == main or d[1] >= MIN_FOREIGN_PROB):
            lang = d[0]
            cert = Cert.HIGH if d[1] >= 0.95 else Cert.MEDIUM
        elif not d:
            cert = Cert.LOW  # inherited: too short to tell
        runs = foreign_runs(b.text, lang)
        for start, end, code in runs:
            counts[code] += len(_LETTER.findall(b.text[start:end]))
        counts[lang] += len(_LETTER.findall(_letters_outside(b.text, runs)))
        out.append(replace(b, lang=lang, lang_cert=cert))
    counts = Counter({k: v for k, v in counts.items() if v})
    if main not in counts and main != "und":
        counts[main] = 0
    return tuple(out), main, _shares(counts, main)
