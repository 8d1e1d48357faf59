"""Calibration of the free parameters to the calibration targets (``pebs simulate calibrate``).

Free parameters (:data:`FREE`), each with a range; the optimiser works on the logit of the
position within the range, so every trial value stays inside it:

- ``sojourn_scale``: multiplier of the mean sojourn times by age (Two-County means in the base);
- ``miss_scale``: multiplier of the mammography (and tomosynthesis) miss probability
  ``1 - sensitivity`` for every age and density (sensitivity ``1 - (1 - s) * x``);
- ``fp_first_europe``, ``fp_subsequent_europe``: European false-positive recall probability at
  first and subsequent screens;
- ``non_progressive_ratio``: onset rate of non-progressive (in-situ) lesions relative to
  progressive cancers;
- ``dcis_precursor_dwell``: mean duration of the screen-detectable in-situ phase before an
  invasive cancer (years);
- ``stage_exponent``, ``stage_exponent_under_50``: the stage-shift exponent ``k`` from and
  before 50 (a cancer found at fraction ``f`` of its sojourn is regional-or-distant with the
  clinical probability times ``f**k``).

Fixed values (:data:`FIXED`): the structure of ductal carcinoma in situ in the European set
(every invasive cancer preceded by an in-situ phase, non-progressive lesions in situ, their
symptomatic share); sources in ``docs/simulation.md`` section 2.

Objective: ``0.5 * sum(((model - target) / sd) ** 2)`` over the calibration targets (``sd`` from
the targets file), with the model values of :func:`pebs.sim.measures.evaluate` on a fixed seed
(common random numbers: the same women for every trial value, so the objective is a
deterministic function of the parameters). Optimiser: Nelder-Mead (:func:`scipy.optimize.minimize`).
Uncertainty: the inverse of the objective's Hessian (central finite differences on the logit
scale, step :data:`HESSIAN_STEP`), mapped to the natural scale by the delta method.

Incidence: before each fit the incidence multipliers are back-calculated with the current natural
history (:mod:`pebs.sim.incidence`), and once more after the last fit (``rounds``).

The result is a derived parameter set (``base`` + ``[values]``, :func:`pebs.sim.parameters.overlay`)
that :func:`pebs.sim.parameters.load_parameters` reads back, with the fit table.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from pebs.sim import incidence
from pebs.sim.measures import evaluate
from pebs.sim.parameters import (
    PARAMETER_SETS,
    Parameters,
    _shipped_text,
    parse_parameters,
)
from pebs.sim.targets import TargetSet

HESSIAN_STEP = 0.25
"""Finite-difference step on the logit scale (large enough to smooth the Monte Carlo steps)."""


def _scaled(values, x):
    return (np.asarray(values) * x).round(4).tolist()


def _miss(values, x):
    return (1 - (1 - np.asarray(values)) * x).clip(0, 1).round(4).tolist()


def _rounded(_base, x):
    return round(float(x), 4)


def _europe(values, x):
    return dict(values) | {"europe": round(float(x), 5)}


@dataclass(frozen=True)
class FreeParameter:
    name: str
    keys: tuple[str, ...]  # dotted keys of the base file that the value sets
    low: float
    high: float
    start: float
    apply: Callable  # (base value of a key, x) -> new value
    description: str


FREE = (
    FreeParameter("sojourn_scale", ("natural_history.sojourn.mean_years",), 0.5, 1.6, 1.0,
                  _scaled, "multiplier of the mean sojourn times by age"),
    FreeParameter("miss_scale", ("screening.sensitivity.mammography",
                                 "screening.sensitivity.tomosynthesis"), 0.3, 2.5, 1.0, _miss,
                  "multiplier of the mammography miss probability (1 - sensitivity)"),
    FreeParameter("fp_first_europe", ("screening.false_positive.mammography_first",), 0.005,
                  0.15, 0.049, _europe, "European false-positive recall probability, first screen"),
    FreeParameter("fp_subsequent_europe", ("screening.false_positive.mammography_subsequent",),
                  0.003, 0.10, 0.032, _europe,
                  "European false-positive recall probability, subsequent screens"),
    FreeParameter("non_progressive_ratio",
                  ("natural_history.non_progressive.ratio_to_progressive",), 0.0, 1.5, 0.3,
                  _rounded, "onset rate of non-progressive (in-situ) lesions / progressive"),
    FreeParameter("dcis_precursor_dwell", ("natural_history.dcis.precursor_mean_dwell_years",),
                  0.05, 3.0, 0.5, _rounded,
                  "mean duration of the in-situ phase before an invasive cancer (years)"),
    FreeParameter("stage_exponent", ("stage.progression_exponent",), 0.2, 3.0, 0.6, _rounded,
                  "stage-shift exponent k from 50 (advanced with the clinical probability times "
                  "f**k)"),
    FreeParameter("stage_exponent_under_50", ("stage.progression_exponent_under_50",), 0.0, 3.0,
                  0.6, _rounded, "stage-shift exponent k before 50"),
)  # fmt: skip
FIXED = {
    "natural_history.dcis.precursor_share": 1.0,
    "natural_history.non_progressive.in_situ": True,
    "natural_history.non_progressive.symptomatic_share": 0.1,
}
"""Values the European calibration sets without fitting them (DCIS structure; see the module
docstring)."""


def _get(raw: dict, key: str):
    for part in key.split("."):
        raw = raw[part]
    return raw


def _to_u(p: FreeParameter, x: float) -> float:
    f = np.clip((x - p.low) / (p.high - p.low), 1e-6, 1 - 1e-6)
    return float(np.log(f / (1 - f)))


def _to_x(p: FreeParameter, u: float) -> float:
    return p.low + (p.high - p.low) / (1 + math.exp(-u))


def derived_values(base_raw: dict, x: dict[str, float], adjustment: dict) -> dict:
    """The ``[values]`` of a derived set: the free parameters' keys, the incidence multipliers."""
    values = dict(FIXED)
    for p in FREE:
        for key in p.keys:
            values[key] = p.apply(_get(base_raw, key), x[p.name])
    values["incidence.adjustment"] = {c: [float(v) for v in m] for c, m in adjustment.items()}
    return values


