"""Risk models: pure functions over numpy arrays returning frozen results.

- :mod:`pebs.risk.gail` — NCI BCRAT (Gail model), exact against R's BCRA 2.1.2;
- :mod:`pebs.risk.prs` — polygenic risk scores (matching, raw and z-scores);
- :mod:`pebs.risk.icare` — coherent absolute risk from relative risks and population incidence;
- :mod:`pebs.risk.country`, :mod:`pebs.risk.density`, :mod:`pebs.risk.reference_population` —
  country incidence/mortality tables, BI-RADS density, reference populations (data with
  provenance);
- :mod:`pebs.risk.personalised` — the open personalised five-year model;
- :mod:`pebs.risk.protocol` — what every model offers (id, name, version, inputs, ``assess``),
  :mod:`pebs.risk.inputs` — women's risk factors as the five-year models take them,
  :mod:`pebs.risk.levels` — MyPeBS risk levels, :mod:`pebs.risk.registry` — the five-year models
  a study file can name.
"""
