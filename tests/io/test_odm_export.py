"""The CDISC ODM 1.3.2 writer: valid against the official schema, every value read back by an
independent parse (lxml, the ODM 1.3.2 data formats of section 2.13), streamed page by page."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from factories import ODM_SCHEMA, odm_schema
from pebs.io.exports import CASEBOOK_WRITERS, FORMATS, CasebookWriter
from pebs.io.exports.odm import ODM, odm_value
from pebs.trial.casebook import Casebook, CasebookStudy, FormInstance, StudySite
from pebs.trial.forms import FORMS
from pebs.trial.vocabularies import MODALITIES

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
STUDY = CasebookStudy(
    "mypebs-demo", 'A "demo" <study> & its title', ("standard", "risk-based"),
    (StudySite("FR-PA", "Paris \u2013 Hôpital", "FR"), StudySite("IT-TO", "Torino", "IT")),
)  # fmt: skip
AT = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)

# ODM 1.3.2, section 2.13 "Data Formats": the allowed string pattern of each data type.
PATTERNS = {
    "integer": r"-?\d+",
    "float": r"-?\d+(\.\d+)?",
    "date": r"\d{4}-\d{2}-\d{2}",
    "datetime": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(([+-]\d{2}:\d{2})|Z)?",
    "boolean": r"true|false|1|0",
    "text": r"(?s).*",
}


def _read(text: str, data_type: str):
    """A value in its ODM 1.3.2 format, read without pebs."""
    assert re.fullmatch(PATTERNS[data_type], text), (data_type, text)
    match data_type:
        case "integer":
            return int(text)
        case "float":
            return float(text)
        case "date":
            return date.fromisoformat(text)
        case "datetime":
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        case "boolean":
            return text in ("true", "1")
    return text


def _sample(data_type: str, item_name: str, codes: tuple[str, ...], n: int):
    if codes:
        return int(codes[-1]) if data_type == "integer" else codes[n % len(codes)]
    return {
        "text": f'<{item_name}> & "quoted" \u2013 é {n}',
        "integer": 3 + n,
        "float": 0.1 + 0.2 + n,
        "date": date(2025, 1, 1 + n),
        "datetime": AT,
        "boolean": n % 2 == 0,
    }[data_type]


def _full(study_id: str, site: str, n: int) -> Casebook:
    """A casebook with a value for every item of every form (repeating forms twice)."""
    forms = []
    for form in FORMS:
        for key in (10 + n, 20 + n) if form.repeating else (None,):
            values = {item.name: _sample(item.data_type, item.name, item.codes, key or n)
                      for item in form.items}  # fmt: skip
            if "arm" in values:
                values["arm"] = "risk-based"
            forms.append(FormInstance(form.name, key, values))
    return Casebook(study_id, site, site[:2], False, tuple(forms))


WITHDRAWN = Casebook("IT-TO-000009", "IT-TO", "IT", True,
                     (FormInstance("registration", None, {"site": "IT-TO"}),))  # fmt: skip
PAGES = [[_full("FR-PA-000001", "FR-PA", 0), WITHDRAWN], [_full("IT-TO-000002", "IT-TO", 1)]]


def _document(pages=PAGES) -> etree._Element:
    return etree.fromstring(b"".join(ODM.chunks(STUDY, pages)))


def test_the_writer_is_registered_as_a_casebook_format() -> None:
    assert CASEBOOK_WRITERS["odm"] is ODM
    assert "odm" in FORMATS
    assert isinstance(ODM, CasebookWriter)
    assert (ODM.media_type, ODM.extension) == ("application/xml", "xml")


def test_the_file_is_valid_against_the_official_schema() -> None:
    schema = odm_schema()
    document = _document()
    assert schema.validate(document), schema.error_log
    root = document
    assert (root.get("FileType"), root.get("ODMVersion"), root.get("SourceSystem")) == (
        "Snapshot", "1.3.2", "pebs")  # fmt: skip
    assert root.get("SourceSystemVersion")
    assert datetime.fromisoformat(root.get("CreationDateTime").replace("Z", "+00:00")).tzinfo
    assert _document().get("FileOID") != root.get("FileOID")  # one per file


def test_an_empty_export_and_a_broken_one_are_told_apart_by_the_schema() -> None:
    schema = odm_schema()
    assert schema.validate(_document([]))
    broken = _document()
    subject = broken.find(".//odm:SubjectData", NS)
    subject.remove(subject.find("odm:SiteRef", NS))
    subject.insert(1, etree.Element(f"{{{NS['odm']}}}SiteRef"))  # no LocationOID
    assert not schema.validate(broken)


def test_every_value_reads_back_equal_by_its_declared_data_type() -> None:
    document = _document()
    types = {d.get("OID"): d.get("DataType") for d in document.iterfind(".//odm:ItemDef", NS)}
    read: dict[str, list[tuple[str, int | None, dict]]] = {}
    for subject in document.iterfind(".//odm:SubjectData", NS):
        forms = read.setdefault(subject.get("SubjectKey"), [])
        for group in subject.iterfind(".//odm:ItemGroupData", NS):
            form = group.getparent().get("FormOID")
            key = group.get("ItemGroupRepeatKey")
            values = {item.get("ItemOID"): _read(item.get("Value"), types[item.get("ItemOID")])
                      for item in group.iterfind("odm:ItemData", NS)}  # fmt: skip
            forms.append((form, None if key is None else int(key), values))
    for book in (book for page in PAGES for book in page):
        expected = [
            (i.definition.oid, i.key, {i.definition.item_oid(name): value
                                       for name, value in i.values.items() if value is not None})
            for i in book.forms
        ]  # fmt: skip
        assert read[book.study_id] == expected
    texts = [
        v for *_, values in read["FR-PA-000001"] for v in values.values() if isinstance(v, str)
    ]
    assert '<site> & "quoted" \u2013 é 0' in texts  # escaped by the writer, read back whole


def test_a_withdrawn_woman_has_her_site_and_no_clinical_item() -> None:
    subject = _document().find(".//odm:SubjectData[@SubjectKey='IT-TO-000009']", NS)
    assert subject.find("odm:SiteRef", NS).get("LocationOID") == "LOC.IT-TO"
    items = [i.get("ItemOID") for i in subject.iterfind(".//odm:ItemData", NS)]
    assert items == ["IT.REGISTRATION.SITE"]


def test_the_metadata_describes_every_form_item_unit_range_and_code() -> None:
    document = _document()
    mdv = document.find(".//odm:MetaDataVersion", NS)
    assert [f.get("OID") for f in mdv.iterfind("odm:FormDef", NS)] == [f.oid for f in FORMS]
    groups = {g.get("OID"): g for g in mdv.iterfind("odm:ItemGroupDef", NS)}
    assert groups["IG.VISIT"].get("Repeating") == "Yes"
    assert groups["IG.REGISTRATION"].get("Repeating") == "No"
    definitions = {d.get("OID"): d for d in mdv.iterfind("odm:ItemDef", NS)}
    assert set(definitions) == {f.item_oid(i.name) for f in FORMS for i in f.items}
    for form in FORMS:
        for item in form.items:
            definition = definitions[form.item_oid(item.name)]
            assert definition.get("DataType") == item.data_type
            if item.data_type == "text":  # ODM 1.3.2, ItemDef: Length is required for text
                assert int(definition.get("Length")) >= 1
    birads = definitions["IT.VISIT.BIRADS"]
    checks = [(c.get("Comparator"), c.findtext("odm:CheckValue", namespaces=NS))
              for c in birads.iterfind("odm:RangeCheck", NS)]  # fmt: skip
    assert checks == [("GE", "0"), ("LE", "6")]
    age = definitions["IT.REGISTRATION.AGE_AT_ENTRY"]
    assert age.find("odm:MeasurementUnitRef", NS).get("MeasurementUnitOID") == "MU.YEARS"
    units = {u.get("OID") for u in document.iterfind(".//odm:MeasurementUnit", NS)}
    assert {"MU.YEARS", "MU.PROPORTION", "MU.MONTHS", "MU.COUNT"} <= units
    lists = {c.get("OID"): [e.get("CodedValue") for e in c.iterfind("odm:EnumeratedItem", NS)]
             for c in mdv.iterfind("odm:CodeList", NS)}  # fmt: skip
    modality = definitions["IT.VISIT.MODALITY"].find("odm:CodeListRef", NS).get("CodeListOID")
    assert lists[modality] == list(MODALITIES)
    assert lists["CL.ARM"] == ["standard", "risk-based"]
    locations = [(loc.get("OID"), loc.get("Name"))
                 for loc in document.iterfind(".//odm:Location", NS)]  # fmt: skip
    assert locations == [("LOC.FR-PA", "Paris \u2013 Hôpital"), ("LOC.IT-TO", "Torino")]
    assert document.findtext(".//odm:StudyDescription", namespaces=NS) == STUDY.title


def test_streamed_one_chunk_per_page_read_lazily() -> None:
    pages_read = []

    def pages():
        for number, page in enumerate(PAGES):
            pages_read.append(number)
            yield page

    chunks = ODM.chunks(STUDY, pages())
    head = next(chunks)
    assert pages_read == []  # the metadata comes before any casebook is read
    assert head.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert head.rstrip().endswith(b'MetaDataVersionOID="MDV.CASEBOOK">')
    first = next(chunks)
    assert pages_read == [0]
    assert first.count(b"<SubjectData ") == 2
    rest = list(chunks)
    assert rest[-1] == b"</ClinicalData></ODM>"
    assert len(rest) == 2


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_is_written_in_the_odm_float_format_and_reads_back_exactly(value: float) -> None:
    text = odm_value(value)
    assert re.fullmatch(PATTERNS["float"], text)
    assert float(text) == value
    assert Decimal(text) == Decimal(repr(value))
    assert math.copysign(1, float(text)) == math.copysign(1, value)


def test_the_schema_files_are_the_ones_recorded_in_their_provenance() -> None:
    folder = ODM_SCHEMA.parent
    recorded = dict(re.findall(r"^\| `([^`]+\.xsd)` \| .* \| `([0-9a-f]{64})` \|$",
                               (folder / "PROVENANCE.md").read_text(), re.MULTILINE))  # fmt: skip
    assert sorted(recorded) == sorted(path.name for path in folder.glob("*.xsd"))
    for name, digest in recorded.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
