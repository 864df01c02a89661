"""Tests for the date extractor: hand-checked tables and properties."""

from __future__ import annotations

import datetime
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.extract.dates import find_dates, parse_date, split_dateline
from ingest.model import Cert, DateValue

ISO_WHEN = re.compile(r"^(\d{4}(-\d{2}(-\d{2})?)?|--\d{2}-\d{2})$")


def only(text: str, lang: str | None = None) -> DateValue:
    """Return the single date found in ``text``."""
    found = find_dates(text, lang=lang)
    assert len(found) == 1, found
    return found[0]


def assert_span(text: str, d: DateValue) -> None:
    """Check that the value's span points at its text."""
    assert d.span is not None
    assert d.span.block == 0
    assert text[d.span.start : d.span.end] == d.text


# ---------------------------------------------------------------------------
# find_dates: single dates
# ---------------------------------------------------------------------------

SINGLE = [
    # text, lang, matched text, when, cert
    ("mars 1921", None, "mars 1921", "1921-03", Cert.HIGH),
    ("6 Novembre 2017", None, "6 Novembre 2017", "2017-11-06", Cert.HIGH),
    ("le 06 novembre 2017.", "fr", "06 novembre 2017", "2017-11-06", Cert.HIGH),
    ("SEPTEMBRE 2013", None, "SEPTEMBRE 2013", "2013-09", Cert.HIGH),
    ("le 3 fevrier 1921", None, "3 fevrier 1921", "1921-02-03", Cert.HIGH),
    ("le 3 févr. 1921", None, "3 févr. 1921", "1921-02-03", Cert.HIGH),
    ("15 aout 1944", None, "15 aout 1944", "1944-08-15", Cert.HIGH),
    ("15 Août 1944", None, "15 Août 1944", "1944-08-15", Cert.HIGH),
    ("24 decembre 1999", None, "24 decembre 1999", "1999-12-24", Cert.HIGH),
    ("sept. 1921", None, "sept. 1921", "1921-09", Cert.HIGH),
    ("26 NOV 2021", None, "26 NOV 2021", "2021-11-26", Cert.HIGH),
    ("26 Nov. 2021", None, "26 Nov. 2021", "2021-11-26", Cert.HIGH),
    ("Jan. 5, 1921", None, "Jan. 5, 1921", "1921-01-05", Cert.HIGH),
    ("1er février 1960", None, "1er février 1960", "1960-02-01", Cert.HIGH),
    ("1st May 1921", None, "1st May 1921", "1921-05-01", Cert.HIGH),
    ("2nd June 1921", None, "2nd June 1921", "1921-06-02", Cert.HIGH),
    ("21st July 1969", None, "21st July 1969", "1969-07-21", Cert.HIGH),
    ("1º de mayo de 1921", None, "1º de mayo de 1921", "1921-05-01", Cert.HIGH),
    ("1° maggio 1921", None, "1° maggio 1921", "1921-05-01", Cert.HIGH),
    ("Mercredi 25 septembre 2013", None, "Mercredi 25 septembre 2013", "2013-09-25", Cert.HIGH),
    ("Monday, May 1, 2017", None, "Monday, May 1, 2017", "2017-05-01", Cert.HIGH),
    ("Donnerstag, den 3. März 1921", None, "Donnerstag, den 3. März 1921", "1921-03-03", Cert.HIGH),
    ("giovedì 3 marzo 1921", "it", "giovedì 3 marzo 1921", "1921-03-03", Cert.HIGH),
    ("3 de marzo de 1921", None, "3 de marzo de 1921", "1921-03-03", Cert.HIGH),
    ("25 de septiembre del 2013", None, "25 de septiembre del 2013", "2013-09-25", Cert.HIGH),
    ("3. März 1921", None, "3. März 1921", "1921-03-03", Cert.HIGH),
    ("3. Maerz 1921", None, "3. Maerz 1921", "1921-03-03", Cert.HIGH),
    ("March 3rd, 1921", None, "March 3rd, 1921", "1921-03-03", Cert.HIGH),
    ("the 3rd of March 1921", None, "3rd of March 1921", "1921-03-03", Cert.HIGH),
    ("May 21, 2017", None, "May 21, 2017", "2017-05-21", Cert.HIGH),
    ("May 21 2017", None, "May 21 2017", "2017-05-21", Cert.HIGH),
    ("06-Nov-2017", None, "06-Nov-2017", "2017-11-06", Cert.HIGH),
    ("3 marzo 1921", None, "3 marzo 1921", "1921-03-03", Cert.HIGH),
    ("3 Dezember 1921", None, "3 Dezember 1921", "1921-12-03", Cert.HIGH),
    ("3 dicembre 1921", None, "3 dicembre 1921", "1921-12-03", Cert.HIGH),
    ("3 diciembre 1921", None, "3 diciembre 1921", "1921-12-03", Cert.HIGH),
    # numeric
    ("06/11/2017", None, "06/11/2017", "2017-11-06", Cert.MEDIUM),
    ("6.11.2017", None, "6.11.2017", "2017-11-06", Cert.MEDIUM),
    ("06-11-2017", None, "06-11-2017", "2017-11-06", Cert.MEDIUM),
    ("2017-11-06", None, "2017-11-06", "2017-11-06", Cert.HIGH),
    ("2017-11-06T10:00", None, "2017-11-06", "2017-11-06", Cert.HIGH),
    ("03/04/1921", None, "03/04/1921", "1921-04-03", Cert.MEDIUM),
    ("03/04/1921", "fr", "03/04/1921", "1921-04-03", Cert.MEDIUM),
    ("3/4/1921", "en", "3/4/1921", "1921-03-04", Cert.MEDIUM),
    ("13/04/1921", None, "13/04/1921", "1921-04-13", Cert.HIGH),
    ("13/04/1921", "en", "13/04/1921", "1921-04-13", Cert.HIGH),
    ("04/13/1921", "fr", "04/13/1921", "1921-04-13", Cert.HIGH),
    ("05/05/1921", "en", "05/05/1921", "1921-05-05", Cert.HIGH),
    # Arabic
    ("٦ نوفمبر ٢٠١٧", None, "٦ نوفمبر ٢٠١٧", "2017-11-06", Cert.HIGH),
    ("12 آذار 1950", None, "12 آذار 1950", "1950-03-12", Cert.HIGH),
    ("۱۲ مارس ۱۹۵۰", None, "۱۲ مارس ۱۹۵۰", "1950-03-12", Cert.HIGH),
    ("15 تشرين الأول 1950", None, "15 تشرين الأول 1950", "1950-10-15", Cert.HIGH),
    ("1 كانون الثاني 1950", None, "1 كانون الثاني 1950", "1950-01-01", Cert.HIGH),
    ("3 أبريل 1950", None, "3 أبريل 1950", "1950-04-03", Cert.HIGH),
    ("3 ابريل 1950", None, "3 ابريل 1950", "1950-04-03", Cert.HIGH),
    # Roman numerals
    ("3 mars MCMXXI", None, "3 mars MCMXXI", "1921-03-03", Cert.HIGH),
    ("mars MCMXXI", None, "mars MCMXXI", "1921-03", Cert.HIGH),
    ("le 3 mars M. Dupont", None, "3 mars", "--03-03", Cert.MEDIUM),
    ("le 3 mars MM. Dupont et Durand", None, "3 mars", "--03-03", Cert.MEDIUM),
    ("le 3 mars mcmxxi", None, "3 mars", "--03-03", Cert.MEDIUM),
    # years with a cue
    ("en 1921", None, "1921", "1921", Cert.MEDIUM),
    ("in 1921", None, "1921", "1921", Cert.MEDIUM),
    ("im Jahre 1921", None, "1921", "1921", Cert.HIGH),
    ("nel 1921", None, "1921", "1921", Cert.MEDIUM),
    ("en el año 1921", None, "1921", "1921", Cert.HIGH),
    ("depuis 2012", None, "2012", "2012", Cert.MEDIUM),
    ("since 2012", None, "2012", "2012", Cert.MEDIUM),
    ("année 2015", None, "2015", "2015", Cert.HIGH),
    ("the year 2015", None, "2015", "2015", Cert.HIGH),
    ("في عام 1950", None, "1950", "1950", Cert.HIGH),
    # without a year: never completed from the calendar
    ("1 mars", None, "1 mars", "--03-01", Cert.MEDIUM),
    ("le 6 novembre", None, "6 novembre", "--11-06", Cert.MEDIUM),
    ("the 3rd of March", None, "3rd of March", "--03-03", Cert.MEDIUM),
    ("on March 3 they met", None, "March 3", "--03-03", Cert.MEDIUM),
    ("le 29 février", None, "29 février", "--02-29", Cert.MEDIUM),
]


