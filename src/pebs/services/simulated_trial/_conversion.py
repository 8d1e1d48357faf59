"""One chunk of a simulated trial's per-woman records as rows of the import files.

Pure: arrays in (:func:`pebs.sim.chunk_records` of a trial scenario), rows and tallies out. The
rules (documented in ``docs/trial/import.md``, "Analysing a simulated trial"):

- **calendar**: the simulator counts ages, the trial dates. Woman ``i`` of ``n`` is randomised
  on ``start + floor(i * days / n)`` (recruitment spread evenly); an event at age ``a`` of a
  woman who entered at age ``e`` is dated ``floor((a - e) * 365.25)`` days after her
  randomisation (rounded down, so an event within the simulated follow-up stays within the
  analysis horizon: ``(day - randomised) / 365.25 <= a - e``). Her birth date gives her the
  whole years of her entry age on that day.
- **women**: each is registered, assessed, consented and allocated on her randomisation day
  (08:00 to 08:30 UTC), at a site of her country (sites in proportion to their targets,
  deterministically), with the arm the simulator drew kept as an imported allocation. A woman
  whose cancer was found before entry (the simulator's screening history excludes her from
  both arms) is a screen failure: she answers yes to the prior-cancer criterion and stops
  before consent.
- **risk factors**: her PRS (``prs_z``) and BI-RADS density at entry (``a`` to ``d``) from the
  records; her four Gail categories (the simulator's cohort of the same women) as representative
  answers that recode to them (:func:`pebs.services.validation_cohort.representative_answers`:
  number of biopsies, age at menarche, age at first birth or nulliparous, relatives; counted);
  atypical hyperplasia, which the simulator does not draw, answered ``unknown`` (counted).
- **diagnoses**: one per diagnosed woman, dated, with its mode of detection; TNM from the
  simulated tumour: T from the diameter (AJCC 8th: T1mi <= 1 mm, T1a <= 5, T1b <= 10, T1c <=
  20, T2 <= 50, T3 above), N0 M0 for SEER local, N1 M0 for regional (N1 to N3 not told apart),
  NX M1 for distant. So the AJCC anatomic stage group is II or higher exactly when the
  simulator counts stage II+ (diameter > 20 mm, or regional or distant). A lesion without a
  diameter or stage in the model (an in-situ lesion, or a non-progressive lesion, which the
  default parameter set lets stand for DCIS and regressing small invasive lesions together) is
  written as DCIS (Tis N0 M0, stage 0), which no stage II+ or invasive endpoint counts (each
  kind counted).
- **visits**: the screen at which a cancer was found (a screening visit on the diagnosis day:
  recall, biopsy, histology of the cancer). The records count a woman's other screens,
  false-positive recalls and benign biopsies but hold no dates: they are not written (counted).
- **deaths** within the follow-up: date and cause (``breast_cancer`` or ``other``); deaths after
  the follow-up are outside the trial's observation and not written (counted).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from pebs.screening import add_months, age_on

__all__ = ["ArmTally", "ChunkRows", "Layout", "chunk_rows", "tnm_of"]

DAYS_PER_YEAR = 365.25
"""Days per year of age, as the analysis counts years from randomisation."""
T2_MM = 20.0
"""AJCC T2 starts above 20 mm: the simulator's stage II+ size threshold."""
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
_STEPS = (time(8, 0), time(8, 10), time(8, 20), time(8, 30))
"""Registration, eligibility, consent and allocation on her randomisation day (UTC)."""
DENSITIES = ("a", "b", "c", "d")
"""BI-RADS density by the simulator's code (0 to 3)."""
CLASSICAL = ("n_biopsies", "age_at_menarche", "age_at_first_birth", "n_relatives")
"""Risk factors written from the simulator's Gail categories (``answers`` of :func:`chunk_rows`)."""
_LATER_DEATHS = "deaths after the follow-up (the records give every woman's age at death)"
IN_SITU = "in-situ lesions written as DCIS (Tis N0 M0)"
NON_PROGRESSIVE = "non-progressive lesions not in situ in the model written as DCIS (Tis N0 M0)"
MODES = ("screen_detected", "interval", "clinical")
"""Mode of detection by the simulator's code (0 to 2)."""

ENROLMENT_COLUMNS = (
    "source_id", "site", "name", "birth_date", "language", "registered_at", "assessed_at",
    "consented_at", "allocated_at", "arm", "allocation_method", "allocation_reference",
    *CLASSICAL, "atypical_hyperplasia", "density", "prs_z", "date_of_death", "death_cause",
)  # fmt: skip
"""Columns written besides one ``eligibility.<criterion>`` per criterion."""
VISIT_COLUMNS = ("source_id", "visit_type", "performed_date", "recall", "biopsy", "histology")
DIAGNOSIS_COLUMNS = ("source_id", "diagnosis_date", "detection_mode", "behaviour", "t", "n", "m")


