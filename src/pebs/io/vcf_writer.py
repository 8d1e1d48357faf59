"""Write genotypes at a polygenic score's variants as a VCF file (plain, or gzip for ``.gz``).

One record per score variant, sorted by chromosome (1-22, then others by name) and position;
``REF`` is the score's other allele and ``ALT`` its effect allele (or the reverse for the
variants flagged ``effect_is_ref``), ``ID`` the variant's identifier (``.`` when unknown). Each
sample column has ``GT`` (unphased, ``./.`` when missing) and, with ``with_dosage``, ``DS`` (the
ALT dosage, ``.`` when missing): the fields :class:`pebs.io.vcf.VcfReader` reads. Sample names
are written as given (a laboratory names them by kit ID).

>>> import io
>>> from pebs.risk.prs import PolygenicScore
>>> score = PolygenicScore("toy", ["2", "1"], [200, 100], ["A", "C"], ["G", "T"], [0.5, -0.25])
>>> stream = io.StringIO()
>>> write_vcf_records(stream, score, ["S1", "S2"], np.array([[0, 2], [1, -1]]))
>>> for line in stream.getvalue().splitlines()[-2:]:
...     print(line.split("\\t"))
['1', '100', '.', 'T', 'C', '.', 'PASS', '.', 'GT', '1/1', './.']
['2', '200', '.', 'G', 'A', '.', 'PASS', '.', 'GT', '0/0', '0/1']
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from pebs.io.errors import FileAccessError
from pebs.risk.prs import PolygenicScore

__all__ = ["MISSING", "write_vcf", "write_vcf_records"]

MISSING = -1
"""Dosage code of a missing genotype in the matrix given to the writer."""

_GT = np.array(["./.", "0/0", "0/1", "1/1"])
"""GT by ALT-allele copies + 1 (index 0: missing)."""
_DS = np.array([".", "0", "1", "2"])


def _chromosome_key(name: str) -> tuple[int, int, str]:
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def _record_order(score: PolygenicScore, variants: Sequence[int]) -> list[int]:
    return sorted(
        variants,
        key=lambda j: (_chromosome_key(str(score.chromosomes[j])), int(score.positions[j])),
    )


def write_vcf_records(
    stream: TextIO,
    score: PolygenicScore,
    sample_names: Sequence[str],
    dosages: np.ndarray,
    *,
    variants: Sequence[int] | None = None,
    effect_is_ref: np.ndarray | None = None,
    with_dosage: bool = False,
) -> None:
    """Write the header and one record per variant of ``variants`` (default: all) to ``stream``.

    ``dosages``: effect-allele copies 0..2 (:data:`MISSING` for no call), shape
    (n_samples, n_variants) in the score's variant order; a variant left out of ``variants``
    is absent from the file. ``effect_is_ref`` (bool, shape (n_variants,)): write those
    variants with the effect allele as REF. :class:`ValueError` for shapes that do not fit, a
    dosage outside -1..2, or a variant whose other allele is unknown.
    """
    dosages = np.asarray(dosages)
    n_variants = score.n_variants
    if dosages.shape != (len(sample_names), n_variants):
        raise ValueError(
            f"dosages: expected shape ({len(sample_names)}, {n_variants}), got {dosages.shape}"
        )
    if dosages.size and (dosages.min() < MISSING or dosages.max() > 2):
        raise ValueError("dosages: effect-allele copies 0, 1 or 2, or -1 for no call")
    flip = np.zeros(n_variants, dtype=bool) if effect_is_ref is None else np.asarray(effect_is_ref)
    chosen = range(n_variants) if variants is None else variants
    build = f"##reference={score.genome_build}\n" if score.genome_build else ""
    fields = "GT:DS" if with_dosage else "GT"
    stream.write(
        "##fileformat=VCFv4.2\n"
        f"##source=pebs synthetic genotypes at the variants of {score.name}\n{build}"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        + ('##FORMAT=<ID=DS,Number=A,Type=Float,Description="Dosage of the ALT allele">\n'
           if with_dosage else "")
        + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
        + "\t".join(sample_names) + "\n"
    )  # fmt: skip
    for j in _record_order(score, list(chosen)):
        effect, other = str(score.effect_alleles[j]), str(score.other_alleles[j])
        if not other:
            raise ValueError(f"variant {score.labels([j])[0]}: its other allele is unknown")
        column = dosages[:, j].astype(np.int64)
        alt_copies = np.where(column == MISSING, MISSING, 2 - column) if flip[j] else column
        ref, alt = (effect, other) if flip[j] else (other, effect)
        cells = _GT[alt_copies + 1]
        if with_dosage:
            cells = np.char.add(np.char.add(cells, ":"), _DS[alt_copies + 1])
        variant_id = str(score.variant_ids[j]) or "."
        stream.write(
            f"{score.chromosomes[j]}\t{score.positions[j]}\t{variant_id}\t{ref}\t{alt}\t.\tPASS"
            f"\t.\t{fields}\t" + "\t".join(cells.tolist()) + "\n"
        )


def write_vcf(
    path: Path | str,
    score: PolygenicScore,
    sample_names: Sequence[str],
    dosages: np.ndarray,
    *,
    variants: Sequence[int] | None = None,
    effect_is_ref: np.ndarray | None = None,
    with_dosage: bool = False,
) -> Path:
    """:func:`write_vcf_records` to ``path`` (gzip when its name ends with ``.gz``).

    :class:`FileAccessError` if the file cannot be written.
    """
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "wt", encoding="utf-8", newline="\n") as stream:
            write_vcf_records(
                stream, score, sample_names, dosages, variants=variants,
                effect_is_ref=effect_is_ref, with_dosage=with_dosage,
            )  # fmt: skip
    except OSError as error:
        raise FileAccessError(f"{path}: cannot be written ({error.strerror})") from error
    return path
