"""The PDF letters, read back by independent readers (pypdf, and poppler's pdftotext)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime

import pypdf
import pytest
from fontTools.ttLib import TTFont

from pebs.i18n import catalogues
from pebs.letters import letter_title, render_html, render_pdf
from pebs.letters.templates import templates

BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _pypdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _pdftotext(pdf: bytes) -> str:
    program = shutil.which("pdftotext")
    if program is None:
        pytest.fail("pdftotext (Debian poppler-utils) is needed: make browser installs it")
    done = subprocess.run(
        [program, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def _flat(text: str) -> str:
    """Text without bidi controls, with every run of white space made one space."""
    return " ".join(BIDI_CONTROLS.sub("", text).split())


def _letters_and_digits(text: str) -> str:
    """Only the letters and digits, in the order the text gives them.

    pdftotext rebuilds the reading order of right-to-left lines, but puts the spaces and
    punctuation next to a left-to-right run (a number, a kit ID) on either side of it; the
    letters and digits are what must come in the order they are written.
    """
    return "".join(char for char in text if char.isalnum())


@pytest.mark.parametrize(
    ("language", "kind", "recipient", "words"),
    [
        (
            "fr",
            "risk_result",
            "woman",
            [
                "échantillon",
                "dépistage",
                "Référence",
                "fréquents",
                "Zoë",
                "Müller-Françoise",
                "Léon",
                "Bérard",
            ],
        ),
        (
            "es",
            "risk_result",
            "woman",
            ["años", "mamografía", "Aproximadamente", "Teléfono", "electrónico"],
        ),
        ("it", "risk_result", "woman", ["Perché", "più", "è", "età"]),
        ("nl", "risk_result", "woman", ["röntgenfoto"]),
        ("nl", "risk_result", "doctor", ["patiënte"]),
        ("fr", "risk_result", "doctor", ["consœur", "Évaluation"]),
    ],
)
def test_latin_accents_survive(letter, language, kind, recipient, words) -> None:
    text = _flat(_pypdf_text(render_pdf(letter(language, kind, recipient))))
    assert [word for word in words if word not in text] == []


def test_metadata_and_determinism(letter) -> None:
    data = letter("fr")
    first, second = render_pdf(data), render_pdf(data)
    assert first == second
    assert render_pdf(replace(data, issued_on=date(2027, 3, 10))) != first
    reader = pypdf.PdfReader(io.BytesIO(first))
    assert reader.metadata.title == letter_title(data)
    assert reader.metadata.creation_date == datetime(2027, 3, 9, tzinfo=UTC)
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert reader.metadata.title == "Votre risque de cancer du sein et votre plan de dépistage"


def test_result_letter_says_the_risk_both_ways(letter) -> None:
    text = _flat(_pypdf_text(render_pdf(letter("en", five_year_risk=0.0256))))
    # by hand: 0.0256 is 2.56 in 100, about 3 in 100
    assert "About 3 in 100 women like you will get breast cancer in the next 5 years." in text
    assert "This is a 5-year risk of 2.56%." in text
    assert "Your result: high risk" in text
    assert "Your risk is higher than that of most women of your age." in text
    low = _flat(_pypdf_text(render_pdf(letter("en", five_year_risk=0.004, level="low"))))
    # by hand: 0.004 is 0.4 in 100 (rounds to 0), 4 in 1,000
    assert "About 4 in 1,000 women like you" in low
    assert "0.40%" in low
    assert "Your result: low risk" in low
    french = _flat(_pypdf_text(render_pdf(letter("fr", five_year_risk=0.0123))))
    assert "Environ 1 femme sur 100 comme vous aura un cancer du sein" in french
    assert "1,23 %" in french


def test_provisional_result_says_so(letter) -> None:
    sentence = "This result is provisional."
    assert sentence in _flat(_pypdf_text(render_pdf(letter("en", provisional=True))))
    assert sentence not in _flat(_pypdf_text(render_pdf(letter("en", provisional=False))))


def test_plan_lists_dates_exams_places_and_reasons(letter, monkeypatch) -> None:
    monkeypatch.setitem(
        catalogues()["fr"].messages,
        "reason.test-policy.yearly",
        "Mammographie chaque année (risque élevé)",
    )
    text = _flat(_pypdf_text(render_pdf(letter("fr"))))
    assert "1 avril 2027" in text
    assert "3 avril 2028" in text
    assert "Mammographie chaque année (risque élevé)" in text  # the catalogue's wording
    assert "Ultrasound for dense breasts" in text  # no wording for this rule: the policy's own
    assert "Échographie des seins" in text
    assert "Ce plan court jusqu\u2019au 9 mars 2031." in text
    assert "Centre Léon Bérard" in text
    none = _flat(_pypdf_text(render_pdf(letter("fr", exams=(), plan_end=None))))
    assert "Aucun examen n\u2019est prévu pour vous pour le moment." in none
    assert "Pourquoi" not in none
    assert "jusqu\u2019au" not in none


def test_contact_block(letter) -> None:
    text = _flat(_pypdf_text(render_pdf(letter("en", kind="end_of_study"))))
    assert "Who to contact" in text
    assert "Phone: +33 4 78 78 28 28" in text
    assert "Email: etude@example.org" in text
    assert "We invite you to a last visit on 1 February 2031 at Centre Léon Bérard." in text


def test_doctor_copy_adds_the_model(letter) -> None:
    doctor = _flat(_pypdf_text(render_pdf(letter("en", recipient="doctor"))))
    for expected in [
        "pebs-personalised, version 1.2.0",
        "https://example.org/models/personalised/1.2.0",
        "first_degree_relatives",
        "not known",
        "24.50",
        "rr_prs",
        "1.80",
        "Estimated 5-year risk of breast cancer: 2.56%.",
    ]:
        assert expected in doctor, expected
    woman = _flat(_pypdf_text(render_pdf(letter("en"))))
    assert "pebs-personalised" not in woman
    assert "rr_prs" not in woman


def test_an_unknown_component_is_printed_as_not_known(letter) -> None:
    unknown = {"rr_classical": 1.31, "rr_prs": None, "rr_density": None}
    doctor = _flat(_pypdf_text(render_pdf(letter("en", recipient="doctor", components=unknown))))
    assert "rr_prs not known" in doctor
    assert "rr_density not known" in doctor
    assert "rr_classical 1.31" in doctor


def test_recollection_and_standard_arm(letter) -> None:
    recollection = _flat(_pypdf_text(render_pdf(letter("es", kind="recollection"))))
    assert "kit KIT-2027-0042" in recollection
    standard = _flat(_pypdf_text(render_pdf(letter("it", kind="standard_arm", exams=()))))
    assert "programma nazionale" in standard
    assert "rischio" not in standard


def test_letters_a_kind_cannot_print_are_refused(letter) -> None:
    with pytest.raises(ValueError, match="no doctor's copy"):
        render_pdf(letter("en", kind="recollection", recipient="doctor"))
    with pytest.raises(ValueError, match="needs level"):
        render_pdf(letter("en", level=None))
    with pytest.raises(ValueError, match="needs kit_id"):
        render_pdf(letter("en", kind="recollection", kit_id=None))
    with pytest.raises(ValueError, match="level 'medium' is not one of: low, average"):
        render_pdf(letter("en", level="medium"))
    odd_exam = replace(letter("en").exams[0], modality="thermography")
    with pytest.raises(ValueError, match="modality 'thermography' is not one of: mammography"):
        render_html(letter("en", exams=(odd_exam,)))


def test_long_words_and_many_exams_break_onto_lines_and_pages(letter) -> None:
    url = "https://example.org/" + "a" * 150 + "/card"
    exams = tuple(replace(letter("en").exams[0], due=date(2027 + i, 1, 5)) for i in range(40))
    data = letter(
        "en", recipient="doctor", exams=exams, model=replace(letter("en").model, card_url=url)
    )
    pdf = render_pdf(data)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    text = _pypdf_text(pdf)
    assert url in "".join(text.split())  # cut across lines, nothing lost
    assert all(f"5 January {2027 + i}" in _flat(text) for i in range(40))


def _glyphs_drawn_for(pdf: bytes, character: str) -> set[str]:
    """The names of the glyphs a PDF's fonts draw for ``character`` (page 1).

    Read with pypdf and fontTools from what the PDF holds: each font's ``/ToUnicode`` map gives
    the codes that stand for ``character``, its ``/CIDToGIDMap`` the glyph each code draws (two
    bytes per code), and the embedded font file the glyph's name.
    """
    names = set()
    fonts = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    for font in (reference.get_object() for reference in fonts.values()):
        wanted = f"<{ord(character):04X}>"
        to_unicode = font["/ToUnicode"].get_object().get_data().decode("ascii")
        codes = [
            int(code[1:-1], 16)
            for code, value in re.findall(r"(<[0-9A-F]{4}>) (<[0-9A-F]{4}>)", to_unicode)
            if value == wanted
        ]
        descendant = font["/DescendantFonts"][0].get_object()
        gids = descendant["/CIDToGIDMap"].get_object().get_data()
        embedded = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
        order = TTFont(io.BytesIO(embedded)).getGlyphOrder()
        names.update(order[int.from_bytes(gids[2 * code : 2 * code + 2], "big")] for code in codes)
    return names


def test_brackets_are_drawn_mirrored_in_hebrew_only(letter) -> None:
    """UAX #9 rule L4: in a right-to-left run "(" is drawn with the glyph of ")" and vice versa."""
    hebrew = render_pdf(letter("he"))  # every bracket of this letter is inside Hebrew text
    assert _glyphs_drawn_for(hebrew, "(") == {"parenright"}
    assert _glyphs_drawn_for(hebrew, ")") == {"parenleft"}
    french = render_pdf(letter("fr"))
    assert _glyphs_drawn_for(french, "(") == {"parenleft"}
    assert _glyphs_drawn_for(french, ")") == {"parenright"}