@dataclass(frozen=True)
class Layout:
    """What the files name: the study's arms, sites and criteria, and the calendar."""

    scenario: str
    seed: int
    replicate: int
    n_women: int
    arms: tuple[str, str]
    """The scenario's arms (its ``arm`` code 0, 1), names of the study's arms."""
    sites: tuple[tuple[tuple[str, ...], np.ndarray], ...]
    """Per country of the scenario (its ``country`` code): its site codes and their cumulative
    target shares."""
    languages: tuple[str, ...]
    """Per country: her letters' language."""
    criteria: tuple[tuple[str, bool], ...]
    """The protocol's criteria and the answer that keeps a woman eligible."""
    prior_cancer: str
    """The criterion a woman with a cancer found before entry answers against."""
    start: date
    recruitment_days: int
    method: str

    def source_id(self, woman: int) -> str:
        return f"{self.scenario}-s{self.seed}-r{self.replicate}-{woman:07d}"


@dataclass
class ArmTally:
    """Counts of one arm read from the records (the women the analysis takes as randomised)."""

    women: int = 0
    stage_2_plus: int = 0
    diagnoses: int = 0
    deaths: int = 0

    def add(self, other: ArmTally) -> None:
        self.women += other.women
        self.stage_2_plus += other.stage_2_plus
        self.diagnoses += other.diagnoses
        self.deaths += other.deaths


@dataclass
class ChunkRows:
    women: list[list[object]] = field(default_factory=list)
    visits: list[list[object]] = field(default_factory=list)
    diagnoses: list[list[object]] = field(default_factory=list)
    arms: dict[str, ArmTally] = field(default_factory=dict)
    screen_failures: int = 0
    not_written: Counter[str] = field(default_factory=Counter)
    """What the records hold and the files cannot: item -> number."""
    written_as: Counter[str] = field(default_factory=Counter)
    """Choices made where the records say less than a trial records: item -> number."""
    last_day: date | None = None
    """The latest date written (a randomisation, diagnosis or death)."""


def tnm_of(stage: int, size_mm: float) -> tuple[str, str, str]:
    """Clinical TNM of a simulated progressive cancer: SEER stage code (0 local, 1 regional,
    2 distant) and diameter (mm).

    >>> tnm_of(0, 12.0), tnm_of(0, 20.0), tnm_of(0, 20.5), tnm_of(1, 4.0), tnm_of(2, 60.0)
    (('cT1c', 'cN0', 'cM0'), ('cT1c', 'cN0', 'cM0'), ('cT2', 'cN0', 'cM0'), \
('cT1a', 'cN1', 'cM0'), ('cT3', 'cNX', 'cM1'))
    """
    if not math.isfinite(size_mm) or size_mm <= 0:
        raise ValueError(f"size_mm: a positive diameter expected, got {size_mm!r}")
    if size_mm <= 1:
        t = "T1mi"
    elif size_mm <= 5:
        t = "T1a"
    elif size_mm <= 10:
        t = "T1b"
    elif size_mm <= T2_MM:
        t = "T1c"
    elif size_mm <= 50:
        t = "T2"
    else:
        t = "T3"
    n, m = {0: ("N0", "M0"), 1: ("N1", "M0"), 2: ("NX", "M1")}[int(stage)]
    return f"c{t}", f"c{n}", f"c{m}"


def birth_date_for(day: date, entry_age: float) -> date:
    """A birth date giving ``floor(entry_age)`` completed years on ``day``, the fraction of a
    year before ``day`` as days.

    >>> born = birth_date_for(date(2020, 3, 1), 40.999)
    >>> born, age_on(born, date(2020, 3, 1))
    (datetime.date(1979, 3, 3), 40)
    """
    years = math.floor(entry_age)
    born = add_months(day, -12 * years) - timedelta(days=int((entry_age - years) * 365))
    while age_on(born, day) > years:  # 29 February: a day later
        born += timedelta(days=1)
    while age_on(born, day) < years:
        born -= timedelta(days=1)
    return born


def _instant(day: date, at: time) -> str:
    return datetime.combine(day, at).isoformat() + "+00:00"


