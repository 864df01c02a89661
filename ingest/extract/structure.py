"""Cut a source text into typed blocks: letterhead, dateline, salutation, paragraphs ...

The text arrives as an OCR or PDF extraction, sometimes through a web page or a
Markdown converter. This module undoes those conversions without touching a word:

* **Re-flow.** A PDF extraction that puts a blank line after every line is detected
  (blank lines fall inside sentences) and its lines are joined into paragraphs again;
  each source line break is kept (encoded as ``<lb/>``).
* **Markdown traces** (``**bold**``, ``*italic*``, ``[text](url)``, ``## heading``,
  ``\\*`` escapes) become inline records (``hi``, ``ref``) and the syntax characters
  are dropped; escaped characters are kept as the character they stand for.
* **Roles.** Blocks are classified by form and wording: a letterhead (and its repeat at
  a page break), web navigation kept as boilerplate, datelines, the sender and addressee
  blocks of a letter, the subject line, the salutation, list items, the closing formula,
  the copy list, the signature.

Everything is rule-based and language-aware for French, English, German, Spanish and
Italian; the rules look at the shape of the text, never at a particular document.
"""

from __future__ import annotations

import difflib
import itertools
import re
import statistics
from dataclasses import dataclass, field

from ..model import Block, BlockKind, DateValue, Inline, Place, Structure
from .dates import split_dateline

# --------------------------------------------------------------------------- lines

_SPACES = re.compile(r"[ \t\u00a0]{2,}|\t")
_TERMINAL = re.compile(r"[.!?:;»”\"')\]]\s*$")
_LIST_MARKER = re.compile(
    r"^(?:(?P<bullet>[-–•▪◦·]|\*(?=\s))|(?P<label>(?:[ivxlc]{1,6}|[IVXLC]{1,6}|\d{1,3}|[a-z])[.)]))\s+(?=\S)"
)
_INITIAL_NAME = re.compile(r"(?:[A-ZÀ-Þ][A-ZÀ-Þ'’\-]+\.?\s*){1,3}[.,]?")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


@dataclass
class _Draft:
    """A block while it is being classified (mutable, internal)."""

    lines: list[tuple[int, str]]
    kind: BlockKind = BlockKind.PARAGRAPH
    label: str | None = None
    text: str = ""
    inlines: list[Inline] = field(default_factory=list)

    @property
    def first(self) -> int:
        return self.lines[0][0]

    @property
    def last(self) -> int:
        return self.lines[-1][0]

    @property
    def flat(self) -> str:
        """Return the text with line breaks read as spaces."""
        return self.text.replace("\n", " ")


def _clean_line(line: str) -> str:
    """Strip a line and fold runs of spaces (the words are untouched)."""
    return _SPACES.sub(" ", line).strip()


def _is_doubled(lines: list[str]) -> bool:
    """Return True when a blank line follows every line, even inside sentences."""
    pairs = continued = adjacent = 0
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if len(nonblank) < 6:
        return False
    for a, b in itertools.pairwise(nonblank):
        if b == a + 1:
            adjacent += 1
            continue
        if b != a + 2:
            continue
        pairs += 1
        prev, nxt = lines[a].strip(), lines[b].strip()
        if not _TERMINAL.search(prev) and (nxt[:1].islower() or nxt[:1].isdigit()):
            continued += 1
    lengths = [len(lines[i].strip()) for i in nonblank]
    return (
        adjacent < 0.25 * len(nonblank)
        and continued >= 3
        and continued >= 0.25 * max(pairs, 1)
        and 25 <= statistics.median(lengths) <= 130
    )


