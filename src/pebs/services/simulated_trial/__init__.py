"""Use case: a simulated trial written as the files of ``pebs import``.

:func:`write_trial_files` simulates a trial scenario (a ``[trial]`` table: women randomised
1:1, followed a few years) woman by woman (:func:`pebs.sim.chunk_records`) and writes, in a
folder:

- ``women.csv``: the enrolment file (one row per woman: identity, eligibility answers, consent,
  the simulated arm as an imported allocation, risk factors, death);
- ``visits.csv`` and ``diagnoses.csv``: her follow-up records, by ``source_id``;
- ``trial_files.json``: the run (scenario, seed, women, study), per arm the counts read from the
  records (women randomised, women with an AJCC stage II+ cancer, diagnoses, deaths) and the
  simulator's own totals and non-inferiority test (:func:`pebs.sim.run`,
  :func:`pebs.sim.trial_summary`) for the same women, and what the files could not hold
  (``not_written``) or hold by a documented choice (``written_as``), each counted.

How records become rows: :mod:`pebs.services.simulated_trial._conversion`. The files import
with ``pebs import --format csv women.csv --visits visits.csv --diagnoses diagnoses.csv``; the
analysis of the imported study (``pebs analyse``) then finds, per arm, the simulator's women and
stage II+ cancers. Rows are kept in memory until the files are written (about 300 bytes a
woman), and each file appears whole or not at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from pebs import __version__
from pebs.io.atomic import write_atomically
from pebs.io.csv_writer import write_csv_rows
from pebs.io.errors import FileAccessError
from pebs.io.sim_outputs import write_json
from pebs.risk.reference_population import ReferencePopulation
from pebs.services.errors import InvalidInput
from pebs.services.simulated_trial._conversion import (
    CLASSICAL,
    DIAGNOSIS_COLUMNS,
    ENROLMENT_COLUMNS,
    VISIT_COLUMNS,
    ArmTally,
    ChunkRows,
    Layout,
    chunk_rows,
)
from pebs.services.validation_cohort import representative_answers
from pebs.sim import (
    OUTCOMES,
    Scenario,
    ScenarioError,
    chunk_records,
    chunk_tasks,
    default_parameters,
    load_scenario,
    run,
    trial_summary,
)
from pebs.sim.cohort import draw_cohort
from pebs.sim.risk_model import FACTORS
from pebs.trial import StudyError, load_study
from pebs.trial.study import Study

__all__ = [
    "FILES",
    "TrialFiles",
    "TrialFilesOptions",
    "write_trial_files",
]

FILES = ("women.csv", "visits.csv", "diagnoses.csv", "trial_files.json")
CRITERION_PREFIX = "eligibility."


@dataclass(frozen=True)
class TrialFilesOptions:
    """How to simulate and date the trial (module docstring of ``_conversion``)."""

    study: str = "mypebs-demo"
    """The study (a shipped name or a study file) whose arms, sites and criteria the files name."""
    n_women: int | None = None
    """Women simulated (default: the scenario's ``trial.n_women``)."""
    seed: int = 1
    chunk_size: int = 20_000
    recruitment_start: date = date(2019, 7, 1)
    recruitment_days: int = 730
    """Randomisations are spread evenly over this many days from ``recruitment_start``."""
    prior_cancer_criterion: str = "history_breast_cancer"
    """The study's criterion a woman with a cancer found before entry fails."""
    allocation_method: str = "simulation"
    """The allocation's ``source_method`` (how the source system allocated her)."""


@dataclass
class TrialFiles:
    """What :func:`write_trial_files` wrote."""

    folder: Path
    scenario: str
    n_women: int
    records: dict[str, ArmTally]
    """Per arm, counted from the per-woman records written to the files."""
    simulator: dict[str, dict[str, Any]]
    """Per arm, the simulator's own totals (``n_women``, ``stage2plus``...) of the same women."""
    trial: dict[str, Any]
    """The simulator's non-inferiority test (:func:`pebs.sim.trial_summary`)."""
    screen_failures: int
    n_visits: int
    n_diagnoses: int
    not_written: Counter[str] = field(default_factory=Counter)
    written_as: Counter[str] = field(default_factory=Counter)

    @property
    def agrees(self) -> bool:
        """Whether the records' women and stage II+ cancers per arm are the simulator's."""
        return all(
            tally.women == self.simulator[arm]["n_women"]
            and tally.stage_2_plus == self.simulator[arm]["stage2plus"]
            for arm, tally in self.records.items()
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "n_women": self.n_women,
            "screen_failures": self.screen_failures,
            "rows": {"visits": self.n_visits, "diagnoses": self.n_diagnoses},
            "records": {arm: vars(tally) for arm, tally in self.records.items()},
            "simulator": self.simulator,
            "simulator_trial": self.trial,
            "records_agree_with_simulator": self.agrees,
            "not_written": dict(sorted(self.not_written.items())),
            "written_as": dict(sorted(self.written_as.items())),
        }


def _scenario(name: str) -> Scenario:
    try:
        scenario = load_scenario(name)
    except ScenarioError as error:
        raise InvalidInput(str(error), field="scenario") from None
    if scenario.trial is None:
        raise InvalidInput(
            f"{scenario.name} has no [trial] table: give a trial scenario (pebs simulate --list)",
            field="scenario",
        )
    return scenario


def _study(name: str) -> Study:
    try:
        return load_study(name)
    except StudyError as error:
        raise InvalidInput(str(error), field="study") from None


def _layout(scenario: Scenario, study: Study, options: TrialFilesOptions, n: int) -> Layout:
    arms = tuple(arm.name for arm in study.arms)
    trial_arms = scenario.trial.arms  # type: ignore[union-attr]
    missing = [arm for arm in trial_arms if arm not in arms]
    if missing:
        raise InvalidInput(
            f"the scenario's arms {', '.join(missing)} are not arms of study {study.name}; "
            f"allowed: {', '.join(arms)}",
            field="study",
        )
    countries = {country.code: country for country in study.countries}
    sites = []
    for code in scenario.countries:
        own = [site for site in study.sites if site.country == code]
        if code not in countries or not own:
            raise InvalidInput(
                f"the scenario's country {code} has no site in study {study.name}; "
                f"allowed: {', '.join(sorted({s.country for s in study.sites}))}",
                field="study",
            )
        targets = np.array([max(site.target, 0) for site in own], dtype=float)
        if targets.sum() <= 0:
            targets[:] = 1.0
        sites.append((tuple(site.code for site in own), np.cumsum(targets) / targets.sum()))
    protocol = study.protocols[0].eligibility
    criteria = tuple((c.id, bool(c.expected)) for c in protocol.criteria)
    if options.prior_cancer_criterion not in dict(criteria):
        raise InvalidInput(
            f"{options.prior_cancer_criterion!r} is not a criterion of study {study.name}; "
            f"allowed: {', '.join(name for name, _ in criteria)}",
            field="prior_cancer_criterion",
        )
    first = max(
        min(doc.effective for doc in study.consents if doc.country == code)
        for code in scenario.countries
    )
    if options.recruitment_start < first:
        raise InvalidInput(
            f"{options.recruitment_start}: recruitment must start on or after {first}, when "
            "the consent documents of every country of the scenario are in effect",
            field="recruitment_start",
        )
    return Layout(
        scenario=scenario.name, seed=options.seed, replicate=0, n_women=n,
        arms=trial_arms, sites=tuple(sites),
        languages=tuple(countries[code].languages[0] for code in scenario.countries),
        criteria=criteria, prior_cancer=options.prior_cancer_criterion,
        start=options.recruitment_start, recruitment_days=options.recruitment_days,
        method=options.allocation_method,
    )  # fmt: skip


def _simulator(scenario: Scenario, n: int, options: TrialFilesOptions):
    result = run(scenario, n_women=n, seed=options.seed, chunk_size=options.chunk_size)
    per_arm = {
        arm: {
            name: int(result.values[0, result.strategies.index(arm), OUTCOMES.index(name)])
            for name in ("n_women", "stage2plus", "cancers", "bc_deaths", "excluded_history")
        }
        for arm in scenario.trial.arms  # type: ignore[union-attr]
    }
    summary = trial_summary(result, scenario)
    return per_arm, summary.rows()[0] | {
        "margin": summary.margin,
        "alpha": summary.alpha,
        "method": summary.method,
        "endpoint": summary.endpoint,
    }


def _answers(scenario: Scenario, task, records: dict[str, np.ndarray]) -> dict[str, list]:
    """The classical risk factors of a chunk's women: representative answers of their Gail
    categories (drawn with a generator seeded by the run seed and the chunk's first woman)."""
    cohort = draw_cohort(scenario, default_parameters(), task.seed, task.start, task.stop)
    if not np.array_equal(cohort.women, records["women"]) or not np.array_equal(
        cohort.entry, records["entry"]
    ):
        raise RuntimeError("the simulator's cohort and records name different women")
    gail = dict(zip(FACTORS, cohort.gail_categories, strict=True))
    population = ReferencePopulation.from_arrays(
        cohort.entry, gail["biopsies"], gail["menarche"], gail["first_birth"], gail["relatives"],
        density=cohort.density_entry, prs_z=cohort.prs_z, description="simulated trial",
    )  # fmt: skip
    drawn = representative_answers(population, np.random.default_rng([task.seed, task.start]))
    names = {
        "n_biopsies": "n_biopsies",
        "age_at_menarche": "age_menarche",
        "age_at_first_birth": "age_first_birth",
        "n_relatives": "n_first_degree_relatives",
    }
    return {name: drawn[names[name]].tolist() for name in CLASSICAL}


def write_trial_files(
    scenario_name: str,
    folder: Path,
    options: TrialFilesOptions | None = None,
    *,
    today: date | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> TrialFiles:
    """Simulate the trial scenario ``scenario_name`` and write its import files into
    ``folder`` (module docstring). :class:`InvalidInput` if the scenario has no trial, its arms
    or countries are not the study's, or a date would fall after ``today`` (default: today,
    UTC)."""
    options = options or TrialFilesOptions()
    scenario = _scenario(scenario_name)
    study = _study(options.study)
    n = options.n_women or scenario.trial.n_women  # type: ignore[union-attr]
    for name, value in (("n_women", n), ("chunk_size", options.chunk_size),
                        ("recruitment_days", options.recruitment_days)):  # fmt: skip
        if value < 1:
            raise InvalidInput(f"{value}: give a whole number of at least 1", field=name)
    layout = _layout(scenario, study, options, n)
    today = today or datetime.now(UTC).date()
    rows = ChunkRows(arms={arm: ArmTally() for arm in layout.arms})
    done = 0
    for task in chunk_tasks(scenario, n_women=n, seed=options.seed, replicates=1,
                            chunk_size=options.chunk_size):  # fmt: skip
        records = chunk_records(scenario, task.seed, task.start, task.stop)
        part = chunk_rows(records, _answers(scenario, task, records), layout)
        rows.women += part.women
        rows.visits += part.visits
        rows.diagnoses += part.diagnoses
        for arm, tally in part.arms.items():
            rows.arms[arm].add(tally)
        rows.screen_failures += part.screen_failures
        rows.not_written.update(part.not_written)
        rows.written_as.update(part.written_as)
        if part.last_day is not None:
            rows.last_day = max(rows.last_day or part.last_day, part.last_day)
        done += task.stop - task.start
        if on_progress is not None:
            on_progress(done, n)
    if rows.last_day is not None and rows.last_day > today:
        raise InvalidInput(
            f"the trial's last record would be dated {rows.last_day}, after today ({today}): "
            "start the recruitment earlier or shorten it",
            field="recruitment_start",
        )
    per_arm, trial = _simulator(scenario, n, options)
    criteria = [f"{CRITERION_PREFIX}{name}" for name, _ in layout.criteria]
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileAccessError(f"{folder}: cannot be created ({error.strerror})") from None
    for name, header, body in (
        ("women.csv", [*ENROLMENT_COLUMNS, *criteria], rows.women),
        ("visits.csv", list(VISIT_COLUMNS), rows.visits),
        ("diagnoses.csv", list(DIAGNOSIS_COLUMNS), rows.diagnoses),
    ):
        write_atomically(folder / name, lambda s, h=header, b=body: write_csv_rows(s, b, header=h))
    written = TrialFiles(
        folder=folder, scenario=scenario.name, n_women=n, records=rows.arms, simulator=per_arm,
        trial=trial, screen_failures=rows.screen_failures, n_visits=len(rows.visits),
        n_diagnoses=len(rows.diagnoses), not_written=rows.not_written,
        written_as=rows.written_as,
    )  # fmt: skip
    write_json(
        folder / "trial_files.json",
        {"pebs": __version__, "study": study.name, "seed": options.seed,
         "recruitment_start": options.recruitment_start.isoformat(),
         "recruitment_days": options.recruitment_days, **written.as_json()},
    )  # fmt: skip
    return written
