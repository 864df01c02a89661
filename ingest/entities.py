"""Persons and organisations named in the running text, and their authority ids.

Persons are taken where the text itself marks a name: a title or office before two to
four capitalised words ("le ministre … Abdoulaye Diop", "Sheikh Khaled Bentounes",
"Président Ibrahim Boubakar Keita"), and every later mention of a correspondent's full
name. Organisations are taken where a name starts with an institutional word
("Organisation Internationale pour les Migrations", "Conseil de sécurité") or is an
acronym the text spells out in parentheses. Both are marked ``cert="medium"``: the rule
saw a name, not a verified identity.

Authority ids (VIAF, GND, Wikidata, …) come only from the register the archive keeps
(``[registers] authorities`` in ``tei-ingest.toml``): a name whose written form is in the
register gets its ids, any other name stays without one. An id is never guessed.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, Issue
from .model import Affiliation, Block, BlockKind, Cert, Party, PartyKind, Span

_TEXT_KINDS = frozenset({BlockKind.PARAGRAPH, BlockKind.LIST_ITEM, BlockKind.HEADING, BlockKind.FOOTNOTE})

_CAP = r"[A-ZÀ-ÖØ-ÞĀ-Ž][a-zà-öø-ÿā-ž'’]+(?:-[A-ZÀ-ÖØ-Þ]?[a-zà-öø-ÿā-ž'’]+)*"
_PARTICLE = r"(?:de|du|des|da|di|van|von|der|ben|bin|ibn|el|al|ag|ould)"
_NAME = rf"{_CAP}(?:\s+(?:{_PARTICLE}\s+)?(?:{_CAP}|[A-Z]{{2,}}))" + r"{1,3}"
_TITLE = (
    r"(?:M\.|Mme|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Sir|Lord|Lady|Herr|Frau|Sheikh|Cheikh|Imam|Mgr|"
    r"[Pp]résident(?:e)?|[Pp]resident|[Mm]inistre|[Mm]inister|[Ss]ecrétaire(?: [Gg]énéral)?|[Ss]ecretary(?: General)?|"
    r"[Dd]irecteur(?: [Gg]énéral)?|[Dd]irector(?: General)?|[Aa]mbassadeur|[Aa]mbassador|[Gg]énéral|[Gg]eneral|"
    r"[Hh]omologue|[Ee]nvoyé spécial|[Ss]pecial [Ee]nvoy|[Gg]ouverneur|[Gg]overnor|[Pp]rofesseur|[Pp]rofessor)"
)
# A title, then optionally a short descriptive phrase ("malien des Affaires étrangères"), then the name.
_DESCRIPTION = rf"(?:\s+[a-zà-ÿ][\w'’\-]*(?:\s+(?:des|de|du|la|le|of|the)\s+{_CAP}(?:\s+{_CAP})?)?)?"
_PERSON = re.compile(rf"\b{_TITLE}{_DESCRIPTION},?\s+(?P<name>{_NAME})")
_ORG_WORDS = (
    r"Organisation|Organization|Association|Conseil|Council|Comité|Committee|Commission|Ministère|Ministry|"
    r"Assemblée|Assembly|Nations Unies|United Nations|Banque|Bank|Fonds|Fund|Université|University|Académie|"
    r"Academy|Institut|Institute|Fondation|Foundation|Société|Society|Mission|Agence|Agency|Groupe|Group|"
    r"Gouvernement|Government|Parlement|Parliament|Cour|Court"
)
_ORG_START = re.compile(rf"\b(?:{_ORG_WORDS})\b")
#: Multi-word institutional names after which no lower-case word is taken.
_WHOLE = re.compile(r"Nations Unies|United Nations")
_TOKEN = re.compile(r"\s*(l['’]|[\w\-]+(?:['’][\w\-]+)?|\S)")
#: The connector sequences that may join two capitalised parts of one name.
_JOINS = frozenset(
    ["de", "de la", "de l'", "de l’", "l'", "l’", "des", "du", "d'", "pour", "pour la", "pour le", "pour les",
     "sur", "sur la", "sur le", "sur les", "et", "et le", "et la", "et de", "et du", "et des",
     "of", "of the", "for", "for the", "on",
     "on the", "and", "the"]
)
_CONNECTORS = frozenset("de des du d la le les pour sur et of for on and the".split())
_ACRONYM_AFTER = re.compile(r"\s*\(((?:[A-Z]\.?){2,10})\)")
_SPELLED_ACRONYM = re.compile(rf"(?P<long>(?:{_CAP}\s+){{1,8}}?{_CAP})\s+\((?P<short>[A-Z][A-Z.]{{1,10}})\)")


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).replace("’", "'").split()).casefold()


@dataclass(frozen=True, slots=True)
class Authority:
    """An entry of the archive's register: the written forms of a name and its ids."""

    kind: str
    name: str
    forms: tuple[str, ...]
    refs: tuple[str, ...]


