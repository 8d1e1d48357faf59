"""The DSMB reports as PDF (fpdf2, A4, the trial analysis report's writer).

Page one is the cover (report kind, study, software version, data source, the snapshot's
SHA-256 over two lines so it prints whole, data cut-off, seed, who produced it and when); then
one section per table, in the order of :data:`pebs.reports.dsmb_report.SECTIONS`, with the
recruitment plot and (closed report) the boundary plot, and the closed report's tests and
monitoring result. The PDF's creation date is the time the report was produced.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pebs.reports.analysis_pdf import ReportWriter

__all__ = ["dsmb_pdf"]


def dsmb_pdf(document: Mapping[str, Any], cover: Mapping[str, str],
             figures: Mapping[str, bytes]) -> bytes:  # fmt: skip
    """The PDF of a DSMB report's ``document``, with the PNG ``figures`` by name."""
    from pebs.reports.dsmb_report import SECTIONS, cell, closing_lines, cover_rows, shown_rows

    writer = ReportWriter()
    pdf = writer.pdf
    pdf.set_creation_date(datetime.fromisoformat(cover["produced_at"]))
    title = f"DSMB {document['kind']} report: {document['study']}"
    pdf.set_title(title)
    pdf.set_creator("pebs")
    writer.heading(title, 16)
    rows = cover_rows(document, cover)
    for row in rows:
        if row[0] == "snapshot SHA-256" and len(row[1]) == 64:
            row[1] = f"{row[1][:32]}\n{row[1][32:]}"
    writer.table(["", ""], rows)
    if document["kind"] == "open":
        writer.text("Open report: every figure is pooled over the arms.")
    else:
        writer.text("Closed report: by arm, for the closed session of the data monitoring "
                    "committee only.")  # fmt: skip
    for name, heading, explanation in SECTIONS:
        if name not in document["tables"]:
            continue
        pdf.add_page()
        writer.heading(heading, 12)
        writer.text(explanation)
        figure = {"recruitment": "recruitment", "monitoring": "boundaries"}.get(name)
        if figure in figures:
            pdf.image(io.BytesIO(figures[figure]), w=pdf.epw * 0.85)
            pdf.ln(2)
        columns, body = shown_rows(name, document["tables"][name])
        if body:
            writer.table(columns, [[cell(v) for v in row] for row in body])
        else:
            writer.text("(no rows)")
    for line in closing_lines(document):
        writer.text(line)
    return bytes(pdf.output())