@dataclass
class FitResult:
    """The fitted values, their uncertainty, the fit to every target and the run's settings."""

    estimates: dict[str, float]
    standard_errors: dict[str, float]
    objective_start: float
    objective_end: float
    evaluations: int
    model: dict[str, float]  # measure -> model value at the estimate
    values: dict  # the derived set's [values]
    settings: dict = field(default_factory=dict)
    history: list[float] = field(default_factory=list)
    rounds: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each fit


class Calibration:
    """The objective of a calibration: targets, base parameters, women and seed."""

    def __init__(self, targets: TargetSet, base: str = "default", *, n_women: int, seed: int,
                 map_chunks: Callable = map):  # fmt: skip
        if base not in PARAMETER_SETS:
            raise ValueError(f"base: {base!r}; allowed: {', '.join(PARAMETER_SETS)}")
        self.targets = targets.calibration
        if not self.targets:
            raise ValueError(f"{targets.source}: no calibration target")
        self.base = base
        self.base_raw = tomllib.loads(_shipped_text(base))
        self.n_women, self.seed, self.map_chunks = n_women, seed, map_chunks
        self.adjustment: dict = {}
        self.history: list[float] = []

    def parameters(self, x: dict[str, float], version: str = "calibration") -> Parameters:
        values = derived_values(self.base_raw, x, self.adjustment)
        return parse_parameters(_derived_text(self.base, version, values, {}))

    def model(self, params: Parameters) -> dict[str, float]:
        names = [t.measure for t in self.targets]
        values = evaluate(names, params, n_women=self.n_women, seed=self.seed,
                          map_chunks=self.map_chunks)  # fmt: skip
        return {n: float(values[n][0]) for n in names}

    def objective_of(self, x: dict[str, float]) -> float:
        model = self.model(self.parameters(x))
        value = 0.5 * sum(((model[t.measure] - t.value) / t.sd) ** 2 for t in self.targets)
        self.history.append(float(value))
        return float(value)

    def objective_u(self, u: np.ndarray) -> float:
        return self.objective_of({p.name: _to_x(p, ui) for p, ui in zip(FREE, u, strict=True)})


def calibrate(
    targets: TargetSet, *, n_women: int = 100_000, seed: int = 20261128, base: str = "default",
    rounds: int = 2, max_evaluations: int = 150, incidence_women: int = 100_000,
    map_chunks: Callable = map, progress: Callable[[str], None] = lambda _msg: None,
) -> FitResult:  # fmt: skip
    """Fit :data:`FREE` to the calibration targets of ``targets`` (see the module docstring)."""
    cal = Calibration(targets, base, n_women=n_women, seed=seed, map_chunks=map_chunks)
    x = {p.name: p.start for p in FREE}
    start = None
    per_round = []
    for round_ in range(rounds):
        progress(f"round {round_ + 1}: back-calculating incidence without screening")
        cal.adjustment = incidence.back_calculate(
            cal.parameters(x), n_women=incidence_women, seed=seed, iterations=2
        )
        u0 = np.array([_to_u(p, x[p.name]) for p in FREE])
        if start is None:
            start = cal.objective_u(u0)
        before = cal.objective_u(u0)
        progress(f"round {round_ + 1}: fitting (objective {before:.2f})")
        result = minimize(cal.objective_u, u0, method="Nelder-Mead",
                          options={"maxfev": max_evaluations, "xatol": 0.01, "fatol": 0.01,
                                   "initial_simplex": _simplex(u0)})  # fmt: skip
        x = {p.name: _to_x(p, ui) for p, ui in zip(FREE, result.x, strict=True)}
        per_round.append((float(before), float(result.fun)))
        progress(f"round {round_ + 1}: objective {result.fun:.2f} ({result.nfev} evaluations)")
    progress("final back-calculation of incidence and uncertainty (Hessian)")
    cal.adjustment = incidence.back_calculate(
        cal.parameters(x), n_women=incidence_women, seed=seed, iterations=2
    )
    u = np.array([_to_u(p, x[p.name]) for p in FREE])
    end = cal.objective_u(u)
    se = _standard_errors(cal, u)
    params = cal.parameters(x)
    model = evaluate([t.measure for t in targets.targets], params, n_women=n_women, seed=seed,
                     map_chunks=map_chunks)  # fmt: skip
    return FitResult(
        estimates=x, standard_errors=se, objective_start=float(start), objective_end=float(end),
        evaluations=len(cal.history), model={k: float(v[0]) for k, v in model.items()},
        values=derived_values(cal.base_raw, x, cal.adjustment), history=list(cal.history),
        rounds=per_round,
        settings={"targets": targets.name, "targets_version": targets.version, "base": base,
                  "n_women": n_women, "seed": seed, "rounds": rounds,
                  "max_evaluations": max_evaluations, "incidence_women": incidence_women,
                  "optimiser": "scipy.optimize.minimize Nelder-Mead on logit-scaled ranges",
                  "hessian_step_logit": HESSIAN_STEP},
    )  # fmt: skip