class Register:
    """The archive's register of persons and organisations with their authority ids."""

    def __init__(self, entries: Sequence[Authority] = ()) -> None:
        self.entries = tuple(entries)
        self._by_form = {(e.kind, _norm(f)): e for e in self.entries for f in (e.name, *e.forms)}

    @classmethod
    def load(cls, path: Path | None) -> Register:
        """Read a register file (TOML: [[person]] and [[org]] tables with name, forms, refs)."""
        if path is None:
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(Issue("register.invalid", str(path), f"cannot be read: {exc}")) from None
        entries = []
        for kind in ("person", "org"):
            for n, item in enumerate(data.get(kind, [])):
                name, forms, refs = item.get("name"), item.get("forms", []), item.get("refs", [])
                ok = isinstance(name, str) and name.strip() and all(isinstance(x, str) for x in [*forms, *refs])
                bad_ref = [r for r in refs if not re.match(r"https?://\S+$", r)]
                if not ok or not refs or bad_ref:
                    raise ConfigError(Issue("register.invalid", str(path),
                        f"[[{kind}]] number {n + 1} needs a name and refs that are http(s) URIs"))
                entries.append(Authority(kind, name, tuple(forms), tuple(refs)))
        return cls(entries)

    def refs_for(self, *names: str | None, kind: str = "person") -> tuple[str, ...]:
        """Return the authority ids of the first name whose written form the register has for that kind.

        A person never takes the ids of an organisation (the one they write for, say), nor
        an organisation those of a person: an id says who the party *is*.
        """
        for n in names:
            if n and (kind, _norm(n)) in self._by_form:
                return self._by_form[kind, _norm(n)].refs
        return ()


def find_people(blocks: Sequence[Block], known: Sequence[Party]) -> tuple[Party, ...]:
    """Return the persons named in the running text: titled names and known correspondents."""
    out: list[Party] = []
    seen: set[tuple[int, int]] = set()
    known_names = [(p.name, p) for p in known if p.name and len(p.name.split()) >= 2]
    for i, b in enumerate(blocks):
        if b.kind not in _TEXT_KINDS:
            continue
        for m in _PERSON.finditer(b.text):
            s, e = m.span("name")
            if (i, s) in seen:
                continue
            seen.add((i, s))
            name = " ".join(m.group("name").split())
            out.append(Party(PartyKind.PERSON, name=name, cert=Cert.MEDIUM,
                             method="a title or office followed by a name, in the running text",
                             span=Span(i, m.start(), e), name_span=Span(i, s, e)))
        for name, _party in known_names:
            for m in re.finditer(re.escape(name).replace(r"\ ", r"\s+"), b.text):
                if (i, m.start()) not in seen:
                    seen.add((i, m.start()))
                    out.append(Party(PartyKind.PERSON, name=name, cert=Cert.HIGH,
                                     method="the name of a correspondent, repeated in the text",
                                     span=Span(i, m.start(), m.end()), name_span=Span(i, m.start(), m.end())))
    return tuple(out)


def find_orgs(blocks: Sequence[Block]) -> tuple[Party, ...]:
    """Return the organisations named in the running text."""
    out: list[Party] = []
    for i, b in enumerate(blocks):
        if b.kind not in _TEXT_KINDS:
            continue
        taken: list[tuple[int, int]] = []
        for m in _SPELLED_ACRONYM.finditer(b.text):
            for group in ("long", "short"):
                s, e = m.span(group)
                taken.append((s, e))
                out.append(_org(b.text[s:e], i, s, e, "a name spelled out with its acronym"))
        for m in _ORG_START.finditer(b.text):
            s = _org_start(b.text, m.start())
            e = _org_end(b.text, m.end(), allow_lower=not _WHOLE.fullmatch(m.group()))
            text = b.text[s:e]
            if len(text.split()) < 2 or any(s < te and ts < e for ts, te in taken):
                continue
            taken.append((s, e))
            out.append(_org(text, i, s, e, "a name that starts with an institutional word"))
            short = _ACRONYM_AFTER.match(b.text, e)
            if short:
                a, z = short.span(1)
                taken.append((a, z))
                out.append(_org(b.text[a:z], i, a, z, "the acronym the text gives after a name"))
    return tuple(out)


_BEFORE = re.compile(rf"(?:{_CAP}\s+){{1,3}}$")
_NOT_PART = frozenset("the le la les l un une a an in en au aux à this ce cette nous we notre our je".split())


def _org_start(text: str, pos: int) -> int:
    """Return where an organisation name ends up starting: capitalised words before the
    institutional word belong to it ("International Association …"), articles do not."""
    m = _BEFORE.search(text, max(0, pos - 80), pos)
    if not m:
        return pos
    words = m.group().split()
    while words and words[0].casefold() in _NOT_PART:
        words.pop(0)
    return pos - len(" ".join(words)) - 1 if words else pos


def _org_end(text: str, pos: int, allow_lower: bool = True) -> int:
    """Return where an organisation name that starts before pos ends.

    After the institutional word come capitalised words and acronyms, joined by
    connectors (de, des, pour, et, of, …) that are followed by a capitalised word; right
    after the institutional word one lower-case word is allowed ("Assemblée générale",
    "Conseil de sécurité"), as French names of bodies are written.
    """
    end = pos
    first = allow_lower
    pending: list[tuple[str, int]] = []
    for m in _TOKEN.finditer(text, pos):
        if m.start() != end and m.start() != (pending[-1][1] if pending else end):
            break
        word = m.group(1)
        if word[:1].isupper() or (word.isupper() and len(word) > 1):
            joined = " ".join(w.casefold() for w, _ in pending)
            if pending and joined not in _JOINS:
                break
            end = m.end()
            pending = []
        elif word.casefold().rstrip("'’") in _CONNECTORS:
            pending.append((word, m.end()))
            continue
        elif (first and word[:1].islower() and word.isalpha() and len(word) >= 4
              and [w.casefold() for w, _ in pending] in ([], ["de"])
              and not _ORG_START.match(text, m.start())):
            end = m.end()
            pending = []
        else:
            break
        first = False
    return end


def _org(text: str, block: int, start: int, end: int, method: str) -> Party:
    span = Span(block, start, end)
    name = " ".join(text.split())
    return Party(PartyKind.ORG, affiliations=(Affiliation(name, None, name, span, None, span),),
                 cert=Cert.MEDIUM, method=method, span=span)
