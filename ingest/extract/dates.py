"""Dates as written in archival text, read into ISO 8601 without inventing anything.

Three entry points:

* :func:`find_dates` returns every date expression in a text, in order and without
  overlaps, each with its span, its ISO reading, a certainty and the method used;
* :func:`parse_date` reads a string that should be one date as a whole;
* :func:`split_dateline` cuts a short line such as "Bamako, le 26 NOV 2021" into a
  place and a date.

Month names are recognised in French, English, German, Spanish, Italian and Arabic
(Gregorian and Levantine names) whatever the language hint; the hint only decides
the day/month order of ambiguous all-numeric dates. Matching runs on a folded copy
of the text of exactly the same length (lower case, accents removed, Arabic-Indic
digits turned into ASCII digits, typographic dashes and apostrophes unified), so
offsets found in the folded copy are offsets in the text as given.

Values are kept at the precision written: "mars 1921" is ``1921-03`` and "6 novembre"
without a year is ``--11-06``. Nothing is filled in from today's date, two-digit years
are not expanded, and an impossible date such as "31 février 2017" is kept as text
with no ISO value and certainty ``unknown``. A bare number is never a year unless a
cue word ("en 1921", "année 2015", "vers 1920") says so.

Known limits: years written in words are not read; text in decomposed Unicode
(a letter followed by a combining accent) should be normalised to NFC first.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from ..model import Cert, DateValue, Place, Span

# ---------------------------------------------------------------------------
# Folding: a same-length, matching-friendly copy of the text
# ---------------------------------------------------------------------------

_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_APOSTROPHES = frozenset("\u2019\u02bc\u2018")


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """Return one character folded for matching (always exactly one character)."""
    if ch.isascii():
        return ch.lower()
    code = ord(ch)
    if 0x0660 <= code <= 0x0669:
        return chr(code - 0x0660 + 48)
    if 0x06F0 <= code <= 0x06F9:
        return chr(code - 0x06F0 + 48)
    if ch in _DASHES:
        return "-"
    if ch in _APOSTROPHES:
        return "'"
    base = unicodedata.normalize("NFD", ch)[0]
    low = base.lower()
    return low if len(low) == 1 else base


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each character the first time it is met."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def _fold(text: str) -> str:
    """Return ``text`` folded character by character; the length never changes."""
    if text.isascii():
        return text.lower()  # ASCII lower-casing is one character for one
    return text.translate(_FOLD_TABLE)


# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------


def _words(spec: str, sep: str | None = None) -> tuple[str, ...]:
    """Return the words of a vocabulary list written as one string."""
    return tuple(spec.split(sep))


#: Full month names by language, January first: months separated by ";", variants by "|".
_FULL_MONTHS: tuple[tuple[str, str], ...] = (
    ("fr", "janvier;février;mars;avril;mai;juin;juillet;août;septembre;octobre;novembre;décembre"),
    ("en", "january;february;march;april;may;june;july;august;september;october;november;december"),
    ("de", "januar|jänner;februar|feber;märz|maerz;april;mai;juni;juli;august;september;oktober;november;dezember"),
    ("es", "enero;febrero;marzo;abril;mayo;junio;julio;agosto;septiembre|setiembre;octubre;noviembre;diciembre"),
    ("it", "gennaio;febbraio;marzo;aprile;maggio;giugno;luglio;agosto;settembre;ottobre;novembre;dicembre"),
    (
        "ar",
        "يناير|كانون الثاني;فبراير|شباط;مارس|آذار;أبريل|إبريل|نيسان;مايو|أيار;يونيو|يونيه|حزيران;"
        "يوليو|يوليه|تموز;أغسطس|آب;سبتمبر|أيلول;أكتوبر|تشرين الأول;نوفمبر|تشرين الثاني;ديسمبر|كانون الأول",
    ),
)

#: Abbreviated month names by language (a trailing dot is optional), in the same layout.
_ABBR_MONTHS: tuple[tuple[str, str], ...] = (
    ("fr", "janv|jan;févr|fév;;avr;;;juil;;sept|sep;oct;nov;déc"),
    ("en", "jan;feb;mar;apr;;jun;jul;aug;sep|sept;oct;nov;dec"),
    ("de", "jan|jän;feb;mär|mrz;apr;;jun;jul;aug;sep|sept;okt;nov;dez"),
    ("es", "ene;feb;mar;abr;may;jun;jul;ago;sep|sept|set;oct;nov;dic"),
    ("it", "gen;feb;mar;apr;mag;giu;lug;ago;set|sett;ott;nov;dic"),
)

#: Month tokens that are also common words: read without a year only when capitalised.
_WORDLIKE_MONTHS = frozenset({"may", "mar", "march", "set", "ago", "mag", "gen", "sept"})

#: Weekday names, Monday first, separated by ";"; a weekday may precede a date.
_WEEKDAYS = (
    "lundi|monday|mon|montag|lunes|lunedì|الاثنين;"
    "mardi|tuesday|tue|tues|dienstag|martes|martedì|الثلاثاء;"
    "mercredi|wednesday|wed|mittwoch|miércoles|mercoledì|الأربعاء;"
    "jeudi|thursday|thu|thur|thurs|donnerstag|jueves|giovedì|الخميس;"
    "vendredi|friday|fri|freitag|viernes|venerdì|الجمعة;"
    "samedi|saturday|sat|samstag|sonnabend|sábado|sabato|السبت;"
    "dimanche|sunday|sun|sonntag|domingo|domenica|الأحد"
)


def _month_table() -> tuple[Mapping[str, tuple[int, tuple[str, ...]]], frozenset[str], frozenset[str]]:
    """Return folded month name -> (month, languages), and the full and abbreviated names."""
    table: dict[str, tuple[int, tuple[str, ...]]] = {}
    full: set[str] = set()
    abbr: set[str] = set()
    for source, bucket in ((_FULL_MONTHS, full), (_ABBR_MONTHS, abbr)):
        for lang, months in source:
            for month, alternatives in enumerate(months.split(";"), start=1):
                for name in filter(None, alternatives.split("|")):
                    key = " ".join(_fold(name).split())
                    bucket.add(key)
                    number, langs = table.get(key, (month, ()))
                    if lang not in langs:
                        langs = (*langs, lang)
                    table[key] = (number, langs)
    return MappingProxyType(table), frozenset(full), frozenset(abbr - full)


_MONTHS, _FULL_NAMES, _ABBR_NAMES = _month_table()

_WEEKDAY_OF: Mapping[str, int] = MappingProxyType(
    {_fold(name): i for i, names in enumerate(_WEEKDAYS.split(";")) for name in names.split("|")}
)


def _alternation(names: Iterable[str]) -> str:
    """Return a regex alternation of folded names, longest first, spaces as whitespace."""
    ordered = sorted(set(names), key=lambda s: (-len(s), s))
    return "|".join(r"\s+".join(re.escape(part) for part in name.split()) for name in ordered)


# ---------------------------------------------------------------------------
# Regex building blocks (all applied to the folded text)
# ---------------------------------------------------------------------------

#: Whitespace between tokens: at least one character, at most one line break. Written so
#: that a run of spaces can be split in one way only (no quadratic backtracking).
_SP = r"(?:[^\S\n]+(?:\n[^\S\n]*)?|\n[^\S\n]*)"
#: Optional whitespace with at most one line break.
_OSP = r"[^\S\n]*(?:\n[^\S\n]*)?"
_ROMAN = r"m{1,2}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_FULL_ALT = _alternation(_FULL_NAMES)
_ABBR_ALT = _alternation(_ABBR_NAMES)
_WEEKDAY_ALT = _alternation(_WEEKDAY_OF)


def _day(name: str) -> str:
    """Return the pattern of a day number with an optional ordinal suffix.

    The French first of the month is also written with a Roman one, "Ier" (folded "ier").
    """
    return (
        rf"(?<!\w)(?<![0-9][.,:/])(?P<{name}>[0-9]{{1,2}}|ier(?=\s))(?![0-9])(?![.,:/][0-9])"
        r"(?:er|re|ere|st|nd|rd|th|d|º|°)?(?!\w)(?:\.(?=\s))?"
    )


def _month(name: str) -> str:
    """Return the pattern of a month name, full or abbreviated."""
    return rf"(?<!\w)(?P<{name}>(?:{_FULL_ALT})(?!\w)|(?:{_ABBR_ALT})(?!\w)\.?)"


def _year(name: str, roman: bool = True) -> str:
    """Return the pattern of a four-digit year (or, after a month, Roman numerals)."""
    alt = rf"|(?P<{name}r>{_ROMAN})" if roman else ""
    return rf"(?<!\w)(?:(?P<{name}>[0-9]{{4}}){alt})(?!\w)(?![/.,:][0-9])"


_WD = rf"(?:(?<!\w)(?P<wd>{_WEEKDAY_ALT})(?!\w)\.?[,،]?{_SP}(?:(?:le|the|den|el|il){_SP})?)?"
_DM_SEP = rf"(?:{_SP}(?:(?:de|of){_SP})?|-)"
_MY_SEP = rf"(?:[,،]?{_SP}(?:(?:de|del){_SP})?|-)"
_DY_SEP = rf"(?:,?{_SP}|,)"
_PFX = rf"(?:(?<!\w)(?P<pfx>du|from|vom|von|del|dal|de|entre|between|zwischen|tra|fra){_SP})?"
_CONN = (
    rf"(?:{_OSP}-{_OSP}|{_SP}(?P<conn>jusqu'au|jusqu'a|au|aux|a|to|till|until|through|"
    rf"bis{_SP}zum|bis|al|hasta{_SP}el|hasta|et|and|y|e|und){_SP})"
)

_FROM_WORDS = frozenset({"du", "from", "vom", "von", "del", "dal", "de"})
_BETWEEN_WORDS = frozenset({"entre", "between", "zwischen", "tra", "fra"})
_AND_WORDS = frozenset({"et", "and", "y", "e", "und"})

#: Cue words before a vague date, and before a bound, in folded form (no accents).
_QUAL_VAGUE = _words(
    (
        "vers;circa;ca.;c.;around;about;approximately;environ;um;gegen;etwa;hacia;alrededor de;verso il;"
        "verso;intorno al;fin;fin de;a la fin de;fin du mois de;debut;debut de;au debut de;debut du mois de;"
        "mi;mid;early;late;end of;beginning of;anfang;ende;mitte;principios de;finales de;fines de;"
        "a fines de;comienzos de;inizio;fine;meta"
    ),
    ";",
)
_QUAL_BEFORE = _words("avant;before;prior to;vor;antes de;prima del;prima di", ";")
_QUAL_AFTER = _words("apres;after;nach;despues de;dopo il;dopo", ";")
_QUALIFIER_RX = re.compile(
    rf"(?<!\w)(?P<q>{_alternation((*_QUAL_VAGUE, *_QUAL_BEFORE, *_QUAL_AFTER))})"
    rf"(?:{_SP}|-|(?<=\.)[^\S\n]*)(?:(?:le|the|den|dem|der|el|il){_SP}|l')?\Z"
)

#: Cue words that make a bare four-digit number a year.
_YEAR_CUES_STRONG = _words(
    (
        "annee;l'annee;year;in the year;the year;jahr;jahre;im jahr;im jahre;anno;nell'anno;ano;el ano;"
        "en el ano;l'an;en l'an;عام;سنة;في عام"
    ),
    ";",
)
_YEAR_CUES_WEAK = _words(
    "en;in;im;nel;depuis;since;seit;desde;dal;durant;during;pendant;jusqu'en;until;hasta;fino al", ";"
)
_YEAR_CUE_RX = re.compile(rf"(?<!\w)(?P<c>{_alternation((*_YEAR_CUES_STRONG, *_YEAR_CUES_WEAK))}){_SP}\Z")
_STRONG_CUES = frozenset(_YEAR_CUES_STRONG)

_UNITS = (
    r"(?:%|€|\$|£|(?:fcfa|cfa|francs?|euros?|eur|usd|dollars?|km|kg|ha|m|mm|cm|tonnes?|tons?|"
    r"personnes|people|persons|habitants|inhabitants|hommes|men|femmes|women|enfants|children|"
    r"ans|years|jahre|anos|anni|mois|months|jours|days|exemplaires|copies|metres|meters)(?!\w))"
)

_DMY_RX = re.compile(_WD + _day("d") + _DM_SEP + _month("m") + _MY_SEP + _year("y"))
_MDY_RX = re.compile(_WD + _month("m") + _SP + _day("d") + _DY_SEP + _year("y"))
_MY_RX = re.compile(_month("m") + _MY_SEP + _year("y"))
_DM_RX = re.compile(_WD + _day("d") + _DM_SEP + _month("m"))
_MD_RX = re.compile(_WD + _month("m") + _SP + _day("d"))
_ISO_RX = re.compile(
    r"(?<![\w./-])(?P<y>[0-9]{4})(?P<s>[-/.])(?P<m>[0-9]{1,2})(?P=s)(?P<d>[0-9]{1,2})"
    r"(?:(?=t[0-9])|(?!\w))(?![./-][0-9])"
)
_NUM_RX = re.compile(
    r"(?<![\w./-])(?P<a>[0-9]{1,2})(?P<s>[-/.])(?P<b>[0-9]{1,2})(?P=s)(?P<y>[0-9]{4})"
    r"(?!\w)(?![./-][0-9])"
)
#: Day-first numbers with a dot after the day, the German way ("2. 8 1918", "14. 3. 1902").
_DOTTED_RX = re.compile(
    r"(?<![\w./-])(?P<d>[0-9]{1,2})\.[^\S\n]?(?P<m>[0-9]{1,2})\.?[^\S\n](?P<y>[0-9]{4})(?!\w)(?![./-][0-9])"
)
_YEAR_RX = re.compile(
    r"(?<!\w)(?<![0-9][.,/:-])(?<![0-9]\s)(?P<y>[0-9]{4})(?!\w)(?![/.,:-][0-9])"
    rf"(?![^\S\n][0-9]{{3}}(?![0-9]))(?!{_OSP}{_UNITS})"
)
_R_DAYS_RX = re.compile(_PFX + _day("d1") + _CONN + _day("d2") + _DM_SEP + _month("m") + rf"(?:{_MY_SEP}{_year('y')})?")
_R_DM2_RX = re.compile(
    _PFX
    + _day("d1")
    + _DM_SEP
    + _month("m1")
    + rf"(?:{_MY_SEP}{_year('y1')})?"
    + _CONN
    + _day("d2")
    + _DM_SEP
    + _month("m2")
    + rf"(?:{_MY_SEP}{_year('y2')})?"
)
_R_MDAYS_RX = re.compile(_PFX + _month("m") + _SP + _day("d1") + _CONN + _day("d2") + rf"(?:{_DY_SEP}{_year('y')})?")
_R_MD2_RX = re.compile(
    _PFX + _month("m1") + _SP + _day("d1") + _CONN + _month("m2") + _SP + _day("d2") + _DY_SEP + _year("y")
)
_R_MONTHS_RX = re.compile(
    _PFX + _month("m1") + rf"(?:{_MY_SEP}{_year('y1')})?" + _CONN + _month("m2") + _MY_SEP + _year("y2")
)
_R_YEARS_RX = re.compile(
    r"(?<![\w/.-])" + _PFX + _year("y1", roman=False) + _CONN + _year("y2", roman=False) + r"(?![/.-][0-9])"
)

#: A time of day after a date in a dateline ("1100Z", "à 10h", "10:30").
_TIME_RX = re.compile(
    r"(?<!\w)(?:(?:a|at|um|vers|around|a las|alle|ore)\s+)?"
    r"(?:[0-9]{1,2}\s*[h:.]\s*[0-9]{2}(?:\s*(?:h|uhr|hrs?|heures?|am|pm|a\.m\.|p\.m\.))?"
    r"|[0-9]{1,2}\s*(?:h|heures?|uhr|hrs?|am|pm|a\.m\.|p\.m\.)"
    r"|[0-9]{4}\s*(?:z|gmt|utc|hrs?|h|lt))(?!\w)"
)
#: What may stand between a place and its date: separators and little words ("le", "den").
_HEAD_TAIL_RX = re.compile(r"(?:[\s,،;/-]|(?<!\w)(?:le|ce|den|am|the|on|this|el|a|il|li|lo|addi|في)(?!\w))*\Z")
#: An introduction before the place ("Fait à", "Done at", "À").
_PLACE_INTRO_RX = re.compile(
    r"(?:(?:fait|done|given|signed|hecho|dado|fatto|gegeben|geschehen|ecrit)\s+(?:a|at|en|zu|in)"
    r"|a|at)\s+(?=\S)"
)
#: What parse_date tolerates before the date: an article or a year cue.
_LEAD_RX = re.compile(
    rf"(?:(?:le|the|den|ce|am|on|el|il|lo|{_alternation((*_YEAR_CUES_STRONG, *_YEAR_CUES_WEAK))})"
    r"\s+)?"
)

#: Lower-case words allowed inside a place name ("Saint-Louis du Sénégal").
_PLACE_CONNECTORS = frozenset(
    _words(
        "de du des la le les sur en am an der die das di del della delle dei y e et upon on the of bei im al "
        "el los las sous pres ob zu da do dos in a"
    )
)
#: First words that show the text before a date is not a place.
_NOT_PLACES = frozenset(
    _words(
        "depuis since seit desde dal du au on at from to until ab vom am objet subject date datum fecha data "
        "page re ref no in en im nel ce this signe signed lu vu approved approuve"
    )
)
_PLACE_CHARS = frozenset(" -'’.,()")
_ELISION_RX = re.compile(r"^(?:d|l)'", re.I)
_FOUR_DIGITS_RX = re.compile(r"[0-9]{4}")
_WORD_RX = re.compile(r"\w+")

_YEAR_MIN, _YEAR_MAX = 1000, 2099

# ---------------------------------------------------------------------------
# Hits
# ---------------------------------------------------------------------------

_YEAR, _MONTH, _DAY = 1, 2, 3


@dataclass(frozen=True, slots=True)
class _Hit:
    """A date found at ``[start, end)`` of the text, before spans are attached."""

    start: int
    end: int
    value: DateValue
    precision: int
    single: bool = True


@dataclass(frozen=True, slots=True)
class _Ctx:
    """The text being scanned, its folded copy and the language hint."""

    text: str
    folded: str
    lang: str | None


def _iso(year: int | None, month: int | None = None, day: int | None = None) -> str:
    """Return the ISO 8601 form at the precision given (``--MM-DD`` without a year)."""
    if year is None:
        return f"--{month:02d}-{day:02d}"
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def _is_calendar_date(year: int | None, month: int, day: int) -> bool:
    """Return True if the day exists in that month (any leap year when the year is unknown)."""
    if not 1 <= month <= 12 or day < 1:
        return False
    return day <= calendar.monthrange(2000 if year is None else year, month)[1]


def _roman_value(numeral: str) -> int:
    """Return the value of a (well-formed, lower-case) Roman numeral."""
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    total = 0
    for i, ch in enumerate(numeral):
        v = values[ch]
        total += -v if i + 1 < len(numeral) and values[numeral[i + 1]] > v else v
    return total


def _month_of(token: str, lang: str | None) -> tuple[int, str]:
    """Return the month number of a matched month token and the language to report."""
    key = " ".join(token.rstrip(".").split())
    number, langs = _MONTHS[key]
    primary = (lang or "").split("-")[0].lower()
    return number, primary if primary in langs else langs[0]


def _year_of(m: re.Match[str], ctx: _Ctx, name: str) -> tuple[int | None, bool] | None:
    """Return the year in group ``name`` (None if absent) and whether it was Roman.

    Returns None when the group holds something that cannot be a year here.
    """
    digits = m.group(name) if name in m.re.groupindex else None
    roman_name = name + "r"
    roman = m.group(roman_name) if roman_name in m.re.groupindex else None
    if digits is not None:
        year = int(digits)
    elif roman is not None:
        original = ctx.text[m.start(roman_name) : m.end(roman_name)]
        if len(roman) < 3 or not original.isupper():
            return None
        year = _roman_value(roman)
    else:
        return None, False
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        return None
    return year, roman is not None


def _capitalised(ctx: _Ctx, m: re.Match[str], group: str) -> bool:
    """Return True if the month token in ``group`` may be read without a year."""
    token = m.group(group).rstrip(".")
    if token not in _WORDLIKE_MONTHS:
        return True
    return ctx.text[m.start(group)].isupper()


def _weekday_note(m: re.Match[str], year: int | None, month: int, day: int | None) -> str:
    """Return a method note when a written weekday contradicts the date, else ''."""
    if "wd" not in m.re.groupindex or m.group("wd") is None or year is None or day is None:
        return ""
    written = _WEEKDAY_OF[" ".join(m.group("wd").split())]
    if datetime.date(year, month, day).weekday() != written:
        return "; the weekday does not match the date"
    return ""


# ---------------------------------------------------------------------------
# Builders: one per pattern, each returning a hit or None to reject the match
# ---------------------------------------------------------------------------

_FORMS = {
    "dmy": "day month year",
    "mdy": "month day, year",
    "my": "month year",
    "dm": "day month, no year",
    "md": "month day, no year",
}


def _day_number(text: str) -> int:
    """Return the day a matched day token stands for ("ier" is the first)."""
    return 1 if text == "ier" else int(text)


def _build_named(form: str) -> Callable[[re.Match[str], _Ctx], _Hit | None]:
    """Return the builder for a date with a month name in the given form."""

    def build(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
        """Read a date with a month name."""
        month, mlang = _month_of(m.group("m"), ctx.lang)
        day = _day_number(m.group("d")) if "d" in m.re.groupindex else None
        year_read = _year_of(m, ctx, "y")
        if year_read is None:
            return None
        year, roman = year_read
        if year is None and not _capitalised(ctx, m, "m"):
            return None
        if form == "md" and "en" not in _MONTHS[" ".join(m.group("m").rstrip(".").split())][1]:
            return None
        method = f"{_FORMS[form]} ({mlang})" + (", year in Roman numerals" if roman else "")
        text = ctx.text[m.start() : m.end()]
        if day is not None and not _is_calendar_date(year, month, day):
            if year is None and not 1 <= day <= 31:
                return None
            value = DateValue(text, cert=Cert.UNKNOWN, method=f"not a calendar date: {method}")
            return _Hit(m.start(), m.end(), value, _DAY, single=False)
        note = _weekday_note(m, year, month, day)
        cert = Cert.HIGH if year is not None else Cert.MEDIUM
        if note:
            cert = Cert.MEDIUM
        precision = _DAY if day is not None else _MONTH
        value = DateValue(text, when=_iso(year, month, day), cert=cert, method=method + note)
        return _Hit(m.start(), m.end(), value, precision)

    return build


def _build_iso(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """Read a year-first numeric date (2017-11-06)."""
    year, month, day = int(m.group("y")), int(m.group("m")), int(m.group("d"))
    if not _YEAR_MIN <= year <= _YEAR_MAX or not 1 <= month <= 12:
        return None
    text = ctx.text[m.start() : m.end()]
    method = "ISO 8601 year-month-day" if m.group("s") == "-" else "numeric year-month-day"
    if not _is_calendar_date(year, month, day):
        value = DateValue(text, cert=Cert.UNKNOWN, method=f"not a calendar date: {method}")
        return _Hit(m.start(), m.end(), value, _DAY, single=False)
    return _Hit(m.start(), m.end(), DateValue(text, when=_iso(year, month, day), method=method), _DAY)


def _build_numeric(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """Read a day/month/year or month/day/year numeric date."""
    a, b, year = int(m.group("a")), int(m.group("b")), int(m.group("y"))
    if not _YEAR_MIN <= year <= _YEAR_MAX or a == 0 or b == 0 or (a > 12 and b > 12):
        return None
    lang = (ctx.lang or "").lower()
    month_first_default = lang.split("-")[0] == "en" and lang not in ("en-gb", "en-ie", "en-au", "en-nz", "en-in")
    if a > 12:
        day, month, cert, method = a, b, Cert.HIGH, "numeric day-first"
    elif b > 12:
        day, month, cert, method = b, a, Cert.HIGH, "numeric month-first"
    elif a == b:
        day, month, cert, method = a, b, Cert.HIGH, "numeric day-first"
    elif month_first_default:
        day, month, cert, method = b, a, Cert.MEDIUM, "numeric month-first (ambiguous; en convention)"
    else:
        day, month, cert, method = a, b, Cert.MEDIUM, "numeric day-first (ambiguous; by convention)"
    text = ctx.text[m.start() : m.end()]
    if not _is_calendar_date(year, month, day):
        value = DateValue(text, cert=Cert.UNKNOWN, method=f"not a calendar date: {method}")
        return _Hit(m.start(), m.end(), value, _DAY, single=False)
    value = DateValue(text, when=_iso(year, month, day), cert=cert, method=method)
    return _Hit(m.start(), m.end(), value, _DAY)


def _build_dotted(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """Read a day-first date with a dot after the day ("2. 8 1918"), the German convention."""
    day, month, year = int(m.group("d")), int(m.group("m")), int(m.group("y"))
    if not _YEAR_MIN <= year <= _YEAR_MAX or not _is_calendar_date(year, month, day):
        return None
    text = ctx.text[m.start() : m.end()]
    value = DateValue(text, when=_iso(year, month, day), cert=Cert.HIGH, method="numeric day-first, dot after the day")
    return _Hit(m.start(), m.end(), value, _DAY)


def _build_year(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """Read a bare year, kept only after a cue word ("en 1921", "année 2015")."""
    year = int(m.group("y"))
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        return None
    if _QUALIFIER_RX.search(ctx.folded, max(0, m.start() - 40), m.start()):
        # the qualifier itself is applied afterwards, like for any other single date
        return _Hit(m.start(), m.end(), DateValue(ctx.text[m.start() : m.end()], when=_iso(year), method="year"), _YEAR)
    cue = _YEAR_CUE_RX.search(ctx.folded, max(0, m.start() - 30), m.start())
    if cue is None:
        return None
    cue_text = ctx.text[cue.start("c") : cue.end("c")]
    cert = Cert.HIGH if " ".join(cue.group("c").split()) in _STRONG_CUES else Cert.MEDIUM
    value = DateValue(
        ctx.text[m.start() : m.end()], when=_iso(year), cert=cert, method=f"year with cue word {cue_text!r}"
    )
    return _Hit(m.start(), m.end(), value, _YEAR, single=False)


def _range_words_ok(m: re.Match[str]) -> bool:
    """Return False for "3 et 5 mars" (two days, not a span) and other odd connectors."""
    pfx = m.group("pfx")
    conn = m.group("conn")
    if conn is None:
        return True
    conn = " ".join(conn.split())
    if conn in _AND_WORDS:
        return pfx in _BETWEEN_WORDS
    return pfx is None or pfx in _FROM_WORDS or conn in ("a", "au", "to")


def _range_hit(
    m: re.Match[str],
    ctx: _Ctx,
    start: tuple[int | None, int | None, int | None],
    end: tuple[int | None, int | None, int | None],
    method: str,
    precision: int,
    cert: Cert = Cert.HIGH,
) -> _Hit | None:
    """Return a range hit from two (year, month, day) triples, or an unknown one if impossible."""
    text = ctx.text[m.start() : m.end()]
    for y, mo, d in (start, end):
        if d is not None and mo is not None and not _is_calendar_date(y, mo, d):
            if not 1 <= d <= 31:
                return None
            value = DateValue(text, cert=Cert.UNKNOWN, method=f"not a calendar date: {method}")
            return _Hit(m.start(), m.end(), value, precision, single=False)
    a, b = _iso(*start), _iso(*end)
    if a >= b:  # both ends have a year or neither has, so the ISO strings compare in time order
        return None
    cert = Cert.MEDIUM if start[0] is None else cert
    value = DateValue(text, from_=a, to=b, cert=cert, method=method)
    return _Hit(m.start(), m.end(), value, precision, single=False)


def _days_in_month_range(m: re.Match[str], ctx: _Ctx, what: str) -> _Hit | None:
    """Read a range of days in one month; what names the written order in the method."""
    if not _range_words_ok(m):
        return None
    month, mlang = _month_of(m.group("m"), ctx.lang)
    year_read = _year_of(m, ctx, "y")
    if year_read is None:
        return None
    year = year_read[0]
    if year is None and not _capitalised(ctx, m, "m"):
        return None
    d1, d2 = _day_number(m.group("d1")), _day_number(m.group("d2"))
    return _range_hit(m, ctx, (year, month, d1), (year, month, d2), f"{what} ({mlang})", _DAY)


def _build_days_range(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """Read "du 3 au 5 mars 1921", "3-5 March 1921"."""
    return _days_in_month_range(m, ctx, "day range in one month")


def _build_month_days_range(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """Read "March 3–5, 1921"."""
    return _days_in_month_range(m, ctx, "month day range")


def _cross_years(
    y1: int | None, y2: int | None, first: tuple[int, int], second: tuple[int, int]
) -> tuple[int | None, int | None] | None:
    """Return both years of a range written with the year once (the end's year)."""
    if y1 is not None and y2 is None:
        return None
    if y1 is None and y2 is not None:
        y1 = y2 if first < second else y2 - 1
    return y1, y2


def _build_cross_range(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """Read "du 3 mars au 5 avril 1921", "3 March – 5 April 1921"."""
    if not _range_words_ok(m):
        return None
    m1, mlang = _month_of(m.group("m1"), ctx.lang)
    m2, _ = _month_of(m.group("m2"), ctx.lang)
    r1, r2 = _year_of(m, ctx, "y1"), _year_of(m, ctx, "y2")
    if r1 is None or r2 is None:
        return None
    d1, d2 = _day_number(m.group("d1")), _day_number(m.group("d2"))
    years = _cross_years(r1[0], r2[0], (m1, d1), (m2, d2))
    if years is None or (years[1] is None and not (_capitalised(ctx, m, "m1") and _capitalised(ctx, m, "m2"))):
        return None
    return _range_hit(m, ctx, (years[0], m1, d1), (years[1], m2, d2), f"range across months ({mlang})", _DAY)


def _build_md_cross_range(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """Read "March 3 – April 5, 1921"."""
    if not _range_words_ok(m):
        return None
    m1, mlang = _month_of(m.group("m1"), ctx.lang)
    m2, _ = _month_of(m.group("m2"), ctx.lang)
    r = _year_of(m, ctx, "y")
    if r is None or r[0] is None:
        return None
    d1, d2 = _day_number(m.group("d1")), _day_number(m.group("d2"))
    years = _cross_years(None, r[0], (m1, d1), (m2, d2))
    assert years is not None
    return _range_hit(m, ctx, (years[0], m1, d1), (years[1], m2, d2), f"range across months ({mlang})", _DAY)


def _build_months_range(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """Read "de mars à mai 1921", "March–May 1921"."""
    if not _range_words_ok(m):
        return None
    m1, mlang = _month_of(m.group("m1"), ctx.lang)
    m2, _ = _month_of(m.group("m2"), ctx.lang)
    r1, r2 = _year_of(m, ctx, "y1"), _year_of(m, ctx, "y2")
    if r1 is None or r2 is None or r2[0] is None:
        return None
    years = _cross_years(r1[0], r2[0], (m1, 0), (m2, 0))
    if years is None:
        return None
    return _range_hit(m, ctx, (years[0], m1, None), (years[1], m2, None), f"month range ({mlang})", _MONTH)


def _build_years_range(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """Read "de 1914 à 1918", "1914–1918" (second year after the first)."""
    pfx, conn = m.group("pfx"), m.group("conn")
    if conn is not None and pfx is None:
        return None
    if not _range_words_ok(m):
        return None
    y1, y2 = int(m.group("y1")), int(m.group("y2"))
    if not (_YEAR_MIN <= y1 < y2 <= _YEAR_MAX):
        return None
    if pfx is None:
        return _range_hit(m, ctx, (y1, None, None), (y2, None, None), "year range", _YEAR, Cert.MEDIUM)
    pfx_text = ctx.text[m.start("pfx") : m.end("pfx")]
    return _range_hit(m, ctx, (y1, None, None), (y2, None, None), f"year range with cue {pfx_text!r}", _YEAR)


#: The rules, in order of precedence. The flag says what every match of the rule contains:
#: a month name (``_MONTH_PROBE_RX`` matches inside it, with the same surroundings) or four
#: digits in a row, so that a text with neither is not searched by the rule at all.
_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], _Ctx], _Hit | None], bool], ...] = (
    (_R_DM2_RX, _build_cross_range, True),
    (_R_MD2_RX, _build_md_cross_range, True),
    (_R_DAYS_RX, _build_days_range, True),
    (_R_MDAYS_RX, _build_month_days_range, True),
    (_R_MONTHS_RX, _build_months_range, True),
    (_R_YEARS_RX, _build_years_range, False),
    (_DMY_RX, _build_named("dmy"), True),
    (_MDY_RX, _build_named("mdy"), True),
    (_MY_RX, _build_named("my"), True),
    (_DM_RX, _build_named("dm"), True),
    (_MD_RX, _build_named("md"), True),
    (_ISO_RX, _build_iso, False),
    (_NUM_RX, _build_numeric, False),
    (_DOTTED_RX, _build_dotted, False),
    (_YEAR_RX, _build_year, False),
)
_MONTH_PROBE_RX = re.compile(_month("m"))


