"""The trial analysis report as a PDF (fpdf2, A4, the core Helvetica font: the report is in
English and its words are Latin-1).

Page one is the cover: the study, the software version, the data source and its SHA-256 (split
over two lines so it prints whole), the data cut, who ran it and when. Then the analysis plan,
the participant flow, the primary endpoint (intention to treat and per protocol) with its
non-inferiority tests and the Mantel-Haenszel analysis by country, the cumulative incidence
plot (its PNG) with the time-to-event table and tests. Proportions per 100,000 women. The same
results give the same bytes: the PDF's creation date is the run's time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["ReportWriter", "analysis_pdf", "latin1"]

PER = 100_000
_MARGIN = 18.0  # mm


def _n(value: Any, digits: int = 1, scale: float = 1.0) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value * scale:,.{digits}f}"


def latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


class ReportWriter:
    """A4 pages with headings, paragraphs and tables (the core Helvetica font, Latin-1)."""

    def __init__(self) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4", unit="mm")
        self.pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.pdf.set_auto_page_break(True, margin=_MARGIN)
        self.pdf.add_page()

    def heading(self, text: str, size: float = 13) -> None:
        self.pdf.set_font("Helvetica", "B", size)
        self.pdf.multi_cell(0, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1.5)

    def text(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "", 9.5)
        self.pdf.multi_cell(0, 4.8, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1.5)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.pdf.set_font("Helvetica", "", 8.5)
        with self.pdf.table(line_height=4.6, text_align="LEFT") as table:
            for row in [header, *rows]:
                cells = table.row()
                for cell in row:
                    cells.cell(latin1(str(cell)))
        self.pdf.ln(3)


def _binary(writer: ReportWriter, section: Mapping[str, Any]) -> None:
    writer.table(["arm", "events", "women", "per 100,000", "95 % interval (Wilson)"],
                 [[arm, _n(a["events"]), _n(a["n"]), _n(a["proportion"], 1, PER),
                   f"{_n(a['lower'], 1, PER)} to {_n(a['upper'], 1, PER)}"]
                  for arm, a in section["arms"].items()])  # fmt: skip
    rows = []
    for scale, factor in (("ratio", 1.0), ("difference", PER)):
        t = section.get(scale)
        if t is not None:
            digits = 3 if scale == "ratio" else 1
            rows.append([scale, _n(t["estimate"], digits, factor),
                         f"{_n(t['lower'], digits, factor)} to {_n(t['upper'], digits, factor)}",
                         _n(t["margin"], digits, factor), _n(t["p_value"], 4),
                         t["conclusion"]])  # fmt: skip
    if rows:
        writer.table(["scale (difference per 100,000)", "estimate", "interval (1 - 2 alpha)",
                      "margin", "one-sided p", "conclusion"], rows)  # fmt: skip
    mh = section.get("mantel_haenszel", {})
    if "risk_ratio" in mh:
        writer.text(f"Mantel-Haenszel by country: risk ratio {_n(mh['risk_ratio'], 3)} "
                    f"({_n(mh['lower'], 3)} to {_n(mh['upper'], 3)}), CMH p = "
                    f"{_n(mh['cmh_p_value'], 4)}, non-inferior: {mh['noninferior']}, "
                    f"{mh['n_strata_used']} countries used.")  # fmt: skip
    elif mh:
        writer.text(f"Mantel-Haenszel by country not computed: {mh['not_computed']}")


def analysis_pdf(results: Mapping[str, Any], *, figure_png: Path) -> bytes:
    """The PDF report of ``results`` (module docstring), with the plot ``figure_png``."""
    writer = ReportWriter()
    pdf = writer.pdf
    pdf.set_creation_date(datetime.fromisoformat(results["run_at"]))
    pdf.set_title(f"Analysis of {results['study']}")
    pdf.set_creator("pebs")
    source, plan = results["source"], results["plan"]
    writer.heading(f"Analysis of {results['study']}", 16)
    sha = source["sha256"] or "(live database: none)"
    writer.table(["", ""], [
        ["software", f"pebs {results['software']['pebs']}"],
        ["source", f"{source['kind']}: {source['name']}"],
        ["SHA-256", sha if len(sha) < 40 else f"{sha[:32]}\n{sha[32:]}"],
        ["recorded study lock", str(source.get("study_lock") or "none")],
        ["data cut", results["data_cut"]],
        ["run by", results["run_by"]],
        ["run at (UTC)", results["run_at"]],
    ])  # fmt: skip
    writer.heading("Analysis plan", 12)
    writer.table(["item", "value"], [[k, str(v)] for k, v in plan.items()])
    writer.heading("Participant flow", 12)
    flow = results["consort"]
    writer.table(["registered", "assessed", "eligible", "consented", "randomised"],
                 [[_n(flow[k]) for k in ("registered", "assessed", "eligible", "consented",
                                         "randomised")]])  # fmt: skip
    writer.table(["count", "value"], [[k, str(v)] for k, v in results["counts"].items()])
    pdf.add_page()
    writer.heading(f"Primary endpoint: {plan['endpoint']} within {plan['horizon_years']} years")
    writer.heading("Intention to treat", 11)
    _binary(writer, results["primary"]["intention_to_treat"])
    writer.heading("Per protocol", 11)
    _binary(writer, results["primary"]["per_protocol"])
    pdf.add_page()
    writer.heading("Time to event")
    pdf.image(str(figure_png), w=pdf.epw)
    tte = results["time_to_event"]
    writer.table(["arm", "women", "events", "deaths", "Aalen-Johansen /100,000",
                  "1 - KM /100,000", "longest follow-up (y)"],
                 [[arm, _n(c["n"]), _n(c["events"]), _n(c["deaths"]),
                   _n(c["aalen_johansen_at_horizon"], 1, PER),
                   _n(c["one_minus_km_at_horizon"], 1, PER), _n(c["max_follow_up_years"], 2)]
                  for arm, c in tte["arms"].items()])  # fmt: skip
    writer.table(["test", "chi-square", "p", "note"],
                 [[name, _n(t.get("statistic"), 3), _n(t.get("p_value"), 4),
                   t.get("not_computed", "")] for name, t in tte["tests"].items()])  # fmt: skip
    return bytes(pdf.output())
