"""Documents and figures: plots (PNG/SVG) of simulation results, reports."""
