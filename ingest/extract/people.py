"""Correspondents and authors: names, honorifics, roles and organisations kept apart.

A letter names its parties in a few set places: the sender block and the addressee
block of the opener ("Le Président de l'Association ..." / "A Son Excellence ..."),
the salutation ("Monsieur le Directeur Général,") and the signature ("Imam Mahamadou
Moussa Diallo / Président de l'A.M.P.S."). Each designation is read the same way:
the addressee marker and honorifics are set aside, a line that reads as a personal
name becomes the name, and every other phrase becomes an affiliation cut into a role
("Directeur Général") and an organisation ("Organisation Internationale pour les
Migrations") when the phrase names one. Offsets are kept so the encoder can tag the
name, role and organisation where they stand.

Reports and press releases rarely say who issued them; the organisation the text
names most often is proposed with low certainty, and said to be a guess.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ..model import Affiliation, Block, BlockKind, Cert, Party, PartyKind, Span

_HONORIFIC = re.compile(
    r"(?:Son|Sa|Votre|His|Her|Your) (?:Excellence|Excellency|Majesté|Majesty|Sainteté|Holiness|Éminence|Eminence)|"
    r"S\.\s?E\.|H\.\s?E\.|Excellence|Monsieur|Madame|Mademoiselle|Messieurs|Mesdames|M\.|MM\.|Mme|Mlle|Me|Maître|"
    r"Docteur|Dr\.?|Pr\.|Prof\.|Professeur|Professor|Mr\.?|Mrs\.?|Ms\.?|Miss|Sir|Lord|Lady|Hon\.|(?:The )?Honou?rable|"
    r"Herrn|Herr|Frau|Fräulein|Don|Doña|Señor|Señora|Sr\.|Sra\.|Signor|Signora|Sig\.(?:ra)?|Dott\.|"
    r"Imam|Sheikh|Cheikh|Cheick|El Hadj|Elhadj|Hadj|Père|Father|Mgr|Monseigneur|Rev\.|Reverend|Révérend",
)
_HONORIFIC_AT = re.compile(rf"(?:{_HONORIFIC.pattern})(?=[\s,]|$)\s*")
_ARTICLE = re.compile(r"(?:Le|La|Les|L['’]|The|Der|Die|Das|El|Il|Lo|Los|Las)\s*(?<=['’\s])", re.I)
_MARKER = re.compile(r"(?:À|A|To|An|Al|Alla|Para)\s+(?=\S)")

_ROLE_WORD = (
    r"(?:Vice-|Sous-|Co-|Haut-|Premier |Première |Deputy |Assistant |Acting |Under |Grand )?"
    r"(?:Président(?:e)?|President|Präsident(?:in)?|Presidente|Ministre|Minister|Ministro|Secrétaire|Secretary|"
    r"Sekretär|Secretario|Segretario|Directeur|Directrice|Director|Direktor|Direttore|Coordinat(?:eur|rice|or)|"
    r"Commissaire|Commissioner|Ambassadeur|Ambassador|Botschafter|Embajador|Ambasciatore|Chevalier|Officier|"
    r"Commandeur|Maire|Mayor|Bürgermeister|Alcalde|Sindaco|Gouverneur|Governor|Chef|Chief|Chair(?:man|woman|person)?|"
    r"Délégué(?:e)?|Representative|Représentant(?:e)?|Consul|Conseill(?:er|ère)|Counsell?or|Advis[eo]r|Trésori(?:er|ère)|"
    r"Treasurer|Recteur|Rector|Rektor|Doyen|Dean|Editor|Rédacteur|Chargé d['’]affaires|Envoyé|Envoy|"
    r"Administrat(?:eur|or|rice)|Manager|Head|Porte-parole|Spokes(?:man|woman|person)|Vorsitzende[rn]?|"
    r"Roi|King|Reine|Queen|Pape|Pope|Cardinal|Évêque|Bishop|Archevêque|Archbishop|Imam|Recteur|Fondateur|Founder|"
    r"Membre|Member|Agent|Attaché|Chancelier|Chancellor|Procureur|Prosecutor|Juge|Judge|Inspecteur|Inspector)"
    r"(?:\s+(?:Général|Générale|General|Generale|Adjoint|Adjointe|adjoint|adjointe|Permanent|Permanente|"
    r"Exécutif|Exécutive|Executive|délégué|Délégué|d['’]État|of State|spécial|Spécial|Special|honoraire|Honoraire))*"
)
_ROLE = re.compile(_ROLE_WORD)
_CONNECTOR = re.compile(
    r"\s*(?:de l['’]|de la |du |des |Des |De |de |d['’]|of the |of |for the |for |pour |à la |au |aux |à |at the |at |"
    r"der |des |del |della |dello |di |degli |delle )\s*"
)
_ORG_WORD = (
    r"Association|Organisation|Organization|Organización|Organizzazione|Nations|Union|Comité|Committee|Commission|"
    r"Conseil|Council|Ministère|Ministry|Ministerium|Ministerio|Ministero|Département|Department|Office|Bureau|"
    r"Agence|Agency|Fondation|Foundation|Stiftung|Institut|Institute|Instituto|Istituto|Université|University|"
    r"Universität|Universidad|Università|Académie|Academy|Akademie|Société|Society|Gesellschaft|Sociedad|Società|"
    r"Réseau|Network|Secrétariat|Secretariat|Groupe|Group|Parti|Party|Banque|Bank|Fonds|Fund|Ambassade|Embassy|"
    r"Botschaft|Embajada|Ambasciata|Mission|Délégation|Delegation|Gouvernement|Government|Regierung|Gobierno|"
    r"Governo|République|Republic|Assemblée|Assembly|Parlement|Parliament|Sénat|Senate|Congrès|Congress|Tribunal|"
    r"Court|Cour|Église|Church|Confrérie|Confraternity|Fédération|Federation|Chambre|Chamber|Compagnie|Company|"
    r"Corporation|Board|Direction|Centre|Center|Musée|Museum|Bibliothèque|Library|Archives|Alliance|League|Ligue|"
    r"Coalition|Mouvement|Movement|Syndicat|Commissariat|Programme|Program|ONG|NGO|Consulat|Consulate|Forum|"
    r"Faculté|Faculty|Fakultät|École|Ecole|School|Schule|Lycée|Collège|College|Gymnasium"
)
_ORG_START = re.compile(rf"(?:{_ORG_WORD})\b")
_ACRONYM = re.compile(r"(?:[A-Z]\.){2,}[A-Z]?\.?|[A-Z][A-Z0-9&]{1,}(?:-[A-Z0-9]+)*")
_PARTICLE = {
    "de", "du", "des", "da", "di", "do", "dos", "van", "von", "der", "den", "ter", "ten", "ag", "ould", "ben",
    "bin", "ibn", "el", "al", "la", "le", "y", "e", "del", "della", "zu", "mac", "st.", "abu", "bint",
}
_NAME_TOKEN = re.compile(r"[A-ZÀ-ÞĀ-Ž][\w'’.\-]*|[A-Z]\.|\w+", re.U)


def _is_person_name(text: str) -> bool:
    """Return True for a line that reads as a personal name ("Alhamdou AG ILYENE")."""
    tokens = text.replace(",", " ").split()
    if not 2 <= len(tokens) <= 6 or re.search(r"\d", text):
        return False
    if _ROLE.search(text) or _ORG_START.search(text) or _HONORIFIC_AT.match(text):
        return False
    capitals = 0
    for t in tokens:
        if t.lower() in _PARTICLE:
            continue
        if not (t[0].isupper() and re.fullmatch(r"[\w'’.\-]+", t)):
            return False
        capitals += 1
    return capitals >= 2


def _skip(text: str, start: int, end: int, rx: re.Pattern[str]) -> tuple[int, str | None]:
    """Skip what rx matches at start; return the new start and what was skipped."""
    m = rx.match(text, start, end)
    if not m or not m.group():
        return start, None
    return m.end(), text[start : m.end()].strip()


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past spaces and trailing commas, full stops of no abbreviation."""
    while start < end and text[start] in " \n\t,;:":
        start += 1
    while end > start and (text[end - 1] in " \n\t,;:" or (text[end - 1] == "." and not _ends_abbrev(text[start:end]))):
        end -= 1
    return start, end