def _qualify(hit: _Hit, ctx: _Ctx) -> _Hit:
    """Apply a qualifier written just before a single date ("vers", "fin", "avant").

    Returns the hit widened to take in the qualifier, or unchanged when there is none.
    """
    if not hit.single:
        return hit
    q = _QUALIFIER_RX.search(ctx.folded, max(0, hit.start - 40), hit.start)
    if q is None:
        return hit
    cue_key = " ".join(q.group("q").split())
    cue = ctx.text[q.start("q") : q.end("q")]
    iso = hit.value.when
    text = ctx.text[q.start() : hit.end]
    if cue_key in _QUAL_BEFORE:
        value = DateValue(text, not_after=iso, cert=Cert.LOW, method=f"upper bound: {cue!r}; {hit.value.method}")
    elif cue_key in _QUAL_AFTER:
        value = DateValue(text, not_before=iso, cert=Cert.LOW, method=f"lower bound: {cue!r}; {hit.value.method}")
    else:
        value = DateValue(text, when=iso, cert=Cert.LOW, method=f"vague: {cue!r}; {hit.value.method}")
    return replace(hit, start=q.start(), value=value, single=False)


@functools.lru_cache(maxsize=1024)
def _scan(text: str, lang: str | None) -> tuple[_Hit, ...]:
    """Return the non-overlapping date hits of ``text``, in order.

    Overlaps are settled by position: the earliest hit wins, then the longest, then the
    rule listed first in ``_RULES``. The hits depend on the text and the hint alone and
    are immutable, so they are kept for the lines read again: a line is scanned as a
    possible dateline while the structure is read, then for the metadata and the
    encoding (about half the scans of a document repeat one).
    """
    ctx = _Ctx(text, _fold(text), lang)
    has_month = _MONTH_PROBE_RX.search(ctx.folded) is not None
    has_year = _FOUR_DIGITS_RX.search(ctx.folded) is not None
    found: list[tuple[_Hit, int]] = []
    if not (has_month or has_year):
        return ()
    for rank, (rx, build, needs_month) in enumerate(_RULES):
        if not (has_month if needs_month else has_year):
            continue
        for m in rx.finditer(ctx.folded):
            hit = build(m, ctx)
            if hit is not None:
                found.append((_qualify(hit, ctx), rank))
    found.sort(key=lambda hr: (hr[0].start, hr[0].start - hr[0].end, hr[1]))
    chosen: list[_Hit] = []
    last_end = 0
    for hit, _ in found:
        if hit.start >= last_end and hit.end > hit.start:
            chosen.append(hit)
            last_end = hit.end
    return tuple(chosen)


