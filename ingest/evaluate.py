"""Measure metadata extraction against labelled documents (``tei-ingest eval``).

The truth format is the one of the development set's README: ``TRUTH_DIR/<id>.json``
beside ``TEXTS_DIR/<id>.txt``, with ``doc_type``, ``languages``, ``date``,
``place_sent`` (and ``place_sent_alternatives``), ``senders``, ``addressees`` and
``authors`` as lists of ``{"name", "name_alternatives", "in_text"}``, and the flags
``place_in_text`` and ``date_year_in_text``. Each figure is given on all documents with a
value, and on the "recoverable" ones whose value can be read off the text.

For names the truth's ``in_text`` flag is looser than the comparison (a surname alone
sets it, while a match needs 60 % of the name's tokens), so a third subset is reported:
"matchable", the names whose tokens occur in the text often enough that some name read
from it could match. It is the ceiling of a tool that reads only the text.

Comparison rules (from the same README): dates equal at the truth's precision, or the
same year; a truth person is found when a predicted name holds at least 60 % of its
tokens once accents, case, honorifics and particles are dropped; a place matches when a
comma-separated part of it occurs as whole words in the prediction, or the other way
round; the primary language and the type family must be equal.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import IngestError, Issue, SourceError
from .model import DocType, Party, Record

FIELDS = ("date_exact", "date_year", "sender", "addressee", "author", "place", "language", "type")

#: Our document types mapped to the families of the truth format.
TYPE_FAMILY = {
    DocType.LETTER: "letter",
    DocType.TELEGRAM: "letter",
    DocType.MEMORANDUM: "memorandum",
    DocType.PRESS_RELEASE: "article",
    DocType.NEWS_ARTICLE: "article",
    DocType.ARTICLE: "article",
    DocType.SPEECH: "speech",
    DocType.REPORT: "report",
    DocType.MINUTES: "report",
    DocType.PETITION: "petition",
    DocType.UNKNOWN: "unknown",
}

_STOP = frozenset(
    "mr mrs ms miss m mme mlle mm messrs monsieur madame mademoiselle messieurs dr prof professor sir lord lady hon "
    "honorable honourable president secretary abbe comte comtesse baron marquis duc general colonel captain "
    "le la les l de du des d von van der den zu the of and et a an to au aux herr frau fraulein s son excellence "
    "his her excellency".split()
)


def name_tokens(text: str) -> set[str]:
    """Return the comparable tokens of a name (no accents, case, honorifics or particles)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return {t for t in re.split(r"[^0-9a-z]+", plain) if len(t) > 1 and t not in _STOP}


def names_match(truth: str, predicted: str) -> bool:
    """Return True when the predicted name holds at least 60 % of the truth name's tokens."""
    want = name_tokens(truth)
    if not want:
        return False
    return len(want & name_tokens(predicted)) / len(want) >= 0.6


def party_names(p: Party) -> list[str]:
    """Return every form under which a predicted party may be compared."""
    out = [p.label]
    if p.name:
        out.append(p.name)
    for a in p.affiliations:
        out.append(a.text)
        if a.org:
            out.append(a.org)
    return out


