"""Trial statistics: non-inferiority tests, sample size and power, intervals, survival, calibration.

Pure numpy/scipy; proportions everywhere (not percent). The modules:

- :mod:`pebs.stats.noninferiority` — non-inferiority of a harmful binary endpoint on the ratio
  (relative margin) or difference (absolute margin) scale: Wald, Farrington-Manning score and
  Miettinen-Nurminen; vectorised over trial replicates;
- :mod:`pebs.stats.sample_size` — sample size and power of those tests (closed forms);
- :mod:`pebs.stats.group_sequential` — group-sequential designs (Lan-DeMets alpha spending,
  O'Brien-Fleming, Pocock), their characteristics, interim analyses and conditional power;
- :mod:`pebs.stats.sequential_rates` — group-sequential sample size, power and interim analysis
  of the non-inferiority of two proportions (as rpact computes them);
- :mod:`pebs.stats.proportions` — Wilson and Clopper-Pearson intervals for one proportion;
- :mod:`pebs.stats.survival` — Kaplan-Meier (Greenwood, log-log interval) and Aalen-Johansen
  cumulative incidence with competing risks;
- :mod:`pebs.stats.stratified` — Mantel-Haenszel risk and odds ratios over strata (countries),
  Cochran-Mantel-Haenszel and Breslow-Day tests (statsmodels);
- :mod:`pebs.stats.survival_tests` — log-rank and Harrington-Fleming tests (lifelines);
- :mod:`pebs.stats.calibration` — E/O ratio, Hosmer-Lemeshow, C-statistic (DeLong);
- :mod:`pebs.stats.validation` — external validation: E/O by group with exact Poisson intervals,
  follow-up windows, DeLong test of two AUCs, reclassification and categorical NRI.

Equations, references and a worked MyPeBS example: ``docs/statistics.md``.
"""

from pebs.stats._checks import StatsInputError
from pebs.stats.calibration import (
    CStatistic,
    ExpectedObserved,
    HosmerLemeshow,
    c_statistic,
    expected_observed,
    hosmer_lemeshow,
)
from pebs.stats.group_sequential import (
    GroupSequentialDesign,
    InterimAnalysis,
    alpha_spending,
    conditional_power,
    design_at_fractions,
    group_sequential_design,
    interim_analysis,
)
from pebs.stats.noninferiority import (
    NonInferiorityResult,
    noninferiority_difference,
    noninferiority_ratio,
)
from pebs.stats.proportions import ProportionInterval, proportion_interval
from pebs.stats.sample_size import (
    NonInferiorityDesign,
    power_difference,
    power_ratio,
    sample_size_difference,
    sample_size_ratio,
)
from pebs.stats.sequential_rates import (
    RatesInterimAnalysis,
    SequentialPower,
    SequentialSampleSize,
    interim_analysis_rates,
    sequential_power,
    sequential_sample_size,
)
from pebs.stats.stratified import MantelHaenszel, mantel_haenszel
from pebs.stats.survival import (
    CumulativeIncidence,
    SurvivalCurve,
    aalen_johansen,
    kaplan_meier,
)
from pebs.stats.survival_tests import SurvivalDifference, survival_difference
from pebs.stats.validation import (
    AucDifference,
    GroupedCalibration,
    Reclassification,
    age_bands,
    compare_c_statistics,
    counted_events,
    expected_observed_by_group,
    poisson_interval,
    reclassification,
    risk_groups,
    window_expected,
)

__all__ = [
    "AucDifference",
    "CStatistic",
    "CumulativeIncidence",
    "ExpectedObserved",
    "GroupSequentialDesign",
    "GroupedCalibration",
    "HosmerLemeshow",
    "InterimAnalysis",
    "MantelHaenszel",
    "NonInferiorityDesign",
    "NonInferiorityResult",
    "ProportionInterval",
    "RatesInterimAnalysis",
    "Reclassification",
    "SequentialPower",
    "SequentialSampleSize",
    "StatsInputError",
    "SurvivalCurve",
    "SurvivalDifference",
    "aalen_johansen",
    "age_bands",
    "alpha_spending",
    "c_statistic",
    "compare_c_statistics",
    "conditional_power",
    "counted_events",
    "design_at_fractions",
    "expected_observed",
    "expected_observed_by_group",
    "group_sequential_design",
    "hosmer_lemeshow",
    "interim_analysis",
    "interim_analysis_rates",
    "kaplan_meier",
    "mantel_haenszel",
    "noninferiority_difference",
    "noninferiority_ratio",
    "poisson_interval",
    "power_difference",
    "power_ratio",
    "proportion_interval",
    "reclassification",
    "risk_groups",
    "sample_size_difference",
    "sample_size_ratio",
    "sequential_power",
    "sequential_sample_size",
    "survival_difference",
    "window_expected",
]
