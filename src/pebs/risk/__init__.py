"""Risk models: pure functions over numpy arrays returning frozen results.

Sub-packages: :mod:`pebs.risk.gail` (NCI BCRAT / Gail model).
"""
