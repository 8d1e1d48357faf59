"""The words and formats of every shipped language, shared by the pages, the letters and the
command line: message catalogues (:mod:`pebs.i18n.catalogue`) and numbers and dates in each
language's format (:mod:`pebs.i18n.formats`, Babel)."""

from pebs.i18n.catalogue import DEFAULT_LANGUAGE, LANGUAGES, Catalogue, catalogues

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Catalogue", "catalogues"]
