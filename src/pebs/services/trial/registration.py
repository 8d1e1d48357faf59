"""Register a participant: pseudonymous study ID, encrypted identity, duplicate detection.

The study ID is ``<site code>-<sequence>`` (``FR-PA-000123``), the sequence counted up from the
site's counter (:func:`pebs.store.repositories.site_sequences` locks it until the transaction
ends), so two registrations at one site never get the same number. Identifying data (name, date
of birth, contact, national ID) is encrypted with the identity key and kept apart from research
data; the national ID is also hashed with the HMAC key (qualified by the site's country) to find
a woman registered twice (:func:`register_participants_in` registers a list of women as if one
after the other). Her language (the one her letters are written in) is one of her country's study
languages, by default its first (:func:`participant_language`), and is stored explicitly. The
audit event records the study ID, site, age at entry and language, never identifying
data (the audit trail can never be erased); it pins the identity row with the SHA-256 of its
ciphertexts and HMAC (:func:`identity_digest`), which reveals nothing about her.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pebs.screening import age_on
from pebs.services.actor import Action, Actor, require
from pebs.services.data_locks import refuse_if_study_locked
from pebs.services.errors import (
    DuplicateParticipant,
    InvalidInput,
    NotFound,
    ServiceError,
)
from pebs.services.field_rules import in_the_future, unknown_choice
from pebs.services.keys import IdentityKeys
from pebs.services.storable_text import refuses_unstorable_text, unstorable_refusal
from pebs.services.transaction import instant, local_date, transaction
from pebs.services.trial.study_rules import strata_by_digest, study_named
from pebs.store.audit import append_event, values_digest
from pebs.store.models import Participant
from pebs.store.repositories import (
    insert_participants,
    participants_with_hmacs,
    participants_with_source_ids,
    registration_sites_of,
    set_site_sequences,
    site_sequences,
)
from pebs.trial import State, StratumError, age_band
from pebs.trial.vocabularies import LANGUAGES

__all__ = [
    "IDENTITY_COLUMNS",
    "MAX_SEQUENCE",
    "NewParticipant",
    "Registered",
    "Registration",
    "identity_digest",
    "participant_language",
    "register_participant",
    "register_participants_in",
]

MAX_SEQUENCE = 999_999
"""Six digits per site."""
SOURCE_ID_CHARS = 64
"""The longest source-system identifier stored (``participants.source_id``)."""

_AGE_LIMITS = (18, 110)  # the participants table's check on age_at_entry

IDENTITY_COLUMNS = ("name_enc", "date_of_birth_enc", "contact_enc", "national_id_enc",
                    "national_id_hmac")  # fmt: skip
"""The identity row's stored values that :func:`identity_digest` covers, in this order."""


def identity_digest(identity: Mapping[str, Any]) -> str:
    """SHA-256 of her stored identity values (Fernet ciphertexts and the national-ID HMAC).

    Recorded in the registration's audit event so that the deep verification can tell an
    altered identity row without the audit trail holding anything identifying: ciphertexts
    are random, so their digest says nothing about the plaintext.
    """
    return values_digest(*(identity[name] for name in IDENTITY_COLUMNS))


@dataclass(frozen=True)
class NewParticipant:
    """What is known about a woman when she is registered at a site."""

    site: str
    """Study-wide site code (``FR-PA``)."""
    name: str
    birth_date: date
    national_id: str | None = None
    """Issued by the site's country; used (as an HMAC) to detect duplicates."""
    contact: str | None = None
    is_test: bool = False
    """A test/training participant: randomised from the test lists only."""
    language: str | None = None
    """The language her letters are written in: one of her country's study languages (ISO
    639-1); ``None``: her country's first."""
    source_id: str | None = None
    """A woman migrated from another system: the identifier it gave her (unique; she is
    recognised by it, and registering it twice is refused as a duplicate)."""


