"""pebs.risk.prs: allele matching, dosages, sums, standardisation and the missing-data policy.

Expected values come from hand calculation (written out next to each test), from CanRisk's
``vcf2prs`` numbers in ``tests/data/prs/reference_scores_sample.csv`` (with the genotypes and
weights parsed here by plain string splitting, not by pebs.io), or from properties.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pebs.risk import prs
from pebs.risk._arrays import ModelInputError

DATA = Path(__file__).parents[1] / "data" / "prs"
SCORE_FILE = Path(__file__).parents[2] / "src" / "pebs" / "io" / "scores" / "PGS000004.txt"
MATCHED, NOT_FOUND, MISMATCH = (
    prs.VariantStatus.MATCHED,
    prs.VariantStatus.NOT_FOUND,
    prs.VariantStatus.ALLELE_MISMATCH,
)


def toy_score(frequencies=(0.1, 0.25, 0.5)) -> prs.PolygenicScore:
    """Three variants: weights 0.5, -0.25, 0.125 (exact in binary); effect-allele frequencies."""
    return prs.PolygenicScore(
        name="toy",
        chromosomes=["1", "chr2", "X"],
        positions=[100, 200, 300],
        effect_alleles=["a", "C", "GT"],
        other_alleles=["G", "t", ""],
        weights=[0.5, -0.25, 0.125],
        effect_allele_frequencies=frequencies,
    )


# --- constants ----------------------------------------------------------------------------


def test_prs313_constants_are_the_reference_files_constants():
    with (DATA / "reference_scores_sample.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert {row["mean"] for row in rows} == {repr(prs.PRS313_MEAN)}
    assert {row["sd"] for row in rows} == {repr(prs.PRS313_SD)}
    assert prs.NORMALISATIONS["PGS000004"] == prs.PRS313_EUROPEAN
    assert (prs.PRS313_EUROPEAN.mean, prs.PRS313_EUROPEAN.sd) == (
        -0.423912567501208,
        0.611145385948092,
    )
    assert prs.PRS313_OR_PER_SD == 1.61  # Mavaddat et al. 2019


@pytest.mark.parametrize(("mean", "sd"), [(0.0, 0.0), (0.0, -1.0), (np.nan, 1.0), (0.0, np.inf)])
def test_normalisation_needs_finite_mean_and_positive_sd(mean, sd):
    with pytest.raises(ModelInputError, match="normalisation"):
        prs.Normalisation(mean, sd, "test")


# --- the score ----------------------------------------------------------------------------


def test_score_normalises_chromosomes_and_alleles():
    score = toy_score()
    assert list(score.chromosomes) == ["1", "2", "X"]
    assert list(score.effect_alleles) == ["A", "C", "GT"]
    assert list(score.other_alleles) == ["G", "T", ""]
    assert score.by_position == {("1", 100): (0,), ("2", 200): (1,), ("X", 300): (2,)}
    assert score.labels() == ["1:100:G:A", "2:200:T:C", "X:300:?:GT"]
    assert not score.weights.flags.writeable


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weights": [0.5, np.nan, 0.1]}, "weights"),
        ({"weights": [0.5, 0.1]}, "weights"),
        ({"positions": [100, 0, 300]}, "positions"),
        ({"positions": [100.5, 200, 300]}, "positions"),
        ({"effect_alleles": ["A", "T", "GT"]}, "effect_alleles"),  # = other allele
        ({"effect_alleles": ["A", "", "GT"]}, "effect_alleles"),
        ({"effect_allele_frequencies": [0.1, 1.5, 0.2]}, "effect_allele_frequencies"),
        ({"chromosomes": ["1", 2, "X"]}, "chromosomes"),
    ],
)
def test_score_rejects_unusable_variants(change, message):
    arguments = {
        "name": "toy", "chromosomes": ["1", "2", "X"], "positions": [100, 200, 300],
        "effect_alleles": ["A", "C", "GT"], "other_alleles": ["G", "T", ""],
        "weights": [0.5, -0.25, 0.125],
    }  # fmt: skip
    with pytest.raises(ModelInputError, match=message):
        prs.PolygenicScore(**{**arguments, **change})


# --- matching -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effect", "other", "ref", "alts", "expected"),
    [
        ("A", "G", "G", ["A"], 1),  # effect = ALT
        ("G", "A", "G", ["A"], 0),  # effect = REF
        ("a", "g", "G", ["A"], 1),  # case does not matter
        ("T", "G", "G", ["A", "T"], 2),  # second ALT of a multi-allelic site
        ("G", "T", "G", ["A", "T"], 0),  # REF of a multi-allelic site
        ("A", "T", "G", ["A", "T"], 1),  # other allele is an ALT: still the same two alleles
        ("A", "", "G", ["A"], 1),  # other allele not given
        ("CAAA", "C", "C", ["CAAA"], 1),  # indel
        ("G", "", "G", [], 0),  # ALT "." and no other allele
        ("T", "C", "G", ["A"], -1),  # strand flip: not attempted
        ("A", "C", "G", ["A"], -1),  # other allele absent from the record
        ("C", "G", "G", ["A"], -1),  # effect allele absent
        ("G", "A", "G", [], -1),  # ALT ".": other allele absent
        ("C", "CA", "C", ["CAA"], -1),  # different indel at the same position
    ],
)
def test_match_alleles(effect, other, ref, alts, expected):
    assert prs.match_alleles(effect, other, ref, alts) == expected


def test_mismatch_reason_names_the_allele_at_fault():
    assert "effect allele C" in prs.mismatch_reason("C", "G", "G", ["A"])
    assert "other allele C" in prs.mismatch_reason("A", "C", "G", ["A"])
    assert "REF G, ALT A,T" in prs.mismatch_reason("C", "G", "G", ["A", "T"])


def test_match_site_by_chromosome_position_and_alleles():
    score = prs.PolygenicScore(
        "two at one site", ["1", "1", "1"], [100, 100, 101], ["A", "T", "A"], ["G", "G", "G"],
        [0.1, 0.2, 0.3],
    )  # fmt: skip
    site = prs.match_site(score, "chr1", 100, "G", ["A"])
    assert site.variant_indices == (0,)
    assert site.allele_indices == (1,)
    assert [i for i, _ in site.mismatches] == [1]
    both = prs.match_site(score, "1", 100, "G", ["T", "A"])
    assert (both.variant_indices, both.allele_indices, both.mismatches) == ((0, 1), (2, 1), ())
    nothing = prs.match_site(score, "2", 100, "G", ["A"])
    assert (nothing.variant_indices, nothing.mismatches) == ((), ())


# --- dosages of the effect allele -----------------------------------------------------------


def test_effect_allele_dosages_alt_and_ref():
    alt = np.array([[0.0], [1.0], [2.0], [0.25], [np.nan]])
    np.testing.assert_array_equal(prs.effect_allele_dosages(alt, 2, 1), [0, 1, 2, 0.25, np.nan])
    np.testing.assert_array_equal(prs.effect_allele_dosages(alt, 2, 0), [2, 1, 0, 1.75, np.nan])


def test_ref_dosage_on_a_multi_allelic_site_subtracts_every_alt():
    # Genotypes 0/1, 1/2, 2/2, 0/0 and haploid 2, as counts of ALT1 and ALT2.
    alt = np.array([[1, 0], [1, 1], [0, 2], [0, 0], [0, 1]], dtype=float)
    ploidy = np.array([2, 2, 2, 2, 1])
    np.testing.assert_array_equal(prs.effect_allele_dosages(alt, ploidy, 0), [1, 0, 0, 2, 0])
    np.testing.assert_array_equal(prs.effect_allele_dosages(alt, ploidy, 2), [0, 1, 2, 0, 1])


def test_effect_allele_dosages_checks_the_allele_index():
    with pytest.raises(ModelInputError, match="allele_index"):
        prs.effect_allele_dosages(np.zeros((3, 1)), 2, 2)


# --- sums, standardisation, missing data ----------------------------------------------------


def test_raw_and_z_by_hand():
    # raw = 2*0.5 + 1*(-0.25) + 0*0.125 = 0.75 and 0*0.5 + 2*(-0.25) + 2*0.125 = -0.25;
    # z = (raw - 0.25) / 0.5 = 1 and -1.
    dosages = np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 2.0]])
    result = prs.polygenic_scores(
        dosages, toy_score(), normalisation=prs.Normalisation(0.25, 0.5, "toy"),
        sample_names=["a", "b"],
    )  # fmt: skip
    np.testing.assert_array_equal(result.raw_scores, [0.75, -0.25])
    np.testing.assert_array_equal(result.z_scores, [1.0, -1.0])
    np.testing.assert_array_equal(result.n_matched, [3, 3])
    np.testing.assert_array_equal(result.n_missing, [0, 0])
    np.testing.assert_array_equal(result.n_imputed, [0, 0])
    assert result.n_variants == 3
    assert result.sample_names == ("a", "b")


def test_z_is_nan_without_normalisation():
    result = prs.polygenic_scores(np.ones((2, 3)), toy_score())
    assert np.isnan(result.z_scores).all()
    assert result.normalisation is None


def test_prs313_z_of_the_mean_and_one_sd_above():
    score = prs.PolygenicScore("one", ["1"], [1], ["A"], ["G"], [1.0])
    raw = np.array([[prs.PRS313_MEAN], [prs.PRS313_MEAN + prs.PRS313_SD]])
    z = prs.polygenic_scores(raw, score, normalisation=prs.PRS313_EUROPEAN).z_scores
    np.testing.assert_allclose(z, [0.0, 1.0], rtol=0, atol=1e-15)


def test_missing_variants_are_an_error_naming_them():
    status = np.array([MATCHED, NOT_FOUND, MISMATCH])
    with pytest.raises(prs.MissingGenotypesError) as caught:
        prs.polygenic_scores(np.ones((2, 3)), toy_score(), variant_status=status)
    message = str(caught.value)
    assert "1 of 3 variants not in the genotypes: 2:200:T:C" in message
    assert "1 of 3 variants with mismatched alleles: X:300:?:GT" in message
    assert "--impute-missing" in message


def test_missing_genotypes_are_an_error_naming_the_samples():
    dosages = np.array([[1.0, 1.0, 1.0], [np.nan, 1.0, np.nan], [1.0, np.nan, 1.0]])
    with pytest.raises(prs.MissingGenotypesError) as caught:
        prs.polygenic_scores(dosages, toy_score(), sample_names=["s1", "s2", "s3"])
    assert "3 missing genotypes in 2 samples: s2 (2), s3 (1)" in str(caught.value)


def test_long_lists_are_shortened_with_a_count():
    n = 25
    score = prs.PolygenicScore("many", ["1"] * n, np.arange(1, n + 1), ["A"] * n, ["G"] * n,
                               np.ones(n))  # fmt: skip
    with pytest.raises(prs.MissingGenotypesError, match=r"25 of 25 variants .* and 15 more"):
        prs.polygenic_scores(np.ones((1, n)), score, variant_status=np.full(n, NOT_FOUND))


def test_imputation_by_hand():
    # Variant 2 (w=-0.25, f=0.25) is not in the file: 2f = 0.5 for everyone.
    # Sample b misses variant 3 (w=0.125, f=0.5): 2f = 1.
    # a: 2*0.5 + 0.5*(-0.25) + 1*0.125 = 1.0;  b: 1*0.5 + 0.5*(-0.25) + 1*0.125 = 0.5
    dosages = np.array([[2.0, 7.0, 1.0], [1.0, 7.0, np.nan]])  # column 2 is ignored (not found)
    result = prs.polygenic_scores(
        dosages, toy_score(), variant_status=np.array([MATCHED, NOT_FOUND, MATCHED]),
        impute_missing=True,
    )  # fmt: skip
    np.testing.assert_array_equal(result.raw_scores, [1.0, 0.5])
    np.testing.assert_array_equal(result.n_matched, [2, 1])
    np.testing.assert_array_equal(result.n_missing, [1, 2])
    np.testing.assert_array_equal(result.n_imputed, [1, 2])
    np.testing.assert_array_equal(result.variant_status, [MATCHED, NOT_FOUND, MATCHED])


def test_imputation_needs_every_frequency():
    score = toy_score(frequencies=(0.1, np.nan, 0.5))
    with pytest.raises(prs.MissingGenotypesError, match=r"allelefrequency_effect.*2:200:T:C"):
        prs.polygenic_scores(np.array([[1.0, 1.0, np.nan]]), score, impute_missing=True)


def test_imputation_is_not_needed_when_nothing_is_missing():
    score = toy_score(frequencies=(np.nan, np.nan, np.nan))
    result = prs.polygenic_scores(np.ones((1, 3)), score, impute_missing=True)
    np.testing.assert_array_equal(result.raw_scores, [0.375])
    np.testing.assert_array_equal(result.n_imputed, [0])


@pytest.mark.parametrize("shape", [(3,), (2, 2), (2, 4)])
def test_dosage_matrix_shape_is_checked(shape):
    with pytest.raises(ModelInputError, match="dosages"):
        prs.polygenic_scores(np.ones(shape), toy_score())


# --- properties -----------------------------------------------------------------------------

DOSAGES = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 8), st.integers(1, 12)),
    elements=st.one_of(st.sampled_from([0.0, 1.0, 2.0, np.nan]), st.floats(0, 2)),
)


def score_for(n_variants: int, seed: int) -> prs.PolygenicScore:
    rng = np.random.default_rng(seed)
    return prs.PolygenicScore(
        "random", ["1"] * n_variants, np.arange(1, n_variants + 1), ["A"] * n_variants,
        ["G"] * n_variants, rng.normal(0, 0.1, n_variants), rng.uniform(0, 1, n_variants),
    )  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(DOSAGES, st.integers(0, 2**32 - 1), st.data())
def test_blocks_add_up_to_the_whole(dosages, seed, data):
    score = score_for(dosages.shape[1], seed)
    whole = prs.polygenic_scores(dosages, score, impute_missing=True)
    cut = data.draw(st.integers(0, dosages.shape[1]))
    expected = 2 * score.effect_allele_frequencies
    parts = [slice(0, cut), slice(cut, None)]
    total = prs.PartialScores.zeros(dosages.shape[0])
    for part in parts:
        total = total + prs.partial_scores(dosages[:, part], score.weights[part], expected[part])
    status = np.full(score.n_variants, MATCHED)
    blocks = prs.finish_scores(total, score, status, impute_missing=True)
    np.testing.assert_allclose(blocks.raw_scores, whole.raw_scores, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(blocks.n_imputed, whole.n_imputed)


@settings(max_examples=100, deadline=None)
@given(DOSAGES, st.integers(0, 2**32 - 1))
def test_vectorised_equals_sample_by_sample_sums(dosages, seed):
    score = score_for(dosages.shape[1], seed)
    result = prs.polygenic_scores(dosages, score, impute_missing=True)
    for i, row in enumerate(dosages):
        filled = [2 * f if math.isnan(d) else d for d, f in
                  zip(row, score.effect_allele_frequencies, strict=True)]  # fmt: skip
        expected = math.fsum(d * w for d, w in zip(filled, score.weights, strict=True))
        assert result.raw_scores[i] == pytest.approx(expected, abs=1e-12)
        assert result.n_imputed[i] == int(np.isnan(row).sum())
        assert result.n_matched[i] + result.n_missing[i] == score.n_variants


@settings(max_examples=50, deadline=None)
@given(DOSAGES, st.integers(0, 2**32 - 1), st.randoms(use_true_random=False))
def test_permuting_samples_permutes_results(dosages, seed, random):
    score = score_for(dosages.shape[1], seed)
    order = list(range(dosages.shape[0]))
    random.shuffle(order)
    result = prs.polygenic_scores(dosages, score, impute_missing=True)
    shuffled = prs.polygenic_scores(dosages[order], score, impute_missing=True)
    # Not bit-for-bit: BLAS may sum a row in another order depending on where it sits.
    np.testing.assert_allclose(shuffled.raw_scores, result.raw_scores[order], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(shuffled.n_imputed, result.n_imputed[order])


# --- CanRisk reference, with an independent parse of the VCFs --------------------------------


def plain_score() -> prs.PolygenicScore:
    """PGS000004 read with the csv module (not pebs.io)."""
    with SCORE_FILE.open() as stream:
        rows = list(csv.DictReader((line for line in stream if not line.startswith("#")),
                                   delimiter="\t"))  # fmt: skip
    return prs.PolygenicScore(
        "PGS000004", [r["chr_name"] for r in rows], [int(r["chr_position"]) for r in rows],
        [r["effect_allele"] for r in rows], [r["other_allele"] for r in rows],
        [float(r["effect_weight"]) for r in rows],
        [float(r["allelefrequency_effect"]) for r in rows],
    )  # fmt: skip


def plain_vcf_dosages(path: Path, score: prs.PolygenicScore):
    """ALT dosages by string splitting (GT: count of '1'; DS otherwise), in score order."""
    with path.open() as stream:
        lines = [line.rstrip("\n").split("\t") for line in stream if not line.startswith("##")]
    samples = lines[0][9:]
    dosages = np.full((len(samples), score.n_variants), np.nan)
    status = np.full(score.n_variants, NOT_FOUND)
    for fields in lines[1:]:
        (j,) = score.by_position[(fields[0], int(fields[1]))]
        keys = fields[8].split(":")
        alt = []
        for cell in fields[9:]:
            values = dict(zip(keys, cell.split(":"), strict=True))
            gt = values["GT"].replace("|", "/").split("/")
            alt.append(float(values["DS"]) if "." in gt else sum(a == "1" for a in gt))
        allele = prs.match_alleles(score.effect_alleles[j], score.other_alleles[j],
                                   fields[3], fields[4].split(","))  # fmt: skip
        dosages[:, j] = np.array(alt) if allele == 1 else 2 - np.array(alt)
        status[j] = MATCHED
    return samples, dosages, status


@pytest.mark.parametrize("vcf", ["synthetic_bcac313_gt.vcf", "synthetic_bcac313_ds.vcf"])
def test_reproduces_canrisk_vcf2prs(vcf):
    score = plain_score()
    samples, dosages, status = plain_vcf_dosages(DATA / vcf, score)
    assert (status == MATCHED).all()
    result = prs.polygenic_scores(dosages, score, normalisation=prs.PRS313_EUROPEAN)
    with (DATA / "reference_scores_sample.csv").open() as stream:
        reference = [row for row in csv.DictReader(stream) if row["vcf"] == vcf]
    assert len(reference) > 40
    index = [samples.index(row["sample"]) for row in reference]
    for mine, theirs in [(result.raw_scores, "raw_PRS"), (result.z_scores, "z_score")]:
        np.testing.assert_allclose(
            mine[index], [float(row[theirs]) for row in reference], rtol=0, atol=1e-9,
            err_msg=f"{theirs}: samples {[row['sample'] for row in reference]}",
        )  # fmt: skip
