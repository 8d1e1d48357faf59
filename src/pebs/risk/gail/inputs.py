"""BCRAT's inputs coded as for the R package BCRA, one entry per woman.

:meth:`BcraInputs.checked` is the one validation: the public entry points (:func:`~pebs.risk.gail.
risk_bcra`, :func:`~pebs.risk.gail.recode`, :meth:`BcratModel.assess <pebs.risk.gail.BcratModel.
assess>`) call it once and the stages below them take the checked arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from numpy.typing import ArrayLike

from pebs.risk._arrays import as_float_vectors

MAYBE_UNKNOWN = ("N_Biop", "HypPlas", "AgeMen", "Age1st", "N_Rels")
"""The inputs that may be coded 99 (unknown), in BCRA's column order."""


@dataclass(frozen=True)
class BcraInputs:
    """BCRA's eight columns (codes in :mod:`pebs.risk.gail.codes`), arrays of shape (n,) or
    scalars (broadcast)."""

    T1: ArrayLike
    """Current age in years (fractional allowed)."""
    T2: ArrayLike
    """Projection age in years; 90 = lifetime."""
    N_Biop: ArrayLike
    """Number of biopsies; 99 = unknown."""
    HypPlas: ArrayLike
    """Atypical hyperplasia: 0 no, 1 yes, 99 unknown or not applicable."""
    AgeMen: ArrayLike
    """Age at menarche in years; 99 = unknown."""
    Age1st: ArrayLike
    """Age at first live birth in years; 98 = nulliparous, 99 = unknown."""
    N_Rels: ArrayLike
    """First-degree relatives with breast cancer; 99 = unknown."""
    Race: ArrayLike
    """Race/ethnicity code 1..11 (:class:`~pebs.risk.gail.codes.Race`)."""

    def checked(self) -> BcraInputs:
        """The same inputs as 1-D float64 arrays of one length.

        Raises :class:`~pebs.risk._arrays.ModelInputError` naming the first argument that is not
        numeric, has more than one dimension or a different length. A bad value (T1 = 15, Race =
        12...) is not an error here: the model flags its row.
        """
        return BcraInputs(
            **as_float_vectors(**{f.name: getattr(self, f.name) for f in fields(self)})
        )
