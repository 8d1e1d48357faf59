"""Trial statistics: sample size, power, non-inferiority tests."""
