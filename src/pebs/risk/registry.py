"""The five-year models a study file can name (``[risk_assessment] model = "..."``).

A model is listed by its id (:attr:`pebs.risk.protocol.RiskModel.id`, the name stored with every
assessment) with the function that gives it calibrated to a country; the model's package is
imported when a model is asked for, not when a study file is read. Only
:class:`~pebs.risk.protocol.FiveYearModel` models can be listed: a trial's risk-based arm needs a
five-year risk and its MyPeBS level from the platform's inputs, calibrated to the woman's
country. The Gail model is not one (US rates, no density or polygenic score).

>>> model_ids()
('pebs-personalised-5y',)
>>> five_year_model("pebs-personalised-5y", "FR").version
'2.0'
>>> five_year_model("gail", "FR")
Traceback (most recent call last):
...
pebs.risk.registry.UnknownModelError: model: unknown risk model 'gail'; allowed: \
pebs-personalised-5y
"""

from __future__ import annotations

from collections.abc import Callable

from pebs.risk.protocol import FiveYearModel


def _personalised(country: str) -> FiveYearModel:
    from pebs.risk import personalised

    return personalised.country_model(country)


DEFAULT_MODEL = "pebs-personalised-5y"
"""The model of a study file without ``model``."""

_MODELS: dict[str, Callable[[str], FiveYearModel]] = {DEFAULT_MODEL: _personalised}
"""Model id (the model's own ``id``) -> the model calibrated to a country code (``"FR"``)."""


class UnknownModelError(ValueError):
    """A model id that is not in the registry; the message lists the allowed ids."""


def model_ids() -> tuple[str, ...]:
    """Every model a study file can name, the default first."""
    return tuple(_MODELS)


def check_model_id(model_id: object, key: str = "model") -> str:
    """``model_id`` if it is a listed model; :class:`UnknownModelError` naming ``key`` otherwise."""
    if not isinstance(model_id, str) or model_id not in _MODELS:
        raise UnknownModelError(
            f"{key}: unknown risk model {model_id!r}; allowed: {', '.join(model_ids())}"
        )
    return model_id


def five_year_model(model_id: str, country: str) -> FiveYearModel:
    """The model ``model_id`` calibrated to ``country``.

    Raises :class:`UnknownModelError` for an id that is not listed, and the model's own error
    (a ``ValueError`` or ``KeyError``) for a country it has no calibration for.
    """
    return _MODELS[check_model_id(model_id)](country)