def _segment(text: str) -> tuple[list[_Draft], list[str]]:
    """Cut text into drafts of consecutive lines; return them and the normalisations done."""
    raw_lines = text.split("\n")
    done: list[str] = []
    if any(_clean_line(line) != line for line in raw_lines if line.strip()):
        done.append("spaces at line ends removed and runs of spaces folded to one")
    doubled = _is_doubled(raw_lines)
    groups: list[list[tuple[int, str]]] = [[]]
    if doubled:
        done.append(
            "the blank line after every line of the PDF extraction removed and the lines "
            "re-flowed into paragraphs (source line breaks kept as lb)"
        )
        empty_run = 0
        for no, line in enumerate(raw_lines, 1):
            if line == "":
                empty_run += 1
                if empty_run >= 2:
                    groups.append([])
                continue
            empty_run = 0
            if not line.strip():  # a line of spaces is the paragraph break of the source
                groups.append([])
                continue
            groups[-1].append((no, _clean_line(line)))
    else:
        for no, line in enumerate(raw_lines, 1):
            if "\f" in line:
                groups.append([(no, "\f")])
                groups.append([])
                line = line.replace("\f", "")
            if not line.strip():
                groups.append([])
                continue
            groups[-1].append((no, _clean_line(line)))
    drafts: list[_Draft] = []
    for group in groups:
        if not group:
            continue
        if group == [(group[0][0], "\f")]:
            drafts.append(_Draft(group, BlockKind.PAGEBREAK))
            continue
        for part in _split_group(group, doubled):
            drafts.append(_Draft(part))
    return drafts, done


def _split_group(group: list[tuple[int, str]], doubled: bool) -> list[list[tuple[int, str]]]:
    """Split a group of lines where a list item, a dateline or (re-flowed) a paragraph starts."""
    parts: list[list[tuple[int, str]]] = [[]]
    widths = [len(t) for _, t in group]
    width = max(widths) if widths else 0
    for i, (no, line) in enumerate(group):
        prev = group[i - 1][1] if i else ""
        starts_item = bool(_LIST_MARKER.match(line)) and (
            i == 0 or doubled or bool(_LIST_MARKER.match(group[0][1])) or bool(_TERMINAL.search(prev))
        )
        is_dateline = len(line) <= 120 and split_dateline(line) is not None and len(group) > 1
        new_para = (
            doubled
            and i > 0
            and bool(re.search(r"[.!?]\s*$", prev))
            and line[:1].isupper()
            and len(prev) < 0.7 * width
        )
        if parts[-1] and (starts_item or is_dateline or new_para or _prev_was_dateline(parts[-1])):
            parts.append([])
        parts[-1].append((no, line))
    return [p for p in parts if p]


def _prev_was_dateline(part: list[tuple[int, str]]) -> bool:
    """Return True when the lines so far are one dateline (it stands alone)."""
    return len(part) == 1 and len(part[0][1]) <= 120 and split_dateline(part[0][1]) is not None


# --------------------------------------------------------------------------- markdown

_MD_TRACE = re.compile(r"\*\*\S|\[[^\]\n]+\]\([^)\s]*\)|\\[*_#\[\]]|^#{1,6} \S", re.M)
_MD_TOKEN = re.compile(
    r"\\(?P<esc>[\\`*_{}\[\]()#+\-.!])"
    r"|\[(?P<ltext>[^\]\n]+)\]\((?P<target>[^)\s]*)\)"
    r"|\*\*(?P<bold>(?:(?!\*\*).)+?)\*\*"
    r"|(?<![*\w])\*(?P<ital>[^*\s](?:[^*]*?[^*\s])?)\*(?![*\w])",
    re.S,
)


def _markdown(src: str) -> tuple[str, list[Inline]]:
    """Turn Markdown emphasis, links and escapes into plain text and inline records."""
    out: list[str] = []
    inlines: list[Inline] = []
    pos = 0
    for m in _MD_TOKEN.finditer(src):
        out.append(src[pos : m.start()])
        pos = m.end()
        start = sum(len(s) for s in out)
        if m.group("esc") is not None:
            out.append(m.group("esc"))
            continue
        if m.group("ltext") is not None:
            inner, sub = _markdown(m.group("ltext"))
            attrs: tuple[tuple[str, str], ...] = (("target", m.group("target")),)
            tag = "ref"
        elif m.group("bold") is not None:
            inner, sub = _markdown(m.group("bold"))
            attrs, tag = (("rend", "bold"),), "hi"
        else:
            inner, sub = _markdown(m.group("ital"))
            attrs, tag = (("rend", "italic"),), "hi"
        out.append(inner)
        inlines.append(Inline(start, start + len(inner), tag, attrs))
        inlines.extend(Inline(s.start + start, s.end + start, s.tag, s.attrs) for s in sub)
    out.append(src[pos:])
    return "".join(out), inlines