@pytest.mark.parametrize(("text", "lang", "matched", "when", "cert"), SINGLE)
def test_single_dates(text: str, lang: str | None, matched: str, when: str, cert: Cert) -> None:
    d = only(text, lang)
    assert (d.text, d.when, d.cert) == (matched, when, cert)
    assert d.method
    assert_span(text, d)


@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("6 Novembre 2017", "day month year (fr)"),
        ("May 21, 2017", "month day, year (en)"),
        ("3 März 1921", "day month year (de)"),
        ("06/11/2017", "numeric day-first (ambiguous; by convention)"),
        ("13/04/1921", "numeric day-first"),
        ("04/13/1921", "numeric month-first"),
        ("2017-11-06", "ISO 8601 year-month-day"),
        ("en 1921", "year with cue word 'en'"),
        ("3 mars MCMXXI", "day month year (fr), year in Roman numerals"),
        ("1 mars", "day month, no year (fr)"),
    ],
)
def test_methods(text: str, method: str) -> None:
    assert only(text).method == method


def test_language_hint_names_the_language_of_a_shared_month_name() -> None:
    assert only("3 marzo 1921", "it").method == "day month year (it)"
    assert only("3 marzo 1921", "es").method == "day month year (es)"
    assert only("3 novembre 1921", "it").method == "day month year (it)"


