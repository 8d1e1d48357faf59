"""The VCF writer: what it writes is what the reader and the PRS engine read back.

Expected scores are summed here from the scoring file read with :mod:`csv`
(:data:`lab_factories.VARIANTS`), never from the engine under test.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from lab_factories import VARIANTS
from pebs.io.vcf import VcfReader
from pebs.io.vcf_writer import MISSING, write_vcf
from pebs.services.prs_scoring import load_score, score_vcf

SCORE = load_score("PGS000004")


def _expected_raw(dosages: np.ndarray, absent: set[int]) -> np.ndarray:
    raw = np.zeros(dosages.shape[0])
    for j, v in enumerate(VARIANTS):
        column = dosages[:, j].astype(float)
        missing = (column == MISSING) | (j in absent)
        raw += np.where(missing, 2 * v.frequency, column) * v.weight
    return raw


@pytest.mark.parametrize(("name", "with_dosage"), [("g.vcf", False), ("g.vcf.gz", True)])
def test_written_genotypes_score_as_summed_by_hand(tmp_path, name, with_dosage) -> None:
    rng = np.random.default_rng(5)
    dosages = rng.integers(0, 3, size=(6, 313)).astype(np.int8)
    dosages[2, 10:17] = MISSING
    flip = np.zeros(313, dtype=bool)
    flip[::3] = True  # effect allele written as REF: the reader takes ploidy - ALT copies
    absent = {4, 50}
    names = [f"MP-{i}" for i in range(6)]
    path = write_vcf(tmp_path / name, SCORE.score, names, dosages, effect_is_ref=flip,
                     with_dosage=with_dosage,
                     variants=[j for j in range(313) if j not in absent])  # fmt: skip

    run = score_vcf(path, SCORE, impute_missing=True)

    assert run.result.sample_names == tuple(names)
    np.testing.assert_allclose(run.result.raw_scores, _expected_raw(dosages, absent), atol=1e-12)
    assert run.result.n_matched.tolist() == [311, 311, 304, 311, 311, 311]
    if name.endswith(".gz"):
        with gzip.open(path, "rt") as stream:
            assert any("GT:DS" in line for line in stream)


def test_records_are_sorted_by_chromosome_and_position(tmp_path) -> None:
    path = write_vcf(tmp_path / "g.vcf", SCORE.score, ["A"], np.zeros((1, 313), dtype=np.int8))
    with VcfReader(path) as vcf:
        keys = [(int(r.chromosome), r.position) for r in vcf]
    assert keys == sorted(keys)
    assert len(keys) == 313


def test_shapes_and_values_that_do_not_fit_are_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="expected shape"):
        write_vcf(tmp_path / "g.vcf", SCORE.score, ["A", "B"], np.zeros((1, 313)))
    with pytest.raises(ValueError, match="0, 1 or 2"):
        write_vcf(tmp_path / "g.vcf", SCORE.score, ["A"], np.full((1, 313), 3))