# --------------------------------------------------------------------------- cues

_SALUTE = re.compile(
    r"^(?:Excellence|Votre Excellence|Monsieur|Madame|Mademoiselle|Messieurs|Mesdames|Mes(?:sieurs|dames)|"
    r"(?:Mon |Ma |Mes |Très )?(?:cher|chère|chers|chères|honoré|honorée)|Cher|Chère|Chers|"
    r"(?:My )?Dear|Sir|Sirs|Madam|Gentlemen|Your Excellency|Excellency|Hon(?:ou)?rable|"
    r"Sehr geehrte[rs]?|Hochverehrte[rs]?|Verehrte[rs]?|Geehrte[rs]?|Liebe[rs]?|Lieber|Mein(?:e)? (?:lieber|liebe|theurer|teurer)|"
    r"Estimad[oa]s?|Querid[oa]s?|Muy (?:señor|señora|señores)|Señor(?:a|es)?|Distinguid[oa]s?|"
    r"Caro|Cara|Cari|Carissim[oa]|Egregi[oa]|Gentile|Gentilissim[oa]|Illustre|Pregiatissim[oa]|Stimatissim[oa])\b",
    re.I,
)
_CLOSING = re.compile(
    r"veuillez agréer|veuillez croire|je vous prie d['’]agréer|je vous prie de croire|prie d['’]agréer|"
    r"l['’]expression de (?:mes|nos|ma|mon|notre)|l['’]assurance de (?:mes|nos|ma|mon|notre)|"
    r"(?:haute|très haute|parfaite|distinguée) considération|sentiments (?:les )?(?:meilleurs|distingués|respectueux|dévoués)|"
    r"(?:bien )?cordialement|salutations (?:distinguées|respectueuses)|"
    r"yours (?:sincerely|faithfully|truly|respectfully|ever)|sincerely yours|faithfully yours|respectfully yours|"
    r"(?:best|kind|warm) (?:regards|wishes)|with (?:kind )?regards|I remain,? (?:dear|sir|yours)|"
    r"mit (?:freundlichen|besten|herzlichen) grüßen|hochachtungsvoll|ihr ergebener|in (?:vorzüglicher )?hochachtung|"
    r"distinti saluti|cordiali saluti|con osservanza|atentamente|un (?:cordial )?saludo|le saluda atentamente",
    re.I,
)
_SUBJECT = re.compile(r"^(?:Objet|Object|Subject|Subj\.|Re|Betreff|Betr\.|Oggetto|Asunto|Concerne)\s*:\s*", re.I)
_REFERENCE = re.compile(
    r"^(?:N°|No\.|Nº|Réf(?:\.|érence)?|Ref(?:\.|erence)?|V/Réf|N/Réf|Our ref|Your ref|Aktenzeichen|Az\.|Prot\.)\s*[:.]?\s*\S",
    re.I,
)
_ADDRESSEE_MARK = re.compile(r"^(?:A|À|à|a|To|An|Al|Alla|Allo|Ao|Para)\s*:?$")
_ADDRESSEE_START = re.compile(
    r"^(?:(?:À|A|To|An|Al|Alla|Para)\s+(?:[A-ZÀ-Ý]|l['’]|la |le |les |son |sa |his |her |the |das |den |die )|"
    r"(?:An\s+)?(?:Herrn|Frau|Fräulein|Frl\.)\s+[A-ZÀ-Ý])"
)
_CC_HEAD = re.compile(
    r"^(?:Ampliations?|Copies?(?: à| to| pour)?|C\.?\s?c\.?|Cc|Distribution|Verteiler|Abschrift an|Copia a|Copia per|Con copia a)\s*:?\s*$",
    re.I,
)
_WEB_NAV = re.compile(
    r"^(?:Accueil|Home|Startseite|Inicio|Portada)\b.*(?:\.\.\.|…|»|>|/)\s*$|"
    r"^(?:Quitter la version mobile|Exit mobile version|Version mobile|Partager(?: sur| cet article)?|Share(?: this)?|Tweet|"
    r"Lire aussi|Lire la suite|Read (?:also|more)|Related(?: posts| articles)?|Articles similaires|Publicité|Advertisement|"
    r"Laisser un commentaire|Leave a (?:comment|reply)|Commentaires|Comments|Cookies?.*|Retour en haut|Back to top|"
    r"Menu|Rechercher|Search|Abonnez-vous|Subscribe|Newsletter)\s*[.:]?\s*$",
    re.I,
)
_GENRE_LABEL = re.compile(
    r"^(?:Press Release|Communiqué(?: de presse)?|Pressemitteilung|Comunicado(?: de prensa)?|Comunicato(?: stampa)?|"
    r"News Release|Media Release|Statement|Déclaration|Memorandum|Mémorandum|Telegram|Télégramme|Rapport|Report|"
    r"Minutes|Procès-verbal|Compte rendu|Note verbale|Aide-mémoire)\b",
    re.I,
)