def _ends_abbrev(s: str) -> bool:
    """Return True when a final full stop belongs to an abbreviation ("A.M.P.S.", "Jr.")."""
    return bool(re.search(r"(?:\b[A-Z]\.){2,}$|\b(?:Jr|Sr|St|Co|Inc|Ltd|Dr)\.$", s))


def parse_affiliation(text: str, start: int, end: int, block: int) -> Affiliation:
    """Cut a role phrase into role and organisation ("Président de l'A.M.P.S.")."""
    start, end = _trim(text, start, end)
    start, _ = _skip(text, start, end, _ARTICLE)
    phrase = text[start:end]
    span = Span(block, start, end)
    flat = " ".join(phrase.split())
    # a phrase in capitals ("DOYEN DE LA FACULTÉ") is matched in ordinary case, cut in its own
    probe = text[:start] + _ordinary_case(phrase) + text[end:] if _shouted(phrase) else text
    m = _ROLE.match(probe, start, end)
    if m:
        role_end = m.end()
        c = _CONNECTOR.match(probe, role_end, end)
        if c:
            org_start = c.end()
            org = text[org_start:end]
            if _ORG_START.match(probe[org_start:end]) or _ACRONYM.fullmatch(org.strip()) \
                    or re.search(r"\([A-Z.]{2,}\)\s*$", org):
                return Affiliation(
                    flat, " ".join(text[start:role_end].split()), " ".join(org.split()), span,
                    Span(block, start, role_end), Span(block, org_start, end),
                )
        # an office with no organisation named ("Ministre des Maliens Etablis à
        # l'Extérieur"): the whole phrase is the role
        return Affiliation(flat, flat, None, span, span, None)
    if _ORG_START.match(probe[start:end]):
        return Affiliation(flat, None, flat, span, None, span)
    return Affiliation(flat, None, None, span)


