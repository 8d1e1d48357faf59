"""Errors raised by the file adapters; entry points map them to messages and exit codes."""


class InputFormatError(ValueError):
    """A file can be read but its content cannot be used (missing column, non-numeric value...).

    The message names the file, the line and the column where that helps.
    """


class FileAccessError(OSError):
    """A file cannot be opened, read or written (missing, a directory, no permission...)."""