def _upper_ratio(text: str) -> float:
    """Return the share of upper-case letters among the letters of text."""
    letters = [c for c in text if c.isalpha()]
    return sum(c.isupper() for c in letters) / len(letters) if letters else 0.0


def _is_contact(text: str) -> bool:
    """Return True for a block of postal or electronic contact details."""
    return bool(
        re.search(
            r"(?:\bT[ée]l\.?|\bPhone|\bFax|E-?mail|\bSite\s?Web|www\.|https?://|@\w+\.\w|\bB\.?P\.?\s*:?\s*\d|"
            r"\bP\.?O\.? Box|\bRue\b|\bStreet\b|\bAvenue\b|\bStraße\b|\bstrasse\b)",
            text,
            re.I,
        )
    )


def _is_letterheadish(d: _Draft) -> bool:
    """Return True for a block that reads as a printed letterhead."""
    if _is_contact(d.text) or _ARABIC.search(d.text):
        return True
    lines = d.text.split("\n")
    return all(len(line) <= 70 for line in lines) and _upper_ratio(d.text) > 0.8 and not _TERMINAL.search(d.text)


def _alike(a: str, b: str, threshold: float) -> bool:
    """Return True when two blocks are at least ``threshold`` alike, ignoring case and spacing.

    The likeness is difflib's ratio; its cheap upper bounds (lengths, then the characters
    in common) rule most pairs out before the full comparison.
    """

    def norm(s: str) -> str:
        return re.sub(r"\s+", " ", s.casefold()).strip()

    x, y = norm(a), norm(b)
    if not x and not y:
        return threshold <= 1.0
    if 2 * min(len(x), len(y)) / (len(x) + len(y)) < threshold:
        return False
    matcher = difflib.SequenceMatcher(None, x, y, autojunk=False)
    return matcher.quick_ratio() >= threshold and matcher.ratio() >= threshold


# --------------------------------------------------------------------------- passes


def _classify(drafts: list[_Draft]) -> list[_Draft]:
    """Give every draft its structural role, in passes from the most certain cue."""
    content = [d for d in drafts if d.kind is not BlockKind.PAGEBREAK]
    if not content:
        return drafts
    # web navigation and other page furniture
    for d in content:
        if len(d.lines) <= 2 and (_WEB_NAV.match(d.flat) or re.fullmatch(r"\d{1,4}", d.flat)):
            d.kind = BlockKind.BOILERPLATE
    for d in content:
        if d.kind is BlockKind.PARAGRAPH and d.label == "heading":
            d.kind = BlockKind.HEADING
    _mark_footnotes(content)
    # list items (cc lists are refined later); an initial before a name in capitals
    # ("L. PASTEUR.") standing alone is a signature, not item L of a list
    marks = [_LIST_MARKER.match(d.text) if d.kind is BlockKind.PARAGRAPH else None for d in content]
    for i, (d, m) in enumerate(zip(content, marks, strict=True)):
        lone = not (i and marks[i - 1]) and not (i + 1 < len(marks) and marks[i + 1])
        if m and lone and re.fullmatch(r"[A-Z]\.", m.group("label") or "") and _INITIAL_NAME.fullmatch(d.text[m.end():]):
            continue
        if m:
            d.kind = BlockKind.LIST_ITEM
            d.label = m.group("label") or m.group("bullet")
            _cut_prefix(d, m.end())
    opening = [d for d in content if d.kind is BlockKind.PARAGRAPH][:10]
    is_letter = any(_is_salute(d) for d in opening) or any(_opens_with_vocative(d) for d in opening[:4])
    tail = [d for d in content if d.kind is BlockKind.PARAGRAPH][-5:]
    if not is_letter and any(_CLOSING.search(d.flat) for d in tail):
        is_letter = True
    _mark_datelines(content)
    if is_letter:
        _mark_letter(content)
    _mark_headings(content, is_letter)
    _mark_repeats(drafts)
    return drafts


