"""The trial analysis report: one self-contained HTML page from an analysis's ``results.json``.

The cover names the study, the software version, the data source (live database or snapshot
file) and the snapshot's SHA-256, the data cut and who ran it; then the CONSORT diagram, the
primary endpoint (intention to treat and per protocol) with its non-inferiority tests, the
Mantel-Haenszel analysis by country, the alternative endpoint definitions, the cumulative
incidence plot and tests, and the secondary endpoints. Proportions are shown per 100,000 women.
Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["analysis_html"]

PER = 100_000


def _n(value: Any, digits: int = 1, scale: float = 1.0) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool | str):
        return escape(str(value))
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value * scale:,.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _binary(section: Mapping[str, Any]) -> str:
    rows = [
        [
            escape(arm),
            _n(a["events"]),
            _n(a["n"]),
            _n(a["proportion"], 1, PER),
            f"{_n(a['lower'], 1, PER)} to {_n(a['upper'], 1, PER)}",
        ]
        for arm, a in section["arms"].items()
    ]
    html = _table(["arm", "events", "women", "per 100,000", "95 % interval (Wilson)"], rows)
    tests = []
    for scale, factor, unit in (("ratio", 1.0, ""), ("difference", PER, " per 100,000")):
        t = section.get(scale)
        if t is not None:
            digits = 3 if scale == "ratio" else 1
            tests.append(
                [
                    escape(scale),
                    _n(t["estimate"], digits, factor) + unit,
                    f"{_n(t['lower'], digits, factor)} to {_n(t['upper'], digits, factor)}",
                    _n(t["margin"], digits, factor),
                    _n(t["p_value"], 4),
                    escape(t["conclusion"]),
                ]
            )
    if tests:
        html += _table(
            ["scale", "estimate", "interval (1 - 2 alpha)", "margin", "one-sided p", "conclusion"],
            tests,
        )
    mh = section.get("mantel_haenszel", {})
    if "risk_ratio" in mh:
        html += "<p>Mantel-Haenszel by country: risk ratio " + _n(mh["risk_ratio"], 3)
        html += f" ({_n(mh['lower'], 3)} to {_n(mh['upper'], 3)}), odds ratio "
        html += f"{_n(mh['odds_ratio'], 3)}, CMH p = {_n(mh['cmh_p_value'], 4)}, Breslow-Day p = "
        html += f"{_n(mh['homogeneity_p_value'], 4)}; non-inferior: {_n(mh['noninferior'])}; "
        html += f"{mh['n_strata_used']} countries used, {mh['n_strata_dropped']} left out.</p>"
    elif mh:
        html += f"<p>Mantel-Haenszel by country not computed: {escape(mh['not_computed'])}</p>"
    return html


def analysis_html(results: Mapping[str, Any], *, figure: str, consort: str) -> str:
    """The report of ``results`` (module docstring); ``figure`` and ``consort`` are the file
    names of the cumulative incidence SVG and the CONSORT SVG next to the page."""
    source, plan, counts = results["source"], results["plan"], results["counts"]
    cover = _table(
        ["", ""],
        [
            ["study", escape(results["study"])],
            ["software", f"pebs {escape(results['software']['pebs'])}"],
            ["source", escape(f"{source['kind']}: {source['name']}")],
            ["SHA-256", f"<code>{escape(source['sha256'] or '(live database: none)')}</code>"],
            ["recorded study lock", escape(str(source.get("study_lock") or "none"))],
            ["data cut", escape(results["data_cut"])],
            ["run by", escape(results["run_by"])],
            ["run at (UTC)", escape(results["run_at"])],
        ],
    )
    plan_rows = [[escape(k), escape(str(v))] for k, v in plan.items()]
    tte = results["time_to_event"]
    tte_rows = [
        [
            escape(arm),
            _n(c["n"]),
            _n(c["events"]),
            _n(c["deaths"]),
            _n(c["aalen_johansen_at_horizon"], 1, PER),
            _n(c["one_minus_km_at_horizon"], 1, PER),
            _n(c["max_follow_up_years"], 2),
            _n(c["horizon_reached"]),
        ]
        for arm, c in tte["arms"].items()
    ]
    test_rows = [
        [
            escape(name),
            _n(t.get("statistic"), 3),
            _n(t.get("p_value"), 4),
            escape(t.get("not_computed", "")),
        ]
        for name, t in tte["tests"].items()
    ]
    secondary = [
        [
            escape(r["arm"]),
            escape(r["endpoint"]),
            _n(r["events"]),
            _n(r["n"]),
            _n(r["proportion"], 1, 100),
            f"{_n(r['lower'], 1, 100)} to {_n(r['upper'], 1, 100)}",
        ]
        for r in results["secondary"]["by_arm"]
    ]
    alternatives = "".join(
        f"<h3>{escape(name)}</h3>{_binary(section)}"
        for name, section in results["alternative_endpoints"].items()
    )
    count_rows = [[escape(k), escape(str(v))] for k, v in counts.items()]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Analysis of {escape(results["study"])}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:
collapse;margin:1em 0}}td,th{{border:1px solid #999;padding:.2em .5em;text-align:left}}</style>
</head><body>
<h1>Analysis of {escape(results["study"])}</h1>{cover}
<h2>Analysis plan</h2>{_table(["item", "value"], plan_rows)}
<h2>Participant flow</h2><img src="{escape(consort)}" alt="CONSORT flow diagram">
{_table(["count", "value"], count_rows)}
<h2>Primary endpoint: {escape(plan["endpoint"])} within {plan["horizon_years"]} years</h2>
<h3>Intention to treat</h3>{_binary(results["primary"]["intention_to_treat"])}
<h3>Per protocol</h3>{_binary(results["primary"]["per_protocol"])}
<h2>Alternative endpoint definitions (intention to treat)</h2>{alternatives}
<h2>Time to event</h2><img src="{escape(figure)}" alt="cumulative incidence by arm">
{
        _table(
            [
                "arm",
                "women",
                "events",
                "competing deaths",
                "Aalen-Johansen per 100,000",
                "1 - KM per 100,000",
                "longest follow-up (years)",
                "horizon reached",
            ],
            tte_rows,
        )
    }
{_table(["test", "chi-square", "p", "note"], test_rows)}
<h2>Secondary endpoints (women with at least one, percent)</h2>
{_table(["arm", "endpoint", "women with", "women", "percent", "95 % interval (Wilson)"], secondary)}
</body></html>
"""
