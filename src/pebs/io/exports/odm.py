"""CDISC ODM 1.3.2: participants' casebooks as one Snapshot file, metadata then clinical data.

The file follows the CDISC Operational Data Model, version 1.3.2 (CDISC, 2013; schema
``ODM1-3-2.xsd``), and is written incrementally with lxml's ``etree.xmlfile``: the header,
the study's metadata and the site list first, then one chunk per page of casebooks, then the
closing tags; memory is bounded by a page. Every value goes through lxml, which escapes it.

The mapping (OIDs from :mod:`pebs.trial.forms`):

=========================================  ==================================================
ODM                                        pebs
=========================================  ==================================================
``ODM`` (``FileType="Snapshot"``)          one export; ``SourceSystem="pebs"`` and its version
``Study OID="ST.<study>"``                 the study; ``GlobalVariables``: name, title, name
``BasicDefinitions/MeasurementUnit``       the items' units (``MU.YEARS``, ``MU.PROPORTION``...)
``MetaDataVersion OID="MDV.CASEBOOK"``     the catalogue of case report forms
``Protocol/StudyEventRef``,                one study event, ``SE.CASEBOOK``, holding every form:
``StudyEventDef``                          pebs dates each form itself (visits have their dates)
``FormDef F.<FORM>`` (``Repeating="No"``)  a form; its one item group ``IG.<FORM>``
``ItemGroupDef IG.<FORM>``                 ``Repeating="Yes"`` for a repeating form
``ItemDef IT.<FORM>.<ITEM>``               an item: ``DataType``, ``Length`` (below), its unit,
                                           ``RangeCheck`` GE minimum / LE maximum (soft; numeric
                                           items only), its code list
``CodeList CL.<FORM>.<ITEM>``              an item's codes (``EnumeratedItem``); ``CL.ARM``: the
                                           study's arms, for both ``arm`` items
``AdminData/Location LOC.<site>``          the sites in the exporter's scope (``Site``)
``SubjectData SubjectKey``                 a participant's study ID, ``SiteRef`` her site
``FormData``/``ItemGroupData``             a form she has data for; one ``ItemGroupData`` per
                                           instance, ``ItemGroupRepeatKey`` = the row's id
``ItemData ItemOID Value``                 a value; a missing value has no ``ItemData``
=========================================  ==================================================

``Length`` is given where ODM 1.3.2 requires it (text) or it is known (integers with a
maximum): a coded text item's longest code, 24 for a number that may be ``unknown``, written as
text (a Python float's longest shortest form), 2,000 for other text (the longest text pebs
stores, a reason). Values
are written in the ODM 1.3.2 data formats (section 2.13): dates ``YYYY-MM-DD``, instants
``YYYY-MM-DDThh:mm:ss[.ffffff]Z`` (UTC), booleans ``true``/``false``, floats as the decimal
digits of their shortest round-trip form, without exponent (``float(text) == value``).

A casebook whose data use is withdrawn has its registration form only, with the site and
nothing else (:mod:`pebs.services.records.casebooks`).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from lxml import etree

from pebs.trial.casebook import Casebook, CasebookStudy, FormInstance
from pebs.trial.forms import FORMS, Form, Item

__all__ = [
    "EVENT_OID",
    "METADATA_VERSION_OID",
    "NAMESPACE",
    "ODM",
    "OdmWriter",
    "location_oid",
    "odm_value",
    "study_oid",
]

NAMESPACE = "http://www.cdisc.org/ns/odm/v1.3"
"""The ODM 1.3 namespace (ODM 1.3.2 keeps it; ``ODMVersion`` says 1.3.2)."""
METADATA_VERSION_OID = "MDV.CASEBOOK"
EVENT_OID = "SE.CASEBOOK"
TEXT_LENGTH = 2000
"""``Length`` of a free-text item: the longest text pebs stores (a reason)."""
NUMBER_TEXT_LENGTH = 24
"""``Length`` of a number written as text: the longest shortest form of a Python float."""
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ARM_CODES = "CL.ARM"


def study_oid(study: str) -> str:
    """``ST.<study name>``."""
    return f"ST.{study}"


def location_oid(site: str) -> str:
    """``LOC.<site code>``."""
    return f"LOC.{site}"


def odm_value(value: Any) -> str:
    """The ODM 1.3.2 text of a casebook value (module docstring).

    >>> from datetime import UTC, date, datetime
    >>> odm_value(True), odm_value(date(2025, 3, 4)), odm_value(1e-05), odm_value(0.1 + 0.2)
    ('true', '2025-03-04', '0.00001', '0.30000000000000004')
    >>> odm_value(datetime(2025, 3, 4, 5, 6, 7, 8, tzinfo=UTC))
    '2025-03-04T05:06:07.000008Z'
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


