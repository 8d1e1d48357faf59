"""Letters to participants and their doctors."""
