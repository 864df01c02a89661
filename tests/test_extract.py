"""Unit tests of the structure, language, people and document-type extractors.

Each case is a short text written for the test. Cases that must not be guessed are as
important as the ones that must be found.
"""

from __future__ import annotations

import pytest

from ingest.extract.doctype import classify
from ingest.extract.language import assign_languages, foreign_runs
from ingest.extract.metadata import extract
from ingest.extract.people import letter_parties, parse_affiliation
from ingest.extract.structure import parse_structure
from ingest.model import BlockKind, Cert, DocType, PartyKind

LETTER = """Association des Amis du Livre
12 rue des Écoles, Lyon

Lyon, le 3 mars 1921

Le Président de l'Association des Amis du Livre

A

Monsieur Jean Martin, Directeur de la Bibliothèque municipale

Objet : prêt de manuscrits

Monsieur le Directeur,

Nous avons l'honneur de vous demander le prêt de trois manuscrits pour l'exposition que
notre association prépare pour le printemps prochain dans les salles de la mairie.

Veuillez agréer, Monsieur le Directeur, l'expression de nos sentiments distingués.

Ampliation :
- Mairie de Lyon

Le Président,

Paul Durand
"""


def kinds(text: str) -> list[str]:
    return [b.kind.value for b in parse_structure(text).blocks]


def test_letter_blocks_in_order() -> None:
    assert kinds(LETTER) == [
        "letterhead", "dateline", "sender", "addressee", "addressee", "subject", "salute",
        "paragraph", "closing", "cc-head", "cc-item", "signature", "signature",
    ]


def test_letter_parties_keep_name_role_and_organisation_apart() -> None:
    _, x = extract(parse_structure(LETTER))
    assert x.doc_type is DocType.LETTER
    (sender,) = x.senders
    assert (sender.name, sender.kind, sender.cert) == ("Paul Durand", PartyKind.PERSON, Cert.HIGH)
    assert sender.affiliations[0].role == "Président"
    assert sender.affiliations[0].org == "Association des Amis du Livre"
    (addressee,) = x.addressees
    assert addressee.name == "Jean Martin"
    assert addressee.affiliations[0].role == "Directeur"
    assert addressee.affiliations[0].org == "Bibliothèque municipale"
    assert x.date is not None and x.date.when == "1921-03-03"
    assert x.place is not None and x.place.name == "Lyon"
    assert x.subject == "Objet : prêt de manuscrits"


def test_markdown_traces_become_inlines_and_syntax_is_dropped() -> None:
    s = parse_structure("## Titre\n\nUn **mot** et un [lien](#) et une étoile \\* échappée.\n")
    heading, para = s.blocks
    assert heading.kind is BlockKind.HEADING and heading.text == "Titre"
    assert para.text == "Un mot et un lien et une étoile * échappée."
    assert [(i.tag, para.text[i.start:i.end]) for i in para.inlines] == [("hi", "mot"), ("ref", "lien")]


def test_pdf_reflow_joins_lines_but_keeps_line_breaks() -> None:
    # A PDF extraction: a blank line after every line, a line of spaces between paragraphs.
    text = (
        "La réunion du comité a examiné la situation\n\nau Mali et a suivi les exposés des\n\n"
        "ministres présents à New York pour la session.\n\n \n\n"
        "Elle a adopté la déclaration suivante\n\nsans aucune objection des membres\n\n"
        "et a remercié le pays hôte de son accueil.\n\n \n\n"
        "Le comité a décidé de se réunir de nouveau\n\nlors de la prochaine session annuelle.\n"
    )
    s = parse_structure(text)
    assert [b.text for b in s.blocks] == [
        "La réunion du comité a examiné la situation\nau Mali et a suivi les exposés des\n"
        "ministres présents à New York pour la session.",
        "Elle a adopté la déclaration suivante\nsans aucune objection des membres\n"
        "et a remercié le pays hôte de son accueil.",
        "Le comité a décidé de se réunir de nouveau\nlors de la prochaine session annuelle.",
    ]
    assert any("re-flowed" in n for n in s.normalisations)


