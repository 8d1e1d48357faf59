"""What a letter says, before it has words: the facts the services gather for one letter.

A :class:`LetterData` is everything a template may use, already resolved from the database
(names decrypted, the plan's exams dated, the site's contact), so that rendering is a pure
function of it: the same data gives the same PDF bytes. The wording comes from the templates of
the letter's language and kind (:mod:`pebs.letters.templates`); numbers and dates are formatted
in that language (:mod:`pebs.i18n.formats`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from pebs.trial.vocabularies import LANGUAGES, LETTER_KINDS, LETTER_RECIPIENTS

__all__ = ["ExamLine", "LetterData", "ModelInfo", "SiteContact"]


@dataclass(frozen=True)
class SiteContact:
    """The study site that writes the letter and that she (or her doctor) may contact."""

    name: str
    address: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ExamLine:
    """One dated exam of her plan."""

    due: date
    modality: str
    """A :data:`pebs.trial.vocabularies.MODALITIES` value (``mammography``, ``mri``...)."""
    place: str
    """Where: the site's name unless the plan says otherwise."""
    policy: str
    """The screening policy that planned it (``mypebs-risk-based``, ``fr``...)."""
    rule: str
    """The policy's rule that planned it: with ``policy``, the key of its reason's wording."""
    reason: str
    """The policy's own (English) reason, shown if a language has no wording for the rule."""


@dataclass(frozen=True)
class ModelInfo:
    """The risk model of her assessment, for the doctor's copy."""

    name: str
    version: str
    card_url: str
    """Where the model card (inputs, equations, validation) can be read."""


@dataclass(frozen=True)
class LetterData:
    """The facts of one letter. ``kind`` and ``recipient`` choose the template.

    ``five_year_risk`` is a proportion (0.0256 for 2.56 %). The fields a kind does not use stay
    at their defaults: ``level``, ``five_year_risk``, ``exams``, ``model``, ``inputs`` and
    ``components`` for a risk result; ``exams`` (her programme's next exams) for the standard arm;
    ``kit_id`` for a recollection request; ``visit_due`` for the end-of-study invitation.
    """

    kind: str
    recipient: str
    language: str
    issued_on: date
    study_id: str
    """Her pseudonymous study ID (printed as the letter's reference)."""
    full_name: str
    address: str | None
    site: SiteContact
    level: str | None = None
    """A :data:`pebs.trial.vocabularies.RISK_LEVELS` value."""
    five_year_risk: float | None = None
    provisional: bool = False
    exams: tuple[ExamLine, ...] = ()
    plan_end: date | None = None
    model: ModelInfo | None = None
    inputs: Mapping[str, object] = field(default_factory=dict)
    """The model's inputs as stored (``"unknown"`` for an input she did not know)."""
    components: Mapping[str, float | None] = field(default_factory=dict)
    """Relative-risk components as stored (``rr_classical``, ``rr_prs``, ``rr_density``...);
    ``None`` for a component that is unknown (printed as unknown, never as 1)."""
    kit_id: str | None = None
    visit_due: date | None = None

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("kind", self.kind, LETTER_KINDS),
            ("recipient", self.recipient, LETTER_RECIPIENTS),
            ("language", self.language, LANGUAGES),
        ):
            if value not in allowed:
                raise ValueError(f"{name} {value!r} is not one of: {', '.join(allowed)}")
        if self.five_year_risk is not None and not 0.0 <= self.five_year_risk <= 1.0:
            raise ValueError(f"five_year_risk {self.five_year_risk!r} is not a proportion")
