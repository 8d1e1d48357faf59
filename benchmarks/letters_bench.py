"""Letters rendered to PDF, one core: letters per CPU-second and peak memory of a batch.

Usage (from the repository root)::

    python -m benchmarks.letters_bench                 # 60 letters per language, 10,000 streamed
    python -m benchmarks.letters_bench --quick         # 20 per language, 1,000 streamed

Letters (fixed seed, built before timing): risk results of the six languages, the woman's letter
and the doctor's copy alternating, with varied names (accented Latin, Hebrew for Hebrew letters),
levels, 5-year risks, one to four planned exams, model inputs and components.

Measured:

- **Speed**: :func:`pebs.letters.render_pdf` on every letter of a language, CPU seconds
  (``time.process_time``), median of ``--repeats`` rounds, after one warm-up letter per language
  (the first letter of a process also parses the two bundled fonts: reported apart, "cold").
  The visual order of Hebrew lines, which ``pebs.letters.pdf`` keeps from letter to letter, is
  forgotten before each round, so that repeating the same letters does not flatter Hebrew.
  Goal: **>= 20 letters per CPU-second** (< 0.05 s a letter) over the mixed languages, and
  < 0.04 s a letter. Peer, same run, same words: fpdf2 used the plain way (each document adds
  the bundled fonts with ``add_font`` and sets each paragraph with ``multi_cell``; Hebrew shaped).
- **Memory**: a fresh child process renders ``--stream`` letters (the six languages in turn)
  and writes each PDF to a temporary folder, one at a time, keeping none; it reports its CPU time,
  its peak resident set (``getrusage`` maxrss) and its resident set after the first 100 letters
  and at the end (equal within a few MiB when memory is bounded).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks import one_core

SEED = 20261207
GOAL_PER_SECOND = 20.0
GOAL_SECONDS = 0.04
NAMES = (
    "Zoë Müller",
    "Françoise Lefèvre",
    "Inès Peña",
    "Chiara Niccolò",
    "Eliška Dvořák",
    "Anouk Ruëll",
    "María José Núñez",
    "Ada Lovelace",
)
HEBREW_NAMES = ("רחל כהן", "מרים לוי", "שרה מזרחי", "נועה פרץ")


def letters(n_per_language: int, seed: int = SEED) -> list:
    """``n_per_language`` risk-result letters per language (woman and doctor alternating)."""
    from pebs.letters import ExamLine, LetterData, ModelInfo, SiteContact
    from pebs.trial.vocabularies import LANGUAGES, MODALITIES, RISK_LEVELS

    rng = random.Random(seed)
    site = SiteContact(
        "Centre Léon Bérard", "28 rue Laennec\n69008 Lyon", "+33 4 78 78 28 28", "etude@example.org"
    )
    model = ModelInfo("pebs-personalised", "1.2.0", "https://example.org/models/personalised")
    result = []
    for language in LANGUAGES:
        for index in range(n_per_language):
            issued = date(2027, 1, 4) + timedelta(days=rng.randrange(365))
            exams = tuple(
                ExamLine(
                    issued + timedelta(days=365 * (k + 1)),
                    rng.choice(MODALITIES),
                    site.name,
                    "mypebs-risk-based",
                    "yearly",
                    "Yearly screening",
                )
                for k in range(rng.randint(1, 4))
            )
            names = HEBREW_NAMES if language == "he" else NAMES
            result.append(
                LetterData(
                    kind="risk_result",
                    recipient="doctor" if index % 2 else "woman",
                    language=language,
                    issued_on=issued,
                    study_id=f"XX-{index:05d}",
                    full_name=rng.choice(names),
                    address=f"{rng.randint(1, 99)} Main Street\n1000 City",
                    site=site,
                    level=rng.choice(RISK_LEVELS),
                    five_year_risk=round(rng.uniform(0.003, 0.12), 4),
                    provisional=rng.random() < 0.1,
                    exams=exams,
                    plan_end=issued + timedelta(days=1461),
                    model=model,
                    inputs={
                        "age": rng.randint(40, 70),
                        "bmi": round(rng.uniform(19, 35), 1),
                        "density": rng.choice("abcd"),
                        "relatives": "unknown",
                    },
                    components={"rr_classical": 1.2, "rr_prs": round(rng.uniform(0.5, 2.5), 2)},
                )
            )
    return result


def _plain_fpdf2(data) -> bytes:
    """The peer: the same words set with fpdf2's documented calls, nothing kept between letters."""
    from datetime import UTC, datetime
    from datetime import time as day_start
    from importlib import resources

    from fpdf import FPDF

    from pebs.letters.resolve import Heading, Paragraph, resolve

    letter = resolve(data)
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime.combine(letter.issued_on, day_start(), tzinfo=UTC))
    fonts = resources.files("pebs.letters").joinpath("fonts")
    with resources.as_file(fonts) as folder:
        pdf.add_font("dejavu", "", str(folder / "DejaVuSans-letters.ttf"))
        pdf.add_font("dejavu", "B", str(folder / "DejaVuSans-Bold-letters.ttf"))
    if letter.direction == "rtl":
        pdf.set_text_shaping(True, direction="rtl", script="hebr", language="heb")
    align = "R" if letter.direction == "rtl" else "L"
    pdf.add_page()
    pdf.set_font("dejavu", "", 9)
    pdf.multi_cell(0, 4.5, "\n".join(letter.sender), align=align, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "B", 15)
    pdf.multi_cell(0, 7, letter.title, align=align, new_x="LMARGIN", new_y="NEXT")
    for part in letter.parts:
        if isinstance(part, Heading | Paragraph):
            pdf.set_font("dejavu", "B" if isinstance(part, Heading) else "", 10.5)
            pdf.multi_cell(0, 5.2, part.text, align=align, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("dejavu", "", 9)
            for row in (part.columns, *part.rows):
                pdf.multi_cell(0, 4.5, " | ".join(row), align=align, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _median_cpu(function, batch: list, repeats: int, forget=None) -> float:
    """Median CPU seconds of rendering every letter of ``batch``, over ``repeats`` rounds.

    ``forget`` (if given) is called before each round, untimed: it empties what the renderer
    keeps between letters.
    """
    rounds = []
    for _ in range(repeats):
        if forget is not None:
            forget()
        start = time.process_time()
        for data in batch:
            function(data)
        rounds.append(time.process_time() - start)
    return statistics.median(rounds)


def _stream_child(n: int) -> dict:
    """Render ``n`` letters into a temporary folder one at a time (runs in a fresh process)."""
    from pebs.letters import render_pdf

    batch = letters(max(1, -(-n // 6)), seed=SEED + 1)
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    rss_after_100 = None
    total_bytes = 0
    with tempfile.TemporaryDirectory(prefix="pebs-letters-") as folder:
        for index in range(n):
            data = batch[(index % 6) * (len(batch) // 6) + (index // 6) % (len(batch) // 6)]
            pdf = render_pdf(data)
            path = Path(folder) / f"{index:06d}.pdf"
            path.write_bytes(pdf)
            total_bytes += len(pdf)
            path.unlink()  # keep the disk bounded too; each file was written whole
            if index == 99:
                rss_after_100 = _rss_mib()
    return {
        "n": n,
        "cpu_seconds": time.process_time() - start_cpu,
        "wall_seconds": time.perf_counter() - start_wall,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_100_mib": rss_after_100,
        "rss_end_mib": _rss_mib(),
        "mean_pdf_kib": total_bytes / n / 1024,
    }


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run(n_per_language: int, repeats: int, n_stream: int) -> str:
    from pebs.letters import render_pdf
    from pebs.letters.pdf import _visual
    from pebs.trial.vocabularies import LANGUAGES

    batch = letters(n_per_language)
    start = time.process_time()
    render_pdf(batch[0])  # the first letter of the process: fonts parsed, templates read
    cold = time.process_time() - start
    for language in LANGUAGES:  # warm-up: one letter per language
        render_pdf(next(data for data in batch if data.language == language))
    lines = [
        "## Letters: PDF rendering, one core",
        "",
        f"`pebs.letters.render_pdf` on {n_per_language} risk-result letters per language (woman "
        f"and doctor alternating; seed {SEED}), CPU seconds, median of {repeats} rounds, one CPU. "
        f"Goal: >= {GOAL_PER_SECOND:g} letters per CPU-second and < {GOAL_SECONDS} s a letter "
        "over the mixed languages. Peer: fpdf2 the plain way (`add_font` per document, "
        "`multi_cell`), same words.",
        "",
        "| language | s / letter | letters / CPU-s | peer s / letter | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    total, total_peer = 0.0, 0.0
    for language in LANGUAGES:
        group = [data for data in batch if data.language == language]
        seconds = _median_cpu(render_pdf, group, repeats, forget=_visual.cache_clear)
        peer = _median_cpu(_plain_fpdf2, group, max(1, repeats // 2))
        total, total_peer = total + seconds, total_peer + peer
        lines.append(
            f"| {language} | {seconds / len(group):.4f} | {len(group) / seconds:.1f} | "
            f"{peer / len(group):.4f} | {peer / seconds:.1f}x |"
        )
    per_letter = total / len(batch)
    met = per_letter < GOAL_SECONDS and 1 / per_letter >= GOAL_PER_SECOND
    lines.append(
        f"| **all** | **{per_letter:.4f}** | **{1 / per_letter:.1f}** | "
        f"{total_peer / len(batch):.4f} | {total_peer / total:.1f}x |"
    )
    lines += [
        "",
        f"Goal met: {'yes' if met else 'NO'}. First letter of a process (fonts parsed, "
        f"templates read): {cold:.3f} s CPU.",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.letters_bench", "--child-stream", str(n_stream)],
        env=one_core.child_env(),
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=one_core.pin_to_one_core,
    )
    stream = json.loads(done.stdout)
    lines += [
        "",
        f"Batch of {stream['n']:,} letters rendered and written one at a time in a fresh process: "
        f"{stream['cpu_seconds']:.1f} s CPU ({stream['n'] / stream['cpu_seconds']:.1f} letters "
        f"per CPU-second), {stream['wall_seconds']:.1f} s wall; peak RSS "
        f"{stream['peak_rss_mib']:.0f} MiB; RSS after 100 letters "
        f"{stream['rss_after_100_mib']:.0f} MiB, at the end {stream['rss_end_mib']:.0f} MiB; "
        f"mean PDF {stream['mean_pdf_kib']:.0f} KiB.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.letters_bench")
    parser.add_argument("--n", type=int, default=60, help="letters per language (speed)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stream", type=int, default=10_000, help="letters of the batch")
    parser.add_argument("--quick", action="store_true", help="20 per language, 1,000 streamed")
    parser.add_argument("--child-stream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    one_core.pin_to_one_core()
    if args.child_stream:
        print(json.dumps(_stream_child(args.child_stream)))
        return 0
    if args.quick:
        args.n, args.stream = 20, 1_000
    print(run(args.n, args.repeats, args.stream), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
