"""A generator of synthetic archival documents for the benchmarks, of any number.

Documents vary as real ones do: letters, press releases, meeting reports and news
articles, in French, English and German, short and long, some with an Arabic line in the
letterhead, some with lists, page breaks or a copy list. They are assembled from parts
written for the generator (not copies of the seeds), by a seeded random generator: the
same arguments always give the same files.

Usage: python bench/corpus.py OUT_DIR [--count 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

PLACES = {
    "fr": ["Bamako", "Lyon", "Dakar", "Paris", "Tombouctou", "Mopti", "Bordeaux", "Genève"],
    "en": ["London", "Manchester", "Accra", "New York", "Edinburgh", "Nairobi"],
    "de": ["Berlin", "Hamburg", "Wien", "Leipzig", "Zürich"],
}
MONTHS = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"],
}
FIRST = ["Aminata", "Moussa", "Claire", "Jean", "Fatoumata", "Edith", "Samuel", "Ousmane", "Hélène", "Karl",
         "Margarethe", "Thomas", "Awa", "Ibrahim", "Louise", "Henry"]
LAST = ["Traoré", "Keita", "Dupont", "Martin", "Coulibaly", "Hartley", "Whitcombe", "Diarra", "Marchal",
        "Schneider", "Bauer", "Sangaré", "Fischer", "Bennett", "Cissé", "Moreau"]
ORGS = {
    "fr": ["Association pour la Paix et le Dialogue", "Comité régional de la culture", "Union des coopératives",
           "Fondation pour l'éducation", "Conseil des sages"],
    "en": ["Society for Rural Schools", "Council of Churches", "Trade Union Congress", "Library Committee"],
    "de": ["Verein für Volksbildung", "Gesellschaft der Freunde", "Arbeiterbildungsverein"],
}
OFFICES = {"fr": ["Président", "Secrétaire général", "Directeur", "Trésorière"],
           "en": ["Chairman", "Secretary", "Director", "Treasurer"],
           "de": ["Vorsitzender", "Schriftführer", "Direktor"]}
SENTENCES = {
    "fr": [
        "Nous avons l'honneur de vous informer que la réunion annuelle se tiendra au siège de l'association.",
        "Le comité a examiné avec attention les propositions présentées lors de la dernière séance.",
        "Les travaux de réhabilitation de l'école du quartier ont commencé au début du mois.",
        "Nous sollicitons votre bienveillant soutien pour l'organisation de cette rencontre.",
        "La situation des familles déplacées demeure préoccupante dans plusieurs villages de la région.",
        "Les membres du bureau ont approuvé le rapport financier à l'unanimité des présents.",
        "Une délégation se rendra sur place afin de rencontrer les autorités coutumières.",
        "Nous vous prions de bien vouloir nous faire parvenir les documents demandés avant la fin du mois.",
        "Cette initiative s'inscrit dans le cadre du programme de cohésion sociale et de vivre ensemble.",
        "Les jeunes de la commune ont participé nombreux aux activités culturelles et sportives.",
    ],
    "en": [
        "I write to thank you for the parcel of books, which reached us safely last week.",
        "The committee considered the proposals put forward at its last meeting with great care.",
        "Work on the new school building began at the start of the month and is going well.",
        "We would be grateful for your support in arranging the conference in the spring.",
        "The situation of the displaced families remains a matter of serious concern.",
        "The members of the board approved the financial report without a dissenting vote.",
        "A delegation will travel to the district to meet the local authorities next week.",
        "Please send us the documents we requested before the end of the month.",
        "This initiative forms part of the wider programme for peace and living together.",
        "Young people from the town took part in great numbers in the cultural activities.",
    ],
    "de": [
        "Ich danke Ihnen herzlich für die Bücher, die uns in der vergangenen Woche erreicht haben.",
        "Der Vorstand hat die in der letzten Sitzung vorgelegten Vorschläge sorgfältig geprüft.",
        "Die Arbeiten am neuen Schulgebäude haben zu Beginn des Monats begonnen.",
        "Wir wären Ihnen für Ihre Unterstützung bei der Vorbereitung der Tagung sehr dankbar.",
        "Die Lage der vertriebenen Familien gibt weiterhin Anlass zu großer Sorge.",
        "Die Mitglieder haben den Kassenbericht einstimmig angenommen.",
        "Eine Abordnung wird in der nächsten Woche in den Bezirk reisen.",
        "Bitte senden Sie uns die erbetenen Unterlagen bis zum Ende des Monats.",
    ],
}
SALUTES = {"fr": ["Monsieur le Directeur,", "Madame la Présidente,", "Cher ami,", "Monsieur le Ministre,"],
           "en": ["Dear Sir,", "Dear Mrs. {last},", "Dear Mr. {last},", "Dear Colleague,"],
           "de": ["Sehr geehrter Herr {last},", "Sehr geehrte Frau {last},", "Lieber Freund,"]}
CLOSINGS = {
    "fr": ["Veuillez agréer, Monsieur, l'expression de mes sentiments distingués.",
           "Dans l'attente de votre réponse, je vous prie d'agréer l'assurance de ma haute considération."],
    "en": ["Yours sincerely,", "Yours faithfully,", "With kind regards,"],
    "de": ["Mit freundlichen Grüßen", "Hochachtungsvoll"],
}
ARABIC = ["جمعية السلام والحوار", "الجمهورية الإسلامية", "بسم الله الرحمن الرحيم"]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _date(rng: random.Random, lang: str) -> str:
    day, month, year = rng.randint(1, 28), rng.randrange(12), rng.randint(1890, 2024)
    if lang == "en":
        return f"{MONTHS[lang][month]} {day}, {year}" if rng.random() < 0.5 else f"{day} {MONTHS[lang][month]} {year}"
    if lang == "de":
        return f"{day}. {MONTHS[lang][month]} {year}"
    return f"le {day} {MONTHS[lang][month]} {year}"


def _paragraphs(rng: random.Random, lang: str, count: int) -> list[str]:
    return [" ".join(rng.choice(SENTENCES[lang]) for _ in range(rng.randint(2, 6))) for _ in range(count)]


def letter(rng: random.Random, lang: str, size: int) -> str:
    """Return a letter: letterhead, dateline, addressee, salutation, body, closing, signature."""
    org = rng.choice(ORGS[lang])
    head = [org.upper()]
    if lang == "fr" and rng.random() < 0.3:
        head.append(rng.choice(ARABIC))
    sender, addressee = _name(rng), _name(rng)
    parts = ["\n".join(head), f"{rng.choice(PLACES[lang])}, {_date(rng, lang)}",
             f"{rng.choice(OFFICES[lang])}\n{addressee}\n{rng.choice(ORGS[lang])}",
             rng.choice(SALUTES[lang]).format(last=addressee.split()[-1])]
    parts += _paragraphs(rng, lang, size)
    parts += [rng.choice(CLOSINGS[lang]), f"{sender}\n{rng.choice(OFFICES[lang])}"]
    if rng.random() < 0.2:
        parts.append({"fr": "Ampliation :", "en": "Copy to:", "de": "Abschrift an:"}[lang] + "\n- "
                     + "\n- ".join(rng.choice(ORGS[lang]) for _ in range(2)))
    return "\n\n".join(parts) + "\n"


def press_release(rng: random.Random, lang: str, size: int) -> str:
    """Return a press release: heading, place and date, body, contact."""
    title = {"fr": "COMMUNIQUÉ DE PRESSE", "en": "PRESS RELEASE", "de": "PRESSEMITTEILUNG"}[lang]
    parts = [title, f"{rng.choice(PLACES[lang])}, {_date(rng, lang)}", *_paragraphs(rng, lang, size)]
    parts.append({"fr": "Contact presse", "en": "Press contact", "de": "Pressekontakt"}[lang] + f": {_name(rng)}")
    return "\n\n".join(parts) + "\n"


def report(rng: random.Random, lang: str, size: int) -> str:
    """Return a meeting report: heading, attendance list, numbered sections, page breaks."""
    head = {"fr": "RAPPORT DE LA RÉUNION DU", "en": "REPORT OF THE MEETING OF", "de": "BERICHT DER SITZUNG VOM"}
    present = {"fr": "Étaient présents :", "en": "Present:", "de": "Anwesend:"}[lang]
    parts = [f"{head[lang]} {_date(rng, lang).removeprefix('le ')}", present + "\n"
             + "\n".join(f"- {_name(rng)}, {rng.choice(OFFICES[lang])}" for _ in range(rng.randint(3, 7)))]
    for n, p in enumerate(_paragraphs(rng, lang, size), start=1):
        parts.append(f"{n}. {p}")
        if n % 4 == 0:
            parts.append(f"Page {n // 4 + 1}")
    return "\n\n".join(parts) + "\n"


def article(rng: random.Random, lang: str, size: int) -> str:
    """Return a news article: title, byline, body."""
    title = rng.choice(SENTENCES[lang]).rstrip(".")
    parts = [title, {"fr": "Par", "en": "By", "de": "Von"}[lang] + f" {_name(rng)}"]
    parts += _paragraphs(rng, lang, size)
    return "\n\n".join(parts) + "\n"


KINDS = ((letter, 0.55), (press_release, 0.15), (report, 0.15), (article, 0.15))
LANGS = (("fr", 0.55), ("en", 0.35), ("de", 0.10))


def document(rng: random.Random) -> tuple[str, str]:
    """Return (kind, text) of one document, of a kind, language and length drawn as real ones vary."""
    (make,) = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])
    (lang,) = rng.choices([code for code, _ in LANGS], [w for _, w in LANGS])
    size = min(int(rng.lognormvariate(1.3, 0.6)) + 1, 30)  # paragraphs: mostly 2 to 6, a few long ones
    return make.__name__, make(rng, lang, size)


def write_corpus(out: Path, count: int, seed: int = 1) -> list[Path]:
    """Write ``count`` documents as OUT/<kind>-<n>.txt; return their paths."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    width = len(str(count))
    for n in range(count):
        kind, text = document(rng)
        path = out / f"{kind}-{n:0{width}d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write_corpus(args.out, args.count, args.seed)


if __name__ == "__main__":
    main()