def test_month_names_are_read_whatever_the_hint() -> None:
    assert only("3 März 1921", "fr").when == "1921-03-03"
    assert only("6 Novembre 2017", "en").when == "2017-11-06"
    assert only("12 آذار 1950", "de").when == "1950-03-12"


def test_weekday_that_contradicts_the_date_lowers_certainty() -> None:
    d = only("Montag, den 3. März 1921")  # 3 March 1921 was a Thursday
    assert d.when == "1921-03-03"
    assert d.cert is Cert.MEDIUM
    assert "weekday does not match" in d.method


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("le 25 septembre \n2013 en marge", "25 septembre \n2013"),
        ("le 25   septembre    2013", "25   septembre    2013"),
        ("Mai\n1921", "Mai\n1921"),
    ],
)
def test_dates_wrapped_over_one_line_break(text: str, matched: str) -> None:
    d = only(text)
    assert d.text == matched
    assert_span(text, d)


def test_a_blank_line_ends_the_date() -> None:
    d = only("le 25 septembre\n\n2013 en marge")
    assert (d.text, d.when) == ("25 septembre", "--09-25")


# ---------------------------------------------------------------------------
# find_dates: what is not a date
# ---------------------------------------------------------------------------

NOT_DATES = [
    "",
    "1921",
    "Rue 434",
    "BP.: 699",
    "(00223) 20 28 04 88",
    "Tél. : 20.28.04.88",
    "Résolution 1996/31",
    "2013/2014",
    "A/RES/71/1",
    "68éme session",
    "la 68ème session de l'Assemblée",
    "1 500 000",
    "Page 3",
    "page 1921",
    "06/11/17",
    "06.11.17",
    "en 2000 personnes",
    "in 1500 years",
    "Section 12 may apply",
    "we may 3",
    "In March 3,000 people came",
    "mars",
    "le 1er",
    "version 1.2.2017.4",
    "3 et 5",
    "en 0999",
    "en 2500",
    "25/13/2017",
]


@pytest.mark.parametrize("text", NOT_DATES)
def test_not_dates(text: str) -> None:
    assert find_dates(text) == ()


def test_two_digit_year_is_not_expanded_nor_cut() -> None:
    # the day and month are not guessed out of a numeric date with a two-digit year
    assert find_dates("le 06/11/17 à Bamako") == ()


def test_several_dates_in_order() -> None:
    text = "Né le 3 mars 1921 à Dakar, il arrive en 1945, puis le 6/11/1950."
    found = find_dates(text, lang="fr")
    assert [d.text for d in found] == ["3 mars 1921", "1945", "6/11/1950"]
    assert [d.when for d in found] == ["1921-03-03", "1945", "1950-11-06"]
    for d in found:
        assert_span(text, d)


# ---------------------------------------------------------------------------
# find_dates: ranges, vague dates, bounds, impossible dates
# ---------------------------------------------------------------------------

