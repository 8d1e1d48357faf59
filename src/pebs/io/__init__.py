"""File formats: reading and writing the data that the core models consume and produce."""