def test_roman_numbered_list() -> None:
    s = parse_structure("La réunion a convenu de ce qui suit :\n\ni. Premier point.\n\nii. Second point.\n")
    assert [(b.kind.value, b.label) for b in s.blocks] == [
        ("paragraph", None), ("list-item", "i."), ("list-item", "ii.")]


def test_short_passages_inherit_the_document_language() -> None:
    s = parse_structure(LETTER)
    blocks, main, shares = assign_languages(s.blocks)
    assert main == "fr"
    dateline = next(b for b in blocks if b.kind is BlockKind.DATELINE)
    assert (dateline.lang, dateline.lang_cert) == ("fr", Cert.LOW)
    assert sum(sh.percent for sh in shares) == 100


def test_arabic_run_in_a_french_line() -> None:
    runs = foreign_runs("Association Malienne (AMPS) جمعية مالي للسلام", "fr")
    assert len(runs) == 1 and runs[0][2] == "ar"


def test_english_passage_in_a_french_document_is_marked() -> None:
    text = LETTER.replace(
        "Veuillez agréer",
        "The committee will meet in London next week to discuss the loan of the manuscripts "
        "and the insurance of the exhibition.\n\nVeuillez agréer",
    )
    blocks, main, shares = assign_languages(parse_structure(text).blocks)
    assert main == "fr"
    assert any(b.lang == "en" and b.lang_cert is not Cert.LOW for b in blocks)
    assert {sh.code for sh in shares} == {"fr", "en"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**Press Release**\n\nMay 21, 2017\n\nThe association announces a new programme for schools.\n",
         DocType.PRESS_RELEASE),
        ("RAPPORT\n\nDE LA RÉUNION DU COMITÉ\n\nLe comité s'est réuni le 3 mars.\n", DocType.REPORT),
        (LETTER, DocType.LETTER),
    ],
)
def test_document_type_from_form_and_wording(text: str, expected: DocType) -> None:
    doc_type, cert, method = classify(parse_structure(text).blocks)
    assert doc_type is expected and cert in (Cert.HIGH, Cert.MEDIUM) and method


def test_type_is_not_guessed_without_a_cue() -> None:
    doc_type, cert, _ = classify(parse_structure("Trois lignes de texte sans forme particulière.\n").blocks)
    assert (doc_type, cert) == (DocType.UNKNOWN, Cert.UNKNOWN)


def test_no_sender_is_invented() -> None:
    structure = parse_structure("Monsieur,\n\nJe vous écris au sujet de la réunion de demain.\n\n"
                                "Veuillez agréer mes salutations.\n")
    senders, _ = letter_parties(structure.blocks)
    assert senders == ()


def test_role_only_phrase_is_not_cut() -> None:
    text = "Officier de l'Ordre National"
    a = parse_affiliation(text, 0, len(text), 0)
    assert (a.role, a.org) == (text, None)


def test_undated_text_gets_a_bound_not_a_date() -> None:
    text = ("Accueil Actualités Le ministre en visite\n\n## Le ministre en visite\n\n"
            "Le ministre s'est rendu à Alger le 8 août 2022 pour des entretiens avec son homologue, "
            "après une première visite en mars 2021.\n\nQuitter la version mobile\n")
    _, x = extract(parse_structure(text))
    assert x.date is not None
    assert x.date.when is None and x.date.not_before == "2022-08-08" and x.date.cert is Cert.LOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Washington, March 3, 1970, 1630Z.\n\n4411. Subject: Talks with the Minister.\n\n1. The talks went well.\n",
         DocType.TELEGRAM),
        ("Washington, March 3, 1970.\n\nSUBJECT\n\nBudget of the mission\n\nThe budget is short of funds.\n",
         DocType.MEMORANDUM),
        ("Mesdames et Messieurs,\n\nC'est un honneur de prendre la parole devant cette assemblée.\n",
         DocType.SPEECH),
        ("Lyon, 3 mars 1921.\n\nMon cher ami, je te remercie de ta lettre et de tes nouvelles.\n\n"
         "Je t'embrasse.\n", DocType.LETTER),
    ],
)
def test_document_type_from_wording(text: str, expected: DocType) -> None:
    doc_type, cert, _ = classify(parse_structure(text).blocks)
    assert doc_type is expected and cert is not Cert.HIGH