def participant_language(language: str | None, country_languages: Sequence[str]) -> str:
    """``language`` if it is one of her country's study languages that pebs writes letters in
    (:data:`~pebs.trial.vocabularies.LANGUAGES`); the first of them for ``None``; else
    :class:`InvalidInput` naming the field ``language`` and the allowed values. A country
    without any of those languages gets English.

    >>> participant_language(None, ["nl", "fr"]), participant_language("fr", ["nl", "fr"])
    ('nl', 'fr')
    >>> participant_language(None, ["ar", "he"]), participant_language(None, ["ar"])
    ('he', 'en')
    """
    allowed = [str(code) for code in country_languages if code in LANGUAGES] or ["en"]
    if language is None:
        return allowed[0]
    if language not in allowed:
        raise unknown_choice("language", language, allowed)
    return language


@dataclass(frozen=True)
class Registered:
    study_id: str
    site: str
    sequence: int
    age_at_entry: int
    registered_at: datetime
    is_test: bool
    language: str


def _check(new: NewParticipant) -> None:
    if not isinstance(new.name, str) or not new.name.strip():
        raise InvalidInput("must be a non-empty text", field="name", message_code="error.required")
    if isinstance(new.birth_date, datetime) or not isinstance(new.birth_date, date):
        raise InvalidInput(
            f"must be a date, got {new.birth_date!r}", field="birth_date", message_code="error.date"
        )
    if new.national_id is not None and not new.national_id.strip():
        raise InvalidInput("give a national ID or None, not an empty text", field="national_id")
    if new.source_id is not None and (
        not isinstance(new.source_id, str)
        or not new.source_id.strip()
        or len(new.source_id.strip()) > SOURCE_ID_CHARS
    ):
        raise InvalidInput(
            f"give the source system's identifier of her (1 to {SOURCE_ID_CHARS} characters) "
            "or None", field="source_id",
        )  # fmt: skip


@dataclass(frozen=True)
class Registration:
    """One woman to register (:func:`register_participants_in`): what is known about her, and
    when (``None``: now)."""

    new: NewParticipant
    at: datetime | None = None


@refuses_unstorable_text
def register_participant(
    session_maker: sessionmaker[Session],
    actor: Actor,
    keys: IdentityKeys,
    study: str,
    new: NewParticipant,
    *,
    at: datetime | None = None,
) -> Registered:
    """Register a woman at a site of ``study`` and give her a pseudonymous study ID.

    Raises
    ------
    PermissionDenied
        The actor's role may not register.
    NotFound
        No such study, or no such site in the actor's scope.
    DuplicateParticipant
        Her national ID is already registered; the existing study ID is named only when that
        participant is in the actor's scope.
    InvalidInput
        A missing name, a date of birth in the future or an implausible age.
    """
    require(actor, Action.REGISTER)
    with transaction(session_maker) as session:
        requests = [Registration(new, at)]  # its texts checked by @refuses_unstorable_text
        (result,) = _register(session, actor, keys, study, requests, check_texts=False)
        if isinstance(result, ServiceError):
            raise result
    return result


@dataclass(frozen=True)
class _Checked:
    """A woman whose own data passed every check: what registering her takes."""

    index: int
    new: NewParticipant
    site: Any  # her registration_sites_of row
    registered_at: datetime
    language: str
    age: int
    hmac: str | None
    source_id: str | None


def register_participants_in(
    session: Session,
    actor: Actor,
    keys: IdentityKeys,
    study: str,
    requests: Sequence[Registration],
) -> list[Registered | ServiceError]:
    """:func:`register_participant` for a list of women, in the caller's transaction (never
    committed here): each woman's :class:`Registered`, or the error that refuses her (and
    nothing is written for her), in ``requests`` order.

    The women are registered as if one after the other in list order (study IDs counted up per
    site; a national ID given twice is refused the second time). The sites, the national-ID
    owners and the site counters are each read in one query (the counters' rows locked), the
    participants and identities each written in one statement; each woman gets her own audit
    event.
    """
    refusal = unstorable_refusal({"study": study})
    if refusal is not None:
        raise refusal
    return _register(session, actor, keys, study, requests, check_texts=True)


