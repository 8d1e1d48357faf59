"""A participant's casebook: her case report forms, filled in, as plain values.

A :class:`Casebook` is what an interchange format (CDISC ODM, FHIR) or a monitor reads of one
woman: her pseudonymous study ID, site and country, and one :class:`FormInstance` per form of
:data:`pebs.trial.forms.FORMS` she has data for. A repeating form (visits, outcomes...) has one
instance per stored row, identified by the row's stable id (``key``); a non-repeating form has
``key=None``. Values are plain Python values of the item's data type:

========== ===========================================
data type  Python value
========== ===========================================
text       ``str``
integer    ``int`` (not ``bool``)
float      ``float`` (an ``int`` is taken as its float)
boolean    ``bool``
date       ``datetime.date`` (not a ``datetime``)
datetime   ``datetime.datetime``, aware, in UTC
========== ===========================================

``None`` is a missing value. An item left out of ``values`` is missing too: the stored mapping
always holds every item of the form, in the form's order, so readers need not guess. A coded
item's value must be one of its codes. Ranges (``minimum``/``maximum``) are checks a data manager
reviews, not types, and are not enforced here.

A woman who withdrew the use of her data (``data_use_withdrawn``) has the registration form
only; pebs fills in her site alone, withholding the rest as the CSV export does. Forms are in
the pathway order of :data:`~pebs.trial.forms.FORMS`, a repeating form's instances in
increasing ``key`` order. Anything else raises :class:`~pebs.trial.forms.FormError`
naming the form, the item and the allowed values.

>>> from datetime import date
>>> visit = FormInstance("visit", 7, {"visit_type": "screening", "birads": 1})
>>> visit.values["birads"], visit.values["due_date"]
(1, None)
>>> FormInstance("visit", 7, {"birads": "1"})
Traceback (most recent call last):
...
pebs.trial.forms.FormError: form 'visit' item 'birads': value '1' is not of type integer
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from pebs.trial.forms import FORMS, Form, FormError, Item, form_named

__all__ = ["Casebook", "CasebookStudy", "FormInstance", "StudySite"]

_FORM_ORDER = {form.name: index for index, form in enumerate(FORMS)}


@dataclass(frozen=True)
class FormInstance:
    """One form of a casebook, filled in."""

    form: str
    """A name of :data:`pebs.trial.forms.FORMS`."""
    key: int | None
    """A repeating form's stable row id (visit id, outcome id...); ``None`` otherwise."""
    values: Mapping[str, Any]
    """Item name to plain value (``None`` missing); every item of the form, in its order."""

    def __post_init__(self) -> None:
        definition = form_named(self.form)
        if definition.repeating:
            if not isinstance(self.key, int) or isinstance(self.key, bool):
                raise FormError(
                    f"form {self.form!r} repeats: its key must be an integer, not {self.key!r}"
                )
        elif self.key is not None:
            raise FormError(f"form {self.form!r} does not repeat: its key must be None")
        for name in self.values:
            definition.item(name)  # FormError naming the form's items
        normalised = {
            item.name: _checked(definition, item, self.values.get(item.name))
            for item in definition.items
        }
        object.__setattr__(self, "values", MappingProxyType(normalised))

    @property
    def definition(self) -> Form:
        """Its form in the catalogue."""
        return form_named(self.form)


@dataclass(frozen=True)
class Casebook:
    """One participant's casebook, pseudonymised."""

    study_id: str
    site: str
    """Site code."""
    country: str
    """ISO 3166-1 alpha-2 country code."""
    data_use_withdrawn: bool
    """She withdrew the use of her data: :attr:`forms` holds her registration only."""
    forms: tuple[FormInstance, ...]
    """Pathway order of :data:`~pebs.trial.forms.FORMS`, a repeating form's rows in key order."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "forms", tuple(self.forms))
        order = [(_FORM_ORDER[instance.form], instance.key or 0) for instance in self.forms]
        if order != sorted(order) or len(set(order)) != len(order):
            raise FormError(
                f"casebook {self.study_id}: forms must be in pathway order "
                f"({', '.join(_FORM_ORDER)}), each repeat once in key order"
            )
        if self.data_use_withdrawn and any(f.form != "registration" for f in self.forms):
            raise FormError(
                f"casebook {self.study_id}: her data use is withdrawn; only the registration "
                "form may be given"
            )

    def instances(self, form: str) -> tuple[FormInstance, ...]:
        """Her instances of ``form`` (checked against the catalogue), in key order."""
        form_named(form)
        return tuple(instance for instance in self.forms if instance.form == form)


@dataclass(frozen=True)
class StudySite:
    """A recruiting site, as an interchange file names it."""

    code: str
    """Study-wide site code (``FR-GR``)."""
    name: str
    country: str
    """ISO 3166-1 alpha-2 country code."""


@dataclass(frozen=True)
class CasebookStudy:
    """What an interchange file says of the study whose casebooks it holds."""

    name: str
    """The study's name (``mypebs-demo``)."""
    title: str
    arms: tuple[str, ...]
    """The arms' names, the values of the ``arm`` items."""
    sites: tuple[StudySite, ...]
    """The sites of the casebooks (the exporter's scope), in code order."""


def _checked(form: Form, item: Item, value: Any) -> Any:
    if value is None:
        return None
    data_type = item.data_type
    if data_type == "float" and type(value) is int:
        value = float(value)
    if not _is_of_type(value, data_type):
        raise FormError(
            f"form {form.name!r} item {item.name!r}: value {value!r} is not of type {data_type}"
        )
    if data_type == "datetime" and value.utcoffset() != timedelta(0):
        raise FormError(f"form {form.name!r} item {item.name!r}: value {value!r} must be in UTC")
    if item.codes and str(value) not in item.codes:
        raise FormError(
            f"form {form.name!r} item {item.name!r}: value {value!r} is not one of "
            + ", ".join(item.codes)
        )
    return value


def _is_of_type(value: Any, data_type: str) -> bool:
    match data_type:
        case "text":
            return isinstance(value, str)
        case "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        case "float":
            return isinstance(value, float)
        case "boolean":
            return isinstance(value, bool)
        case "date":
            return isinstance(value, date) and not isinstance(value, datetime)
        case _:  # datetime
            return isinstance(value, datetime) and value.tzinfo is not None