RANGES = [
    # text, matched, from, to
    ("du 3 au 5 mars 1921", "du 3 au 5 mars 1921", "1921-03-03", "1921-03-05"),
    ("3-5 March 1921", "3-5 March 1921", "1921-03-03", "1921-03-05"),
    ("3–5 mars 1921", "3–5 mars 1921", "1921-03-03", "1921-03-05"),
    ("March 3–5, 1921", "March 3–5, 1921", "1921-03-03", "1921-03-05"),
    ("vom 3. bis 5. März 1921", "vom 3. bis 5. März 1921", "1921-03-03", "1921-03-05"),
    ("del 3 al 5 de marzo de 1921", "del 3 al 5 de marzo de 1921", "1921-03-03", "1921-03-05"),
    ("between 3 and 5 March 1921", "between 3 and 5 March 1921", "1921-03-03", "1921-03-05"),
    ("du 3 mars au 5 avril 1921", "du 3 mars au 5 avril 1921", "1921-03-03", "1921-04-05"),
    ("du 28 décembre au 3 janvier 1921", "du 28 décembre au 3 janvier 1921", "1920-12-28", "1921-01-03"),
    ("3 March – 5 April 1921", "3 March – 5 April 1921", "1921-03-03", "1921-04-05"),
    ("March 3 – April 5, 1921", "March 3 – April 5, 1921", "1921-03-03", "1921-04-05"),
    ("de mars à mai 1921", "de mars à mai 1921", "1921-03", "1921-05"),
    ("from March to May 1921", "from March to May 1921", "1921-03", "1921-05"),
    ("mars-mai 1921", "mars-mai 1921", "1921-03", "1921-05"),
    ("de 1914 à 1918", "de 1914 à 1918", "1914", "1918"),
    ("von 1914 bis 1918", "von 1914 bis 1918", "1914", "1918"),
    ("entre 1914 et 1918", "entre 1914 et 1918", "1914", "1918"),
    ("1914–1918", "1914–1918", "1914", "1918"),
    ("la guerre 1914-1918", "1914-1918", "1914", "1918"),
    ("du 1er au 5 août", "du 1er au 5 août", "--08-01", "--08-05"),
]


@pytest.mark.parametrize(("text", "matched", "from_", "to"), RANGES)
def test_ranges(text: str, matched: str, from_: str, to: str) -> None:
    d = only(text)
    assert (d.text, d.when, d.from_, d.to) == (matched, None, from_, to)
    assert_span(text, d)


@pytest.mark.parametrize(
    "text",
    [
        "1918-1914",  # backwards: not a span
        "2013/2014",
        "1914 et 1918",
    ],
)
def test_not_year_ranges(text: str) -> None:
    assert all(d.from_ is None for d in find_dates(text))


def test_two_days_are_not_a_range() -> None:
    found = find_dates("les 3 et 5 mars 1921")
    assert [(d.text, d.when, d.from_) for d in found] == [("5 mars 1921", "1921-03-05", None)]


VAGUE = [
    # text, when, method prefix
    ("vers 1920", "1920", "vague: 'vers'"),
    ("circa 1920", "1920", "vague: 'circa'"),
    ("c. 1920", "1920", "vague: 'c.'"),
    ("ca. 1920", "1920", "vague: 'ca.'"),
    ("around 1920", "1920", "vague: 'around'"),
    ("um 1920", "1920", "vague: 'um'"),
    ("hacia 1920", "1920", "vague: 'hacia'"),
    ("verso il 1920", "1920", "vague: 'verso il'"),
    ("fin mars 1921", "1921-03", "vague: 'fin'"),
    ("début 1921", "1921", "vague: 'début'"),
    ("mi-mars 1921", "1921-03", "vague: 'mi'"),
    ("early 1921", "1921", "vague: 'early'"),
    ("late March 1921", "1921-03", "vague: 'late'"),
    ("vers le 3 mars 1921", "1921-03-03", "vague: 'vers'"),
]


@pytest.mark.parametrize(("text", "when", "method"), VAGUE)
def test_vague_dates(text: str, when: str, method: str) -> None:
    d = only(text)
    assert (d.text, d.when, d.cert) == (text, when, Cert.LOW)
    assert d.method.startswith(method)
    assert_span(text, d)


BOUNDS = [
    # text, not_before, not_after
    ("avant 1920", None, "1920"),
    ("before 1920", None, "1920"),
    ("avant le 3 mars 1921", None, "1921-03-03"),
    ("après 1920", "1920", None),
    ("after 1920", "1920", None),
    ("nach März 1921", "1921-03", None),
]


