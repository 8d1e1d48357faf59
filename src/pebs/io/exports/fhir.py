"""FHIR R4: participants' casebooks as one ``collection`` Bundle (JSON), streamed page by page.

The file is one JSON object, written in pieces: the Bundle's opening with the study
(``ResearchStudy``) and its sites (``Location``) as the first entries, then the entries of each
page of casebooks, then the closing. Memory is bounded by a page; the whole is valid JSON.

Every ``fullUrl`` is ``urn:uuid:`` + a UUID derived (UUID version 5, RFC 9562) from the study,
the study ID and the record the resource comes from, and the resource's ``id`` is that UUID, so
the same data gives the same bytes; references between entries use the ``fullUrl``. The Bundle
has no ``timestamp`` for the same reason.

Resources per woman (:mod:`pebs.io.exports._fhir_resources`; the full mapping table is in
``docs/trial/interchange.md``): ``Patient`` (pseudonymous: her study ID, never her name or birth
date), ``ResearchSubject``, ``Consent``, ``RiskAssessment`` with the ``Observation`` of the breast
density and polygenic score it used, ``CarePlan`` with a ``ServiceRequest`` per planned exam,
``Procedure`` per exam performed with the ``Observation`` of its findings, and ``Condition`` per
breast cancer diagnosis. A woman who withdrew the use of her data has her ``Patient`` and
``ResearchSubject`` only (status ``withdrawn``).

Codes are SNOMED CT, LOINC, ICD-10 or HL7 terminology where a published code fits, and pebs's
own code systems otherwise (:data:`SYSTEM_BASE`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pebs.io.exports._fhir_resources import SYSTEM_BASE, casebook_entries, study_entries
from pebs.trial.casebook import Casebook, CasebookStudy

__all__ = ["FHIR", "SYSTEM_BASE", "FhirWriter"]

_ENCODING = "utf-8"


class FhirWriter:
    """The :class:`~pebs.io.exports.writer.CasebookWriter` of FHIR R4 Bundles (JSON)."""

    name = "fhir"
    media_type = "application/fhir+json"
    extension = "json"

    def chunks(self, study: CasebookStudy, pages: Iterable[Sequence[Casebook]]) -> Iterator[bytes]:
        """The Bundle's opening with the study's entries, one chunk per page, the closing."""
        opening = '{"resourceType":"Bundle","type":"collection","entry":['
        yield (opening + ",".join(_json(e) for e in study_entries(study))).encode(_ENCODING)
        for page in pages:
            entries = [entry for casebook in page for entry in casebook_entries(study, casebook)]
            yield "".join("," + _json(entry) for entry in entries).encode(_ENCODING)
        yield b"]}"


def _json(entry: dict[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


FHIR = FhirWriter()
"""The FHIR writer."""
