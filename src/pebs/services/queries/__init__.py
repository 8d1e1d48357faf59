"""Data queries on participants' records: raised, answered, closed and re-opened; the edit checks
that raise them; their lists and ages (``docs/trial/queries.md``).

The use cases live in the modules of this package (:mod:`.workflow`, :mod:`.listing`,
:mod:`.edit_check_runs`, :mod:`.corrections`, :mod:`.ages`); nothing is imported here, so
that the use cases that record data can run the edit checks without loading the rest.
"""