class OdmWriter:
    """The :class:`~pebs.io.exports.writer.CasebookWriter` of CDISC ODM 1.3.2 files."""

    name = "odm"
    media_type = "application/xml"
    extension = "xml"

    def chunks(self, study: CasebookStudy, pages: Iterable[Sequence[Casebook]]) -> Iterator[bytes]:
        """The declaration, ``ODM`` start tag, study metadata, sites and the ``ClinicalData``
        start tag as one chunk; then one chunk per page; then the closing tags."""
        created = datetime.now(UTC)
        buffer = io.BytesIO()
        with etree.xmlfile(buffer, encoding="UTF-8") as xf:
            xf.write_declaration()
            with xf.element(_tag("ODM"), _root(created), nsmap={None: NAMESPACE}):
                xf.write(_study(study))
                xf.write(_admin(study, created.date()))
                clinical = {"StudyOID": study_oid(study.name),
                            "MetaDataVersionOID": METADATA_VERSION_OID}  # fmt: skip
                with xf.element(_tag("ClinicalData"), clinical):
                    xf.flush()
                    yield _drained(buffer)
                    for page in pages:
                        for casebook in page:
                            xf.write(_subject(casebook))
                        xf.flush()
                        yield _drained(buffer)
        yield _drained(buffer)


ODM = OdmWriter()
"""The ODM writer."""


def _drained(buffer: io.BytesIO) -> bytes:
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _element(parent: etree._Element | None, name: str, **attributes: str) -> etree._Element:
    if parent is None:
        return etree.Element(_tag(name), attributes, nsmap={None: NAMESPACE})
    return etree.SubElement(parent, _tag(name), attributes)


def _text(parent: etree._Element, name: str, text: str) -> etree._Element:
    element = _element(parent, name)
    element.text = text
    return element


def _translated(parent: etree._Element, name: str, text: str) -> None:
    translated = _text(_element(parent, name), "TranslatedText", text)
    translated.set(_XML_LANG, "en")


def _root(created: datetime) -> dict[str, str]:
    try:
        pebs_version = version("pebs")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        pebs_version = "0+unknown"
    return {
        "FileType": "Snapshot",
        "FileOID": f"pebs.{uuid.uuid4()}",
        "CreationDateTime": odm_value(created),
        "ODMVersion": "1.3.2",
        "SourceSystem": "pebs",
        "SourceSystemVersion": pebs_version,
    }


def _unit_oid(unit: str) -> str:
    return f"MU.{unit.upper()}"


def _item_group_oid(form: Form) -> str:
    return f"IG.{form.name.upper()}"


def _code_list_oid(form: Form, item: Item) -> str:
    return _ARM_CODES if item.name == "arm" else f"CL.{form.name.upper()}.{item.name.upper()}"


def _study(study: CasebookStudy) -> etree._Element:
    root = _element(None, "Study", OID=study_oid(study.name))
    globals_ = _element(root, "GlobalVariables")
    _text(globals_, "StudyName", study.name)
    _text(globals_, "StudyDescription", study.title)
    _text(globals_, "ProtocolName", study.name)
    units = sorted({item.unit for form in FORMS for item in form.items if item.unit})
    basics = _element(root, "BasicDefinitions")
    for unit in units:
        _translated(_element(basics, "MeasurementUnit", OID=_unit_oid(unit), Name=unit),
                    "Symbol", unit)  # fmt: skip
    _metadata(_element(root, "MetaDataVersion", OID=METADATA_VERSION_OID, Name="pebs casebook",
                       Description="The case report forms of a pebs casebook"),
              study)  # fmt: skip
    return root