@pytest.mark.parametrize(("text", "not_before", "not_after"), BOUNDS)
def test_bounds(text: str, not_before: str | None, not_after: str | None) -> None:
    d = only(text)
    assert (d.text, d.when, d.not_before, d.not_after, d.cert) == (text, None, not_before, not_after, Cert.LOW)


@pytest.mark.parametrize(
    "text",
    ["31 février 2017", "30 February 2017", "32 mars 1921", "31/02/2017", "2017-02-30", "31 avril 1921"],
)
def test_impossible_dates_are_kept_as_text(text: str) -> None:
    d = only(text)
    assert d.text == text
    assert d.iso is None
    assert d.cert is Cert.UNKNOWN
    assert d.method.startswith("not a calendar date")


def test_leap_days() -> None:
    assert only("29 février 2020").when == "2020-02-29"
    assert only("29 février 2021").cert is Cert.UNKNOWN
    assert only("29 February 1900").cert is Cert.UNKNOWN
    assert only("29 February 2000").when == "2000-02-29"


# ---------------------------------------------------------------------------
# parse_date
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "matched", "iso"),
    [
        ("3 mars 1921.", "3 mars 1921", "1921-03-03"),
        ("  mars 1921, ", "mars 1921", "1921-03"),
        (" 1921 ", "1921", "1921"),
        ("en 1921", "1921", "1921"),
        ("le 3 mars", "3 mars", "--03-03"),
        ("1914-1918", "1914-1918", "1914"),
        ("26 NOV.", "26 NOV", "--11-26"),
        ("٦ نوفمبر ٢٠١٧", "٦ نوفمبر ٢٠١٧", "2017-11-06"),
        ("vers 1920", "vers 1920", "1920"),
    ],
)
def test_parse_date(text: str, matched: str, iso: str) -> None:
    d = parse_date(text)
    assert d is not None
    assert (d.text, d.iso) == (matched, iso)
    assert_span(text, d)


@pytest.mark.parametrize(
    "text",
    ["", "  ", "hello", "Paris, 3 mars 1921", "2013/2014", "3 mars 1921 et 4 mars 1921", "Rue 434", "0999", "06/11/17"],
)
def test_parse_date_rejects(text: str) -> None:
    assert parse_date(text) is None


def test_parse_date_language_hint() -> None:
    d = parse_date("3/4/1921", "en")
    assert d is not None
    assert (d.when, d.cert) == ("1921-03-04", Cert.MEDIUM)


# ---------------------------------------------------------------------------
# split_dateline
# ---------------------------------------------------------------------------

DATELINES = [
    # line, place, date text, iso
    ("Bamako le 06 Novembre 2017", "Bamako", "06 Novembre 2017", "2017-11-06"),
    ("Bamako, le 26 NOV 2021", "Bamako", "26 NOV 2021", "2021-11-26"),
    ("NEW YORK - 25 SEPTEMBRE 2013 ", "NEW YORK", "25 SEPTEMBRE 2013", "2013-09-25"),
    ("May 21, 2017", None, "May 21, 2017", "2017-05-21"),
    ("Paris, June 30, 1969, 1100Z.", "Paris", "June 30, 1969", "1969-06-30"),
    ("Genève, ce 3 mars 1921", "Genève", "3 mars 1921", "1921-03-03"),
    ("Fait à Dakar, le 1er février 1960", "Dakar", "1er février 1960", "1960-02-01"),
    ("Berlin, den 3. März 1921", "Berlin", "3. März 1921", "1921-03-03"),
    ("Madrid, 3 de marzo de 1921", "Madrid", "3 de marzo de 1921", "1921-03-03"),
    ("Roma, 3 marzo 1921", "Roma", "3 marzo 1921", "1921-03-03"),
    ("London, 3rd March 1921", "London", "3rd March 1921", "1921-03-03"),
    ("Washington, D.C., March 3, 1921", "Washington, D.C.", "March 3, 1921", "1921-03-03"),
    ("Saint-Louis du Sénégal, le 2 janvier 1900", "Saint-Louis du Sénégal", "2 janvier 1900", "1900-01-02"),
    ("Le Caire, 12 mai 1950", "Le Caire", "12 mai 1950", "1950-05-12"),
    ("Paris le 6/11/2017", "Paris", "6/11/2017", "2017-11-06"),
    ("Bamako, 2017-11-06", "Bamako", "2017-11-06", "2017-11-06"),
    ("Paris, mars 1921", "Paris", "mars 1921", "1921-03"),
    ("À Paris, le 3 mars 1921", "Paris", "3 mars 1921", "1921-03-03"),
    ("A Paris, le 3 mars 1921", "Paris", "3 mars 1921", "1921-03-03"),
    ("At London, 3 March 1921", "London", "3 March 1921", "1921-03-03"),
    ("Abidjan, Côte d'Ivoire, le 3 mars 1921", "Abidjan, Côte d'Ivoire", "3 mars 1921", "1921-03-03"),
    ("Bamako le 06 Novembre 2017 à 10h", "Bamako", "06 Novembre 2017", "2017-11-06"),
    ("القاهرة في 12 مارس 1950", "القاهرة", "12 مارس 1950", "1950-03-12"),
    ("Le 3 mars 1921", None, "3 mars 1921", "1921-03-03"),
    ("— 3 mars 1921 —", None, "3 mars 1921", "1921-03-03"),
    ("Donnerstag, 3. März 1921", None, "Donnerstag, 3. März 1921", "1921-03-03"),
]