def _cut_prefix(d: _Draft, n: int) -> None:
    """Drop the first n characters (a marker) from a draft and shift its inlines."""
    d.text = d.text[n:]
    d.inlines = [
        Inline(max(i.start - n, 0), i.end - n, i.tag, i.attrs) for i in d.inlines if i.end - n > 0
    ]


def _is_salute(d: _Draft) -> bool:
    """Return True for a salutation line ("Monsieur le Directeur Général,")."""
    return (
        d.kind is BlockKind.PARAGRAPH
        and len(d.lines) <= 2
        and len(d.flat) <= 90
        and (bool(re.search(r"[,:!]\s*$", d.flat)) or bool(_SALUTE_BARE.match(d.flat)))
        and bool(_SALUTE.match(d.flat))
    )


#: A salutation whose punctuation was lost: an endearment before a capitalised word, on one line.
_SALUTE_BARE = re.compile(
    r"^(?i:(?:Mon|Ma|My|Mein|Meine)\s+)?(?i:très\s+|sehr\s+)?(?i:cher|chère|dear|lieber|liebe|verehrter|verehrte|"
    r"geehrter|geehrte|caro|cara|querido|querida|estimado|estimada)\s+[A-ZÀ-Þ][^\n.;]{0,50}$"
)


_LEADING_DATELINE = re.compile(r"([^.\n]{0,40}?\b\d{3,4})\.\s+\S")


def leading_dateline(text: str, lang: str | None = None) -> tuple[Place | None, DateValue] | None:
    """Return (place, date) of a dateline run into the start of a paragraph, or None.

    Only a short place-and-date phrase ending with a year and a full stop is read
    ("Besançon, 26 janvier 1840. Mes chers parents, …"); offsets are those of the text.
    """
    m = _LEADING_DATELINE.match(text)
    return split_dateline(m.group(1), lang=lang) if m else None


def _opens_with_vocative(d: _Draft) -> bool:
    """Return True for a paragraph that opens by addressing its reader ("Mon cher Marcou, J'ai …")."""
    m = _SALUTE.match(d.flat)
    return (
        bool(m) and len(d.flat) >= 80 and bool(re.search(r"[.!?…»\"”]\s*$", d.flat))
        and bool(re.match(r"[^.;:!?\n]{0,60}[,!]\s+\S", d.flat[m.end():] if m else ""))
    )


def _mark_datelines(content: list[_Draft]) -> None:
    """Mark the first dateline near the top (or, for some letters, at the bottom)."""
    for d in content[:10]:
        if d.kind in (BlockKind.PARAGRAPH, BlockKind.HEADING) and len(d.lines) == 1 and split_dateline(d.flat):
            d.kind = BlockKind.DATELINE
            return
    for d in content[-4:]:
        if d.kind is BlockKind.PARAGRAPH and len(d.lines) == 1 and split_dateline(d.flat):
            d.kind = BlockKind.DATELINE
            return


