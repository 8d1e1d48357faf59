"""The DSMB reports as files: the tables (JSON, CSV), the plots, the HTML page and the PDF.

:func:`dsmb_outputs` turns a report's document (``tables.json``: cover and tables, built by
``pebs.services.analysis.dsmb``) into the bytes of every output file. The JSON and CSV files
depend only on the document, so the same data source and software version give the same bytes;
the HTML page and the PDF add who produced the report and when. The report body is in English,
like the trial analysis report; its numbers are formatted the same everywhere: whole numbers
with thousands separators, other numbers with 1 (10 and above), 3 (0.01 and above) or 3
significant digits in scientific notation (below 0.01). Every text is escaped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from pebs.reports.dsmb_plots import boundaries_figure, figure_bytes, recruitment_figure

__all__ = ["SECTIONS", "cell", "cover_rows", "dsmb_outputs", "shown_rows"]

SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("recruitment", "Recruitment against target",
     "Women registered and randomised by the end of the data cut's month, per country and site, "
     "against the study's targets (the monthly series are in recruitment.csv)."),
    ("baseline", "Baseline characteristics",
     "Women per category; percent of the women of the group. Risk levels exist only where a risk "
     "assessment was made; density is the BI-RADS category of the first screening reading."),
    ("age", "Age at entry (years)", "Quartiles by linear interpolation; sd with n - 1."),
    ("missing_forms", "Data completeness: missing forms",
     "Forms expected by the data cut and not recorded, per site, time point and form."),
    ("queries", "Data completeness: data queries",
     "Queries open (waiting for the site) and answered (waiting for review) per site; days "
     "since the open ones were raised."),
    ("follow_up", "Follow-up",
     "Woman-years from randomisation to the end of follow-up (death, withdrawal from data "
     "collection, or the data cut)."),
    ("withdrawals", "Withdrawals", "Women who withdrew by the data cut, per level."),
    ("events", "Event rates",
     "Women with at least one event within follow-up; rate per 1,000 woman-years to the first "
     "event; proportion per 100,000 women."),
    ("deviations", "Protocol deviations",
     "pebs records no protocol deviation as such: these are the per-protocol exclusions of the "
     "analysis plan (percent of the women of the group)."),
    ("primary", "Primary endpoint by arm (intention to treat)",
     "Women with the endpoint within the horizon over women randomised; proportions with "
     "Wilson 95 % intervals."),
    ("monitoring", "Group-sequential monitoring",
     "Cumulative evaluable women and endpoint events per arm at each look; boundaries "
     "recomputed at the observed information fractions; z oriented so that large values favour "
     "non-inferiority."),
)  # fmt: skip
"""(table, heading, explanation) in the order of the report."""


def cell(value: Any) -> str:
    """A value as the report prints it (module docstring)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        size = abs(value)
        if size == 0 or size >= 10:
            return f"{value:,.1f}"
        return f"{value:.3f}" if size >= 0.01 else f"{value:.2e}"
    return str(value)


