"""CDISC ODM 1.3.2 clinical data read back into casebooks, one subject at a time.

The reader is the inverse of :mod:`pebs.io.exports.odm`: each ``SubjectData`` of the file's
``ClinicalData`` becomes a :class:`~pebs.trial.casebook.Casebook` (its ``SubjectKey`` the study
ID, its ``SiteRef`` the site, each ``ItemGroupData`` a form instance keyed by its
``ItemGroupRepeatKey``), every ``ItemData`` value read in the item's ODM 1.3.2 data type
(section 2.13: dates ``YYYY-MM-DD``, instants with ``Z`` or an offset, ``true``/``false``) and
checked against the catalogue of forms (:mod:`pebs.trial.forms`: OIDs, types, code lists). The
metadata (``Study``) and ``AdminData`` are not needed: the catalogue is pebs's own, and the
study's configuration is loaded in the database.

A file of another system maps its data to these OIDs first (``F.<FORM>``, ``IG.<FORM>``,
``IT.<FORM>.<ITEM>``, ``SE.CASEBOOK``).

**Streaming, bounded memory**: lxml's ``iterparse`` hands over one ``SubjectData`` at a time,
which is cleared (with the siblings before it) once read, so memory depends on the largest
subject, not on the file. **Safe parsing**: a file with a document type declaration (a DTD, so
any entity) is refused before it is parsed; entities are never resolved, nothing is fetched
from the network, and lxml's limits on tree depth and text size stay on.

A subject that cannot be read is a :class:`SubjectRefused` (its line, the item or attribute,
the value and what is allowed), and the next one is read; a file that is not an ODM 1.3.2 file
of the study raises :class:`OdmFileError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from pebs.io.errors import FileAccessError, InputFormatError, quoted
from pebs.trial.casebook import Casebook, FormInstance
from pebs.trial.forms import FORMS, Form, FormError, Item

__all__ = ["OdmFileError", "Subject", "SubjectRefused", "read_casebooks"]

NAMESPACE = "http://www.cdisc.org/ns/odm/v1.3"
_PROLOG_BYTES = 4096
"""The start of the file searched for a document type declaration (it precedes the root)."""
_FORMS = {form.oid: form for form in FORMS}
_GROUPS = {f"IG.{form.name.upper()}": form for form in FORMS}
_ITEMS = {form.item_oid(item.name): (form, item) for form in FORMS for item in form.items}


class OdmFileError(InputFormatError):
    """The file is not an ODM 1.3.2 file of the study (or is refused: a DTD)."""


@dataclass(frozen=True)
class Subject:
    """One subject of the file: her casebook, and the line of her ``SubjectData``."""

    line: int
    casebook: Casebook


@dataclass(frozen=True)
class SubjectRefused:
    """A subject of the file that cannot be read: nothing of her is imported."""

    line: int
    subject_key: str | None
    field: str
    """The item OID or attribute refused."""
    message: str


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def read_casebooks(path: Path, study_oid: str) -> Iterator[Subject | SubjectRefused]:
    """The subjects of the ODM file at ``path`` whose ``ClinicalData`` is of ``study_oid``
    (``ST.<study>``), in file order. :class:`OdmFileError` for a file that is not such a file
    (checked before the first subject), :class:`FileAccessError` if it cannot be read."""
    _refuse_doctype(path)
    parser_options = {"resolve_entities": False, "no_network": True, "load_dtd": False,
                      "dtd_validation": False, "remove_comments": True}  # fmt: skip
    events = etree.iterparse(
        str(path), events=("start", "end"),
        tag=(_tag("ODM"), _tag("ClinicalData"), _tag("SubjectData")), **parser_options,
    )  # fmt: skip
    try:
        for event, element in events:
            if event == "start":
                _check_start(element, study_oid)
                continue
            if element.tag == _tag("SubjectData"):
                yield _casebook(element)
                element.clear()
                while element.getprevious() is not None:
                    del element.getparent()[0]
    except etree.XMLSyntaxError as error:
        raise OdmFileError(f"{path}: not well-formed XML ({error})") from None
    except OSError as error:
        raise FileAccessError(f"{path}: cannot be read ({error.strerror or error})") from None


def _refuse_doctype(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            start = handle.read(_PROLOG_BYTES)
    except OSError as error:
        raise FileAccessError(f"{path}: cannot be read ({error.strerror})") from None
    if b"<!DOCTYPE" in start.upper() or b"<!ENTITY" in start.upper():
        raise OdmFileError(
            f"{path}: a document type declaration (DTD) is refused: an ODM file needs none, "
            "and entities are never expanded"
        )


def _check_start(element: Any, study_oid: str) -> None:
    if element.tag == _tag("ODM"):
        found = element.get("ODMVersion")
        if found != "1.3.2":
            raise OdmFileError(f"ODMVersion {quoted(found)}: expected 1.3.2")
    elif element.tag == _tag("ClinicalData") and element.get("StudyOID") != study_oid:
        raise OdmFileError(
            f"ClinicalData StudyOID {quoted(element.get('StudyOID'))}: expected {study_oid}"
        )


def _casebook(subject: Any) -> Subject | SubjectRefused:
    key = subject.get("SubjectKey")
    line = subject.sourceline or 0
    try:
        if not key:
            raise _Refusal("SubjectKey", "empty: every subject needs her study ID")
        site_ref = subject.find(_tag("SiteRef"))
        location = "" if site_ref is None else site_ref.get("LocationOID", "")
        if not location.startswith("LOC."):
            raise _Refusal("SiteRef", f"{quoted(location)}: expected LOC.<site code>")
        instances = [
            _instance(group)
            for form_data in subject.iter(_tag("FormData"))
            for group in _groups(form_data)
        ]
        withdrawn = [i.form for i in instances] == ["registration"] and all(
            value is None for name, value in instances[0].values.items() if name != "site"
        )
        site = location.removeprefix("LOC.")
        casebook = Casebook(key, site, "", withdrawn, tuple(instances))  # no country in ODM
        return Subject(line, casebook)
    except _Refusal as refusal:
        return SubjectRefused(line, key, refusal.field, str(refusal))
    except FormError as error:
        return SubjectRefused(line, key, "FormData", str(error))


class _Refusal(Exception):  # noqa: N818  (a refusal, not an error of pebs)
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _groups(form_data: Any) -> Iterator[Any]:
    oid = form_data.get("FormOID")
    form = _FORMS.get(oid)
    if form is None:
        raise _Refusal("FormOID", f"{quoted(oid)}: expected one of {', '.join(_FORMS)}")
    for group in form_data.iter(_tag("ItemGroupData")):
        if _GROUPS.get(group.get("ItemGroupOID")) is not form:
            raise _Refusal("ItemGroupOID", f"{quoted(group.get('ItemGroupOID'))}: expected "
                                           f"IG.{form.name.upper()} in {form.oid}")  # fmt: skip
        yield group


def _instance(group: Any) -> FormInstance:
    form = _GROUPS[group.get("ItemGroupOID")]
    repeat = group.get("ItemGroupRepeatKey")
    key = None
    if form.repeating:
        if repeat is None or not repeat.isdigit():
            raise _Refusal("ItemGroupRepeatKey", f"{quoted(repeat)}: form {form.name} repeats: "
                                                 "expected a whole number")  # fmt: skip
        key = int(repeat)
    values: dict[str, Any] = {}
    for data in group.iter(_tag("ItemData")):
        oid = data.get("ItemOID")
        found = _ITEMS.get(oid)
        if found is None or found[0] is not form:
            allowed = ", ".join(form.item_oid(item.name) for item in form.items)
            raise _Refusal("ItemOID", f"{quoted(oid)}: expected one of {allowed}")
        values[found[1].name] = _value(form, found[1], data.get("Value"), oid)
    return FormInstance(form.name, key, values)


def _value(form: Form, item: Item, text: str | None, oid: str) -> Any:
    if text is None:
        raise _Refusal(oid, "no Value attribute")
    try:
        match item.data_type:
            case "integer":
                if not text.lstrip("-").isdigit():
                    raise ValueError
                return int(text)
            case "float":
                return float(text)
            case "boolean":
                return {"true": True, "false": False, "1": True, "0": False}[text]
            case "date":
                return date.fromisoformat(text)
            case "datetime":
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
                if moment.tzinfo is None:
                    raise ValueError
                return moment.astimezone(UTC)
            case _:
                return text
    except (ValueError, KeyError):
        raise _Refusal(oid, f"{quoted(text)}: not a {item.data_type} value of ODM 1.3.2"
                            f"{_formats.get(item.data_type, '')}") from None  # fmt: skip


_formats = {
    "date": " (YYYY-MM-DD)",
    "datetime": " (YYYY-MM-DDThh:mm:ss with Z or an offset)",
    "boolean": " (true or false)",
    "integer": " (a whole number)",
}
