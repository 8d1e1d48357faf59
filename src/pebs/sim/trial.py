"""Trial in silico: endpoint per arm, the non-inferiority test, and power over replicates.

A scenario with a ``[trial]`` table randomises each woman 1:1 between its two arms (her ``arm``
stream) and follows her ``follow_up_years``. The endpoint (:data:`ENDPOINT`) is the cumulative
incidence of AJCC stage II or higher per arm, simulated as a tumour diameter above 20 mm at
diagnosis (T2+) or SEER regional/distant stage (N+ or M1) (outcome ``stage2plus``); the version-1
endpoint, SEER regional or distant only (``advanced_cancers``), which misses node-negative
tumours over 20 mm, can be asked for with ``endpoint=``. Women whose cancer was found before
entry (screening history) are excluded from both arms. Each replicate is one virtual trial;
:func:`trial_summary` applies the non-inferiority test of
:func:`pebs.stats.noninferiority_ratio` (H0: risk ratio risk-based / standard >= margin) to every
replicate, and power is the share of replicates that conclude non-inferiority.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pebs.sim.outcomes import OUTCOMES
from pebs.sim.result import SimulationResult
from pebs.sim.scenario import Scenario
from pebs.stats import noninferiority_ratio

ENDPOINT = "stage2plus"
"""Default trial endpoint: AJCC stage II+ (diameter > 20 mm or SEER regional/distant)."""
PER_100K = 100_000.0


@dataclass(frozen=True)
class TrialSummary:
    """Per-replicate trial results (arrays of shape (n_replicates,)) and power."""

    arms: tuple[str, str]  # (reference / standard, new / risk-based)
    n_women: np.ndarray  # (R, 2)
    events: np.ndarray  # (R, 2) women with the endpoint
    per_100k: np.ndarray  # (R, 2) cumulative incidence per 100,000 women
    ratio: np.ndarray  # (R,) new / reference
    upper: np.ndarray  # (R,) upper bound of the two-sided 1 - 2 alpha interval of the ratio
    p_value: np.ndarray  # (R,) one-sided, at the margin
    noninferior: np.ndarray  # (R,) bool
    margin: float
    alpha: float
    method: str
    endpoint: str = ENDPOINT

    @property
    def power(self) -> float:
        """Share of replicates concluding non-inferiority (proportion)."""
        return float(np.mean(self.noninferior))

    def rows(self) -> list[dict]:
        """One plain dict per replicate (CSV/JSON)."""
        return [
            {"replicate": r, "arm_ref": self.arms[0], "arm_new": self.arms[1],
             "n_ref": int(self.n_women[r, 0]), "n_new": int(self.n_women[r, 1]),
             "events_ref": int(self.events[r, 0]), "events_new": int(self.events[r, 1]),
             "per_100k_ref": float(self.per_100k[r, 0]), "per_100k_new": float(self.per_100k[r, 1]),
             "ratio": float(self.ratio[r]), "upper": float(self.upper[r]),
             "p_value": float(self.p_value[r]), "noninferior": bool(self.noninferior[r])}
            for r in range(self.ratio.size)
        ]  # fmt: skip


def trial_summary(
    result: SimulationResult, scenario: Scenario, *, method: str = "score",
    endpoint: str = ENDPOINT,
) -> TrialSummary:  # fmt: skip
    """Endpoint per arm and the non-inferiority test of every replicate of a trial run.

    ``scenario.trial.arms`` is (reference arm, new arm); the margin and one-sided alpha come from
    the scenario's ``[trial]`` table. ``endpoint``: an outcome count of :data:`OUTCOMES`
    (default AJCC stage II+, ``"stage2plus"``).
    """
    if endpoint not in OUTCOMES:
        raise ValueError(f"endpoint: {endpoint!r}; allowed: an outcome of pebs.sim.OUTCOMES")
    if scenario.trial is None:
        raise ValueError(f"scenario {scenario.name!r} has no [trial] table")
    arms = scenario.trial.arms
    idx = [result.strategies.index(a) for a in arms]
    n = result.values[:, idx, OUTCOMES.index("n_women")]  # (R, 2)
    events = result.values[:, idx, OUTCOMES.index(endpoint)]
    test = noninferiority_ratio(
        events[:, 1], n[:, 1], events[:, 0], n[:, 0],
        margin=scenario.trial.margin_ratio, alpha=scenario.trial.alpha, method=method,
    )  # fmt: skip
    return TrialSummary(
        arms=arms, n_women=n, events=events, per_100k=events * PER_100K / np.maximum(n, 1),
        ratio=np.atleast_1d(test.estimate), upper=np.atleast_1d(test.upper),
        p_value=np.atleast_1d(test.p_value), noninferior=np.atleast_1d(test.noninferior),
        margin=scenario.trial.margin_ratio, alpha=scenario.trial.alpha, method=method,
        endpoint=endpoint,
    )  # fmt: skip