def test_a_dated_narrative_is_not_taken_for_a_letter() -> None:
    text = ("Paris, 3 mars 1921.\n\nLa séance s'est ouverte à dix heures. Le comité a examiné les comptes "
            "de l'exercice et approuvé le rapport du trésorier sans discussion.\n")
    assert classify(parse_structure(text).blocks)[0] is DocType.UNKNOWN


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Lyon, 3 mars 1921.\n\nMon cher ami, je te remercie de ta lettre.\n\nJe t'embrasse.\n\nPAUL DURAND.\n",
         "PAUL DURAND"),
        ("Lyon, 3 mars 1921.\n\nMon cher ami, je te remercie de ta lettre. Votre tout dévoué, P. Durand.\n",
         "P. Durand"),
        ("Lyon, 3 mars 1921.\n\nMon cher ami, je te remercie de ta lettre. J'embrasse le cher Arthur.\n", None),
    ],
)
def test_sender_from_the_name_closing_the_letter(text: str, name: str | None) -> None:
    _, x = extract(parse_structure(text))
    assert x.doc_type is DocType.LETTER
    assert [p.name for p in x.senders] == ([name] if name else [])
    assert all(p.cert is Cert.LOW for p in x.senders)


P = "Le temps était beau et la foule nombreuse sur les quais de la ville ce matin-là."
E = "The weather was fine and a large crowd gathered along the river that morning."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # printed forms that borrow a letter's furniture
        (f"Our Boston Correspondence.\n\nBoston, May 2, 1864.\n\nDear Sir:\n\n{E}\n\nYours truly,\n\nVIATOR.\n",
         DocType.ARTICLE),
        (f"Paris, 3 mai 1888.\n\nMonsieur le Rédacteur,\n\n{P}\n\nAgréez mes salutations.\n\nJ. Morel.\n",
         DocType.ARTICLE),
        (f"Jean Durand. — Les Fleuves de France. Paris, Hachette, 1887, 312 p. in-8.\n\n{P}\n\n{P}\n",
         DocType.ARTICLE),
        (f"Les quais\n\n{P}\n\n{P}\n\n{P}\n\nPIERRE LAMY.\n", DocType.ARTICLE),
        (f"Messieurs,\n\nChers Élèves,\n\n{P}\n\n{P}\n\nJean Durand.\n\nLyon, juillet 1870.\n", DocType.SPEECH),
        (f"Mr. Chairman, Mr. Mayor, Your Excellencies, and distinguished guests:\n\n{E}\n", DocType.SPEECH),
        (f"Good evening:\n\nI have asked for this time tonight to speak to you.\n\n{E}\n", DocType.SPEECH),
        (f"Discours prononcé à la distribution des prix, le 4 août 1862.\n\nMessieurs,\n\n{P}\n", DocType.SPEECH),
        (f"Petition of John Doe of Georgetown to the Commissioners.\n\n{E}\n\nJohn Doe\n", DocType.PETITION),
        (f"Mr. Brown:\n\nI submit the following report on my mission to the archives.\n\n{E}\n", DocType.REPORT),
        (f"Washington, May 2, 1964.\n\nA PAPER ON TRADE\n\nI. The Outlook\n\n{E}\n\nII. The Options\n\n{E}\n",
         DocType.REPORT),
        # a letter that opens with "Messieurs," and is dated and signed stays a letter
        (f"Besançon, le 3 août 1840.\n\nMessieurs, j'ai appris votre décision. {P}\n\n{P}\n\nP. DURAND.\n",
         DocType.LETTER),
    ],
)
def test_printed_forms_and_addresses(text: str, expected: DocType) -> None:
    assert classify(parse_structure(text).blocks)[0] is expected


