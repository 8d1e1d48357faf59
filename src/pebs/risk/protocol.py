"""What a risk model offers its users, whichever model it is (``typing.Protocol``).

A model has a short ``id`` (written with every stored result), a full ``name``, a ``version``
and the names of its ``inputs`` that may be unknown. ``assess(inputs)`` takes the model's frozen
inputs dataclass (arrays, one entry per woman), checks it once and returns a result: per-woman
error flags (0 = assessed), their reasons, and which inputs were scored as unknown. A bad row is
data (flagged), never an exception; a structural problem (wrong shape, not numeric) raises
:class:`~pebs.risk._arrays.ModelInputError`.

- :class:`RiskModel` / :class:`RiskResult`: every model. :data:`pebs.risk.gail.BCRAT` (BCRA-coded
  :class:`~pebs.risk.gail.BcraInputs`) and the personalised model calibrated to a country
  (:class:`~pebs.risk.personalised.CountryModel`, :class:`~pebs.risk.inputs.RiskInputs`) satisfy
  it.
- :class:`FiveYearModel` / :class:`FiveYearResult`: a model that gives a five-year risk and its
  MyPeBS level (:mod:`pebs.risk.levels`) from :class:`~pebs.risk.inputs.RiskInputs`: what a trial's
  risk-based arm needs. The models a study file can name are in :mod:`pebs.risk.registry`.

``isinstance`` checks that the members exist (not their types: that is for a type checker):

>>> from pebs.risk import gail
>>> result = gail.BCRAT.assess(gail.BcraInputs(40, 45, 0, 99, 13, 99, 1, 1))
>>> isinstance(gail.BCRAT, RiskModel), isinstance(result, RiskResult)
(True, True)
>>> isinstance(result, FiveYearResult)  # no five-year risk, no level
False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np

from pebs.risk.inputs import RiskInputs

InputsT = TypeVar("InputsT", contravariant=True)
ResultT = TypeVar("ResultT", covariant=True)


@dataclass(frozen=True)
class Rejection:
    """One reason why a woman got no risk, and the inputs it is about (the model's names; none
    for a reason about no single input)."""

    reason: str
    inputs: tuple[str, ...]


@runtime_checkable
class RiskResult(Protocol):
    """Per-woman outcome of :meth:`RiskModel.assess` (arrays of shape (n,))."""

    @property
    def error(self) -> np.ndarray:
        """Rejection flags (an ``enum.IntFlag`` of the model); 0 = assessed."""
        ...

    @property
    def is_valid(self) -> np.ndarray:
        """True where the woman was assessed."""
        ...

    def reasons(self) -> np.ndarray:
        """Why each woman was rejected ("" if assessed), the flags' sentences joined by "; "."""
        ...

    @property
    def unknown(self) -> np.ndarray:
        """(n, len(model.inputs)) True where that input was scored as unknown."""
        ...

    def unknown_inputs(self, i: int) -> tuple[str, ...]:
        """Names of the inputs of woman ``i`` scored as unknown."""
        ...


@runtime_checkable
class RiskModel(Protocol[InputsT, ResultT]):
    """A risk model: identity, the inputs that may be unknown, and ``assess``."""

    @property
    def id(self) -> str:
        """Short name written with every stored result."""
        ...

    @property
    def name(self) -> str:
        """Full name."""
        ...

    @property
    def version(self) -> str:
        """Version written with every stored result."""
        ...

    @property
    def inputs(self) -> tuple[str, ...]:
        """Names of the inputs that may be unknown: the columns of ``result.unknown``."""
        ...

    def assess(self, inputs: InputsT) -> ResultT:
        """Check ``inputs`` once and assess every woman."""
        ...


@runtime_checkable
class FiveYearResult(RiskResult, Protocol):
    """A :class:`RiskResult` with a five-year risk, its level and relative-risk components."""

    @property
    def risk_5y(self) -> np.ndarray:
        """Absolute risk over [age, age + 5), proportion; NaN if rejected."""
        ...

    @property
    def level(self) -> np.ndarray:
        """MyPeBS level (:data:`pebs.risk.levels.LEVELS`); "" if rejected."""
        ...

    @property
    def rr_classical(self) -> np.ndarray:
        """Relative risk of the questionnaire factors; NaN if unknown."""
        ...

    @property
    def rr_prs(self) -> np.ndarray:
        """Relative risk of the polygenic score; NaN if unknown."""
        ...

    @property
    def rr_density(self) -> np.ndarray:
        """Relative risk of breast density; NaN if unknown."""
        ...

    @property
    def country(self) -> str:
        """Country of calibration."""
        ...

    def rejections(self, i: int) -> tuple[Rejection, ...]:
        """Why woman ``i`` got no risk, reason by reason (empty if assessed)."""
        ...


@runtime_checkable
class FiveYearModel(RiskModel[RiskInputs, FiveYearResult], Protocol):
    """A :class:`RiskModel` of :class:`~pebs.risk.inputs.RiskInputs` giving a
    :class:`FiveYearResult`."""