def _mark_letter(content: list[_Draft]) -> None:
    """Mark the opener (letterhead, sender, addressee, reference, subject, salute) and closer of a letter."""
    salute_at = next((i for i, d in enumerate(content[:12]) if _is_salute(d)), None)
    top = salute_at if salute_at is not None else min(6, len(content))
    dateline_at = next((i for i, d in enumerate(content[:top]) if d.kind is BlockKind.DATELINE), None)
    if salute_at is not None:
        content[salute_at].kind = BlockKind.SALUTE
    # letterhead: blocks at the very top, before the dateline or first opener block
    for d in content[:top]:
        if d.kind is BlockKind.DATELINE or _ADDRESSEE_MARK.match(d.flat) or _SUBJECT.match(d.flat):
            break
        if d.kind is BlockKind.PARAGRAPH and _is_letterheadish(d):
            d.kind = BlockKind.LETTERHEAD
        elif d.kind is not BlockKind.BOILERPLATE:
            break
    # the opener zone: between letterhead and salutation
    zone = [d for d in content[:top] if d.kind is BlockKind.PARAGRAPH]
    marker_seen = False
    for d in zone:
        if _SUBJECT.match(d.flat):
            d.kind = BlockKind.SUBJECT
        elif _REFERENCE.match(d.flat):
            d.kind = BlockKind.REFERENCE
        elif _ADDRESSEE_MARK.match(d.flat):
            d.kind = BlockKind.ADDRESSEE
            d.label = "marker"
            marker_seen = True
        elif (marker_seen and len(d.flat) < 200 and len(d.lines) <= 6 and not _opens_with_vocative(d)
              and not split_dateline(d.flat)) or (_ADDRESSEE_START.match(d.flat) and len(d.flat) < 300):
            d.kind = BlockKind.ADDRESSEE
            marker_seen = True
        else:
            marker_seen = False
    if any(d.kind is BlockKind.ADDRESSEE for d in zone):
        first_addr = next(i for i, d in enumerate(zone) if d.kind is BlockKind.ADDRESSEE)
        for d in zone[:first_addr]:
            if d.kind is BlockKind.PARAGRAPH and len(d.flat) < 300:
                d.kind = BlockKind.SENDER
    del dateline_at
    _mark_closer(content)


def _mark_closer(content: list[_Draft]) -> None:
    """Mark the closing formula, the copy list and the signature at the end of a letter."""
    body = [i for i, d in enumerate(content) if d.kind in (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM)]
    if not body:
        return
    closing_at = None
    for i in reversed(body[-8:]):
        d = content[i]
        if d.kind is BlockKind.PARAGRAPH and len(d.flat) <= 600 and _CLOSING.search(d.flat):
            closing_at = i
            break
        if d.kind is BlockKind.PARAGRAPH and len(d.flat) > 200:
            break  # running text: a closing formula above it belongs to the body
    start = closing_at + 1 if closing_at is not None else None
    if closing_at is not None:
        content[closing_at].kind = BlockKind.CLOSING
    # copy lists anywhere after the body
    in_cc = False
    for d in content[(start or max(body[-1] - 3, 0)) :]:
        if d.kind is BlockKind.PARAGRAPH and _CC_HEAD.match(d.flat):
            d.kind, in_cc = BlockKind.CC_HEAD, True
        elif in_cc and d.kind is BlockKind.LIST_ITEM:
            d.kind = BlockKind.CC_ITEM
        else:
            in_cc = False
    # the signature: short blocks after the closing formula, or the last short blocks
    if start is None:
        tail = []
        for d in reversed(content):
            if d.kind is BlockKind.PARAGRAPH and _signature_like(d):
                tail.append(d)
            elif d.kind is BlockKind.BOILERPLATE:
                continue
            else:
                break
        candidates = list(reversed(tail))[-2:]
    else:
        candidates = [d for d in content[start:] if d.kind is BlockKind.PARAGRAPH]
    for d in candidates:
        if _signature_like(d, after_closing=start is not None):
            d.kind = BlockKind.SIGNATURE


def _signature_like(d: _Draft, after_closing: bool = False) -> bool:
    """Return True for a short block of short lines (a name, a title).

    Without a closing formula before it, the block must not end like a sentence.
    """
    lines = d.text.split("\n")
    if len(lines) > 8 or any(len(line) > 80 for line in lines):
        return False
    return after_closing or not re.search(r"\w{3,}[.!?]\s*$", lines[-1])