def test_a_titled_text_without_a_name_at_its_foot_is_not_called_an_article() -> None:
    text = f"Les quais\n\n{P}\n\n{P}\n\n{P}\n"
    assert classify(parse_structure(text).blocks)[0] is DocType.UNKNOWN


def test_authors_of_an_article_from_the_names_at_its_foot() -> None:
    text = f"Les quais\n\n{P}\n\n{P}\n\n{P}\n\nPaul Lamy.\nJ.-H. Morel.\nLucien Vidal.\n"
    _, x = extract(parse_structure(text))
    assert x.doc_type is DocType.ARTICLE
    assert [p.name for p in x.authors] == ["Paul Lamy", "J.-H. Morel", "Lucien Vidal"]
    assert all(p.cert is Cert.LOW and p.method for p in x.authors)
    assert not x.senders


@pytest.mark.parametrize(
    ("text", "name", "role"),
    [
        ("Washington, May 2, 1969.\n\nDear Mr. Allen:\n\n{E}\n\nSincerely,\n\nJohn Doe\n", "Allen", None),
        ("Washington, May 2, 1969.\n\nDear Ambassador Smith:\n\n{E}\n\nSincerely,\n\nJohn Doe\n", "Smith",
         "Ambassador"),
        ("Wien, 2. Mai 1910\n\nmein lieber und verehrter Herr Brandes,\n\n{G}\n\nHerzlich\nIhr\n\nArthur\n",
         "Brandes", None),
        ("Genève, 19 déc. 1914\n\nCher Monsieur Paul Meyer\n\n{P}\n\nVeuillez agréer mes sentiments.\n\nR. Roux\n",
         "Paul Meyer", None),
        # the vocative opens the first paragraph
        ("Lyon, 3 mars 1921.\n\nMon cher Marcou, j'ai appris avec plaisir la nouvelle de tes succès. {P}\n\n"
         "Adieu, mon cher ami.\n\nL. PASTEUR.\n", "Marcou", None),
        # an address line above the letter: a lone surname after the honorific, the office apart
        ("Lille, 12 décembre 1854.\n\nA M. DUPRÉ, DOYEN DE LA FACULTÉ DES SCIENCES DE LYON\n\n"
         "Mon cher collègue, je regrette bien que votre lettre m'ait prévenu. {P}\n\nL. PASTEUR.\n", "DUPRÉ",
         "DOYEN"),
        ("Lyon, 10 février 1849.\n\nA MONSIEUR DURAND, RECTEUR DE L'ACADÉMIE DE LYON\n\n"
         "Monsieur, une demande d'une haute gravité pour moi vous sera faite. {P}\n\n"
         "Recevez, Monsieur, l'assurance de mon profond respect.\n\nLouis MOREL.\n\nJ'ai eu 26 ans hier.\n",
         "DURAND", "RECTEUR"),
        ("Herrn Dr. Karl Weiß\nGraz\nVilla Rosa\n\nWien, 4. Juli 1901\n\nmein lieber Karl,\n\n{G}\n\nDein\nArthur\n",
         "Karl Weiß", None),
    ],
)
def test_addressee_from_salutations_vocatives_and_address_lines(text: str, name: str, role: str | None) -> None:
    G = "Ich war zuerst vierzehn Tage in Salzburg, und es war sehr schön, aber das Wetter war schlecht."
    _, x = extract(parse_structure(text.format(E=E, P=P, G=G)))
    assert x.doc_type is DocType.LETTER
    assert [p.name for p in x.addressees] == [name]
    assert [a.role for p in x.addressees for a in p.affiliations if a.role][:1] == ([role] if role else [])