@pytest.mark.parametrize(("line", "place", "matched", "iso"), DATELINES)
def test_datelines(line: str, place: str | None, matched: str, iso: str) -> None:
    found = split_dateline(line)
    assert found is not None
    p, d = found
    assert (d.text, d.iso) == (matched, iso)
    assert_span(line, d)
    if place is None:
        assert p is None
    else:
        assert p is not None
        assert p.name == place
        assert p.span is not None
        assert line[p.span.start : p.span.end] == place
        assert p.span.end <= (d.span.start if d.span else 0)


NOT_DATELINES = [
    "Le Groupe de contact s'est réuni le 25 septembre 2013 en marge de la réunion",
    "Objet : réunion du 3 mars",
    "Page 3",
    "2013/2014",
    "",
    "   ",
    "en 1921",
    "Depuis le 3 mars 1921",
    "réunion tenue le 3 mars 1921",
    "Paris, le 3 mars 1921 la conférence a décidé de reprendre ses travaux",
    "Bamako " + "x" * 120 + " 3 mars 1921",
    "Rue 12, le 3 mars 1921",
]


@pytest.mark.parametrize("line", NOT_DATELINES)
def test_not_datelines(line: str) -> None:
    assert split_dateline(line) is None


def test_dateline_keeps_the_impossible_date() -> None:
    found = split_dateline("Paris, 31 février 2017")
    assert found is not None
    place, d = found
    assert place is not None and place.name == "Paris"
    assert (d.text, d.iso, d.cert) == ("31 février 2017", None, Cert.UNKNOWN)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

MONTH_NAMES = {
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    "it": [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ],
    "ar": [
        "يناير",
        "فبراير",
        "مارس",
        "أبريل",
        "مايو",
        "يونيو",
        "يوليو",
        "أغسطس",
        "سبتمبر",
        "أكتوبر",
        "نوفمبر",
        "ديسمبر",
    ],
}

TOKENS = [
    "le",
    "Le",
    "du",
    "au",
    "en",
    "vers",
    "avant",
    "de",
    "à",
    ",",
    ".",
    "-",
    "–",
    "/",
    " ",
    "\n",
    "  ",
    "1er",
    "3",
    "31",
    "06",
    "12",
    "1921",
    "2017",
    "0999",
    "MCMXXI",
    "mars",
    "Nov.",
    "SEPTEMBRE",
    "May",
    "Montag",
    "den",
    "3.",
    "١٢",
    "آذار",
    "كانون الثاني",
    "Paris",
    "NEW YORK",
    "1100Z",
    "10h",
    "06/11/2017",
    "2017-11-06",
    "1914-1918",
    "2013/2014",
    "fin",
    "mi-",
    "c.",
    "早",
]

datey_text = st.lists(st.sampled_from(TOKENS), max_size=14).map(lambda parts: " ".join(parts))
any_text = st.one_of(st.text(max_size=120), datey_text)


def check_value(text: str, d: DateValue) -> None:
    """Check the invariants every returned value keeps."""
    assert_span(text, d)
    for iso in (d.when, d.from_, d.to, d.not_before, d.not_after):
        if iso is None:
            continue
        assert ISO_WHEN.match(iso), iso
        if iso.startswith("--"):
            datetime.date(2000, int(iso[2:4]), int(iso[5:7]))
        elif len(iso) == 10:
            datetime.date.fromisoformat(iso)
        elif len(iso) == 7:
            assert 1 <= int(iso[5:7]) <= 12
    if d.when is None and d.from_ is None and d.not_before is None and d.not_after is None:
        assert d.cert is Cert.UNKNOWN