def _register(
    session: Session, actor: Actor, keys: IdentityKeys, study: str,
    requests: Sequence[Registration], *, check_texts: bool,
) -> list[Registered | ServiceError]:  # fmt: skip
    """:func:`register_participants_in`, checking each woman's texts if ``check_texts``."""
    require(actor, Action.REGISTER)
    results: list[Registered | ServiceError | None] = [None] * len(requests)
    sites = registration_sites_of(
        session, study, {r.new.site for r in requests if isinstance(r.new.site, str)}
    )
    for study_pk in {site.study_pk for site in sites.values()}:
        refuse_if_study_locked(session, study_pk)  # no woman joins a locked study
    study_known: list[bool] = []  # asked once, when a site is missing
    checked: list[_Checked] = []
    for index, request in enumerate(requests):
        try:
            checked.append(_check_one(session, actor, keys, study, sites, study_known, index,
                                      request, check_texts))  # fmt: skip
        except ServiceError as error:
            results[index] = error
    owners = participants_with_hmacs(session, (c.hmac for c in checked if c.hmac is not None))
    sources = participants_with_source_ids(session, (c.source_id for c in checked if c.source_id))
    visible = _visible_study_ids(session, actor, [*owners.values(), *sources.values()])
    counters = site_sequences(session, (c.site.site_id for c in checked))
    used: dict[int, int] = {}
    taken: dict[str, str] = {}  # national-ID HMAC -> study ID, registered by this list
    taken_sources: dict[str, str] = {}  # source ID -> study ID, registered by this list
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
    events: list[tuple[_Checked, Registered, dict[str, Any], str | None]] = []
    cipher = keys.cipher
    for one in checked:
        try:
            if one.hmac is not None and one.hmac in owners:
                raise _duplicate(visible.get(owners[one.hmac]))
            if one.hmac is not None and one.hmac in taken:
                raise _duplicate(taken[one.hmac])
            if one.source_id is not None and one.source_id in sources:
                raise _duplicate_source(one.source_id, visible.get(sources[one.source_id]))
            if one.source_id is not None and one.source_id in taken_sources:
                raise _duplicate_source(one.source_id, taken_sources[one.source_id])
            site = one.site
            sequence = used.get(site.site_id, counters[site.site_id]) + 1
            if sequence > MAX_SEQUENCE:
                raise InvalidInput(f"site {site.site_code} has used all {MAX_SEQUENCE:,} study IDs",
                                   message_code="error.site_ids_used",
                                   values={"site": site.site_code})  # fmt: skip
            strata = strata_by_digest(session, site.study_pk, site.config_sha256)
        except ServiceError as error:
            results[one.index] = error
            continue
        used[site.site_id] = sequence
        study_id = f"{site.site_code}-{sequence:06d}"
        if one.hmac is not None:
            taken[one.hmac] = study_id
        if one.source_id is not None:
            taken_sources[one.source_id] = study_id
        try:
            band: str | None = age_band(one.age, strata.age_bands).label
        except StratumError:
            band = None  # outside the strata bands: she will not be eligible
        new = one.new
        identity = {
            "name_enc": cipher.encrypt_text(new.name.strip()),
            "date_of_birth_enc": cipher.encrypt_date(new.birth_date),
            "contact_enc": cipher.encrypt_optional(new.contact),
            "national_id_enc": cipher.encrypt_optional(new.national_id),
            "national_id_hmac": one.hmac,
            "updated_at": one.registered_at,
        }
        rows.append((identity, {
            "study_id": study_id, "site_id": site.site_id, "status": State.REGISTERED.value,
            "age_at_entry": one.age, "age_band": band, "is_test": new.is_test,
            "registered_at": one.registered_at, "registered_by_id": actor.user_id,
            "language": one.language, "source_id": one.source_id,
        }))  # fmt: skip
        registered = Registered(study_id, site.site_code, sequence, one.age, one.registered_at,
                                new.is_test, one.language)  # fmt: skip
        events.append((one, registered, identity, band))
        results[one.index] = registered
    insert_participants(session, rows)
    set_site_sequences(session, used)
    for one, registered, identity, band in events:
        append_event(
            session, actor=actor.username, action="register", entity="participant",
            entity_id=registered.study_id, reason="registration",
            new={"study_id": registered.study_id, "site": registered.site,
                 "age_at_entry": one.age, "age_band": band, "status": State.REGISTERED.value,
                 "is_test": one.new.is_test, "has_national_id": one.hmac is not None,
                 "language": one.language, "identity_sha256": identity_digest(identity),
                 **({} if one.source_id is None else {"source_id": one.source_id})},
            at=one.registered_at,
        )  # fmt: skip
    return [result for result in results if result is not None]


