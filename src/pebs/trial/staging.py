"""Breast cancer TNM categories -> AJCC 8th edition **anatomic** stage group.

Source: Amin MB, Edge SB, Greene FL, et al. (eds.), *AJCC Cancer Staging Manual*, 8th ed.,
Springer, 2017, chapter 48 "Breast", table "Anatomic Stage Groups" (also Table 5 of Giuliano AE
et al., "Breast Cancer - Major changes in the American Joint Committee on Cancer eighth edition
cancer staging manual", *CA Cancer J Clin* 2017;67:290-303). The anatomic table is the one meant
for settings without routine biomarkers; it is the stage the MyPeBS primary endpoint counts
("stage II or higher", :func:`stage_at_least_ii`). The prognostic stage groups (grade, ER, PR,
HER2, Oncotype DX) are not implemented.

The table, with its notes, is :data:`ANATOMIC_TABLE`:

- "T1 includes T1mi"; T1a-c and T4a-d belong to T1 and T4; Tis (DCIS) and Tis (Paget) are Tis
  (LCIS is no longer Tis in the 8th edition);
- N0(i+) and N0(mol+) (isolated tumour cells) are N0; N1a-c are N1, N2a-b are N2, N3a-c are N3;
- "T0 and T1 tumors with nodal micrometastases only are excluded from Stage IIA and are classified
  Stage IB": N1mi has its own rows for T0 and T1; with T2, T3 or T4 it is an N1 category;
- "M0 includes M0(i+)"; "the designation pM0 is not valid; any M0 should be clinical" - pM0 is
  rejected.

Decisions (documented here, tested in ``tests/trial/test_staging.py``):

- Codes may carry a ``c`` (clinical) or ``p`` (pathological) prefix and are matched without regard
  to case or spaces (``"pT1c"``, ``"t1c"``, ``"Tis (DCIS)"``). The prefix does not change the
  group. Categories AJCC defines only pathologically (N0(i+), N0(mol+), N1a, N1b, N1c) are
  rejected with ``c``. The N modifiers ``(sn)`` and ``(f)`` are accepted and ignored.
- Post-neoadjuvant ``yc``/``yp`` codes are rejected: the trial records the stage at diagnosis.
- ``TX`` and ``NX`` are accepted, and stage only through the table's "Any T" / "Any N" rows
  (TX N3 M0 is IIIC; TX/NX with M1 is IV); anything else with TX or NX has no stage group.
- Combinations with no row in the table (T0 N0 M0, Tis N1 M0, Tis N2 M0, TX N0 M0, ...) raise
  :class:`StagingError`; pebs never guesses a group the table does not give.
"""

from __future__ import annotations

from dataclasses import dataclass

STAGE_GROUPS = ("0", "IA", "IB", "IIA", "IIB", "IIIA", "IIIB", "IIIC", "IV")
"""AJCC 8th anatomic stage groups for breast cancer, least to most advanced."""

ANY = "any"

ANATOMIC_TABLE: tuple[tuple[str, str, str, str], ...] = (
    ("Tis", "N0", "M0", "0"),
    ("T1", "N0", "M0", "IA"),
    ("T0", "N1mi", "M0", "IB"),
    ("T1", "N1mi", "M0", "IB"),
    ("T0", "N1", "M0", "IIA"),
    ("T1", "N1", "M0", "IIA"),
    ("T2", "N0", "M0", "IIA"),
    ("T2", "N1", "M0", "IIB"),
    ("T3", "N0", "M0", "IIB"),
    ("T0", "N2", "M0", "IIIA"),
    ("T1", "N2", "M0", "IIIA"),
    ("T2", "N2", "M0", "IIIA"),
    ("T3", "N1", "M0", "IIIA"),
    ("T3", "N2", "M0", "IIIA"),
    ("T4", "N0", "M0", "IIIB"),
    ("T4", "N1", "M0", "IIIB"),
    ("T4", "N2", "M0", "IIIB"),
    (ANY, "N3", "M0", "IIIC"),
    (ANY, ANY, "M1", "IV"),
)
"""(T group, N group, M group, stage): the rows of the AJCC 8th anatomic table, in its order."""

T_CODES: dict[str, str] = {
    "TX": "TX", "T0": "T0", "Tis": "Tis", "Tis(DCIS)": "Tis", "Tis(Paget)": "Tis",
    "T1": "T1", "T1mi": "T1", "T1a": "T1", "T1b": "T1", "T1c": "T1",
    "T2": "T2", "T3": "T3",
    "T4": "T4", "T4a": "T4", "T4b": "T4", "T4c": "T4", "T4d": "T4",
}  # fmt: skip
"""Accepted T categories -> the T group of the table."""

N_CODES: dict[str, str] = {
    "NX": "NX", "N0": "N0", "N0(i-)": "N0", "N0(i+)": "N0", "N0(mol-)": "N0", "N0(mol+)": "N0",
    "N1mi": "N1mi", "N1": "N1", "N1a": "N1", "N1b": "N1", "N1c": "N1",
    "N2": "N2", "N2a": "N2", "N2b": "N2",
    "N3": "N3", "N3a": "N3", "N3b": "N3", "N3c": "N3",
}  # fmt: skip
"""Accepted N categories -> the N group of the table."""

M_CODES: dict[str, str] = {"M0": "M0", "M0(i+)": "M0", "M1": "M1"}
"""Accepted M categories -> the M group of the table (``MX`` does not exist in the 8th edition)."""