@settings(max_examples=200, deadline=None)
@given(any_text, st.sampled_from([None, "fr", "en", "de", "ar"]))
def test_find_dates_properties(text: str, lang: str | None) -> None:
    found = find_dates(text, lang=lang)
    last = 0
    for d in found:
        assert d.span is not None
        assert 0 <= last <= d.span.start < d.span.end <= len(text)
        last = d.span.end
        check_value(text, d)


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_split_dateline_and_parse_date_never_raise(text: str) -> None:
    found = split_dateline(text)
    if found is not None:
        place, d = found
        check_value(text, d)
        if place is not None:
            assert place.span is not None and d.span is not None
            assert text[place.span.start : place.span.end] == place.name
            assert place.span.end <= d.span.start
    parsed = parse_date(text)
    if parsed is not None:
        check_value(text, parsed)


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=datetime.date(1000, 1, 1), max_value=datetime.date(2099, 12, 31)),
    st.sampled_from(sorted(MONTH_NAMES)),
    st.booleans(),
)
def test_round_trip_day_month_year(day: datetime.date, lang: str, upper: bool) -> None:
    name = MONTH_NAMES[lang][day.month - 1]
    text = f"{day.day} {name.upper() if upper else name} {day.year}"
    d = only(text, lang)
    assert d.when == day.isoformat()
    assert d.cert is Cert.HIGH
    assert d.text == text


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=datetime.date(1000, 1, 1), max_value=datetime.date(2099, 12, 31)))
def test_round_trip_english_and_iso(day: datetime.date) -> None:
    assert only(f"{MONTH_NAMES['en'][day.month - 1]} {day.day}, {day.year}").when == day.isoformat()
    assert only(day.isoformat()).when == day.isoformat()
    line = f"Paris, le {day.day} {MONTH_NAMES['fr'][day.month - 1]} {day.year}"
    found = split_dateline(line)
    assert found is not None and found[0] is not None
    assert (found[0].name, found[1].when) == ("Paris", day.isoformat())


@pytest.mark.parametrize(
    "text",
    [
        "3" + " " * 5000 + "x",
        "lundi" + " " * 5000 + "x",
        "1914" + " " * 3000 + "-" + " " * 3000 + "x",
        "3" + " - " * 3000 + "x",
        ("le 3 " + " " * 50 + "mars" + " " * 50) * 100,
    ],
)
def test_long_whitespace_runs_stay_fast(text: str) -> None:
    start = time.perf_counter()
    find_dates(text)
    split_dateline(text)
    parse_date(text)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("line", "place", "iso"),
    [
        ("A la Roche le 12 juin 1830.", "la Roche", "1830-06-12"),       # article after "à"
        ("À la Haye, le 3 mai 1850", "la Haye", "1850-05-03"),
        ("Nancy, le Ier mars 1849.", "Nancy", "1849-03-01"),             # Roman "Ier" for the first
        ("Nancy, le IER mars 1849.", "Nancy", "1849-03-01"),
        ("Mainz a. Rh., 3. Okt. 1891", "Mainz a. Rh.", "1891-10-03"),   # German abbreviations
        ("Graz, 14. 3. 1902", "Graz", "1902-03-14"),                     # dotted day-first numbers
        ("7. 9 1918", None, "1918-09-07"),
        ("Salem, June 3d, 1864.", "Salem", "1864-06-03"),                # old English ordinal
    ],
)
def test_datelines_of_older_letters(line: str, place: str | None, iso: str) -> None:
    found = split_dateline(line)
    assert found is not None
    assert (found[0].name if found[0] else None, found[1].when) == (place, iso)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("4. 7. 901.", None),                  # no century is guessed for "901"
        ("31. 2. 1902", None),                 # no impossible day is made up
        ("la suite, le 3 mai 1850", None),     # a lower-case phrase is not a place
        ("premier mars 1849", None),           # a spelt-out day: not a dateline of this form
    ],
)
def test_what_older_datelines_do_not_license(text: str, iso: str | None) -> None:
    found = split_dateline(text)
    assert (found[1].when if found else None) == iso
