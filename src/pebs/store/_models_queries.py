"""Data queries on a participant's record and their threads (re-exported by
:mod:`pebs.store.models`).

A query names one item of one form instance of her casebook (:data:`pebs.trial.forms.FORMS`;
``form_key``: a repeating form's row id, ``0`` for a form that does not repeat, as in the
monitoring tables), keeps the item's value as text when it was raised, and moves open ->
answered -> closed (re-opened: open again). Each step is a note of its thread. An edit check
has at most one query not closed per form instance and item (a partial unique index).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pebs.store._base import Base, one_of, user_fk, utcnow
from pebs.trial.forms import form_names
from pebs.trial.vocabularies import QUERY_KINDS, QUERY_STATES, QUERY_STEPS

_ACTOR = 128
"""Longest actor name (as in the audit trail: a username, ``system``)."""
_OPEN_CHECK = "check_id IS NOT NULL AND state <> 'closed'"


class DataQuery(Base):
    """A question about one item of a participant's record, and where it stands."""

    __tablename__ = "data_queries"
    __table_args__ = (
        one_of("form", form_names(), "form"),
        one_of("kind", QUERY_KINDS, "kind"),
        one_of("state", QUERY_STATES, "state"),
        CheckConstraint("(kind = 'edit_check') = (check_id IS NOT NULL)", name="check_id"),
        CheckConstraint("form_key >= 0", name="form_key"),
        Index(None, "state", "updated_at"),
        Index(  # an edit check's query not closed, once per form instance and item
            "uq_data_queries_open_check",
            "participant_id",
            "check_id",
            "form",
            "form_key",
            "item",
            unique=True,
            sqlite_where=text(_OPEN_CHECK),
            postgresql_where=text(_OPEN_CHECK),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    form: Mapped[str] = mapped_column(String(32))
    item: Mapped[str] = mapped_column(String(64))
    form_key: Mapped[int] = mapped_column(Integer, default=0)
    """The repeating form's row id; ``0`` for a form that does not repeat."""
    kind: Mapped[str] = mapped_column(String(16))
    check_id: Mapped[str | None] = mapped_column(String(64))
    """The edit check that raised it (``kind = 'edit_check'``)."""
    state: Mapped[str] = mapped_column(String(16), default="open")
    question: Mapped[str] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)
    """The item's value when the query was raised, as text (``None``: missing)."""
    proposed_value: Mapped[str | None] = mapped_column(Text)
    """A value the raiser proposes, as text, checked against the item."""
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    raised_by: Mapped[str] = mapped_column(String(_ACTOR))
    raised_by_id: Mapped[int | None] = user_fk()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When its last step was taken."""
    closed_by: Mapped[str | None] = mapped_column(String(_ACTOR))
    """Who closed it (``system``: its edit check passes again); ``None`` unless closed."""

    notes: Mapped[list[DataQueryNote]] = relationship(
        back_populates="query", order_by="DataQueryNote.id"
    )


class DataQueryNote(Base):
    """One step of a query's thread: who, when, what they wrote, and a value if any."""

    __tablename__ = "data_query_notes"
    __table_args__ = (one_of("step", QUERY_STEPS, "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("data_queries.id"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)
    """Raise: the proposed value; answer: the corrected value (as text)."""
    correction: Mapped[str | None] = mapped_column(String(64))
    """The row the correction was recorded as (``risk_questionnaire:17``, ``visit:5``)."""
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(_ACTOR))
    actor_id: Mapped[int | None] = user_fk()

    query: Mapped[DataQuery] = relationship(back_populates="notes")