PATHOLOGICAL_ONLY = frozenset({"N0(i-)", "N0(i+)", "N0(mol-)", "N0(mol+)", "N1a", "N1b", "N1c"})
"""N categories AJCC defines only for pathological (pN) classification."""

_N_MODIFIERS = ("(sn)", "(f)")


class StagingError(ValueError):
    """A TNM code is unknown or the combination has no AJCC 8th anatomic stage group."""


def _key(code: str) -> str:
    return code.replace(" ", "").lower()


_LOOKUP = {
    axis: {_key(code): code for code in codes}
    for axis, codes in (("T", T_CODES), ("N", N_CODES), ("M", M_CODES))
}


@dataclass(frozen=True)
class TNM:
    """Normalised categories (``"T1c"``, ``"N1mi"``, ``"M0"``) and their prefixes (``"c"``,
    ``"p"`` or ``""``)."""

    t: str
    n: str
    m: str
    t_prefix: str = ""
    n_prefix: str = ""
    m_prefix: str = ""

    def __str__(self) -> str:
        return f"{self.t_prefix}{self.t} {self.n_prefix}{self.n} {self.m_prefix}{self.m}"


def _parse(axis: str, code: object) -> tuple[str, str]:
    allowed = ", ".join((T_CODES, N_CODES, M_CODES)["TNM".index(axis)])
    if not isinstance(code, str) or not code.strip():
        raise StagingError(f"{axis} category must be a text such as {axis}1, got {code!r}")
    key = _key(code)
    if key[:2] in ("yc", "yp"):
        raise StagingError(
            f"{axis} category {code!r} is a post-neoadjuvant (y) category; record the stage at "
            "diagnosis (clinical c or pathological p before treatment)"
        )
    prefix = ""
    if len(key) > 1 and key[0] in "cp" and key[1] == axis.lower():
        prefix, key = key[0], key[1:]
    if axis == "N":
        for modifier in _N_MODIFIERS:
            key = key.removesuffix(modifier)
    normalised = _LOOKUP[axis].get(key)
    if normalised is None:
        raise StagingError(
            f"unknown {axis} category {code!r}; allowed (with an optional c or p prefix): {allowed}"
        )
    if axis == "N" and prefix == "c" and normalised in PATHOLOGICAL_ONLY:
        raise StagingError(
            f"N category {code!r}: {normalised} is a pathological category (use pN{normalised[1:]})"
        )
    if axis == "M" and prefix == "p" and normalised != "M1":
        raise StagingError(f"M category {code!r}: pM0 is not valid in AJCC staging; M0 is clinical")
    return prefix, normalised


def parse_tnm(t: str, n: str, m: str) -> TNM:
    """Check and normalise three TNM categories.

    >>> str(parse_tnm("pt1C", "pN1mi(sn)", "cM0"))
    'pT1c pN1mi cM0'
    """
    (tp, tc), (np_, nc), (mp, mc) = _parse("T", t), _parse("N", n), _parse("M", m)
    return TNM(tc, nc, mc, tp, np_, mp)


def _matches(row_value: str, value: str) -> bool:
    return row_value in (ANY, value)


def anatomic_stage(t: str, n: str, m: str) -> str:
    """AJCC 8th edition anatomic stage group of a breast cancer.

    Parameters
    ----------
    t, n, m
        TNM categories, optionally prefixed ``c`` or ``p`` (see the module docstring).

    Returns
    -------
    str
        One of :data:`STAGE_GROUPS`.

    Raises
    ------
    StagingError
        For an unknown code (naming it and listing the allowed ones) or a combination that has no
        row in the AJCC table.

    Examples
    --------
    >>> anatomic_stage("T1c", "N0", "M0"), anatomic_stage("T1mi", "N1mi", "M0")
    ('IA', 'IB')
    >>> anatomic_stage("T2", "N1mi", "M0"), anatomic_stage("T0", "N3a", "M0")
    ('IIB', 'IIIC')
    """
    tnm = parse_tnm(t, n, m)
    t_group, n_group, m_group = T_CODES[tnm.t], N_CODES[tnm.n], M_CODES[tnm.m]
    # N1mi is an N1 category except in the T0/T1 rows that name it (table note **).
    candidates = [n_group, "N1"] if n_group == "N1mi" else [n_group]
    for n_value in candidates:
        for row_t, row_n, row_m, stage in ANATOMIC_TABLE:
            if _matches(row_t, t_group) and _matches(row_n, n_value) and row_m == m_group:
                return stage
    raise StagingError(
        f"{tnm} has no stage group in the AJCC 8th edition anatomic stage table "
        f"(T group {t_group}, N group {n_group}, M group {m_group})"
    )


def stage_at_least_ii(stage: str) -> bool:
    """Whether a stage group is II or higher (IIA, IIB, IIIA, IIIB, IIIC, IV): the MyPeBS primary
    endpoint.

    >>> [stage_at_least_ii(s) for s in ("0", "IB", "IIA", "IV")]
    [False, False, True, True]
    """
    if stage not in STAGE_GROUPS:
        raise StagingError(f"unknown stage group {stage!r}; allowed: {', '.join(STAGE_GROUPS)}")
    return STAGE_GROUPS.index(stage) >= STAGE_GROUPS.index("IIA")
