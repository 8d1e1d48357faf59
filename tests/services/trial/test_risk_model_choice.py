"""A study file names its five-year model (``[risk_assessment] model``); the trial assesses with
that model through the risk-model protocol and the registry, and stores its id and version."""

from __future__ import annotations

from importlib.resources import files

import pytest

from pebs.risk import personalised, registry
from pebs.risk.inputs import RiskInputs
from pebs.services.actor import Actor
from pebs.services.errors import Conflict
from pebs.services.trial import RiskFactors, load_study_config, record_risk_assessment
from pebs.store.models import RiskAssessment

HIGH = RiskFactors(n_biopsies=1, atypical_hyperplasia=False, age_at_menarche=11,
                   age_at_first_birth=32, n_relatives=1, density="c", prs_z=1.0)  # fmt: skip
DEMO_LINE = 'model = "pebs-personalised-5y"'


class RenamedModel:
    """The personalised model under another id, name and version: a second registered model."""

    id = "test-renamed"
    name = "test model: the personalised one renamed"
    version = "0.1-test"
    inputs = personalised.INPUTS

    def __init__(self, country: str) -> None:
        self.calibrated = personalised.country_model(country)
        self.seen: list[RiskInputs] = []

    def assess(self, inputs: RiskInputs):
        self.seen.append(inputs)
        return self.calibrated.assess(inputs)


@pytest.fixture
def renamed(monkeypatch):
    made: list[RenamedModel] = []

    def calibrated(country: str) -> RenamedModel:
        made.append(RenamedModel(country))
        return made[-1]

    monkeypatch.setitem(registry._MODELS, RenamedModel.id, calibrated)
    return made


def _name_model(trial, tmp_path, model_id: str) -> None:
    text = files("pebs.trial").joinpath("studies", "mypebs-demo.toml").read_text("utf-8")
    assert DEMO_LINE in text
    path = tmp_path / "mypebs-demo.toml"
    path.write_text(text.replace(DEMO_LINE, f'model = "{model_id}"'), encoding="utf-8")
    load_study_config(trial.sessions, Actor.system("test"), path)


def _record(trial, study_id):
    return record_risk_assessment(trial.sessions, trial.staff, trial.keys, study_id, HIGH,
                                  at=trial.AT)  # fmt: skip


def test_the_study_model_assesses_and_its_id_and_version_are_stored(trial, tmp_path, renamed):
    study_id = trial.allocated("risk-based")
    default = _record(trial, study_id)
    assert (default.model, default.model_version) == ("pebs-personalised-5y", "2.0")

    _name_model(trial, tmp_path, RenamedModel.id)
    recorded = _record(trial, study_id)
    assert [m.calibrated.country for m in renamed] == ["IT"]  # her country's calibration
    (inputs,) = renamed[0].seen
    assert list(inputs.age) == [52]
    assert (recorded.model, recorded.model_version) == ("test-renamed", "0.1-test")
    assert recorded.risk_5y == default.risk_5y  # the same calculation under another name
    with trial.sessions() as session:
        row = session.get(RiskAssessment, recorded.assessment_id)
        assert (row.model_name, row.model_version) == ("test-renamed", "0.1-test")
        assert row.outputs["model"] == RenamedModel.name
    event = [e for e in trial.db.events() if e.entity == "risk_assessment"][-1]
    assert (event.new["model"], event.new["model_version"]) == ("test-renamed", "0.1-test")


def test_a_stored_model_no_longer_listed_is_a_conflict_naming_the_allowed_ones(
    trial, tmp_path, renamed, monkeypatch
) -> None:
    study_id = trial.allocated("risk-based")
    _name_model(trial, tmp_path, RenamedModel.id)
    monkeypatch.delitem(registry._MODELS, RenamedModel.id)
    before = trial.db.rows()
    with pytest.raises(Conflict, match="unknown risk model 'test-renamed'; allowed: pebs-pers"):
        _record(trial, study_id)
    assert trial.db.rows() == before