def _mark_headings(content: list[_Draft], is_letter: bool) -> None:
    """Mark titles and sub-headings: upper-case blocks at the top, bold labels, short lines."""
    first_para = next(
        (i for i, d in enumerate(content) if d.kind is BlockKind.PARAGRAPH and len(d.flat) > 160), len(content)
    )
    web = any(d.kind is BlockKind.BOILERPLATE for d in content)
    for i, d in enumerate(content):
        if d.kind is not BlockKind.PARAGRAPH:
            continue
        whole_bold = any(x.tag == "hi" and x.start == 0 and x.end == len(d.text) for x in d.inlines)
        if i < first_para and _GENRE_LABEL.match(d.flat) and len(d.flat) <= 60:
            d.kind = BlockKind.LABEL if len(d.flat) <= 30 or whole_bold else BlockKind.HEADING
        elif is_letter:
            continue
        elif i < first_para and i < len(content) - 1 and (_upper_ratio(d.text) > 0.8 or whole_bold) \
                and len(d.flat) <= 300:
            d.kind = BlockKind.HEADING
        elif web and i < first_para and len(d.flat) <= 40 and len(d.flat.split()) <= 4:
            d.kind = BlockKind.BOILERPLATE  # category tags between headline and lead
        elif (
            len(d.lines) == 1
            and len(d.flat) <= 160
            and not re.search(r"[.:;,!?]\s*$", d.flat)
            and i + 1 < len(content)
            and content[i + 1].kind is BlockKind.PARAGRAPH
        ):
            d.kind = BlockKind.HEADING
    # a headline repeated (cut short) in a breadcrumb is a heading
    for i, d in enumerate(content[:-1]):
        if d.kind is BlockKind.BOILERPLATE and re.search(r"(?:\.\.\.|…)\s*$", d.flat):
            stub = re.sub(r"(?:\.\.\.|…)\s*$", "", d.flat).split()
            nxt = content[i + 1]
            if len(stub) >= 3 and " ".join(stub[-3:]) in nxt.flat:
                nxt.kind = BlockKind.HEADING


def _mark_footnotes(content: list[_Draft]) -> None:
    """Mark blocks at the end that begin with a note sign ("* ...") the text refers to."""
    body_text = " ".join(d.flat for d in content)
    for d in reversed(content):
        m = re.match(r"^(\*{1,3}|†)\s+", d.text)
        if d.kind is BlockKind.PARAGRAPH and m and re.search(r"\w" + re.escape(m.group(1)) + r"(?!\w)", body_text):
            d.kind = BlockKind.FOOTNOTE
            d.label = m.group(1)
            _cut_prefix(d, m.end())
        elif d.kind is not BlockKind.BOILERPLATE:
            break


def _mark_repeats(drafts: list[_Draft]) -> None:
    """Mark a letterhead repeated further down as a page break followed by the letterhead."""
    heads = [d for d in drafts if d.kind is BlockKind.LETTERHEAD]
    if not heads:
        return
    first_body = next(
        (i for i, d in enumerate(drafts) if d.kind not in (BlockKind.LETTERHEAD, BlockKind.BOILERPLATE)), len(drafts)
    )
    i = first_body
    while i < len(drafts):
        d = drafts[i]
        if d.kind is BlockKind.PARAGRAPH and any(_alike(d.text, h.text, 0.85) for h in heads):
            drafts.insert(i, _Draft([d.lines[0]], BlockKind.PAGEBREAK))
            i += 1
            while i < len(drafts) and any(_alike(drafts[i].text, h.text, 0.85) for h in heads):
                drafts[i].kind = BlockKind.LETTERHEAD
                i += 1
            continue
        i += 1


# --------------------------------------------------------------------------- entry


def parse_structure(text: str) -> Structure:
    """Cut a normalised source text into typed blocks."""
    drafts, done = _segment(text)
    markdown = bool(_MD_TRACE.search(text))
    if markdown:
        done.append(
            "Markdown syntax of the conversion (**, *, ##, [text](url), backslash escapes) "
            "encoded as hi, head and ref; escaped characters kept"
        )
    for d in drafts:
        if d.kind is BlockKind.PAGEBREAK:
            continue
        joined = "\n".join(line for _, line in d.lines)
        if markdown:
            m = re.match(r"^(#{1,6})\s+", joined)
            if m:
                d.label = "heading"
                joined = joined[m.end() :]
            d.text, d.inlines = _markdown(joined)
        else:
            d.text = joined
    drafts = _classify(drafts)
    blocks = tuple(
        Block(
            kind=d.kind,
            text=d.text,
            first_line=d.first,
            last_line=d.last,
            inlines=tuple(sorted(d.inlines, key=lambda x: (x.start, -x.end))),
            label=d.label if d.label != "heading" else None,
        )
        for d in drafts
    )
    return Structure(blocks=blocks, normalisations=tuple(done))