def shown_rows(name: str, section: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The columns and rows a report prints of a table (recruitment: its last month only)."""
    columns, rows = section["columns"], section["rows"]
    if name == "recruitment" and rows:
        last = max(row[3] for row in rows)
        rows = [[*row[:3], row[4], row[5]] for row in rows if row[3] == last]
        columns = [*columns[:3], f"registered by {last}", f"randomised by {last}"]
    return list(columns), list(rows)


def cover_rows(document: Mapping[str, Any], cover: Mapping[str, str]) -> list[list[str]]:
    source = document["source"]
    kind = document["kind"]
    return [
        ["report", f"{kind} report ({'by arm' if kind == 'closed' else 'pooled over arms'})"],
        ["study", document["study"]],
        ["software", f"pebs {document['software']['pebs']}"],
        ["data source", f"{source['kind']}: {source['name']}"],
        ["snapshot SHA-256", source["sha256"] or "none (live database)"],
        ["recorded study lock", source.get("study_lock") or "none"],
        ["data cut-off", document["data_cut"]],
        ["seed", "none: the report draws no random numbers"],
        ["women in the tables", cell(document["counts"]["women"])],
        ["produced by", cover["produced_by"]],
        ["produced at (UTC)", cover["produced_at"]],
    ]


def _html_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def closing_lines(document: Mapping[str, Any]) -> list[str]:
    """The sentences of the closed report after its tables: tests and monitoring result."""
    lines = []
    primary = document.get("primary") or {}
    for scale in ("ratio", "difference"):
        test = primary.get(scale)
        if test:
            lines.append(
                f"Non-inferiority, {scale} scale ({test['method']}): estimate "
                f"{cell(test['estimate'])} ({cell(test['lower'])} to {cell(test['upper'])}), "
                f"margin {cell(test['margin'])}, one-sided p {cell(test['p_value'])}."
            )
    watch = document.get("monitoring") or {}
    if "not_computed" in watch:
        lines.append(f"Monitoring not computed: {watch['not_computed']}.")
    elif watch:
        power = watch["conditional_power"]
        lines.append(watch["statement"])
        lines.append(
            f"Look {watch['look']} of {watch['looks_planned']}. Conditional power: "
            f"{cell(power['trend'])} under the observed trend, "
            f"{cell(power['planned_alternative'])} under the planned alternative; conditional "
            f"rejection probability under H0 {cell(power['conditional_rejection_probability'])}."
        )
    return lines


def _html(document: Mapping[str, Any], cover: Mapping[str, str]) -> str:
    kind, study = document["kind"], document["study"]
    title = f"DSMB {kind} report: {study}"
    parts = [f"<h1>{escape(title)}</h1>", _html_table(["", ""], cover_rows(document, cover))]
    if kind == "open":
        parts.append("<p>Open report: every figure is pooled over the arms.</p>")
    else:
        parts.append("<p><strong>Closed report: by arm, for the closed session of the data "
                     "monitoring committee only.</strong></p>")  # fmt: skip
    for name, heading, explanation in SECTIONS:
        if name not in document["tables"]:
            continue
        parts.append(f"<h2>{escape(heading)}</h2><p>{escape(explanation)}</p>")
        if name == "recruitment":
            parts.append('<img src="recruitment.svg" alt="recruitment against target">')
        if name == "monitoring":
            parts.append('<img src="boundaries.svg" alt="boundaries and observed z">')
        parts.append(_html_table(*shown_rows(name, document["tables"][name])))
    parts += [f"<p>{escape(line)}</p>" for line in closing_lines(document)]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:62em;margin:2em auto}}table{{border-collapse:
collapse;margin:1em 0}}td,th{{border:1px solid #999;padding:.2em .5em;text-align:left}}</style>
</head><body>
{"".join(parts)}
</body></html>
"""


def _csv(section: Mapping[str, Any]) -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(section["columns"])
    writer.writerows([["" if v is None else v for v in row] for row in section["rows"]])
    return stream.getvalue().encode()


def dsmb_outputs(document: Mapping[str, Any], cover: Mapping[str, str]) -> dict[str, bytes]:
    """File name -> bytes of every output of the report (module docstring)."""
    from pebs.reports.dsmb_pdf import dsmb_pdf

    outputs = {
        "tables.json": (
            json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"
        ).encode(),
    }
    for name, section in document["tables"].items():
        outputs[f"{name}.csv"] = _csv(section)
    figures = {"recruitment": recruitment_figure(document["tables"]["recruitment"])}
    if document["kind"] == "closed":
        figures["boundaries"] = boundaries_figure(document["monitoring"])
    for name, figure in figures.items():
        for extension in ("png", "svg"):
            outputs[f"{name}.{extension}"] = figure_bytes(figure, extension)
    outputs["report.html"] = _html(document, cover).encode()
    outputs["report.pdf"] = dsmb_pdf(document, cover, {n: outputs[f"{n}.png"] for n in figures})
    return outputs