def _hebrew_paragraph(data) -> str:
    """The recollection letter's first paragraph, filled in here from the template's text."""
    block = templates()["he"].letters["recollection", "woman"].blocks[1]
    return block.text.replace("{kit_id}", data.kit_id)


def test_hebrew_reads_in_logical_order(letter) -> None:
    data = letter("he", kind="recollection")
    pdf = render_pdf(data)
    expected = _hebrew_paragraph(data)
    assert expected.startswith("המעבדה לא הצליחה")  # a right-to-left sentence, first word first
    poppler = _pdftotext(pdf)
    # every letter and digit of the paragraph in the order it is written (lines read top down)
    assert _letters_and_digits(expected) in _letters_and_digits(poppler)
    assert "KIT-2027-0042" in _flat(poppler)  # not reversed to 2400-7202-TIK
    # pypdf gives each line's runs left to right; a Hebrew run still reads first letter first
    extracted = _flat(_pypdf_text(pdf))
    for phrase in [
        "נבקש ממך דגימת רוק חדשה",
        "מה עלייך לעשות",
        "שלום רחל כהן,",
        "למי לפנות",
        "KIT-2027-0042",
        "+33 4 78 78 28 28",
        "28 rue Laennec, 69008 Lyon",
    ]:
        assert phrase in extracted, phrase