def _with_span(hit: _Hit, offset: int = 0) -> DateValue:
    """Return the hit's value with its span in block 0, shifted by ``offset``."""
    return replace(hit.value, span=Span(0, hit.start + offset, hit.end + offset))


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def find_dates(text: str, *, lang: str | None = None) -> tuple[DateValue, ...]:
    """Return every date expression in ``text``, in order and without overlaps.

    Each value carries ``span=Span(0, start, end)`` with ``text[start:end] == value.text``.
    """
    return tuple(_with_span(h) for h in _scan(text, lang))


def parse_date(text: str, lang: str | None = None) -> DateValue | None:
    """Read ``text`` as one date as a whole, or return None.

    Surrounding whitespace and a trailing "." or "," are ignored; a leading article or
    year cue ("le", "en") is tolerated. The span is relative to ``text`` as given, so
    ``text[span.start:span.end] == value.text``.
    """
    lead = len(text) - len(text.lstrip())
    core = text.strip().rstrip(".,").rstrip()
    if not core:
        return None
    folded = _fold(core)
    if _FOUR_DIGITS_RX.fullmatch(folded) and _YEAR_MIN <= int(folded) <= _YEAR_MAX:
        return DateValue(core, when=folded, method="year alone", span=Span(0, lead, lead + len(core)))
    hits = _scan(core, lang)
    if len(hits) != 1 or hits[0].end != len(core) or not _LEAD_RX.fullmatch(folded[: hits[0].start]):
        return None
    return _with_span(hits[0], lead)


