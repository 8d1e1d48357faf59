"""Speed and memory benchmarks of pebs against peers measured in the same run.

Run ``make bench`` (``python -m benchmarks``) from the repository root; see ``README.md`` here.
Modules: :mod:`benchmarks.scalar_gail` (the scalar BCRAT peer), :mod:`benchmarks.cohort`
(synthetic women), :mod:`benchmarks.gail_throughput` (one-core timing and memory),
:mod:`benchmarks.cli_stream` (the ``pebs risk gail`` file benchmark), :mod:`benchmarks.report`.
"""