def test_hebrew_numbers_and_percent(letter) -> None:
    pdf = render_pdf(letter("he"))
    poppler = _flat(_pdftotext(pdf))
    frequency = templates()["he"].words["frequency_100_other"].replace("{count}", "3")
    assert _letters_and_digits(frequency) in _letters_and_digits(poppler)
    assert "2.56%" in poppler
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/Lang"] == "he"


def test_hebrew_brackets_read_the_right_way_round(letter) -> None:
    """A bracket in a right-to-left run is drawn mirrored, but read back as the character written.

    Drawing the mirror image by swapping "(" and ")" in the text would make both readers give
    ")גוש" and "הפרשה(".
    """
    pdf = render_pdf(letter("he"))
    blocks = templates()["he"].letters["risk_result", "woman"].blocks
    sentence = next(block.text for block in blocks if block.text and "(גוש" in block.text)
    aside = sentence[sentence.index("(") : sentence.index(")") + 1]
    assert aside == "(גוש, שינוי בעור או בפטמה, הפרשה)"  # the template's wording, by eye
    assert aside in _flat(_pypdf_text(pdf))
    poppler = _flat(_pdftotext(pdf))  # poppler moves the commas: "(גוש ,שינוי"
    assert "(גוש" in poppler
    assert "הפרשה)" in poppler
    assert ")גוש" not in poppler


@pytest.mark.parametrize("kind", ["risk_result", "recollection"])
def test_hebrew_letters_are_deterministic(letter, kind) -> None:
    data = letter("he", kind=kind)
    assert render_pdf(data) == render_pdf(data)