def _simplex(u0: np.ndarray) -> np.ndarray:
    steps = np.eye(u0.size) * 0.5
    return np.vstack([u0, u0 + steps])


def _standard_errors(cal: Calibration, u: np.ndarray) -> dict[str, float]:
    """Delta-method standard errors from the inverse Hessian of the objective (nan if singular)."""
    n, h = u.size, HESSIAN_STEP
    f0 = cal.objective_u(u)
    hess = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            if i == j:
                value = (cal.objective_u(u + ei) - 2 * f0 + cal.objective_u(u - ei)) / h**2
            else:
                value = (cal.objective_u(u + ei + ej) - cal.objective_u(u + ei - ej)
                         - cal.objective_u(u - ei + ej)
                         + cal.objective_u(u - ei - ej)) / (4 * h * h)  # fmt: skip
            hess[i, j] = hess[j, i] = value
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov = np.full((n, n), np.nan)
    out = {}
    for k, p in enumerate(FREE):
        s = 1 / (1 + math.exp(-u[k]))
        dxdu = (p.high - p.low) * s * (1 - s)
        var = cov[k, k]
        out[p.name] = float(math.sqrt(var) * dxdu) if var > 0 else float("nan")
    return out


def _toml_value(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else '"nan"'
    return json.dumps(str(value), ensure_ascii=False)


def _derived_text(base: str, version: str, values: dict, fit: dict, header: str = "") -> str:
    lines = [header] if header else []
    lines += ['name = "pebs-sim"', f'version = "{version}"', f'base = "{base}"', "", "[values]"]
    lines += [f'"{key}" = {_toml_value(value)}' for key, value in values.items()]
    if fit:
        lines += ["", "[fit]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in fit.items()]
    return "\n".join(lines) + "\n"


def parameter_text(result: FitResult, version: str, header: str = "") -> str:
    """The derived parameter file of a fit (reloadable with :func:`load_parameters`)."""
    fit = {
        **{k: v for k, v in result.settings.items()},
        "objective_start": round(result.objective_start, 4),
        "objective_end": round(result.objective_end, 4),
        "evaluations": result.evaluations,
        "round_objectives": [[round(a, 4), round(b, 4)] for a, b in result.rounds],
        "estimates": {k: round(v, 5) for k, v in result.estimates.items()},
        "standard_errors": {k: round(v, 5) for k, v in result.standard_errors.items()},
    }
    return _derived_text(result.settings["base"], version, result.values, fit, header)


def fit_rows(result: FitResult, targets: TargetSet) -> list[dict]:
    """One row per target: figure, interval, model value, standardised distance, inside or not."""
    rows = []
    for t in targets.targets:
        model = result.model[t.measure]
        rows.append({
            "id": t.id, "kind": t.kind, "unit": t.unit, "target": t.value, "low": t.low,
            "high": t.high, "model": round(model, 4),
            "z": round((model - t.value) / t.sd, 2) if t.sd else None,
            "inside": t.contains(model),
        })  # fmt: skip
    return rows


def write_outputs(result: FitResult, targets: TargetSet, directory: Path, version: str) -> list:
    """Write ``parameters.toml`` (the derived set) and ``fit.csv`` / ``fit.json``; return paths."""
    import csv

    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "parameters.toml", directory / "fit.csv", directory / "fit.json"]
    paths[0].write_text(parameter_text(result, version), encoding="utf-8")
    rows = fit_rows(result, targets)
    with paths[1].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    paths[2].write_text(json.dumps(dataclasses.asdict(result) | {"rows": rows}, indent=1,
                                   default=float), encoding="utf-8")  # fmt: skip
    return paths