def chunk_rows(
    records: dict[str, np.ndarray], answers: dict[str, np.ndarray], layout: Layout
) -> ChunkRows:
    """The rows of one chunk's women (module docstring); ``answers``: the :data:`CLASSICAL`
    risk factors of the same women, in the same order."""
    out = ChunkRows(arms={arm: ArmTally() for arm in layout.arms})
    women = records["women"]
    entry, exit_ = records["entry"], records["exit"]
    arm_code = records["arm"]
    country = records["country"]
    offsets = (women * layout.recruitment_days) // max(layout.n_women, 1)
    shares = (women * _GOLDEN) % 1.0
    yes = {True: "yes", False: "no"}
    for k in range(women.size):
        i = int(women[k])
        arm = layout.arms[int(arm_code[k])]
        c = int(country[k])
        codes, cumulative = layout.sites[c]
        site = codes[min(int(np.searchsorted(cumulative, shares[k], side="right")), len(codes) - 1)]
        day0 = layout.start + timedelta(days=int(offsets[k]))
        out.last_day = max(out.last_day or day0, day0)
        eligible = bool(records[f"{arm}.eligible"][k])
        replies = [
            yes[(not expected) if (name == layout.prior_cancer and not eligible) else expected]
            for name, expected in layout.criteria
        ]
        steps = [_instant(day0, at) for at in _STEPS]
        row: list[object] = [
            layout.source_id(i), site, f"Simulated woman {i}",
            birth_date_for(day0, float(entry[k])).isoformat(), layout.languages[c],
            steps[0], steps[1],
        ]  # fmt: skip
        if not eligible:
            out.screen_failures += 1
            row += [None] * (len(ENROLMENT_COLUMNS) - len(row)) + replies
            out.women.append(row)
            continue
        density = int(records["density_entry"][k])
        row += [steps[2], steps[3], arm, layout.method,
                f"{layout.scenario}:{layout.seed}:{layout.replicate}:{i}",
                *(answers[name][k] for name in CLASSICAL), "unknown", DENSITIES[density],
                float(records["prs_z"][k])]  # fmt: skip
        out.written_as["Gail categories written as representative answers (women)"] += 1
        out.written_as["atypical hyperplasia answered 'unknown' (not simulated)"] += 1
        tally = out.arms[arm]
        tally.women += 1
        death, bc_death = float(records[f"{arm}.death_age"][k]), bool(records[f"{arm}.bc_death"][k])
        if death <= exit_[k]:
            death_day = day0 + timedelta(days=math.floor((death - entry[k]) * DAYS_PER_YEAR))
            row += [death_day.isoformat(), "breast_cancer" if bc_death else "other"]
            tally.deaths += 1
            out.last_day = max(out.last_day, death_day)
        else:
            row += [None, None]
            out.not_written[_LATER_DEATHS] += 1
        out.women.append(row + replies)
        _follow_up(records, layout, arm, k, day0, out)
    return out


def _follow_up(records, layout: Layout, arm: str, k: int, day0: date, out: ChunkRows) -> None:
    source_id = layout.source_id(int(records["women"][k]))
    n_screens = int(records[f"{arm}.n_screens"][k])
    written_screens = 0
    out.not_written["false-positive recalls (no date in the records)"] += int(
        records[f"{arm}.n_false_positives"][k]
    )
    out.not_written["benign biopsies (no date in the records)"] += int(
        records[f"{arm}.n_biopsies"][k]
    )
    age = float(records[f"{arm}.diagnosis_age"][k])
    if math.isfinite(age):
        mode = int(records[f"{arm}.mode"][k])
        stage = int(records[f"{arm}.stage"][k])
        size = float(records[f"{arm}.size_mm"][k])
        day = day0 + timedelta(days=math.floor((age - records["entry"][k]) * DAYS_PER_YEAR))
        out.last_day = max(out.last_day or day, day)
        tally = out.arms[arm]
        tally.diagnoses += 1
        if math.isfinite(size):  # a progressive cancer
            t, n, m = tnm_of(stage, size)
            behaviour = "invasive"
            tally.stage_2_plus += stage >= 1 or size > T2_MM
            if bool(records[f"{arm}.non_progressive_detected"][k]):
                out.not_written[
                    "non-progressive lesions of women with a progressive cancer (no date)"
                ] += 1
            if stage == 1:
                out.written_as["regional stage written as N1 (N1 to N3 not told apart)"] += 1
            elif stage == 2:
                out.written_as["distant stage written as NX M1"] += 1
        else:  # a lesion without a size: in situ, or non-progressive
            t, n, m = "cTis", "cN0", "cM0"
            behaviour = "dcis"
            flags = records.get(f"{arm}.in_situ")
            in_situ = flags is not None and bool(flags[k])
            out.written_as[IN_SITU if in_situ else NON_PROGRESSIVE] += 1
        out.diagnoses.append([source_id, day.isoformat(), MODES[mode], behaviour, t, n, m])
        if mode == 0:
            out.visits.append([source_id, "screening", day.isoformat(), "yes", "yes", behaviour])
            out.written_as["screens that found a cancer written without a modality"] += 1
            written_screens = 1
    out.not_written["screens without a cancer found (no date in the records)"] += (
        n_screens - written_screens
    )