def _metadata(mdv: etree._Element, study: CasebookStudy) -> None:
    protocol = _element(mdv, "Protocol")
    _element(protocol, "StudyEventRef", StudyEventOID=EVENT_OID, OrderNumber="1", Mandatory="Yes")
    event = _element(mdv, "StudyEventDef", OID=EVENT_OID, Name="Casebook", Repeating="No",
                     Type="Common")  # fmt: skip
    for number, form in enumerate(FORMS, 1):
        _element(event, "FormRef", FormOID=form.oid, OrderNumber=str(number),
                 Mandatory="Yes" if form.name == "registration" else "No")  # fmt: skip
    for form in FORMS:
        definition = _element(mdv, "FormDef", OID=form.oid, Name=form.title, Repeating="No")
        _element(definition, "ItemGroupRef", ItemGroupOID=_item_group_oid(form), Mandatory="Yes")
    for form in FORMS:
        group = _element(mdv, "ItemGroupDef", OID=_item_group_oid(form), Name=form.title,
                         Repeating="Yes" if form.repeating else "No")  # fmt: skip
        for number, item in enumerate(form.items, 1):
            _element(group, "ItemRef", ItemOID=form.item_oid(item.name), OrderNumber=str(number),
                     Mandatory="No")  # fmt: skip
    for form in FORMS:
        for item in form.items:
            _item_def(mdv, form, item, study)
    _code_lists(mdv, study)


def _item_def(mdv: etree._Element, form: Form, item: Item, study: CasebookStudy) -> None:
    attributes = {"OID": form.item_oid(item.name), "Name": f"{form.name}.{item.name}",
                  "DataType": item.data_type}  # fmt: skip
    length = _length(item, study)
    if length is not None:
        attributes["Length"] = str(length)
    definition = _element(mdv, "ItemDef", **attributes)
    _translated(definition, "Description", item.description)
    if item.unit:
        _element(definition, "MeasurementUnitRef", MeasurementUnitOID=_unit_oid(item.unit))
    if item.data_type in ("integer", "float"):
        for comparator, bound in (("GE", item.minimum), ("LE", item.maximum)):
            if bound is not None:
                check = _element(definition, "RangeCheck", Comparator=comparator, SoftHard="Soft")
                _text(check, "CheckValue", odm_value(_as_type(bound, item.data_type)))
    if item.codes or item.name == "arm":
        _element(definition, "CodeListRef", CodeListOID=_code_list_oid(form, item))


def _code_lists(mdv: etree._Element, study: CasebookStudy) -> None:
    lists = {_ARM_CODES: ("arm", "text", study.arms)}
    for form in FORMS:
        for item in form.items:
            if item.codes:
                name = f"{form.name}.{item.name}"
                lists[_code_list_oid(form, item)] = (name, item.data_type, item.codes)
    for oid, (name, data_type, codes) in lists.items():
        if codes:
            code_list = _element(mdv, "CodeList", OID=oid, Name=name, DataType=data_type)
            for code in codes:
                _element(code_list, "EnumeratedItem", CodedValue=code)


def _length(item: Item, study: CasebookStudy) -> int | None:
    if item.data_type == "integer" and item.maximum is not None:
        return len(str(int(item.maximum)))
    if item.data_type != "text":
        return None
    codes = study.arms if item.name == "arm" else item.codes
    if codes:
        return max(len(code) for code in codes)
    return NUMBER_TEXT_LENGTH if item.admits_unknown else TEXT_LENGTH


def _as_type(bound: float, data_type: str) -> float | int:
    return int(bound) if data_type == "integer" else float(bound)


def _admin(study: CasebookStudy, effective: date) -> etree._Element:
    admin = _element(None, "AdminData", StudyOID=study_oid(study.name))
    for site in study.sites:
        location = _element(admin, "Location", OID=location_oid(site.code), Name=site.name,
                            LocationType="Site")  # fmt: skip
        _element(location, "MetaDataVersionRef", StudyOID=study_oid(study.name),
                 MetaDataVersionOID=METADATA_VERSION_OID,
                 EffectiveDate=effective.isoformat())  # fmt: skip
    return admin


def _subject(casebook: Casebook) -> etree._Element:
    subject = _element(None, "SubjectData", SubjectKey=casebook.study_id)
    _element(subject, "SiteRef", LocationOID=location_oid(casebook.site))
    if not casebook.forms:
        return subject
    event = _element(subject, "StudyEventData", StudyEventOID=EVENT_OID)
    form_data = None
    for instance in casebook.forms:
        form = instance.definition
        if form_data is None or form_data.get("FormOID") != form.oid:
            form_data = _element(event, "FormData", FormOID=form.oid)
        _item_group(form_data, form, instance)
    return subject


def _item_group(parent: etree._Element, form: Form, instance: FormInstance) -> None:
    attributes = {"ItemGroupOID": _item_group_oid(form)}
    if instance.key is not None:
        attributes["ItemGroupRepeatKey"] = str(instance.key)
    group = _element(parent, "ItemGroupData", **attributes)
    for name, value in instance.values.items():
        if value is not None:
            _element(group, "ItemData", ItemOID=form.item_oid(name), Value=odm_value(value))
