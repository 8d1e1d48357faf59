"""Calibration and validation figures of docs/simulation.md: ``python -m pebs.sim.calibration``.

Each function simulates a small seeded cohort and returns plain numbers next to their published
targets, so the docs can be regenerated.
"""

from __future__ import annotations

import numpy as np

from pebs.risk.country import country_tables
from pebs.sim.chunk import chunk_records
from pebs.sim.parameters import default_parameters
from pebs.sim.risk_model import five_year_risk
from pebs.sim.scenario import parse_scenario

SEED = 20261128


def _scenario(country: str, entry: str, follow: str, strategy: str = ""):
    return parse_scenario(
        f"[population]\ncountries = {{ {country} = 1.0 }}\nentry_age = {entry}\n"
        f"follow_up_years = {follow}\n{strategy}"
    )


def incidence_by_age(country: str = "US", n: int = 300_000) -> list[tuple[int, int, float, float]]:
    """(lo, hi, simulated, table) invasive incidence per 100,000 woman-years, no screening."""
    r = chunk_records(_scenario(country, "[40, 40]", '"lifetime"'), SEED, 0, n)
    dx = r["no-screening.diagnosis_age"]
    end = np.fmin(np.fmin(dx, r["death_other"]), r["exit"])
    table = country_tables(country).incidence
    rows = []
    for lo in range(40, 90, 10):
        years = np.clip(np.minimum(end, lo + 10) - np.maximum(r["entry"], lo), 0, None).sum()
        cases = np.count_nonzero((dx >= lo) & (dx < lo + 10))
        rows.append((lo, lo + 9, 1e5 * cases / years, 1e5 * float(table[lo - 20 : lo - 10].mean())))
    return rows


def cumulative_false_positive(
    country: str, policy: str, entry: int, years: int, n: int = 100_000
) -> float:
    """Share of women (alive and cancer-free) with at least one false positive in ``years``."""
    strategy = f'[[strategy]]\nname = "s"\npolicy = "{policy}"\n'
    r = chunk_records(_scenario(country, f"[{entry}, {entry}]", str(years), strategy), SEED, 0, n)
    followed = (r["death_other"] > entry + years) & ~np.isfinite(r["s.diagnosis_age"])
    return float(np.mean(r["s.n_false_positives"][followed] >= 1))


def mypebs_level_shares(country: str = "FR", n: int = 100_000) -> dict[str, float]:
    """Shares of the MyPeBS levels at entry for women aged 40-70 (simulated 5-year risk)."""
    from pebs.sim.cohort import draw_cohort, scenario_onset_model

    scenario = _scenario(country, "[40, 71]", "5")
    params = default_parameters()
    cohort = draw_cohort(scenario, params, SEED, 0, n)
    model = scenario_onset_model(scenario, params)
    risk = five_year_risk(model, cohort.table, cohort.rr, cohort.entry)
    bounds = [0.0, 0.01, 0.0167, 0.06, 1.0]
    names = ("low", "average", "high", "very_high")
    return {
        name: float(np.mean((risk >= lo) & (risk < hi)))
        for name, lo, hi in zip(names, bounds[:-1], bounds[1:], strict=True)
    }


def implied_net_survival(years: float = 5.0) -> dict[str, float]:
    """5-year survival from breast cancer implied by the cure model at ages < 50 (proportion)."""
    params = default_parameters()
    q = params.lethal_probability * params.lethal_scale
    dead = q * (1 - np.exp(-years / params.mean_years_to_death))
    return {
        stage: float(1 - d) for stage, d in zip(("local", "regional", "distant"), dead, strict=True)
    }


def tumour_growth(country: str = "US", n: int = 300_000) -> dict[str, float]:
    """Implied growth and sizes of progressive cancers diagnosed clinically at ages 50-69.

    ``years_10_to_20mm``: mean time to grow from 10 to 20 mm (tumours larger than 20 mm at
    clinical detection; log-diameter is linear in time over the sojourn); median clinical
    diameter (mm) and the share above 20 mm (T2+).
    """
    params = default_parameters()
    r = chunk_records(_scenario(country, "[50, 50]", "20"), SEED, 0, n)
    size = r["clinical_size"]
    dx = r["no-screening.diagnosis_age"]
    clinical = np.isfinite(dx) & (dx < 70)
    big = clinical & (size > 20)
    rate = np.log(size[big] / params.threshold_mm) / r["sojourn"][big]  # log-mm per year
    return {
        "years_10_to_20mm": float(np.mean(np.log(2.0) / rate)),
        "median_clinical_mm": float(np.median(size[clinical])),
        "share_above_20mm": float(np.mean(size[clinical] > 20)),
    }


def main() -> None:  # pragma: no cover - a report for the docs
    print("incidence per 100,000 woman-years, no screening (lo, hi, simulated, table)")
    for country in ("US", "FR"):
        for row in incidence_by_age(country):
            print(country, row[0], row[1], f"{row[2]:.1f}", f"{row[3]:.1f}")
    print("cumulative false positives, 10 years from 40, US annual / biennial:",
          cumulative_false_positive("US", "us-annual-40-74", 40, 10),
          cumulative_false_positive("US", "uspstf-2024", 40, 10))  # fmt: skip
    print("cumulative false positives, 10 biennial screens 50-69, ES:",
          cumulative_false_positive("ES", "es", 50, 20))  # fmt: skip
    print("MyPeBS level shares at entry (FR, 40-70):", mypebs_level_shares("FR"))
    print("implied 5-year net survival (< 50):", implied_net_survival())
    print("tumour growth and clinical size, ages 50-69:", tumour_growth())


if __name__ == "__main__":  # pragma: no cover
    main()
