"""Polygenic scores of a large VCF: ``pebs risk prs`` through the service, one core, peak memory.

Usage (from the repository root)::

    python -m benchmarks.prs_bench                  # 100,000 samples x 313 variants
    python -m benchmarks.prs_bench --samples 20000  # smaller

Writes synthetic VCF files for the 313 variants of PGS000004 into a temporary directory (deleted
afterwards): genotypes drawn in Hardy-Weinberg proportions at each variant's effect-allele
frequency (REF = other allele, ALT = effect allele), as

- ``gt``: ``GT`` only, phased (``0|1``), plain text;
- ``gt.gz``: the same file gzip-compressed (level 1);
- ``ds``: ``GT:DS`` with ``./.`` and a dosage with three decimals (as imputation servers write).

Each file is scored by :func:`pebs.services.prs_scoring.score_vcf_to_csv` in a fresh child process
pinned to one core (``benchmarks.one_core``), which reports its wall and CPU seconds and its peak
resident set (``resource.getrusage(RUSAGE_SELF).ru_maxrss``); a child that only imports the same
modules gives the baseline. Every output raw score is checked against ``dosages @ weights``
computed here from the generated genotypes (largest absolute difference; must be <= 1e-9).
Prints a markdown section.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import one_core

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 10.0
"""The lead's goal is "in seconds with bounded memory" for 100,000 samples x 313 variants; this
benchmark reports against 10 s on one core (a threshold chosen here, not by the lead)."""
TOLERANCE = 1e-9
FORMATS = ("gt", "gt.gz", "ds")


def _header(samples: int) -> bytes:
    names = "\t".join(f"S{i:06d}" for i in range(1, samples + 1))
    return (
        "##fileformat=VCFv4.2\n##source=pebs benchmarks/prs_bench.py (synthetic)\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        '##FORMAT=<ID=DS,Number=A,Type=Float,Description="ALT dosage">\n'
        f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{names}\n"
    ).encode()


def write_vcfs(folder: Path, n_samples: int, seed: int):
    """Write the three files; return the expected raw scores (float64, one per sample)."""
    import numpy as np

    from pebs.io.pgs_catalog import load_packaged_score

    score = load_packaged_score("PGS000004").score
    rng = np.random.default_rng(seed)
    order = np.lexsort((score.positions, [int(c) for c in score.chromosomes]))
    gt_cells = np.frombuffer(b"0|0\t0|1\t1|0\t1|1\t", dtype=np.uint8).reshape(4, 4)
    ds_text = "".join(f"./.:{k // 1000}.{k % 1000:03d}\t" for k in range(2001))
    ds_cells = np.frombuffer(ds_text.encode(), dtype=np.uint8).reshape(2001, 10)  # "./.:d.ddd\t"
    expected_gt = np.zeros(n_samples)
    expected_ds = np.zeros(n_samples)
    header = _header(n_samples)
    with (
        open(folder / "gt.vcf", "wb") as gt,
        gzip.open(folder / "gt.vcf.gz", "wb", compresslevel=1) as gz,
        open(folder / "ds.vcf", "wb") as ds,
    ):
        for stream in (gt, gz, ds):
            stream.write(header)
        for j in order:
            f = score.effect_allele_frequencies[j]
            alleles = rng.random((n_samples, 2)) < f  # (n_samples, 2) effect allele?
            code = alleles[:, 0] * 2 + alleles[:, 1]
            site = (
                f"{score.chromosomes[j]}\t{score.positions[j]}\t.\t{score.other_alleles[j]}\t"
                f"{score.effect_alleles[j]}\t.\tPASS\t.\t"
            ).encode()
            line = site + b"GT\t" + gt_cells[code].tobytes()[:-1] + b"\n"
            gt.write(line)
            gz.write(line)
            noisy = alleles.sum(axis=1) + rng.normal(0.0, 0.2, n_samples)
            thousandths = np.rint(np.clip(noisy, 0.0, 2.0) * 1000).astype(np.intp)
            ds.write(site + b"GT:DS\t" + ds_cells[thousandths].tobytes()[:-1] + b"\n")
            expected_gt += alleles.sum(axis=1) * score.weights[j]
            expected_ds += thousandths / 1000 * score.weights[j]  # = float("d.ddd") exactly
    return {"gt": expected_gt, "gt.gz": expected_gt, "ds": expected_ds}


def _child(vcf: str | None, output: str | None) -> None:
    """Score ``vcf`` (or only import, when None) and print timings and peak RSS as JSON."""
    from pebs.services import prs_scoring

    wall = cpu = 0.0
    if vcf is not None:
        start, start_cpu = time.perf_counter(), time.process_time()
        run = prs_scoring.score_vcf_to_csv(Path(vcf), Path(output))
        wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        assert run.n_matched_variants == run.n_variants
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    print(json.dumps({"wall_seconds": wall, "cpu_seconds": cpu, "peak_rss_mib": peak_kib / 1024}))


def _run_child(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.prs_bench", "--child", *args],
        cwd=ROOT, env=one_core.child_env(), capture_output=True, text=True, check=False,
        preexec_fn=one_core.pin_to_one_core,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"prs_bench child failed:\n{done.stderr}")
    return json.loads(done.stdout)


def measure(n_samples: int, seed: int, tmp_root: str | None = None) -> dict:
    """Generate, score each format in a child, check, clean up; a JSON-ready dict."""
    import numpy as np
    import pandas as pd

    folder = Path(tempfile.mkdtemp(prefix="pebs-prs-bench-", dir=tmp_root))
    try:
        start = time.perf_counter()
        expected = write_vcfs(folder, n_samples, seed)
        report: dict = {
            "n_samples": n_samples,
            "generate_seconds": time.perf_counter() - start,
            "baseline": _run_child(),
            "runs": {},
        }
        for name in FORMATS:
            vcf = folder / f"{name.split('.')[0]}.vcf{'.gz' if name.endswith('.gz') else ''}"
            output = folder / f"{name}.csv"
            run = _run_child(str(vcf), str(output))
            scored = pd.read_csv(output)
            difference = np.abs(scored["raw_score"].to_numpy() - expected[name]).max()
            run.update(
                file_mib=vcf.stat().st_size / 2**20,
                samples_per_s=n_samples / run["wall_seconds"],
                n_rows=len(scored),
                max_abs_diff=float(difference),
                ok=bool(len(scored) == n_samples and difference <= TOLERANCE),
            )
            report["runs"][name] = run
        return report
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def markdown(report: dict) -> str:
    """The report as a markdown section."""
    n = report["n_samples"]
    baseline = report["baseline"]["peak_rss_mib"]
    lines = [
        "## Polygenic scores (PGS000004, 313 variants)",
        "",
        f"`prs_scoring.score_vcf_to_csv` on {n:,} synthetic samples x 313 variants, one core, "
        f"fresh process per file (read + match + score + write CSV). Goal: {n:,} samples in under "
        f"{GOAL_SECONDS:g} s with memory bounded by the block size, not the file. Baseline peak "
        f"RSS after imports: {baseline:.0f} MiB.",
        "",
        "| file | size (MiB) | wall (s) | CPU (s) | samples/s | peak RSS (MiB) "
        f"| max abs diff vs dosages @ weights | check | under {GOAL_SECONDS:g} s |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, run in report["runs"].items():
        lines.append(
            f"| `{name}` | {run['file_mib']:.0f} | {run['wall_seconds']:.2f} | "
            f"{run['cpu_seconds']:.2f} | {run['samples_per_s']:,.0f} | "
            f"{run['peak_rss_mib']:.0f} | {run['max_abs_diff']:.1e} | "
            f"{'ok' if run['ok'] else '**FAILED**'} | "
            f"{'yes' if run['wall_seconds'] <= GOAL_SECONDS else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.prs_bench", description=__doc__)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20190101)
    parser.add_argument("--tmpdir", help="where to put the temporary VCF files")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        _child(*(args.child or [None, None]))
        return 0
    one_core.limit_threads()
    report = measure(args.samples, args.seed, args.tmpdir)
    print(markdown(report))
    return 0 if all(run["ok"] for run in report["runs"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
