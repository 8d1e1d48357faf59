"""A study's own words in the reader's language: eligibility questions and failure reasons,
consent document titles and questionnaire titles come from the study file, in English, with
optional ``[translations.<language>]`` tables (:mod:`pebs.trial.study`); the English text is the
fallback of a key a language lacks.

>>> config = {"protocols": [{"criteria": [{"id": "age"}, {"id": "able_to_consent",
...           "question": "Is she able to consent?", "failure_reason": "cannot consent"}]}],
...           "translations": {"fr": {"criterion.able_to_consent.failure_reason":
...                                   "ne peut pas consentir"}}}
>>> wording = StudyWording.from_config(config)
>>> wording.failure_reason("fr", "cannot consent"), wording.failure_reason("it", "cannot consent")
('ne peut pas consentir', 'cannot consent')
>>> wording.text("fr", "criterion.able_to_consent.question", "Is she able to consent?")
'Is she able to consent?'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["StudyWording"]


@dataclass(frozen=True)
class StudyWording:
    """A study's translations (language -> key -> text) and the keys of its failure reasons."""

    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    failure_keys: Mapping[str, str] = field(default_factory=dict)
    """English failure reason -> its key (``criterion.<id>.failure_reason``): an eligibility
    assessment stores the English reasons."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StudyWording:
        """From a stored study configuration (``studies.config``)."""
        failure_keys = {
            criterion["failure_reason"]: f"criterion.{criterion['id']}.failure_reason"
            for protocol in config.get("protocols", ())
            for criterion in protocol.get("criteria", ())
            if "failure_reason" in criterion
        }
        return cls(dict(config.get("translations", {})), failure_keys)

    def text(self, language: str, key: str, english: str) -> str:
        """The study's text ``key`` in ``language``; ``english`` (the file's) when not given."""
        return self.translations.get(language, {}).get(key, english)

    def question(self, language: str, criterion_id: str, english: str) -> str:
        """An eligibility question in ``language``."""
        return self.text(language, f"criterion.{criterion_id}.question", english)

    def failure_reason(self, language: str, english: str) -> str:
        """A stored (English) failure reason in ``language``."""
        key = self.failure_keys.get(english)
        return english if key is None else self.text(language, key, english)
