"""Microsimulation of breast cancer natural history and screening (issue 7)."""
