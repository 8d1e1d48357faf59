"""Women's risk factors as arrays: the inputs of the five-year models.

One entry per woman; NaN or ``None`` means unknown (she does not know). The field names are the
keyword arguments of :func:`pebs.risk.personalised.assess` (and, for the classical factors, of
:func:`pebs.risk.gail.risk`). :meth:`RiskInputs.checked` is the one validation: a model's public
entry calls it once and its kernels take the checked arrays.

>>> RiskInputs(age=[45, 52], n_biopsies=0, atypical_hyperplasia=None, age_at_menarche=13,
...            age_at_first_birth=None, n_relatives=[0, 1], nulliparous=True,
...            density="b").checked().density
array([1, 1], dtype=int8)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pebs.risk._arrays import ModelInputError, as_float_vectors
from pebs.risk.density import MISSING, density_codes


@dataclass(frozen=True)
class RiskInputs:
    """The risk factors of ``n`` women, each an array of shape (n,) or a scalar (broadcast)."""

    age: ArrayLike
    """Age in years at assessment (fractional allowed)."""
    n_biopsies: ArrayLike
    """Breast biopsies ever; NaN = unknown."""
    atypical_hyperplasia: ArrayLike
    """1/True if a biopsy showed atypical hyperplasia, 0/False if not, NaN = unknown."""
    age_at_menarche: ArrayLike
    """Years; NaN = unknown."""
    age_at_first_birth: ArrayLike
    """Years; NaN = unknown (or not applicable: see ``nulliparous``)."""
    n_relatives: ArrayLike
    """First-degree relatives (mother, sisters, daughters) with breast cancer; NaN = unknown."""
    nulliparous: ArrayLike = False
    """True for a woman with no live birth (overrides ``age_at_first_birth``)."""
    density: ArrayLike | None = None
    """BI-RADS letters "a".."d" or codes 0..3; empty, ``None``, NaN or -1 = unknown. Checked:
    int8 codes, -1 for unknown."""
    prs_z: ArrayLike | None = None
    """Standardised PRS313 (z-score); NaN or ``None`` = unknown."""

    def checked(self) -> RiskInputs:
        """The same inputs as 1-D float64 arrays of one length (``density``: int8 codes).

        Raises :class:`~pebs.risk._arrays.ModelInputError` naming the first argument that is not
        numeric, has more than one dimension or a different length, or a density that is not a
        letter a-d (or a code 0..3) or unknown. Checking checked inputs gives the same inputs.
        """
        x = as_float_vectors(
            age=self.age, n_biopsies=self.n_biopsies,
            atypical_hyperplasia=self.atypical_hyperplasia, age_at_menarche=self.age_at_menarche,
            age_at_first_birth=self.age_at_first_birth, n_relatives=self.n_relatives,
            nulliparous=self.nulliparous, density=_density_codes(self.density),
            prs_z=np.nan if self.prs_z is None else self.prs_z,
        )  # fmt: skip
        return RiskInputs(**{**x, "density": x["density"].astype(np.int8)})


def _density_codes(density) -> np.ndarray:
    """Density as codes -1..3 (a scalar stays a scalar, to be broadcast with the others)."""
    if density is None:
        return np.asarray(MISSING, dtype=np.int8)
    values = np.asarray(density)
    if values.dtype.kind in "biuf":
        codes = np.where(np.isnan(values.astype(float)), MISSING, values).astype(np.int8)
        if not np.isin(codes, [MISSING, 0, 1, 2, 3]).all():
            raise ModelInputError("density: codes must be 0..3 (a..d) or -1 (missing)")
        return codes
    if values.ndim == 0:
        return density_codes([values.item()])[0]
    return density_codes(values)
