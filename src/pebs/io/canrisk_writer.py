"""Writing one woman's data as a CanRisk pedigree file (version 4) a clinician opens in CanRisk.

The file (:mod:`pebs.io.canrisk_format`) holds her known risk factors as ``##`` lines and a
pedigree; what pebs does not know is left out or written with the format's "not known" codes,
never guessed:

- **risk factors**: ``##menarche``; ``##parity=0`` when she had no live birth, else
  ``##first_live_birth`` (pebs does not record the number of her children, so ``##parity`` is
  not written then); ``##birads`` (her density ``a``-``d``); ``##PRS_BC=alpha=0.501,zscore=z``
  (the PRS313's alpha, :data:`~pebs.io.canrisk_format.PRS313_ALPHA`). An input that is unknown
  or absent has no line (CanRisk reads a missing line as unspecified).
- **her line** (``Target`` 1, ``IndivID`` ``PB``): the family ID is her pseudonymous study ID,
  every ``Name`` is ``NA`` (no name leaves pebs); her age and year of birth when the caller
  knows them, else ``0`` (not known: CanRisk asks for them before it computes); ``BC1`` her age
  at a breast cancer diagnosis when one is recorded.
- **her family**: pebs records only *how many* first-degree relatives had breast cancer
  (``n_relatives``), not who, nor at what age. With a count, the file holds the smallest
  pedigree that carries it: her father ``PF`` and mother ``PM`` (the format wants both parents
  or neither), the mother affected when the count is 1 or more, and one affected full sister
  (``PS1``, ``PS2``...) for each further relative. Mother first because a woman's family
  history most often names her mother; whichever relatives they are, each counts once as a
  first-degree relative (:mod:`pebs.trial.family_history`), so the file reads back to the same
  count. Their ages are unknown: ``BC1`` is ``AU`` (affected, age unknown) and ``Age``/``Yob``
  are ``0``; the clinician replaces these placeholders with the family's real members in CanRisk
  (it asks for an affected relative's year of birth before computing). Without a count the
  file holds her line alone: her family history is then not recorded, rather than recorded as
  empty.

>>> text = write_canrisk(Proband("IT-TO-000001", 55, 1970),
...                      {"age_at_menarche": 12, "n_relatives": 2, "prs_z": "unknown"})
>>> text.splitlines()[:2], len(text.splitlines()[2].split("\\t"))
(['##CanRisk 4.0', '##menarche=12'], 28)
>>> for line in text.splitlines()[3:]:
...     print(*line.split("\\t")[3:12])
PB PF PM F 0 0 55 1970 0
PF 0 0 M 0 0 0 0 0
PM 0 0 F 0 0 0 0 AU
PS1 PF PM F 0 0 0 0 AU
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pebs.io.canrisk_format import (
    AFFECTED_UNKNOWN_AGE,
    COLUMNS,
    FAMILY_ID_CHARS,
    GENE_COLUMNS,
    NO_PARENT,
    PRS313_ALPHA,
    UNSPECIFIED,
    UNTESTED,
    WRITTEN_VERSION,
)

__all__ = ["Proband", "write_canrisk"]

_MAJOR = WRITTEN_VERSION.split(".")[0]
_COLUMNS = COLUMNS[_MAJOR]
_MAX_SISTERS = 20
"""Sisters written at most (the web service takes 20 siblings of one couple)."""


@dataclass(frozen=True)
class Proband:
    """The woman whose file it is, as far as pebs knows her."""

    family_id: str
    """Her pseudonymous study ID: 1 to 13 letters, digits, ``-`` or ``_``."""
    age: int | None
    """Age at last follow-up (today, or at her death), completed years; ``None``: not known."""
    year_of_birth: int | None
    dead: bool = False
    breast_cancer_age: int | None = None
    """Her age at a recorded breast cancer diagnosis (``None``: none recorded)."""
    breast_cancer_at_unknown_age: bool = False
    """A breast cancer is recorded, at an age pebs cannot tell."""


def write_canrisk(proband: Proband, inputs: Mapping[str, Any]) -> str:
    """Her CanRisk v4 file (see the module docstring) from her platform inputs (``inputs``:
    names of :data:`pebs.trial.RISK_INPUTS` to a value, ``"unknown"`` or ``None``).

    :class:`ValueError` for a family ID the format cannot hold, or a count of relatives that
    is not a whole number from 0 to 21.
    """
    if not re.match(r"^[\w-]+$", proband.family_id) or len(proband.family_id) > FAMILY_ID_CHARS:
        raise ValueError(f"family ID {proband.family_id!r}: CanRisk allows 1 to "
                         f"{FAMILY_ID_CHARS} letters, digits, '-' or '_'")  # fmt: skip
    count = inputs.get("n_relatives")
    known = isinstance(count, int) and not isinstance(count, bool)
    if known and not 0 <= count <= _MAX_SISTERS + 1:
        raise ValueError(f"n_relatives {count!r}: allowed 0 to {_MAX_SISTERS + 1}")
    lines = [f"##CanRisk {WRITTEN_VERSION}", *_risk_factors(inputs), "##" + "\t".join(_COLUMNS)]
    parents = ("PF", "PM") if known else (NO_PARENT, NO_PARENT)
    her = _line(proband.family_id, "PB", parents, "F", proband.age, proband.year_of_birth,
                _diagnosis(proband), target=True, dead=proband.dead)  # fmt: skip
    lines.append(her)
    if known:
        affected = AFFECTED_UNKNOWN_AGE if count else "0"
        lines.append(_line(proband.family_id, "PF", (NO_PARENT, NO_PARENT), "M"))
        lines.append(_line(proband.family_id, "PM", (NO_PARENT, NO_PARENT), "F", bc1=affected))
        lines += [_line(proband.family_id, f"PS{n}", parents, "F", bc1=AFFECTED_UNKNOWN_AGE)
                  for n in range(1, count)]  # fmt: skip
    return "\n".join(lines) + "\n"


def _risk_factors(inputs: Mapping[str, Any]) -> list[str]:
    def known(name: str) -> Any:
        value = inputs.get(name)
        return None if value == "unknown" or isinstance(value, bool) else value

    lines = []
    if known("age_at_menarche") is not None:
        lines.append(f"##menarche={known('age_at_menarche')}")
    birth = known("age_at_first_birth")
    if birth == "nulliparous":
        lines.append("##parity=0")
    elif birth is not None:
        lines.append(f"##first_live_birth={birth}")
    if known("density") is not None:
        lines.append(f"##birads={known('density')}")
    if known("prs_z") is not None:
        lines.append(f"##PRS_BC=alpha={PRS313_ALPHA},zscore={float(known('prs_z'))!r}")
    return lines


def _diagnosis(proband: Proband) -> str:
    if proband.breast_cancer_age is not None:
        return str(proband.breast_cancer_age)
    return AFFECTED_UNKNOWN_AGE if proband.breast_cancer_at_unknown_age else "0"


def _line(
    family_id: str, member: str, parents: tuple[str, str], sex: str, age: int | None = None,
    year: int | None = None, bc1: str = "0", *, target: bool = False, dead: bool = False,
) -> str:  # fmt: skip
    fields = [family_id, UNSPECIFIED, "1" if target else "0", member, *parents, sex, "0",
              "1" if dead else "0", str(age or 0), str(year or 0), bc1, "0", "0", "0", "0", "0",
              *[UNTESTED] * len(GENE_COLUMNS[_MAJOR]), "0:0:0:0:0"]  # fmt: skip
    assert len(fields) == len(_COLUMNS)
    return "\t".join(fields)