def _words(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " " + " ".join(re.findall(r"[0-9a-z]+", plain)) + " "


def place_matches(truth: str, alternatives: Sequence[str], predicted: str) -> bool:
    """Return True when a part of the truth place occurs as whole words in the prediction, or back."""
    pred = _words(predicted)
    if not pred.strip():
        return False
    for candidate in (truth, *alternatives):
        if pred in _words(candidate):
            return True
        for part in candidate.split(","):
            w = _words(part)
            if w.strip() and w in pred:
                return True
    return False


def date_matches(truth: str, predicted: str | None) -> tuple[bool, bool]:
    """Return (exact at the truth's precision, same year)."""
    if not predicted or not predicted[:4].isdigit():
        return False, False
    predicted = predicted[:10]
    return predicted.startswith(truth), predicted[:4] == truth[:4]


@dataclass
class DocResult:
    """The comparison of one document: one (field, correct, recoverable, matchable) entry per value."""

    id: str
    language: str
    doc_type: str
    scores: list[tuple[str, bool, bool, bool]] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    error: str | None = None


def _persons(truth: Any) -> list[dict[str, Any]]:
    return [p for p in (truth or []) if isinstance(p, dict) and p.get("name")]


def _score_people(
    res: DocResult, key: str, truth: list[dict[str, Any]], predicted: Sequence[Party], text: str
) -> None:
    names = [n for p in predicted for n in party_names(p)]
    for person in truth:
        forms = [person["name"], *person.get("name_alternatives", [])]
        found = any(names_match(f, n) for f in forms for n in names)
        in_text = bool(person.get("in_text"))
        matchable = in_text and any(names_match(f, text) for f in forms)
        res.scores.append((key, found, in_text, matchable))
        if not found:
            shown = "; ".join(sorted(set(names))) or "nothing"
            res.misses.append(f"{key}: expected {person['name']!r}, got {shown}")


def compare(doc_id: str, truth: dict[str, Any], record: Record) -> DocResult:
    """Compare one record's metadata with its truth."""
    x = record.extraction
    language = (truth.get("languages") or ["und"])[0]
    res = DocResult(doc_id, language, str(truth.get("doc_type")))
    if truth.get("date"):
        predicted = (x.date.when or x.date.from_) if x.date else None
        exact, year = date_matches(str(truth["date"]), predicted)
        flag = bool(truth.get("date_year_in_text"))
        res.scores += [("date_exact", exact, flag, flag), ("date_year", year, flag, flag)]
        if not exact:
            res.misses.append(f"date: expected {truth['date']}, got {predicted or 'nothing'}")
    if truth.get("place_sent"):
        ok = bool(x.place) and place_matches(truth["place_sent"], truth.get("place_sent_alternatives") or [],
                                             x.place.name if x.place else "")
        flag = bool(truth.get("place_in_text"))
        res.scores.append(("place", ok, flag, flag))
        if not ok:
            got = x.place.name if x.place else "nothing"
            res.misses.append(f"place: expected {truth['place_sent']!r}, got {got!r}")
    text = record.source.text
    _score_people(res, "sender", _persons(truth.get("senders")), x.senders, text)
    _score_people(res, "addressee", _persons(truth.get("addressees")), x.addressees, text)
    _score_people(res, "author", _persons(truth.get("authors")), x.authors, text)
    ok = x.language == language
    res.scores.append(("language", ok, True, True))
    if not ok:
        res.misses.append(f"language: expected {language}, got {x.language}")
    family = TYPE_FAMILY[x.doc_type]
    ok = family == truth.get("doc_type")
    res.scores.append(("type", ok, True, True))
    if not ok:
        res.misses.append(f"type: expected {truth.get('doc_type')}, got {x.doc_type.value} ({family})")
    return res


@dataclass
class Tally:
    """Counts of one field over a group of documents."""

    counted: int = 0
    correct: int = 0
    rec_counted: int = 0
    rec_correct: int = 0
    match_counted: int = 0
    match_correct: int = 0

    def add(self, counted: int, correct: int, recoverable: bool, matchable: bool) -> None:
        self.counted += counted
        self.correct += correct
        if recoverable:
            self.rec_counted += counted
            self.rec_correct += correct
        if matchable:
            self.match_counted += counted
            self.match_correct += correct

    def as_dict(self) -> dict[str, Any]:
        def pct(a: int, b: int) -> float | None:
            return round(100 * a / b, 1) if b else None

        return {
            "all": {"n": self.counted, "correct": self.correct, "percent": pct(self.correct, self.counted)},
            "recoverable": {"n": self.rec_counted, "correct": self.rec_correct,
                            "percent": pct(self.rec_correct, self.rec_counted)},
            "matchable": {"n": self.match_counted, "correct": self.match_correct,
                          "percent": pct(self.match_correct, self.match_counted)},
        }


def summarise(results: Iterable[DocResult]) -> dict[str, Any]:
    """Return the figures overall, per language and per document type."""
    groups: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    docs = errors = 0
    for r in results:
        docs += 1
        if r.error:
            errors += 1
        for name, correct, rec, matchable in r.scores:
            for group in ("overall", f"language={r.language}", f"type={r.doc_type}"):
                groups[group][name].add(1, int(correct), rec, matchable)
    return {
        "documents": docs,
        "errors": errors,
        "groups": {g: {f: t.as_dict() for f, t in sorted(fields.items())} for g, fields in sorted(groups.items())},
    }


def evaluate(texts: Path, truth_dir: Path, make_record: Any) -> list[DocResult]:
    """Run the extraction on every labelled text and compare it with its truth."""
    from .sources import read_source

    if not texts.is_dir() or not truth_dir.is_dir():
        missing = texts if not texts.is_dir() else truth_dir
        raise IngestError(Issue("eval.missing", str(missing), "is not a folder"))
    results = []
    for truth_file in sorted(truth_dir.glob("*.json")):
        doc_id = truth_file.stem
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        source = texts / f"{doc_id}.txt"
        try:
            record = make_record(read_source(source, str(source)))
        except SourceError as exc:
            res = DocResult(doc_id, (truth.get("languages") or ["und"])[0], str(truth.get("doc_type")))
            res.error = str(exc.issues[0])
            results.append(res)
            continue
        results.append(compare(doc_id, truth, record))
    return results


def format_report(summary: dict[str, Any], results: Sequence[DocResult], per_doc: bool) -> str:
    """Return the human-readable report: a table per group, then the misses if asked."""
    lines = [f"{summary['documents']} documents, {summary['errors']} could not be read", ""]
    header = f"{'group':<22} {'field':<11} {'all':>15} {'recoverable':>15} {'matchable':>15}"
    lines += [header, "-" * len(header)]
    for group, fields in summary["groups"].items():
        for name in FIELDS:
            if name not in fields:
                continue
            a, r, m = fields[name]["all"], fields[name]["recoverable"], fields[name]["matchable"]

            def cell(d: dict[str, Any]) -> str:
                return f"{d['percent']:5.1f}% {d['correct']:>3}/{d['n']:<3}" if d["n"] else "–"

            lines.append(f"{group:<22} {name:<11} {cell(a):>15} {cell(r):>15} {cell(m):>15}")
    if per_doc:
        lines += ["", "misses:"]
        for res in results:
            if res.error:
                lines.append(f"  {res.id}: {res.error}")
            for miss in res.misses:
                lines.append(f"  {res.id}: {miss}")
    return "\n".join(lines)
