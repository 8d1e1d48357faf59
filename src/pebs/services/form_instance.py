"""The form instance a request names: a form of the catalogue and, for a repeating form, the
row id of its instance (stored as 0 for a form that does not repeat). One rule for every use
case that points at a form instance (data queries, source data verification, form locks)."""

from __future__ import annotations

from pebs.services.errors import InvalidInput
from pebs.trial.forms import FormError, form_named, form_names

__all__ = ["checked_form"]


def checked_form(form: str, key: int | None) -> tuple[str, int]:
    """(form, key as stored) of a request; :class:`InvalidInput` naming the allowed forms, or
    a key missing for a repeating form (given for another)."""
    try:
        definition = form_named(form)
    except FormError:
        raise InvalidInput(
            f"form {form!r} is unknown; forms: {', '.join(form_names())}", field="form",
            message_code="error.unknown_form", values={"allowed": ", ".join(form_names())},
        ) from None  # fmt: skip
    if definition.repeating and (not isinstance(key, int) or isinstance(key, bool) or key < 1):
        raise InvalidInput(
            f"the {form} form repeats: give the key of the instance (its row id, 1 or more)",
            field="key", message_code="error.form_key_needed", values={"form": form},
        )  # fmt: skip
    if not definition.repeating and key not in (None, 0):
        raise InvalidInput(
            f"the {form} form does not repeat: give no key", field="key",
            message_code="error.form_key_unwanted", values={"form": form},
        )  # fmt: skip
    return form, key or 0
