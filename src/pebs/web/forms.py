"""Reading posted forms: typed values, and a message per field that could not be read.

A :class:`FormReader` turns the text of a posted form into values and collects one message per
bad field (a message key of the catalogue and its values), so a page can show every problem at
once next to its field. The limits both the API and the pages apply (lengths, ranges) come from
:mod:`pebs.services.field_rules`. Rules the services own (dates in the future, ranges of the risk
model, TNM consistency, pathway state) are not repeated here: the service's
:class:`~pebs.services.errors.InvalidInput` names the field (``field``) and may give a message
key of the catalogue (``message_code``, ``values``); :func:`place_refusal` puts it next to that
field, in the page language when there is a key. No service message is parsed.

>>> reader = FormReader({"age": "12x", "day": "2024-02-30", "n": "3"})
>>> reader.integer("age", 0, 99), reader.day("day"), reader.integer("n", 0, 5)
(None, None, 3)
>>> sorted(reader.errors)
['age', 'day']

A risk factor is a value, ``"unknown"`` (its "she does not know" box ticked) or absent (empty):

>>> reader = FormReader({"n_biopsies": "", "n_biopsies_unknown": "on", "n_relatives": ""})
>>> reader.or_unknown("n_biopsies", reader.integer("n_biopsies", 0, 99))
'unknown'
>>> reader.or_unknown("n_relatives", reader.integer("n_relatives", 0, 20)) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pebs.i18n import formats
from pebs.services.errors import InvalidFields, InvalidInput, ServiceError
from pebs.web.i18n import DEFAULT_LANGUAGE, Catalogue, catalogues

__all__ = [
    "UNKNOWN",
    "FieldError",
    "FormReader",
    "place_refusal",
    "refusal_error",
    "refusal_text",
    "service_field",
    "shown_values",
]

UNKNOWN = "unknown"
"""The answer "she does not know" (the services' ``UNKNOWN``)."""


@dataclass(frozen=True)
class FieldError:
    key: str
    """Message key in the catalogue."""
    values: dict[str, Any] = field(default_factory=dict)


class FormReader:
    """Typed values from a posted form (``Mapping[str, str]``); errors in :attr:`errors`."""

    def __init__(self, form: Mapping[str, Any]) -> None:
        self.form = form
        self.errors: dict[str, FieldError] = {}

    def _raw(self, name: str) -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def _fail(self, name: str, key: str, **values: Any) -> None:
        self.errors.setdefault(name, FieldError(key, values))

    def text(self, name: str, *, required: bool = False, max_length: int = 200) -> str | None:
        value = self._raw(name)
        if not value:
            if required:
                self._fail(name, "error.required")
            return None
        if len(value) > max_length:
            self._fail(name, "error.too_long", max=max_length)
            return None
        return value

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self._raw(name)
        if not value:
            if required:
                self._fail(name, "error.required")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self._fail(name, "error.date")
            return None

    def integer(self, name: str, low: int, high: int, *, required: bool = False) -> int | None:
        value = self._raw(name)
        if not value:
            if required:
                self._fail(name, "error.required")
            return None
        try:
            number = int(value)
        except ValueError:
            self._fail(name, "error.integer", low=low, high=high)
            return None
        if not low <= number <= high:
            self._fail(name, "error.range", low=low, high=high)
            return None
        return number

    def number(self, name: str, low: float, high: float) -> float | None:
        value = self._raw(name).replace(",", ".")
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            self._fail(name, "error.number", low=low, high=high)
            return None
        if not low <= number <= high:
            self._fail(name, "error.range", low=low, high=high)
            return None
        return number

    def choice(self, name: str, allowed: Iterable[str], *, required: bool = False) -> str | None:
        value = self._raw(name)
        options = tuple(allowed)
        if not value:
            if required:
                self._fail(name, "error.required")
            return None
        if value not in options:
            self._fail(name, "error.choice", allowed=", ".join(options))
            return None
        return value

    def answer(self, name: str) -> bool | None:
        """A yes / no / unknown radio group: ``True``, ``False`` or ``None``."""
        value = self._raw(name)
        if value in ("yes", "no"):
            return value == "yes"
        if value not in ("", "unknown"):
            self._fail(name, "error.choice", allowed="yes, no, unknown")
        return None

    def flag(self, name: str) -> bool:
        """A checkbox."""
        return self._raw(name) in ("on", "yes", "true", "1")

    def or_unknown(self, name: str, value: Any) -> Any:
        """``value`` (read from field ``name``), or ``"unknown"`` when the field's
        ``<name>_unknown`` box ("she does not know") is ticked; both given is an error. ``None``
        when neither is given: the field was left empty (absent, not unknown)."""
        if not self.flag(f"{name}_unknown"):
            return value
        if self._raw(name):
            self._fail(name, "error.value_or_unknown")
            return None
        return UNKNOWN

    def answer_or_unknown(self, name: str) -> bool | str | None:
        """A yes / no / unknown radio group: ``True``, ``False``, ``"unknown"``, or ``None``
        when no button is chosen (absent)."""
        value = self._raw(name)
        if value in ("yes", "no"):
            return value == "yes"
        if value == UNKNOWN:
            return UNKNOWN
        if value:
            self._fail(name, "error.choice", allowed="yes, no, unknown")
        return None


def service_field(error: ServiceError, fields: Iterable[str]) -> str | None:
    """The form field a service refusal names (its ``field``), if the form has it.

    >>> refusal = InvalidInput("2090-01-01 is in the future", field="birth_date")
    >>> service_field(refusal, ["name", "birth_date"]), service_field(refusal, ["name"])
    ('birth_date', None)
    """
    field_name = error.field if isinstance(error, InvalidInput) else None
    return field_name if field_name in set(fields) else None


def refusal_error(error: InvalidInput) -> FieldError:
    """A service refusal as the message next to its field: the catalogue's message
    (``message_code``, in the page language) when the service gives one, else its own text.

    >>> refusal_error(InvalidInput("2090-01-01 is in the future", field="birth_date",
    ...                            message_code="error.future", values={"day": "2090-01-01"}))
    FieldError(key='error.future', values={'day': '2090-01-01'})
    >>> refusal_error(InvalidInput("must not be empty", field="name"))
    FieldError(key='error.service', values={'message': 'must not be empty'})
    """
    code = error.message_code
    if code is not None and catalogues()[DEFAULT_LANGUAGE].has(code):
        return FieldError(code, dict(error.values))
    return FieldError("error.service", {"message": error.problem})


def refusal_text(error: ServiceError, catalogue: Catalogue) -> str:
    """A service refusal for a page that shows it as one message: in the page language when
    the service gives a ``message_code`` (after the field's label), else its own text.

    >>> refusal = InvalidInput("'xx' is unknown", field="language", message_code="error.choice",
    ...                        values={"allowed": "it, en"})
    >>> refusal_text(refusal, catalogues()["fr"])
    'Langue du formulaire de consentement : choisissez parmi : it, en'
    >>> refusal_text(InvalidInput("no"), catalogues()["fr"])
    'no'
    """
    code = error.message_code
    if code is None or not catalogue.has(code):
        return str(error)
    text = catalogue.text(code, **shown_values(error.values, catalogue))
    if not isinstance(error, InvalidInput) or error.field is None:
        return text
    label = f"field.{error.field}"
    name = catalogue.text(label) if catalogue.has(label) else error.field
    return catalogue.text("error.field_message", field=name, message=text)


def shown_values(values: Mapping[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    """A refusal's values as the page shows them: dates in the page language's format, and a
    pathway ``state`` (or the ``allowed_states``), a ``role`` (or the ``allowed_roles``) and an
    ``action`` (:class:`pebs.services.actor.Action`, by its lower-case name) by their names in
    that language.

    >>> shown_values({"day": date(2031, 5, 2), "state": "eligible", "n": 3}, catalogues()["fr"])
    {'day': '2 mai 2031', 'state': 'éligible', 'n': 3}
    """
    shown = {}
    for name, value in values.items():
        if isinstance(value, date):
            value = formats.medium_date(value, catalogue.code)
        elif name == "state" and catalogue.has(f"status.{value}"):
            value = catalogue.text(f"status.{value}")
        elif name == "allowed_states":
            value = ", ".join(catalogue.get(f"status.{state}", state) for state in value)
        elif name == "action":
            value = catalogue.get(f"permission.{value}", value)
        elif name == "role":
            value = catalogue.get(f"role.{value}", value)
        elif name == "allowed_roles":
            value = ", ".join(catalogue.get(f"role.{role}", role) for role in value)
        shown[name] = value
    return shown


def place_refusal(
    reader: FormReader, error: ServiceError, fields: Iterable[str], catalogue: Catalogue
) -> str | None:
    """Put a service's refusal next to each form field it names; what names none of them is
    returned, as one message for the page (``None`` when everything found its field)."""
    names = set(fields)
    if isinstance(error, InvalidFields):
        rest = []
        for name, message in error.fields.items():
            if name in names:
                reader.errors.setdefault(name, FieldError("error.service", {"message": message}))
            else:
                rest.append(f"{name}: {message}")
        return "; ".join(rest) or None
    field_name = service_field(error, names)
    if field_name is None:
        return refusal_text(error, catalogue)
    assert isinstance(error, InvalidInput)
    reader.errors[field_name] = refusal_error(error)
    return None