_SMALL_WORDS = frozenset("de du des d la le les l et of the for and à au aux pour sur der die das und von".split())


def _shouted(phrase: str) -> bool:
    """Return True for a phrase written in capitals."""
    letters = [c for c in phrase if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.9 * len(letters)


def _ordinary_case(phrase: str) -> str:
    """Return a capitals phrase in ordinary case, same length ("DOYEN DE L'ÉCOLE" -> "Doyen de l'École")."""
    def word(m: re.Match[str]) -> str:
        w = m.group()
        out = w.lower() if w.lower() in _SMALL_WORDS else w[:1] + w[1:].lower()
        return out if len(out) == len(w) else w

    out = re.sub(r"[^\W\d_]+", word, phrase)
    return out if len(out) == len(phrase) else phrase


def _segments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a designation at line breaks and commas, re-joining lines that continue a phrase."""
    cuts: list[tuple[int, int]] = []
    pos = start
    for m in re.finditer(r",\s*|\n", text[start:end]):
        a, b = start + m.start(), start + m.end()
        rest = text[b:end]
        cont = m.group() == "\n" and (
            rest[:1].islower()
            or bool(re.match(r"(?:de |du |des |d['’]|of |for |pour |et |and |und |y |e |sur |on |la |le |les )", rest, re.I))
        )
        if cont:
            continue
        cuts.append((pos, a))
        pos = b
    cuts.append((pos, end))
    return [(a, b) for a, b in cuts if text[a:b].strip()]


_SALUTE_OPEN = re.compile(
    r"(?:(?:my|mon|ma|mes|mein|meine|mio|mia|muy|very|sehr|très|tres|bien|und|and|et|e|y|dear|dearest|"
    r"cher|chère|chers|chères|lieber|liebe|lieben|verehrter|verehrte|hochverehrter|hochverehrte|hochgeehrter|"
    r"hochgeehrte|geehrter|geehrte|teurer|theurer|caro|cara|cari|carissimo|carissima|gentile|egregio|"
    r"querido|querida|estimado|estimada|good|bon|bonne)(?=[\s,]|$)[\s,]*)+",
    re.I,
)
#: Words of a complimentary close, never part of a name ("Von Herzen Ihr", "Yours ever").
_COMPLIMENT = re.compile(
    r"(?:von herzen|herzlich(?:st)?|ihr|ihre|dein|deine|euer|yours|your|votre|vos|ton|ta|tout à vous|"
    r"bien à vous|sincerely|cordially|respectfully|faithfully|truly|affectionately|je suis|i am|i remain)\b",
    re.I,
)
#: A lone capitalised word that is a form of address, not a name.
_NOT_A_NAME = frozenset(
    "sir sirs madam gentlemen friend friends colleague colleagues doctor docteur ami amie amis collègue "
    "collègues confrère père mère frère sœur fils fille maman papa freund freundin kollege herren damen "
    "messieurs mesdames monsieur madame mademoiselle".split()
)
_ONE_NAME = re.compile(r"[A-ZÀ-Þ][\w'’\-]+")


def _one_name(piece: str) -> bool:
    """Return True for a lone capitalised word that can be a surname or a given name."""
    return bool(_ONE_NAME.fullmatch(piece)) and piece.casefold() not in _NOT_A_NAME and not (
        _ROLE.match(piece) or _ORG_START.match(piece)
    )


def parse_designation(text: str, block: int, *, signed: bool = False, salute: bool = False) -> Party | None:
    """Read a sender, addressee, salutation or signature into a Party.

    A lone word is taken as a name only after an honorific ("M. DAUBRÉE", "Mr. Allen") or
    in a salutation ("Dear Mel", "Dear Ambassador Smith", "mein lieber Richard").
    """
    start, end = _trim(text, 0, len(text))
    start, _ = _skip(text, start, end, _MARKER)
    if salute:
        start, _ = _skip(text, start, end, _SALUTE_OPEN)
    # honorifics in capitals ("A MONSIEUR LAURENT") are read in ordinary case
    probe = text[:start] + _ordinary_case(text[start:end]) + text[end:] if _shouted(text[start:end]) else text
    honorifics: list[str] = []
    name: str | None = None
    name_span: Span | None = None
    affiliations: list[Affiliation] = []
    for a, b in _segments(text, start, end):
        a, b = _trim(text, a, b)
        a, _ = _skip(text, a, b, _MARKER)
        while True:
            a2, hon = _skip(probe, a, b, _HONORIFIC_AT)
            hon = text[a:a2].strip() if hon else None
            if not hon:
                break
            honorifics.append(hon)
            a = a2
        if a >= b or (signed and _COMPLIMENT.match(text, a, b)):
            continue
        piece = " ".join(text[a:b].split())
        role = _ROLE.match(text, a, b) if salute else None
        if name is None and role and _one_name(text[role.end():b].strip()):
            rest = role.end() + len(text[role.end():b]) - len(text[role.end():b].lstrip())
            affiliations.append(Affiliation(text[a:role.end()], text[a:role.end()], None, Span(block, a, role.end()),
                                            Span(block, a, role.end()), None))
            name, name_span = text[rest:b], Span(block, rest, b)
        elif name is None and (_is_person_name(piece) or ((honorifics or salute) and _one_name(piece))):
            name, name_span = piece, Span(block, a, b)
        else:
            a3, _ = _skip(text, a, b, _ARTICLE)
            if a3 < b:
                aff = parse_affiliation(text, a3, b, block)
                # in a signature, words that name neither an office nor a body are not kept
                if not signed or aff.role or aff.org:
                    affiliations.append(aff)
    if name is None and not affiliations:
        return None
    org_only = name is None and all(x.role is None and x.org for x in affiliations[:1])
    return Party(
        kind=PartyKind.ORG if org_only else PartyKind.PERSON,
        name=name,
        honorific=" ".join(honorifics) or None,
        affiliations=tuple(affiliations),
        signed=signed,
        span=Span(block, start, end),
        name_span=name_span,
    )


def _combine(parts: Sequence[Party]) -> Party:
    """Combine designations of one person (opener office first, then signature lines)."""
    named = next((p for p in parts if p.name), parts[0])
    seen: set[str] = set()
    affiliations: list[Affiliation] = []
    for p in parts:
        for a in p.affiliations:
            if a.text.casefold() not in seen:
                seen.add(a.text.casefold())
                affiliations.append(a)
    return Party(
        kind=PartyKind.PERSON if any(p.kind is PartyKind.PERSON for p in parts) else PartyKind.ORG,
        name=named.name,
        honorific=named.honorific or next((p.honorific for p in parts if p.honorific), None),
        affiliations=tuple(affiliations),
        signed=any(p.signed for p in parts),
        span=named.span,
        name_span=named.name_span,
    )


def letter_parties(blocks: Sequence[Block]) -> tuple[tuple[Party, ...], tuple[Party, ...]]:
    """Return (senders, addressees) of a letter from its opener, salutation and signature."""
    sender_block = next(
        (parse_designation(b.text, i) for i, b in enumerate(blocks) if b.kind is BlockKind.SENDER), None
    )
    signature = [
        p
        for i, b in enumerate(blocks)
        if b.kind is BlockKind.SIGNATURE
        for p in [parse_designation(b.text, i, signed=True)]
        if p
    ]
    senders: list[Party] = []
    parts = ([sender_block] if sender_block else []) + signature
    if any(p.name for p in signature):
        method = "name from the signature" + ("; office from the sender block of the opener" if sender_block else "")
        senders.append(_with(_combine(parts), Cert.HIGH, method))
    elif parts:
        where = "sender block of the opener" if sender_block else "signature (no personal name)"
        senders.append(_with(_combine(parts), Cert.MEDIUM, where))
    else:
        last = last_line_signature(blocks)
        head = letterhead_org(blocks)
        if last:
            senders.append(last)
        elif head:
            senders.append(head)
    addressees: list[Party] = []
    for i, b in enumerate(blocks):
        if b.kind is BlockKind.ADDRESSEE and b.label != "marker":
            p = parse_designation(b.text, i)
            if p:
                addressees.append(_with(p, Cert.HIGH if p.name else Cert.MEDIUM, "addressee block of the opener"))
                break
    if not addressees:
        for i, b in enumerate(blocks):
            if b.kind is BlockKind.SALUTE:
                p = parse_designation(b.text, i, salute=True)
                if p and (p.name or any(a.role for a in p.affiliations)):
                    addressees.append(_with(p, Cert.LOW, "salutation"))
                break
    if not addressees:
        vocative = opening_vocative(blocks)
        if vocative:
            addressees.append(vocative)
    return tuple(senders), tuple(addressees)


_VOCATIVE_START = re.compile(
    r"(?:(?:Mon|Ma|Mes|My|Mein|Meine|Caro|Cara|Querid[oa])\s+)?(?:(?:très|bien|sehr|very)\s+)?"
    r"(?:cher|chère|chers|chères|dear|lieber|liebe|verehrter|verehrte)\s+|(?:Monsieur|Madame|Mademoiselle)\s+",
    re.I,
)


def opening_vocative(blocks: Sequence[Block]) -> Party | None:
    """Return the party a letter's first paragraph opens by addressing ("Mon cher Marcou, J'ai …").

    Read only when no salutation stands on a line of its own, from the words before the
    first comma (at most sixty characters), at low certainty.
    """
    paragraphs = [(i, b) for i, b in enumerate(blocks[:12]) if b.kind is BlockKind.PARAGRAPH][:3]
    for i, b in paragraphs:
        m = _VOCATIVE_START.match(b.text)
        comma = b.text.find(",")
        if not m or not 0 < comma <= 60 or "\n" in b.text[:comma]:
            continue
        p = parse_designation(b.text[:comma], i, salute=True)
        if p and (p.name or any(a.role for a in p.affiliations)):
            return _with(p, Cert.LOW, "the words that open the first paragraph, addressing the reader")
    return None


_SIGNATURE_RUN = re.compile(
    r"(?:(?:[A-ZÀ-Þ][\w'’\-]*\.?|[A-Z]\.(?:-[A-Z]\.)?|de|du|des|von|van|d['’])\s*){1,5}[.,]?$"
)


def last_line_signature(blocks: Sequence[Block]) -> Party | None:
    """Return the name a letter ends with ("ALPHONSE DE LAMARTINE.", "… votre dévoué, L. PASTEUR.").

    Only a run of at most five capitalised words or initials closing the last block is
    taken, with at least one word of three letters or more: a low-certainty reading.
    """
    names = closing_names(blocks)
    return names[0] if names else None


_NAME_LINE = re.compile(
    r"(?:[A-ZÀ-Þ][\w'’\-]*\.?|[A-Z]\.(?:-[A-Z]\.)?|de|du|des|von|van|le|la|d['’])"
    r"(?:[^\S\n]+(?:[A-ZÀ-Þ][\w'’\-]*\.?|[A-Z]\.(?:-[A-Z]\.)?|de|du|des|von|van|le|la|d['’])){0,4}[.,]?"
)


def _is_name_run(name: str) -> bool:
    """Return True when a run holds a word of three letters or more, capitalised."""
    return any(len(w.strip(".")) >= 3 and w[:1].isupper() for w in name.split())


def closing_names(blocks: Sequence[Block]) -> list[Party]:
    """Return the names a text ends with: one signature, or several signatories one per line.

    A last block made only of short capitalised lines ("Paul Bonnetain.\\nLucien
    Descaves.") gives one party per line; otherwise a run of at most five capitalised
    words or initials closing the last block, on its own line, after a comma or in
    capitals. Both are low-certainty readings.
    """
    for i in range(len(blocks) - 1, -1, -1):
        b = blocks[i]
        if b.kind in (BlockKind.FOOTNOTE, BlockKind.BOILERPLATE, BlockKind.PAGEBREAK, BlockKind.DATELINE) \
                or not b.text.strip():
            continue
        method = "the name that closes the text, read as its signature"
        lines = b.text.split("\n")
        if 1 < len(lines) <= 8 and all(_NAME_LINE.fullmatch(x.strip()) for x in lines):
            out = []
            offset = 0
            for x in lines:
                name = x.strip().rstrip(" .,")
                start = offset + x.index(name[:1]) if name else offset
                offset += len(x) + 1
                if _is_name_run(name):
                    span = Span(i, start, start + len(name))
                    out.append(Party(PartyKind.PERSON, name=name, signed=True, cert=Cert.LOW,
                                     method="one of the names, one per line, that close the text",
                                     span=span, name_span=span))
            return out
        line = b.text.rstrip()
        m = _SIGNATURE_RUN.search(line)
        if not m:
            return []
        start = m.start()
        while start < len(line) and not line[start].isupper():
            start += 1
        name = line[start:].rstrip(" .,")
        if not name or not _is_name_run(name):
            return []
        before = line[:start].rstrip(" ")
        letters = [c for c in name if c.isalpha()]
        shouted = sum(c.isupper() for c in letters) >= 0.8 * len(letters)
        # A name on its own line, after a comma ("votre dévoué, L. PASTEUR") or in capitals.
        if before and not before.endswith(("\n", ",")) and not shouted:
            return []
        span = Span(i, start, start + len(name))
        return [Party(PartyKind.PERSON, name=name, signed=True, cert=Cert.LOW, method=method,
                      span=span, name_span=span)]
    return []


def _with(p: Party, cert: Cert, method: str) -> Party:
    """Return the party with its certainty and method set."""
    return Party(p.kind, p.name, p.honorific, p.affiliations, p.signed, cert, method, p.span, p.name_span)


def letterhead_org(blocks: Sequence[Block]) -> Party | None:
    """Return the organisation named on the first line of a letterhead, if any."""
    for i, b in enumerate(blocks):
        if b.kind is BlockKind.LETTERHEAD:
            line = b.text.split("\n")[0]
            if _ORG_START.search(line) and len(line) <= 120:
                aff = Affiliation(line.strip(), None, line.strip(), Span(i, 0, len(line)), None, Span(i, 0, len(line)))
                return Party(PartyKind.ORG, affiliations=(aff,), cert=Cert.LOW, method="letterhead", span=aff.span)
            return None
    return None


_ORG_RUN = re.compile(
    rf"\b(?:(?:{_ORG_WORD})|[A-Z][\w\u0100-\u017f'’\-]*)(?:\s+(?:of the|of|for|de la|de l['’]|des|du|de|pour|on|sur)?\s*"
    rf"[A-Z][\w\u0100-\u017f'’\-]*)*"
)


def frequent_org(blocks: Sequence[Block]) -> Party | None:
    """Return the organisation the running text names most often (a low-certainty guess)."""
    counts: Counter[str] = Counter()
    first: dict[str, Span] = {}
    for i, b in enumerate(blocks):
        if b.kind not in (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM, BlockKind.HEADING):
            continue
        text = b.text.replace("\n", " ")
        for m in _ORG_RUN.finditer(text):
            phrase = re.sub(r"^(?:The|Le|La|Les|L['’])\s*", "", m.group()).strip()
            if not phrase:
                continue
            words = phrase.split()
            is_org = (len(words) >= 2 and _ORG_START.search(phrase)) or (
                len(words) == 1 and re.fullmatch(r"[A-Z]{3,}", phrase)
            )
            if not is_org or _upper_heading(b.text):
                continue
            counts[phrase] += 1
            first.setdefault(phrase, Span(i, m.end() - len(phrase), m.end()))
    if not counts:
        return None
    best = max(sorted(counts, key=lambda p: (first[p].block, first[p].start)), key=lambda p: counts[p])
    if counts[best] < 2:
        return None
    aff = Affiliation(best, None, best, first[best], None, first[best])
    return Party(
        PartyKind.ORG,
        affiliations=(aff,),
        cert=Cert.LOW,
        method=f"the organisation the text names most often ({counts[best]} times); the text does not say who issued it",
        span=first[best],
    )


def _upper_heading(text: str) -> bool:
    """Return True for an all-capitals heading (its words are not names)."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) > 0.8 * len(letters)
