"""Scenarios: who is simulated, for how long, under which strategies (TOML files).

A scenario file (shipped in ``pebs/sim/scenarios/``, or any path) looks like::

    name = "us-benchmark"
    title = "..."
    parameters = "europe"           # optional: a shipped parameter set (default: "default")
    [population]
    countries = { US = 1.0 }        # country code -> weight (normalised)
    entry_age = [40, 40]            # uniform on [lo, hi); lo == hi: everyone enters at lo
    follow_up_years = "lifetime"    # or a number of years
    max_age = 100                   # follow-up ends at this age
    screening_history = "national"  # optional: a strategy screening the women before entry
    [[strategy]]
    name = "biennial-50-74"
    policy = "us-biennial-50-74"    # a policy name or path, a table country -> policy, or "none"
    attendance = 1.0                # probability of attending each invitation
    risk_assessment = "each_exam"   # risk level at entry ("entry") or at every exam
    study_years = 4                 # optional: end-of-study exam of a study policy
    screening_years = 7             # optional: no invitation later than this after entry
    [trial]                         # optional: randomise the women 1:1 between two strategies
    arms = ["standard", "risk-based"]
    margin_ratio = 1.25
    alpha = 0.025

"No screening" is always simulated as the reference (strategy ``"no-screening"``), whether listed or
not. With ``screening_history`` the women have been screened before entry under the named
strategy's policies, with the attendance of ``[history]`` in the parameter file; women whose
cancer (or non-progressive lesion) was found before entry are excluded and counted
(outcome ``excluded_history``). Policy names are looked up among the simulator's own policies
(``pebs/sim/scenarios/policies/``) and then among :func:`pebs.screening.shipped_policies`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from pebs._named_files import read_named, shipped_names
from pebs._toml_text import parse_toml
from pebs.risk.country import COUNTRIES
from pebs.screening import Policy, load_policy, parse_policy
from pebs.screening.policy import PolicyError
from pebs.sim.parameters import PARAMETER_SETS

NO_SCREENING = "no-screening"
"""Name of the built-in reference strategy."""
RISK_ASSESSMENTS = ("entry", "each_exam")


class ScenarioError(ValueError):
    """A scenario file is unusable; the message names the key and the allowed values."""


@dataclass(frozen=True)
class Strategy:
    """One screening strategy: a policy per country (empty: no screening)."""

    name: str
    policies: tuple[tuple[str, Policy], ...]  # (country, policy) for every scenario country
    attendance: float = 1.0
    risk_assessment: str = "each_exam"
    study_years: float | None = None
    screening_years: float | None = None  # invitations stop this long after entry

    @property
    def is_screening(self) -> bool:
        return bool(self.policies)

    def policy_of(self, country: str) -> Policy | None:
        return dict(self.policies).get(country)


@dataclass(frozen=True)
class Trial:
    """Trial mode: women randomised 1:1 between two strategies."""

    arms: tuple[str, str]
    margin_ratio: float = 1.25
    alpha: float = 0.025
    n_women: int = 85_000


@dataclass(frozen=True)
class Scenario:
    """Population, follow-up and strategies of a simulation (picklable)."""

    name: str
    title: str
    countries: tuple[str, ...]
    country_weights: tuple[float, ...]  # proportions, sum 1
    entry_age: tuple[float, float]
    follow_up_years: float | None  # None: lifetime (to max_age)
    max_age: float
    strategies: tuple[Strategy, ...]  # no-screening first
    trial: Trial | None = None
    description: str = ""
    source: str = ""
    history: str | None = None  # strategy screening the women before entry
    parameters: str | None = None  # shipped parameter set (None: the default set)

    @property
    def history_strategy(self) -> Strategy | None:
        """The strategy of the screening before entry (None: no history)."""
        if self.history is None:
            return None
        return self.strategies[self.strategy_names.index(self.history)]

    @property
    def strategy_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.strategies)


def _scenario_dir():
    return files("pebs.sim").joinpath("scenarios")


def list_scenarios() -> tuple[str, ...]:
    """Names of the shipped scenarios.

    >>> "us-benchmark" in list_scenarios()
    True
    """
    return shipped_names(_scenario_dir())


def resolve_policy(name_or_path: str) -> Policy:
    """A simulator policy (``scenarios/policies/``), a shipped pebs.screening policy, or a path."""
    own = _scenario_dir().joinpath("policies")
    if name_or_path in shipped_names(own):
        text = own.joinpath(name_or_path + ".toml").read_text(encoding="utf-8")
        return parse_policy(text, name_or_path + ".toml")
    return load_policy(name_or_path)


def _number(value, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ScenarioError(f"{where}: expected a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _strategy(entry: dict, countries: tuple[str, ...], where: str) -> Strategy:
    allowed = {"name", "policy", "attendance", "risk_assessment", "study_years",
               "screening_years"}  # fmt: skip
    unknown = set(entry) - allowed
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{where}.name: expected a non-empty text")
    policy = entry.get("policy", "none")
    by_country = policy if isinstance(policy, dict) else dict.fromkeys(countries, policy)
    missing = [c for c in countries if c not in by_country]
    if missing:
        raise ScenarioError(f"{where}.policy: no policy for countries {missing}")
    policies = []
    for country in countries:
        value = by_country[country]
        if value == "none":
            continue
        try:
            policies.append((country, resolve_policy(value)))
        except PolicyError as exc:
            raise ScenarioError(f"{where}.policy ({country}): {exc}") from exc
    if policies and len(policies) != len(countries):
        raise ScenarioError(f"{where}.policy: 'none' for some countries only is not supported")
    assessment = entry.get("risk_assessment", "each_exam")
    if assessment not in RISK_ASSESSMENTS:
        raise ScenarioError(
            f"{where}.risk_assessment: {assessment!r}; allowed: {', '.join(RISK_ASSESSMENTS)}"
        )
    study = entry.get("study_years")
    period = entry.get("screening_years")
    return Strategy(
        name=name,
        policies=tuple(policies),
        attendance=_number(entry.get("attendance", 1.0), f"{where}.attendance", 0, 1),
        risk_assessment=assessment,
        study_years=None if study is None else _number(study, f"{where}.study_years", 0, 50),
        screening_years=None
        if period is None
        else _number(period, f"{where}.screening_years", 0, 100),
    )


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """A scenario from the text of a scenario file (see the module docstring)."""
    raw = parse_toml(text, source, ScenarioError)
    population = raw.get("population", {})
    weights = population.get("countries")
    if not isinstance(weights, dict) or not weights:
        raise ScenarioError(f"{source}: population.countries: expected a table code -> weight")
    for code in weights:
        if code not in COUNTRIES:
            raise ScenarioError(
                f"{source}: population.countries: unknown code {code!r}; "
                f"allowed: {', '.join(sorted(COUNTRIES))}"
            )
    countries = tuple(weights)
    values = [
        _number(w, f"{source}: population.countries.{c}", 0, 1e12) for c, w in weights.items()
    ]
    total = sum(values)
    if total <= 0:
        raise ScenarioError(f"{source}: population.countries: weights must not all be 0")
    lo, hi = population.get("entry_age", [40, 40])
    lo = _number(lo, f"{source}: population.entry_age[0]", 20, 99)
    hi = _number(hi, f"{source}: population.entry_age[1]", lo, 99)
    follow = population.get("follow_up_years", "lifetime")
    follow_up = (
        None if follow == "lifetime" else _number(follow, f"{source}: follow_up_years", 0, 100)
    )
    strategies = [Strategy(NO_SCREENING, ())]
    for i, entry in enumerate(raw.get("strategy", [])):
        if entry.get("name") == NO_SCREENING:
            continue
        strategies.append(_strategy(entry, countries, f"{source}: strategy[{i}]"))
    names = [s.name for s in strategies]
    if len(set(names)) != len(names):
        raise ScenarioError(f"{source}: strategy names must be unique, got {names}")
    history = population.get("screening_history")
    if history is not None:
        screening = [s.name for s in strategies if s.is_screening]
        if history not in screening:
            raise ScenarioError(
                f"{source}: population.screening_history: {history!r}; allowed: a screening "
                f"strategy of the scenario ({', '.join(screening) or 'none'})"
            )
    parameters = raw.get("parameters")
    if parameters is not None and parameters not in PARAMETER_SETS:
        raise ScenarioError(
            f"{source}: parameters: {parameters!r}; allowed: {', '.join(sorted(PARAMETER_SETS))}"
        )
    trial = None
    if "trial" in raw:
        spec = raw["trial"]
        arms = tuple(spec.get("arms", ()))
        if len(arms) != 2 or any(a not in names for a in arms):
            raise ScenarioError(f"{source}: trial.arms: two strategy names from {names}")
        trial = Trial(
            arms=arms,
            margin_ratio=_number(spec.get("margin_ratio", 1.25), "trial.margin_ratio", 1, 10),
            alpha=_number(spec.get("alpha", 0.025), "trial.alpha", 0, 0.5),
            n_women=int(_number(spec.get("n_women", 85_000), "trial.n_women", 2, 1e9)),
        )
    return Scenario(
        name=str(raw.get("name", Path(source).stem)),
        title=str(raw.get("title", "")),
        countries=countries,
        country_weights=tuple(v / total for v in values),
        entry_age=(lo, hi),
        follow_up_years=follow_up,
        max_age=_number(population.get("max_age", 100), f"{source}: population.max_age", hi, 120),
        strategies=tuple(strategies),
        trial=trial,
        description=str(raw.get("description", "")),
        source=source,
        history=history,
        parameters=parameters,
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (see :func:`list_scenarios`) or a scenario file by path.

    >>> load_scenario("us-benchmark").strategy_names[0]
    'no-screening'
    """
    text, source = read_named(name_or_path, _scenario_dir(), what="scenario", error=ScenarioError)
    return parse_scenario(text, source)
