"""Languages of a document, of its passages and of runs in another script.

langdetect is made deterministic (``DetectorFactory.seed = 0``) and is only asked about
passages long enough for its character n-gram profiles to be reliable: a dateline such
as "Bamako le 06 Novembre 2017" is read as Slovenian, so short passages (datelines,
reference numbers, names) inherit the document language instead. Runs of a script
that belongs to another language (the Arabic line of a French letterhead) are found by
their Unicode script, which is more reliable than n-grams on a few words.

langdetect samples n-grams at random over seven trials: about 3 ms a paragraph, most of
the time an ingest takes. CLD2 (pycld2) answers in some 30 µs, so it reads every passage
first, and its answer is kept where it is reliable, at least 95 % of the passage, and the
document's main language. Every other passage (CLD2 unsure, or a language other than
the main one: a quotation, a list of names CLD2 misreads) goes to langdetect, which
decides as before. On the 1,385 long passages of the development set, the seeds and the
benchmark corpus, CLD2 and langdetect agree on every passage CLD2 keeps, and langdetect
gives each of them a probability of at least 0.95: the languages and certainties are
those langdetect alone gives.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import replace
from itertools import islice

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
#: Everything that is not a letter: its exact complement, character by character.
_NOT_LETTERS = re.compile(r"[\W\d_]+")
_WORD = re.compile(r"[^\W\d_]{2,}")
#: A letter in each script, to count them in one pass over a text; and any character of them.
_SCRIPT_LETTERS = tuple((code, re.compile(rf"(?={_LETTER.pattern}){rx.pattern}")) for code, rx in _SCRIPTS)
_ANY_SCRIPT = re.compile("|".join(rx.pattern for _, rx in _SCRIPTS))

#: A passage needs this many letters and words before langdetect is asked about it.
MIN_LETTERS = 60
MIN_WORDS = 8
#: A passage in another language than the document's needs this probability.
MIN_FOREIGN_PROB = 0.9

_lock = threading.Lock()
_ready = False


def _load() -> None:
    """Load langdetect's profiles once (from the disk cache: ``profiles``), with a fixed seed so results are repeatable."""
    global _ready
    with _lock:
        if not _ready:
            from langdetect import DetectorFactory, detector_factory

            from .profiles import factory

            DetectorFactory.seed = 0
            if detector_factory._factory is None:
                detector_factory._factory = factory()
            _ready = True


#: CLD2's codes that are not the BCP 47 subtags langdetect and TEI use.
_CLD2_CODES = {"iw": "he", "in": "id", "jw": "jv", "zh-Hant": "zh", "zh": "zh"}
#: The share of the passage CLD2 must give its language, reliably, for its answer to stand.
CLD2_MIN_PERCENT = 95
#: The probability a kept CLD2 answer stands for (langdetect gave these passages 0.95 or more).
CLD2_PROB = 0.99


def _letters(text: str) -> int:
    """Return how many letters a text has (what ``_LETTER`` matches), without listing them."""
    return len(_NOT_LETTERS.sub("", text))


def is_long_enough(text: str, letters: int | None = None) -> bool:
    """Return True when a passage has enough letters and words for n-gram detection.

    ``letters``: the text's letter count, where the caller has it already.
    """
    if letters is None:
        letters = _letters(text)
    return letters >= MIN_LETTERS and len(list(islice(_WORD.finditer(text), MIN_WORDS))) >= MIN_WORDS


def quick_detect(text: str) -> str | None:
    """Return the language CLD2 reliably reads over at least 95 % of a long enough text, else None."""
    return _cld2(text) if is_long_enough(text) else None


def _cld2(text: str) -> str | None:
    import pycld2

    try:
        reliable, _, found = pycld2.detect(text.lower())
    except (pycld2.error, UnicodeEncodeError):  # text CLD2 cannot take (lone surrogates): langdetect decides
        return None
    code, percent = str(found[0][1]), int(found[0][2])
    if not reliable or percent < CLD2_MIN_PERCENT or code in ("un", "xxx"):
        return None
    return _CLD2_CODES.get(code, code.split("-")[0])


def detect(text: str) -> tuple[str, float] | None:
    """Return (language subtag, probability) for a long enough text, else None."""
    if not is_long_enough(text):
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
    if not _ANY_SCRIPT.search(text):
        return None
    letters = _letters(text)
    if not letters:
        return None
    for code, rx in _SCRIPT_LETTERS:
        if len(rx.findall(text)) > 0.5 * letters:
            return code
    return None


def foreign_runs(text: str, lang: str) -> list[tuple[int, int, str]]:
    """Return (start, end, language) of runs in a script foreign to lang."""
    runs: list[tuple[int, int, str]] = []
    for code, rx in _RUN_CHARS.items():
        if code == lang:
            continue
        for m in rx.finditer(text):
            if _letters(m.group()) >= 3:
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
    quick: list[bool] = []  # CLD2's answer, to be confirmed against the main language
    texts: list[str] = []  # each block without its runs in another script
    letters = [_letters(b.text) for b in blocks]
    # Most blocks have no letter of a language-specific script: no script decides their
    # language, they have no foreign run to cut out, and their letters are counted once.
    scripted = [_ANY_SCRIPT.search(b.text) is not None for b in blocks]
    for b, n, has_script in zip(blocks, letters, scripted, strict=True):
        own = script_language(b.text) if has_script else None
        if own:
            detected.append((own, 1.0))
            quick.append(False)
            texts.append("")  # never asked again: its script decides
            continue
        text = _letters_outside(b.text, foreign_runs(b.text, "")) if has_script else b.text
        texts.append(text)
        if not is_long_enough(text, None if has_script else n):  # too short for either detector: it inherits the main language
            detected.append(None)
            quick.append(False)
            continue
        fast = _cld2(text)
        detected.append((fast, CLD2_PROB) if fast else detect(text))
        quick.append(fast is not None)
    main = ""
    for _ in range(3):  # a CLD2 answer that is not the main language goes to langdetect
        weights: Counter[str] = Counter()
        for b, d, n in zip(blocks, detected, letters, strict=True):
            if d and b.kind is not BlockKind.BOILERPLATE:
                weights[d[0]] += n
        main = max(sorted(weights), key=lambda c: weights[c]) if weights else ""
        redo = [i for i, d in enumerate(detected) if quick[i] and d and d[0] != main]
        if not redo:
            break
        for i in redo:
            detected[i] = detect(texts[i])
            quick[i] = False
    if not main:
        text = " ".join(b.text for b in blocks)
        whole = detect(_letters_outside(text, foreign_runs(text, "")))
        main = whole[0] if whole else script_language(text) or "und"
    out: list[Block] = []
    counts: Counter[str] = Counter()
    for b, d, n, has_script in zip(blocks, detected, letters, scripted, strict=True):
        lang, cert = main, Cert.MEDIUM
        if d and (d[0] == main or d[1] >= MIN_FOREIGN_PROB):
            lang = d[0]
            cert = Cert.HIGH if d[1] >= 0.95 else Cert.MEDIUM
        elif not d:
            cert = Cert.LOW  # inherited: too short to tell
        runs = foreign_runs(b.text, lang) if has_script else []
        for start, end, code in runs:
            counts[code] += _letters(b.text[start:end])
        counts[lang] += _letters(_letters_outside(b.text, runs)) if runs else n
        out.append(replace(b, lang=lang, lang_cert=cert))
    counts = Counter({k: v for k, v in counts.items() if v})
    if main not in counts and main != "und":
        counts[main] = 0
    return tuple(out), main, _shares(counts, main)
