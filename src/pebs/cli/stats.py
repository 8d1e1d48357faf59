"""``pebs stats design``: the boundaries and characteristics of a group-sequential design, and
with the event proportions and a margin, the women it needs at each look."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

app = typer.Typer(help="Trial statistics: group-sequential designs.", no_args_is_help=True)


class Kind(enum.StrEnum):
    """Design types, in rpact's spellings."""

    SPENDING_OBRIEN_FLEMING = "asOF"
    SPENDING_POCOCK = "asP"
    OBRIEN_FLEMING = "OF"
    POCOCK = "P"


class Scale(enum.StrEnum):
    """Scale of the non-inferiority margin."""

    ratio = "ratio"
    difference = "difference"


@app.command("design")
def design_command(
    kind: Annotated[
        Kind,
        typer.Option(
            "--type",
            help="asOF / asP: Lan-DeMets alpha spending of O'Brien-Fleming / Pocock type; "
            "OF / P: classical O'Brien-Fleming / Pocock boundaries.",
        ),
    ] = Kind.SPENDING_OBRIEN_FLEMING,
    looks: Annotated[
        int | None, typer.Option(help="Number of equally spaced looks, 1 to 10.")
    ] = None,
    information_rates: Annotated[
        str | None,
        typer.Option(
            help="Information fractions of the looks instead of --looks, comma-separated, "
            "increasing, the last 1 (e.g. 0.3,0.7,1).",
        ),
    ] = None,
    alpha: Annotated[
        float, typer.Option(help="One-sided significance level (proportion).")
    ] = 0.025,
    power: Annotated[float, typer.Option(help="Power (proportion).")] = 0.8,
    p_new: Annotated[
        float | None,
        typer.Option("--p-new", help="Event proportion in the new arm under H1 (e.g. 0.0048)."),
    ] = None,
    p_ref: Annotated[
        float | None,
        typer.Option("--p-ref", help="Event proportion in the reference arm (e.g. 0.0048)."),
    ] = None,
    scale: Annotated[Scale, typer.Option(help="Scale of the margin.")] = Scale.ratio,
    margin: Annotated[
        float | None,
        typer.Option(help="Non-inferiority margin: relative (> 1) or absolute (proportion)."),
    ] = None,
    allocation: Annotated[float, typer.Option(help="Allocation ratio n_new / n_ref.")] = 1.0,
) -> None:
    """Print a group-sequential design and, given proportions and a margin, the women it needs.

    Per look: the information fraction, critical value (z), nominal one-sided level, cumulative
    alpha spent and power; then the drift, inflation factor and expected sizes. With --p-new,
    --p-ref and --margin, the women at each look for two proportions (non-inferiority of a
    harmful endpoint). Equal to rpact's getDesignGroupSequential, getDesignCharacteristics and
    getSampleSizeRates; formulas in docs/statistics.md."""
    from pebs.stats.group_sequential import group_sequential_design  # imported when used

    fractions = _fractions(information_rates)
    design = group_sequential_design(
        kind.value, looks=looks, information_rates=fractions, alpha=alpha, power=power
    )
    plan = _plan(design, p_new, p_ref, scale, margin, allocation)
    _print(design, plan)


def _fractions(text: str | None):
    if text is None:
        return None
    from pebs.stats import StatsInputError

    try:
        return [float(part) for part in text.split(",")]
    except ValueError as exc:
        raise StatsInputError(
            f"information_rates: expected comma-separated fractions such as 0.3,0.7,1; got {text!r}"
        ) from exc


def _plan(design, p_new, p_ref, scale, margin, allocation):
    given = [p_new is not None, p_ref is not None, margin is not None]
    if not any(given):
        return None
    from pebs.stats import StatsInputError, sequential_sample_size

    if not all(given):
        raise StatsInputError("p_new, p_ref, margin: give all three for a sample size")
    return sequential_sample_size(
        design, p_new, p_ref, scale=scale.value, margin=margin, allocation=allocation
    )


def _print(design, plan) -> None:
    from rich.console import Console
    from rich.table import Table

    title = (
        f"{design.kind}, {design.k_max} look(s), one-sided alpha {design.alpha:g}, "
        f"power {design.power:g}"
    )
    columns = ["look", "fraction", "critical z", "nominal level", "alpha spent", "power"]
    if plan is not None:
        columns += ["women", "new arm", "reference arm"]
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for k in range(design.k_max):
        row = [
            str(k + 1),
            f"{design.information_rates[k]:.4f}",
            f"{design.critical_values[k]:.4f}",
            f"{design.stage_levels[k]:.6f}",
            f"{design.alpha_spent[k]:.6f}",
            f"{design.cumulative_power[k]:.4f}",
        ]
        if plan is not None:
            row += [
                f"{plan.n_cumulative[k]:,.1f}",
                f"{plan.n_new_cumulative[k]:,.1f}",
                f"{plan.n_ref_cumulative[k]:,.1f}",
            ]
        table.add_row(*row)
    console = Console(soft_wrap=True, emoji=False, markup=False, highlight=False)
    console.width = max(console.width, 120)  # never cut a number, even in a narrow pipe
    console.print(table)
    console.print(
        f"drift {design.drift:.6f}; inflation factor {design.inflation_factor:.6f}; expected "
        f"size / single-look size: H0 {design.expected_h0:.6f}, H01 {design.expected_h01:.6f}, "
        f"H1 {design.expected_h1:.6f}"
    )
    if plan is not None:
        console.print(
            f"women: single look {plan.n_fixed:,.1f}; maximum {plan.n_max:,.1f}; expected "
            f"under H0 {plan.expected_h0:,.1f}, H01 {plan.expected_h01:,.1f}, "
            f"H1 {plan.expected_h1:,.1f} (round each arm up)"
        )