def _tail_ok(folded_tail: str) -> bool:
    """Return True if what follows a date is only punctuation, a time or a few words."""
    rest = _TIME_RX.sub(" ", folded_tail)
    return len(_WORD_RX.findall(rest)) <= 3


def _place(text: str, folded: str, end: int) -> tuple[bool, Place | None]:
    """Read the place written in ``text[:end]``, before a date.

    Returns ``(True, place)``, ``(True, None)`` when there is only punctuation or a little
    word such as "Le", and ``(False, None)`` when the text there is not a place name.
    """
    cut = _HEAD_TAIL_RX.search(folded, 0, end)
    stop = cut.start() if cut else end
    if not any(ch.isalnum() for ch in text[:stop]):
        return True, None
    lead = len(text[:stop]) - len(text[:stop].lstrip())
    intro = _PLACE_INTRO_RX.match(folded, lead, stop)
    start = intro.end() if intro else lead
    name = text[start:stop]
    if not _looks_like_place(name, folded[start:stop]):
        return False, None
    return True, Place(name, cert=Cert.HIGH, method="place before the date", span=Span(0, start, stop))


def _looks_like_place(name: str, folded: str) -> bool:
    """Return True for a short capitalised name without digits ("Saint-Louis du Sénégal")."""
    words = name.split()
    # "la Chênaie", "la Haye": an article may open a place name after "à"
    article = len(words) >= 2 and words[0] in ("la", "le", "les") and words[1][:1].isupper()
    if not 1 <= len(words) <= 6 or not name[0].isalpha() or (name[0].islower() and not article):
        return False
    if any(ch.isdigit() for ch in name) or not all(ch.isalpha() or ch in _PLACE_CHARS for ch in name):
        return False
    if folded.split()[0].strip(".,'") in _NOT_PLACES:
        return False
    for word, fword in zip(words, folded.split(), strict=False):
        bare = _ELISION_RX.sub("", word.replace("’", "'")).strip("().,-'")
        key = fword.strip("().,-'")
        if not bare or bare[0].isupper() or not bare[0].islower() or key in _PLACE_CONNECTORS:
            continue
        return False
    return True


def split_dateline(text: str, lang: str | None = None) -> tuple[Place | None, DateValue] | None:
    """Cut a dateline ("Bamako, le 26 NOV 2021") into its place and its date.

    Returns ``(place or None, date)`` with spans relative to ``text``, or None when the
    line is not a dateline: too long, a sentence around a date, or no date at all. A
    year alone ("en 1921") does not make a dateline.
    """
    if not text.strip() or len(text.strip()) > 120:
        return None
    folded = _fold(text)
    for hit in _scan(text, lang):
        if hit.precision == _YEAR or not _tail_ok(folded[hit.end :]):
            continue
        ok, place = _place(text, folded, hit.start)
        if ok:
            return place, _with_span(hit)
    return None


__all__ = ["find_dates", "parse_date", "split_dateline"]