def _check_one(
    session: Session, actor: Actor, keys: IdentityKeys, study: str, sites: dict[str, Any],
    study_known: list[bool], index: int, request: Registration, check_texts: bool,
) -> _Checked:  # fmt: skip
    """Her own checks (everything but duplicates and the site's numbers); the error refusing
    her is raised."""
    new = request.new
    refusal = unstorable_refusal({"new": new}) if check_texts else None
    if refusal is not None:
        raise refusal
    _check(new)
    registered_at = instant(request.at)
    site = sites.get(new.site)
    if site is None:
        if not study_known:
            study_named(session, study)  # NotFound if the study itself is not loaded
            study_known.append(True)
        raise NotFound(
            f"study {study!r} has no site {new.site!r}",
            message_code="error.no_site",
            values={"site": new.site},
        )
    if not actor.sees_site(site.site_id, site.country_id):
        raise NotFound(
            f"study {study!r} has no site {new.site!r} (in your sites)",
            message_code="error.no_site",
            values={"site": new.site},
        )
    language = participant_language(new.language, site.languages or ())
    today = local_date(registered_at, site.time_zone)
    if new.birth_date > today:
        raise in_the_future("birth_date", new.birth_date)
    age = age_on(new.birth_date, today)
    if not _AGE_LIMITS[0] <= age <= _AGE_LIMITS[1]:
        low, high = _AGE_LIMITS
        raise InvalidInput(
            f"{new.birth_date} gives age {age}; expected {low} to {high}", field="birth_date",
            message_code="error.age_at_entry",
            values={"day": new.birth_date.isoformat(), "age": age, "low": low, "high": high},
        )  # fmt: skip
    hmac = None
    if new.national_id is not None:
        try:
            hmac = keys.national_id_hmac(new.national_id, site.country_code)
        except ValueError as error:
            raise InvalidInput(str(error), field="national_id") from None
    source_id = None if new.source_id is None else new.source_id.strip()
    return _Checked(index, new, site, registered_at, language, age, hmac, source_id)


def _visible_study_ids(session: Session, actor: Actor, owners: Iterable[int]) -> dict[int, str]:
    """The study IDs of those ``owners`` (participant ids) that the actor may read (scoped)."""
    wanted = sorted(set(owners))
    if not wanted:
        return {}
    statement = select(Participant.id, Participant.study_id).where(Participant.id.in_(wanted))
    return {pid: study_id for pid, study_id in session.execute(actor.scope.apply(statement))}


def _duplicate_source(source_id: str, visible: str | None) -> DuplicateParticipant:
    """The refusal of a source-system identifier already registered (named as for a national
    ID: only when the caller could read her anyway)."""
    where = f"as {visible}" if visible is not None else "at another site"
    return DuplicateParticipant(
        f"a woman with source ID {source_id!r} is already registered {where}", visible
    )


def _duplicate(visible: str | None) -> DuplicateParticipant:
    """The refusal of a national ID already registered, naming the existing participant only if
    the caller could read her anyway (``visible``: her study ID)."""
    if visible is not None:
        return DuplicateParticipant(
            f"a woman with this national ID is already registered as {visible}", visible
        )
    return DuplicateParticipant(
        "a woman with this national ID is already registered at another site; ask the central "
        "data manager before registering her again"
    )
