"""The CanRisk pedigree file (versions 2 to 4): its lines, columns, codes and limits.

Specification: *CanRisk Pedigree Data v2, v3 and v4 File Format Specification* (CanRisk
knowledge base, University of Cambridge: https://canrisk.atlassian.net/wiki/spaces/FAQS/pages/
1950875649, .../2456616961 and .../2749661185). The v4 column line is the one the CanRisk web
service (BOADICEA web services, ``bws``) reads in its v4 test pedigrees; the limits marked
*web service* are that service's, where the specification gives none.

A file is text, one record a line:

1. the version line ``##CanRisk 4.0`` (``##CanRisk 2.0``, ``3.0`` for older files);
2. optional risk factors of the target, one ``##name=value`` a line (:data:`HEADER_KEYS`; names
   in any case and any order; ``NA`` or an absent line means *unspecified*);
3. the column line ``##FamID<TAB>Name<TAB>...`` (:data:`COLUMNS`, by version);
4. one line per family member, its fields separated by a TAB (or by white space).

Each member has both parents in the pedigree or neither (``0``); exactly one is the target
(``Target`` 1), the woman whose risk is computed. Cancer columns hold the age at diagnosis, ``0``
for unaffected or ``AU`` for affected at an unknown age; a genetic test is ``type:result``
(``0:0`` untested; type ``S`` mutation search or ``T`` direct test; result ``N`` or ``P``);
the pathology column is five ``0``/``N``/``P`` results joined by ``:``.
"""

from __future__ import annotations

__all__ = [
    "AFFECTED_UNKNOWN_AGE",
    "CANCER_COLUMNS",
    "COLUMNS",
    "FAMILY_ID_CHARS",
    "GENE_COLUMNS",
    "HEADER_KEYS",
    "INDIVIDUAL_ID_CHARS",
    "MAX_AGE",
    "MAX_FILE_BYTES",
    "MAX_INDIVIDUALS",
    "MIN_YEAR_OF_BIRTH",
    "NAME_CHARS",
    "NO_PARENT",
    "PATHOLOGY_COLUMN",
    "PRS313_ALPHA",
    "UNSPECIFIED",
    "UNTESTED",
    "VERSIONS",
    "WRITTEN_VERSION",
]

VERSIONS = ("2", "3", "4")
"""Major versions read (version 1 is deprecated: it has no BARD1 column)."""
WRITTEN_VERSION = "4.0"

_GENES = ("BRCA1", "BRCA2", "PALB2", "ATM", "CHEK2", "BARD1", "RAD51D", "RAD51C", "BRIP1")
PATHOLOGY_COLUMN = "ER:PR:HER2:CK14:CK56"
CANCER_COLUMNS = ("BC1", "BC2", "OC", "PRO", "PAN")
"""First breast, contralateral breast, ovarian, prostate and pancreatic cancer."""
_PEOPLE = ("FamID", "Name", "Target", "IndivID", "FathID", "MothID", "Sex", "MZtwin", "Dead",
           "Age", "Yob", *CANCER_COLUMNS, "Ashkn")  # fmt: skip
GENE_COLUMNS = {"2": _GENES, "3": _GENES, "4": (*_GENES, "HOXB13")}
"""Genetic test columns by version (v4 adds HOXB13)."""
COLUMNS = {version: (*_PEOPLE, *genes, PATHOLOGY_COLUMN) for version, genes in GENE_COLUMNS.items()}
"""The column line of each version: 27 columns (v2, v3) or 28 (v4)."""

UNSPECIFIED = "NA"
"""A risk factor (or a name) not given."""
AFFECTED_UNKNOWN_AGE = "AU"
NO_PARENT = "0"
UNTESTED = "0:0"

FAMILY_ID_CHARS = 13
NAME_CHARS = 8
INDIVIDUAL_ID_CHARS = 7
MAX_AGE = 125
"""Years: the largest age (at last follow-up, at a diagnosis) the web service takes."""
MIN_YEAR_OF_BIRTH = 1850
"""The earliest year of birth the web service takes."""
MAX_INDIVIDUALS = 275
"""The largest pedigree the web service takes."""
MAX_FILE_BYTES = 256 * 1024
"""Files larger than this are refused unread: 275 members of at most ~250 characters a line are
under 70 kB. Below the API's request body limit (``PEBS_MAX_BODY_BYTES``, 1 MiB by default), so
an upload gets this message rather than the server's."""

PRS313_ALPHA = 0.501
"""``alpha`` of the PRS313 (Mavaddat et al., AJHG 2019) in CanRisk's model file
``BCAC_313_PRS.prs`` (version 3.2.0), the file whose mean and SD standardise pebs's ``prs_z``
(:data:`pebs.risk.prs.PRS313_EUROPEAN`): the square root of the share of the polygenic variance
the score explains. A ``##PRS_BC`` line with another alpha is another score."""

HEADER_KEYS: dict[str, str] = {
    "menarche": "integer", "parity": "integer", "first_live_birth": "integer",
    "oc_use": "oc_use", "mht_use": "mht_use", "bmi": "real", "alcohol": "real",
    "menopause": "menopause", "birads": "birads", "height": "real", "tl": "yes_no",
    "endo": "yes_no", "prs_bc": "prs", "prs_oc": "prs", "prs_pc": "prs", "ethnicity": "text",
    "stratus": "real", "volpara": "real",
}  # fmt: skip
"""Risk-factor lines of the specification (lower-case name -> the kind of its value):
``integer``/``real`` numbers; ``oc_use`` ``N``, ``F:<years>`` (former) or ``C:<years>``
(current); ``mht_use`` ``N``, ``F``, ``E`` or ``C``; ``menopause`` an age or ``N``
(pre-menopausal); ``birads`` ``a``-``d`` or ``1``-``4``; ``yes_no`` ``N`` or ``Y``; ``prs``
``alpha=<real>, zscore=<real>``; ``text`` (ethnicity ``group;background``). ``NA`` is allowed
for every one."""