@pytest.mark.parametrize(
    "salute", ["Mon cher ami,", "Dear Sir:", "Monsieur,", "Gentlemen:", "Ma bien bonne amie,"]
)
def test_a_salutation_without_a_name_gives_no_addressee_name(salute: str) -> None:
    text = f"Lyon, 3 mars 1921.\n\n{salute}\n\n{P}\n\nVeuillez agréer mes salutations.\n\nJ. Morel\n"
    _, x = extract(parse_structure(text))
    assert all(p.name is None for p in x.addressees)


def test_complimentary_close_is_not_read_as_a_name() -> None:
    text = f"Wien, 2. Mai 1910\n\nLieber Freund,\n\n{P}\n\nVon Herzen Ihr\n\nArthur Schnitzler\n"
    _, x = extract(parse_structure(text))
    assert [p.name for p in x.senders] == ["Arthur Schnitzler"]
    assert all("Herzen" not in n for p in x.senders for n in [p.label, *(a.text for a in p.affiliations)])


def test_a_closing_word_inside_the_body_does_not_close_the_letter() -> None:
    long = " ".join([P] * 4)
    text = (f"Genève, 6 février 1916\n\nCher Monsieur\n\nJe vous remercie cordialement de votre envoi. {long}\n\n"
            f"{long}\n\nVeuillez croire, cher Monsieur, à mes sentiments dévoués.\n\nRomain Roux\n")
    kinds = [b.kind for b in parse_structure(text).blocks]
    assert kinds[2] is BlockKind.PARAGRAPH and kinds[4] is BlockKind.CLOSING


def test_a_dateline_run_into_the_first_paragraph_dates_the_letter() -> None:
    text = (f"Besançon, 26 janvier 1840. Mes chers parents, je voulais vous écrire plus tôt. {P}\n\n"
            "Je vous embrasse, mes chers parents.\n\nVotre fils dévoué PASTEUR L.\n")
    _, x = extract(parse_structure(text))
    assert x.date is not None and x.date.when == "1840-01-26"
    assert x.place is not None and x.place.name == "Besançon"
    assert x.doc_type is DocType.LETTER
    # a sentence that merely starts with a year is no dateline
    _, y = extract(parse_structure(f"En 1840. Le comité a siégé. {P}\n"))
    assert y.date is None or y.date.when is None


def test_a_speech_is_dated_by_the_day_it_says_it_was_delivered() -> None:
    text = (f"Discours prononcé à la distribution des prix le jeudi 4 août 1862.\n\nMessieurs,\n\n{P}\n\n"
            "Le 1er janvier 1850, déjà, nous le disions.\n")
    _, x = extract(parse_structure(text))
    assert x.doc_type is DocType.SPEECH
    assert x.date is not None and x.date.when == "1862-08-04" and x.date.cert is Cert.MEDIUM


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("May 3, 1977\n\nDr. Ann Lee, University of Iowa\nDr. Paul Roe (Absent), Yale University\n\n"
         f"Other Persons Present\nJohn Doe\n\n{E}\n", DocType.MINUTES),
        (f"May 3, 1977\n\nThe Future of the Series\n\nSummary\n\n{E}\n\nRecommendation: That you approve the plan.\n",
         DocType.MEMORANDUM),
    ],
)
def test_minutes_and_action_memoranda_from_wording(text: str, expected: DocType) -> None:
    assert classify(parse_structure(text).blocks)[0] is expected


def test_a_letter_under_a_heading_is_known_by_its_vocative_and_closing() -> None:
    text = (f"Paris fi janvier 1841\n\nMonsieur le secrétaire, votre lettre m'a surpris. {P}\n\n{P}\n\n"
            "Je suis votre dévoué et fidèle\n\nP. DURAND.\n")
    assert classify(parse_structure(text).blocks)[0] is DocType.LETTER


def test_the_main_language_comes_first_in_the_shares_even_on_a_tie() -> None:
    """Found by the property test: half Latin letters too short to tell, half Arabic."""
    _, x = extract(parse_structure("Paris, le 3 mars 1921. P.-J. PROUDHON. القاهرة القاهرة القاهرة"))
    assert x.languages and x.languages[0].code == x.language
