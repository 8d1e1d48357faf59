"""The authorisation matrix: every API route x every role x three participant objects.

Objects: a participant (or site) at the site roles' own site IT-TO, at another site of the same
country (IT-MI: the country coordinator's), and at a site of another country (FR-PA); for the
allocation-list routes, a list (or slot) of that site's stratum; for the kit routes, a kit (or
shipment) of a woman at that site. Expected:

- the role may not use the route at all: 403, whatever the object;
- the role may, but the object is outside her scope: 404 (as if it did not exist: no IDOR);
- otherwise the route's success status.

The laboratory never reaches a participant: 403, or 404 on the routes it may use for kits; it
reaches every site's kits, shipments and manifests.

The expected role sets are written here from the role table of ``docs/security.md``, not read
from the code. A route of the app missing from :data:`CASES` fails
:func:`test_every_route_is_in_the_matrix`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from factories import site_today
from pebs.api import create_app
from pebs.config import Settings

ALL = frozenset({"site_staff", "site_investigator", "country_coordinator", "data_manager",
                 "statistician", "monitor", "administrator", "laboratory"})  # fmt: skip
RECORDERS = frozenset({"site_staff", "site_investigator", "country_coordinator", "data_manager"})
READERS = RECORDERS | {"statistician", "monitor"}
WORKLIST_READERS = RECORDERS | {"monitor"}
IDENTITY = RECORDERS  # docs/security.md: the roles that meet, contact or fix the record of women
BALANCE = frozenset({"statistician", "monitor"})  # never roles that randomise
ADMIN = frozenset({"administrator"})
LISTS = frozenset({"statistician"})  # allocation lists (generate, verify), unusable slots
OVERRIDE = frozenset({"data_manager"})  # manual allocation; locks (docs/trial/monitoring.md)
MONITORS = frozenset({"monitor"})  # source data verification
ANALYSTS = frozenset({"statistician"})  # the trial's statistical analysis (docs/statistics.md)
DSMB_OPEN = frozenset({"statistician", "data_manager"})  # docs/trial/dsmb.md: pooled over arms
DSMB_CLOSED = frozenset({"statistician"})  # by arm: the closed session only
SIGNERS = frozenset({"site_investigator"})  # casebook signatures (21 CFR 11), her site only
SAMPLE_READERS = RECORDERS | {"monitor", "laboratory"}  # kits by their IDs, never her identity
RECEIVERS = frozenset({"laboratory", "data_manager"})  # shipments arriving at the laboratory
IMPORTERS = frozenset({"laboratory", "data_manager"})  # genotype batches
OBJECTS = ("own", "same_country", "other_country")
SITE_ROLES = {"site_staff", "site_investigator"}


def in_scope(role: str, obj: str) -> bool:
    if role == "laboratory":  # no participant, ever
        return False
    if role in SITE_ROLES:
        return obj == "own"
    if role == "country_coordinator":
        return obj in ("own", "same_country")
    return True


def _trial_import(api, role: str, obj: str, allowed: bool):
    """A dry run of a one-woman enrolment file (nothing stored: the matrix reruns it)."""
    import io

    women = b"site,name,birth_date\nIT-TO,Matrix Woman,1972-05-10\n"
    files = {"file": ("women.csv", io.BytesIO(women), "text/csv")}
    return api.client.post(f"/api/v1/studies/{api.STUDY}/imports?format=csv&dry_run=true",
                           files=files, headers=api.bearer(role))  # fmt: skip


Api = Any  # conftest.Api
Call = Callable[[Api, str, str, bool], Any]


@dataclass(frozen=True)
class Case:
    roles: frozenset[str]
    success: int
    call: Call
    scoped: str = "participant"
    """``participant``: out-of-scope objects are 404; ``none``: the object does not matter;
    ``owner``: only the caller's own object (API token) is found; ``kit``: as ``participant``,
    but the laboratory reaches every site's kits."""

    def expected(self, role: str, obj: str) -> int:
        if role not in self.roles:
            return 403
        if self.scoped == "participant" and not in_scope(role, obj):
            return 404
        if self.scoped == "kit" and role != "laboratory" and not in_scope(role, obj):
            return 404
        if self.scoped == "owner" and obj != "own":
            return 404
        return self.success


_shared: dict[tuple[int, str], str] = {}


def shared(api: Api, obj: str) -> str:
    """One read-only participant per object (randomised: every read route has data)."""
    key = (id(api), obj)
    if key not in _shared:
        _shared[key] = api.participant(obj, "standard")
    return _shared[key]


def subject(api: Api, obj: str, allowed: bool, state: str) -> str:
    """A fresh participant in ``state`` when the call should change her, else the shared one."""
    return api.participant(obj, state) if allowed else shared(api, obj)


def yesterday(obj: str) -> str:
    """Yesterday at the object's site."""
    return (site_today(SITE_OF[obj]) - timedelta(days=1)).isoformat()


def _p(method: str, path: str, state: str | None = None, body: Any = None) -> Call:
    """A participant route: ``{id}`` is replaced by a participant of the object."""

    def call(api: Api, role: str, obj: str, allowed: bool) -> Any:
        study_id = shared(api, obj) if state is None else subject(api, obj, allowed, state)
        payload = body(obj) if callable(body) else body
        return api.client.request(method, path.format(id=study_id), json=payload,
                                  headers=api.bearer(role))  # fmt: skip

    return call


def _get(path: str, params: Callable[[str], dict] | None = None) -> Call:
    def call(api: Api, role: str, obj: str, allowed: bool) -> Any:
        query = {} if params is None else params(obj)
        return api.client.get(path.format(site=api.SITES[obj]), params=query,
                              headers=api.bearer(role))  # fmt: skip

    return call


def _register(api: Api, role: str, obj: str, allowed: bool) -> Any:
    body = {"study": api.STUDY, "site": api.SITES[obj], "name": "Ada", "birth_date": "1970-02-03"}
    return api.client.post("/api/v1/participants", json=body, headers=api.bearer(role))


def _session_call(method: str, path: str, *, totp: bool = True, body: Any = None,
                  login: bool = True, prepare: Callable | None = None) -> Call:  # fmt: skip
    """An /auth route, as a fresh user of the role with a logged-in cookie session."""

    def call(api: Api, role: str, obj: str, allowed: bool) -> Any:
        api.client.cookies.clear()
        username, password, secret = api.new_user(role, totp=totp)
        headers: dict[str, str] = {}
        if login:
            headers = api.login(username, password, secret if prepare is None else None)
        context = {"username": username, "password": password, "secret": secret}
        if prepare is not None:
            context.update(prepare(api, context, headers))
        payload = body(context) if callable(body) else body
        try:
            return api.client.request(method, path.format(**context), json=payload,
                                      headers=headers)  # fmt: skip
        finally:
            api.client.cookies.clear()

    return call


def _code_now(secret: str) -> str:
    from datetime import UTC, datetime

    from pebs.services.auth.totp import code_at

    return code_at(secret, datetime.now(UTC))


def _begin_enrolment(api: Api, context: dict, headers: dict) -> dict:
    response = api.client.post("/api/v1/auth/totp/enrolment", headers=headers)
    assert response.status_code == 200, response.text
    return {"new_secret": response.json()["secret"]}


def _revoke_token(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """Revoke her own token, or (other objects) another user's token: not found."""
    api.client.cookies.clear()
    if obj != "own":
        other = api.new_user(role)
        csrf = api.login(*other)
        token = api.client.post("/api/v1/auth/tokens", json={"name": "x"}, headers=csrf).json()
        api.client.cookies.clear()
    csrf = api.login(*api.new_user(role))
    if obj == "own":
        token = api.client.post("/api/v1/auth/tokens", json={"name": "x"}, headers=csrf).json()
    try:
        return api.client.delete(f"/api/v1/auth/tokens/{token['info']['id']}", headers=csrf)
    finally:
        api.client.cookies.clear()


def _disable(api: Api, role: str, obj: str, allowed: bool) -> Any:
    target, _, _ = api.new_user("monitor")
    return api.client.post(f"/api/v1/users/{target}/disable", json={"reason": "left the study"},
                           headers=api.bearer(role))  # fmt: skip


def _unlock(api: Api, role: str, obj: str, allowed: bool) -> Any:
    target, _, _ = api.new_user("monitor")
    return api.client.post(f"/api/v1/users/{target}/unlock", headers=api.bearer(role))


_new_accounts = iter(range(10**6))


def _create_user(api: Api, role: str, obj: str, allowed: bool) -> Any:
    body = {"username": f"matrix-{role}-{obj}-{next(_new_accounts)}", "role": "site_staff",
            "site": "IT-TO"}  # fmt: skip
    return api.client.post("/api/v1/users", json=body, headers=api.bearer(role))


def _enable(api: Api, role: str, obj: str, allowed: bool) -> Any:
    target, _, _ = api.new_user("monitor")
    return api.client.post(f"/api/v1/users/{target}/enable", headers=api.bearer(role))


def _export(api: Api, role: str, obj: str, allowed: bool) -> Any:
    response = api.client.get("/api/v1/exports/participants.csv", params={"study": api.STUDY},
                              headers=api.bearer(role))  # fmt: skip
    if response.status_code == 200:
        header = response.text.splitlines()[0].split(",")
        assert header[:4] == ["study_id", "site", "country", "status"]
    return response


def _letter(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """Her standard-arm letter (a woman with her plan when the call should issue it)."""
    from pebs.services.trial import create_screening_plan

    study_id = subject(api, obj, allowed, "standard")
    if allowed:
        create_screening_plan(api.sessions, api.db.manager, api.db.keys, study_id)
    return api.client.post(f"/api/v1/participants/{study_id}/letters",
                           json={"kind": "standard_arm"}, headers=api.bearer(role))  # fmt: skip


def _batch(api: Api, role: str, obj: str, allowed: bool) -> Any:
    return api.client.post("/api/v1/studies/mypebs-demo/letters/batch", headers=api.bearer(role))


def _generate(api: Api, role: str, obj: str, allowed: bool) -> Any:
    body = {"study": api.STUDY, "slots_per_stratum": 4, "strata": [f"{api.SITES[obj]}:50-59"],
            "is_test": True}  # fmt: skip
    response = api.client.post("/api/v1/allocation-lists", json=body, headers=api.bearer(role))
    if response.status_code == 201:
        assert "arm" not in response.text
        assert "position" not in response.text
    return response


_lists: dict[tuple[int, str], Any] = {}


def _verify(api: Api, role: str, obj: str, allowed: bool) -> Any:
    key = (id(api), obj)
    if key not in _lists:
        _lists[key] = api.training_list(obj)
    generated = _lists[key]
    url = f"/api/v1/allocation-lists/{generated.list_id}/verification"
    response = api.client.post(url, json={"seed": str(generated.seed)}, headers=api.bearer(role))
    if response.status_code == 200:
        assert response.json()["matches"] is True
    return response


def _unusable(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """A slot of a fresh test list of the object's stratum (used by nobody)."""
    slot_id = api.slot_ids(api.training_list(obj).list_id)[-1]
    return api.client.post(f"/api/v1/allocation-slots/{slot_id}/unusable",
                           json={"reason": "revealed by accident", "confirm": True},
                           headers=api.bearer(role))  # fmt: skip


SITE_OF = {"own": "IT-TO", "same_country": "IT-MI", "other_country": "FR-PA"}


def _site_today(obj: str) -> str:
    """Today at the object's site."""
    return site_today(SITE_OF[obj]).isoformat()


def _new_kit(api: Api, obj: str, state: str = "assigned") -> str:
    """The kit of a new woman of the risk-based arm at the object's site, taken to ``state``
    through the services (``failed_qc``: as the laboratory import leaves it)."""

    from sqlalchemy import update

    from pebs.services.samples import record_collection, samples_of
    from pebs.store.models import Sample

    manager = api.db.manager
    kit_id = samples_of(api.sessions, manager, api.participant(obj, "risk_based")).kits[0].kit_id
    if state != "assigned":
        record_collection(api.sessions, manager, kit_id, site_today(SITE_OF[obj]))
    if state == "failed_qc":
        with api.sessions.begin() as session:
            session.execute(update(Sample).where(Sample.kit_id == kit_id).values(state=state))
    return kit_id


def _new_shipment(api: Api, obj: str) -> str:

    from pebs.services.samples import ship_samples

    kit_id = _new_kit(api, obj, "collected")
    return ship_samples(api.sessions, api.db.manager, api.STUDY, api.SITES[obj], [kit_id],
                        site_today(SITE_OF[obj])).reference  # fmt: skip


_kits: dict[tuple[int, str, str], str] = {}


def _object(api: Api, obj: str, allowed: bool, kind: str) -> str:
    """A fresh kit (``assigned``, ``collected``, ``failed_qc``) or ``shipment`` when the call
    should change it, else the shared one of the object's site."""
    make = (lambda: _new_shipment(api, obj)) if kind == "shipment" else (
        lambda: _new_kit(api, obj, kind))  # fmt: skip
    if allowed:
        return make()
    key = (id(api), obj, "shipment" if kind == "shipment" else "kit")
    if key not in _kits:
        _kits[key] = make()
    return _kits[key]


def _k(method: str, path: str, kind: str, body: Any = None) -> Call:
    """A kit route: ``{kit}`` (or ``{reference}``) is replaced by a kit (shipment) of the
    object's site."""

    def call(api: Api, role: str, obj: str, allowed: bool) -> Any:
        found = _object(api, obj, allowed, kind)
        return api.client.request(method, path.format(kit=found, reference=found),
                                  json=body(obj) if callable(body) else body,
                                  headers=api.bearer(role))  # fmt: skip

    return call


def _assign_kit(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """A woman of the risk-based arm whose kit was abandoned (a new one may be given)."""
    from pebs.services.samples import abandon_sample

    study_id = shared(api, obj)
    if allowed:
        kit_id = _new_kit(api, obj)
        abandon_sample(api.sessions, api.db.manager, kit_id, reason="lost in the post")
        study_id = _sample_owner(api, kit_id)
    return api.client.post(f"/api/v1/participants/{study_id}/kits", json={},
                           headers=api.bearer(role))  # fmt: skip


def _sample_owner(api: Api, kit_id: str) -> str:
    from pebs.services.samples import sample_by_kit

    owner = sample_by_kit(api.sessions, api.db.manager, kit_id).study_id
    assert owner is not None
    return owner


def _ship(api: Api, role: str, obj: str, allowed: bool) -> Any:
    body = {"study": api.STUDY, "site": api.SITES[obj], "shipped_on": _site_today(obj),
            "kit_ids": [_object(api, obj, allowed, "collected")]}  # fmt: skip
    return api.client.post("/api/v1/shipments", json=body, headers=api.bearer(role))


def _shipped_kit(api: Api, obj: str) -> str:

    from pebs.services.samples import ship_samples

    kit_id = _new_kit(api, obj, "collected")
    ship_samples(api.sessions, api.db.manager, api.STUDY, api.SITES[obj], [kit_id],
                 site_today(SITE_OF[obj]))  # fmt: skip
    return kit_id


def _lab_import(api: Api, samples: dict) -> Any:
    """A genotype batch imported by the data manager through the service."""
    import tempfile
    from pathlib import Path

    from lab_factories import write_vcf
    from pebs.services.laboratory import import_genotype_batch

    with tempfile.TemporaryDirectory() as folder:
        path = write_vcf(Path(folder) / "batch.vcf", samples)
        return import_genotype_batch(api.sessions, api.db.manager, api.db.keys, api.STUDY, path)


def _upload(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """A batch of one kit unknown to the study: nothing to store (200)."""
    import io

    from lab_factories import VARIANTS
    from pebs.trial.samples import new_kit_id

    header = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + new_kit_id("MP")
    lines = [header] + [f"{v.chromosome}\t{v.position}\t.\t{v.other}\t{v.effect}\t.\tPASS\t."
                        "\tGT\t0/1" for v in VARIANTS]  # fmt: skip
    files = {"file": ("batch.vcf", io.BytesIO("\n".join(lines).encode()), "text/plain")}
    return api.client.post("/api/v1/lab/batches", data={"study": api.STUDY}, files=files,
                           headers=api.bearer(role))  # fmt: skip


def _canrisk(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """Her CanRisk file (menarche 12, her parents, her mother affected at an unknown age) for a
    woman of the risk-based arm whose questionnaire is recorded, when the call should store it."""
    import io

    from pebs.services.trial import RiskFactors, record_risk_questionnaire

    study_id = subject(api, obj, allowed, "risk_based")
    if allowed:
        answers = RiskFactors(n_biopsies=0, age_at_menarche=13, age_at_first_birth="unknown",
                              n_relatives=0)  # fmt: skip
        record_risk_questionnaire(api.sessions, api.db.manager, api.db.keys, study_id, answers,
                                  answered_on=date.fromisoformat(yesterday(obj)))  # fmt: skip
    tests = ["0:0"] * 10 + ["0:0:0:0:0"]
    people = [["F", "1", "PB", "PF", "PM", "F", "0", "0", "55", "0", "0"],
              ["F", "0", "PF", "0", "0", "M", "0", "0", "0", "0", "0"],
              ["F", "0", "PM", "0", "0", "F", "0", "0", "0", "0", "AU"]]  # fmt: skip
    lines = [
        "##CanRisk 4.0",
        "##menarche=12",
        "##FamID\tName\tTarget\tIndivID\tFathID\tMothID"
        "\tSex\tMZtwin\tDead\tAge\tYob\tBC1\tBC2\tOC\tPRO\tPAN\tAshkn\tBRCA1\tBRCA2"
        "\tPALB2\tATM\tCHEK2\tBARD1\tRAD51D\tRAD51C\tBRIP1\tHOXB13\tER:PR:HER2:CK14:CK56",
    ]
    lines += ["\t".join([p[0], "NA", *p[1:], "0", "0", "0", "0", "0", *tests]) for p in people]
    files = {"file": ("her.txt", io.BytesIO("\n".join(lines).encode()), "text/plain")}
    return api.client.post(f"/api/v1/participants/{study_id}/canrisk", files=files,
                           headers=api.bearer(role))  # fmt: skip


_batches: dict[int, str] = {}


def _lab_batch(api: Api, role: str, obj: str, allowed: bool) -> Any:
    from lab_factories import dosages

    if id(api) not in _batches:
        _batches[id(api)] = _lab_import(api, {_shipped_kit(api, "own"): dosages(0)}).reference
    return api.client.get(f"/api/v1/lab/batches/{_batches[id(api)]}", headers=api.bearer(role))


def _resolve_conflict(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """A fresh conflict (a genotyped kit, then a different result) when the call resolves it."""
    from lab_factories import dosages

    kit_id = "MP-00000000A"
    if allowed:
        kit_id = _shipped_kit(api, obj)
        _lab_import(api, {kit_id: dosages(0)})
        _lab_import(api, {kit_id: dosages(1)})
    return api.client.post(f"/api/v1/lab/conflicts/{kit_id}/resolution",
                           json={"keep": "stored", "reason": "first run kept"},
                           headers=api.bearer(role))  # fmt: skip


def _lock_study(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """Lock the study (then unlock it at once through the service: the other cases write)."""
    from pebs.services.monitoring import unlock_study

    response = api.client.post("/api/v1/studies/mypebs-demo/lock", json={"reason": "analysis"},
                               headers=api.bearer(role))  # fmt: skip
    if response.status_code == 201:
        unlock_study(api.sessions, api.db.manager, "mypebs-demo", reason="matrix test")
    return response


def _analyse(api: Api, role: str, obj: str, allowed: bool) -> Any:
    return api.client.post("/api/v1/studies/mypebs-demo/analyses", json={"source": "live"},
                           headers=api.bearer(role))  # fmt: skip


def _analysis_zip(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """Download a run the statistician started."""
    run = _analyse(api, "statistician", obj, True).json()["run"]
    return api.client.get(f"/api/v1/studies/mypebs-demo/analyses/{run}.zip",
                          headers=api.bearer(role))  # fmt: skip


def _dsmb(kind: str) -> Call:
    def call(api: Api, role: str, obj: str, allowed: bool) -> Any:
        return api.client.post("/api/v1/studies/mypebs-demo/dsmb-reports",
                               json={"kind": kind, "source": "live"},
                               headers=api.bearer(role))  # fmt: skip

    return call


def _dsmb_zip(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """Download a closed report the statistician produced (the open one: the data manager too)."""
    run = _dsmb("closed")(api, "statistician", obj, True).json()["run"]
    return api.client.get(f"/api/v1/studies/mypebs-demo/dsmb-reports/{run}.zip",
                          headers=api.bearer(role))  # fmt: skip


def _unlock_study(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """Unlock the study, locked through the service when the call should unlock it."""
    from pebs.http.study_lock import lock_study_here
    from pebs.services.monitoring import study_lock_status, unlock_study

    if allowed:
        lock_study_here(api.client.app.state.pebs, api.db.manager, "mypebs-demo", "analysis")
    try:
        return api.client.post("/api/v1/studies/mypebs-demo/unlock",
                               json={"reason": "reopened"}, headers=api.bearer(role))  # fmt: skip
    finally:
        if study_lock_status(api.sessions, api.db.manager, "mypebs-demo").locked:
            unlock_study(api.sessions, api.db.manager, "mypebs-demo", reason="matrix test")


def _sign(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """Sign with the role's demo account's password and the code of the next TOTP step (the
    current one may have served the account's login)."""
    from datetime import UTC, datetime, timedelta

    from pebs.services.auth.totp import code_at

    study_id = subject(api, obj, allowed, "consented")
    password, secret = api.db.logins[api.ROLES[role]]
    code = code_at(secret, datetime.now(UTC) + timedelta(seconds=30)) if secret else "000000"
    return api.client.post(f"/api/v1/participants/{study_id}/signature",
                           json={"password": password, "totp_code": code, "accept": True},
                           headers=api.bearer(role))  # fmt: skip


def _release(api: Api, role: str, obj: str, allowed: bool) -> Any:
    """Unlock her casebook, locked through the service when the call should unlock it."""
    from pebs.services.monitoring import lock_participant

    study_id = subject(api, obj, allowed, "consented")
    if allowed:
        lock_participant(api.sessions, api.db.manager, study_id)
    return api.client.post(f"/api/v1/participants/{study_id}/locks/release",
                           json={"reason": "query answered"}, headers=api.bearer(role))  # fmt: skip


QUERY_READERS = RECORDERS | {"monitor"}  # docs/trial/queries.md: every role that records data
REVIEWERS = frozenset({"data_manager", "monitor"})  # raise, close, re-open data queries
ANSWERERS = RECORDERS - {"data_manager"}  # her site answers its own queries
_queries: dict[tuple[int, str], int] = {}


def _new_query(api: Api, obj: str, state: str = "open") -> int:
    """A query on the shared woman of the object's site, raised (and closed, for ``closed``) by
    the data manager through the services."""
    from pebs.services.queries.workflow import close_query, raise_query

    manager = api.db.manager
    detail = raise_query(api.sessions, manager, shared(api, obj), form="allocation", item="arm",
                         question="Is this the arm on the paper form?")  # fmt: skip
    if state == "closed":
        close_query(api.sessions, manager, detail.query.id)
    return detail.query.id


def _query(state: str, path: str, method: str = "GET", body: Any = None) -> Call:
    """A query route: ``{query}`` is a query of the object's site (a fresh one in ``state``
    when the call should change it, else the shared open one)."""

    def call(api: Api, role: str, obj: str, allowed: bool) -> Any:
        key = (id(api), obj)
        if allowed and method == "POST":
            query_id = _new_query(api, obj, state)
        else:
            if key not in _queries:
                _queries[key] = _new_query(api, obj)
            query_id = _queries[key]
        return api.client.request(method, path.format(query=query_id), json=body,
                                  headers=api.bearer(role))  # fmt: skip

    return call


def _site_of(obj: str) -> dict:
    return {"site": SITE_OF[obj]}


def _study(obj: str) -> dict:
    return {"study": "mypebs-demo"}


CASES: dict[tuple[str, str], Case] = {
    # authentication: every role, a fresh account each time
    ("POST", "/api/v1/auth/login"): Case(ALL, 200, _session_call(
        "POST", "/api/v1/auth/login", login=False,
        body=lambda c: {"username": c["username"], "password": c["password"],
                        "totp_code": _code_now(c["secret"])}), "none"),
    ("POST", "/api/v1/auth/logout"): Case(ALL, 204, _session_call("POST", "/api/v1/auth/logout"),
                                          "none"),
    ("GET", "/api/v1/auth/me"): Case(ALL, 200, _session_call("GET", "/api/v1/auth/me"), "none"),
    ("POST", "/api/v1/auth/totp/verify"): Case(ALL, 200, _session_call(
        "POST", "/api/v1/auth/totp/verify", prepare=lambda api, c, h: {},
        body=lambda c: {"code": _code_now(c["secret"])}), "none"),
    ("POST", "/api/v1/auth/totp/enrolment"): Case(ALL, 200, _session_call(
        "POST", "/api/v1/auth/totp/enrolment", totp=False), "none"),
    ("POST", "/api/v1/auth/totp/enrolment/confirm"): Case(ALL, 204, _session_call(
        "POST", "/api/v1/auth/totp/enrolment/confirm", totp=False, prepare=_begin_enrolment,
        body=lambda c: {"code": _code_now(c["new_secret"])}), "none"),
    ("GET", "/api/v1/auth/tokens"): Case(ALL, 200, _session_call("GET", "/api/v1/auth/tokens"),
                                         "none"),
    ("POST", "/api/v1/auth/tokens"): Case(ALL, 201, _session_call(
        "POST", "/api/v1/auth/tokens", body={"name": "script"}), "none"),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): Case(ALL, 200, _revoke_token, "owner"),
    # participants
    ("POST", "/api/v1/participants"): Case(RECORDERS, 201, _register),
    ("GET", "/api/v1/participants"): Case(READERS, 200, _get(
        "/api/v1/participants", lambda obj: {"site": {"own": "IT-TO", "same_country": "IT-MI",
                                                      "other_country": "FR-PA"}[obj]})),
    ("GET", "/api/v1/participants/{study_id}"): Case(
        READERS, 200, _p("GET", "/api/v1/participants/{id}")),
    ("GET", "/api/v1/participants/{study_id}/identity"): Case(
        IDENTITY, 200, _p("GET", "/api/v1/participants/{id}/identity")),
    ("GET", "/api/v1/participants/{study_id}/audit-events"): Case(
        READERS, 200, _p("GET", "/api/v1/participants/{id}/audit-events")),
    ("POST", "/api/v1/participants/{study_id}/eligibility"): Case(RECORDERS, 200, _p(
        "POST", "/api/v1/participants/{id}/eligibility", "registered",
        {"answers": {"able_to_consent": True}})),
    ("POST", "/api/v1/participants/{study_id}/consent"): Case(RECORDERS, 200, _p(
        "POST", "/api/v1/participants/{id}/consent", "eligible",
        lambda obj: {"language": "fr" if obj == "other_country" else "it"})),
    ("POST", "/api/v1/participants/{study_id}/withdrawal"): Case(RECORDERS, 200, _p(
        "POST", "/api/v1/participants/{id}/withdrawal", "consented",
        {"level": "no_further_contact", "reason": "moved away"})),
    ("POST", "/api/v1/participants/{study_id}/allocation"): Case(RECORDERS, 201, _p(
        "POST", "/api/v1/participants/{id}/allocation", "consented")),
    ("POST", "/api/v1/participants/{study_id}/risk-assessment"): Case(RECORDERS, 201, _p(
        "POST", "/api/v1/participants/{id}/risk-assessment", "risk_based",
        {"n_biopsies": 0, "age_at_menarche": 13, "age_at_first_birth": "unknown",
         "n_relatives": 0, "density": "b", "prs_z": "unknown"})),
    ("POST", "/api/v1/participants/{study_id}/risk-questionnaire"): Case(RECORDERS, 201, _p(
        "POST", "/api/v1/participants/{id}/risk-questionnaire", "risk_based",
        lambda obj: {"n_biopsies": 0, "age_at_menarche": 13, "age_at_first_birth": "unknown",
                     "n_relatives": 0, "answered_on": yesterday(obj)})),
    ("POST", "/api/v1/participants/{study_id}/canrisk"): Case(RECORDERS, 201, _canrisk),
    ("GET", "/api/v1/participants/{study_id}/canrisk"): Case(RECORDERS, 200, _p(
        "GET", "/api/v1/participants/{id}/canrisk")),
    ("POST", "/api/v1/participants/{study_id}/screening-plan"): Case(RECORDERS, 201, _p(
        "POST", "/api/v1/participants/{id}/screening-plan", "standard", {})),
    ("POST", "/api/v1/participants/{study_id}/visits"): Case(RECORDERS, 201, _p(
        "POST", "/api/v1/participants/{id}/visits", "standard",
        lambda obj: {"performed_date": yesterday(obj), "visit_type": "recall",
                     "modality": "mammography", "birads": 1})),
    ("POST", "/api/v1/participants/{study_id}/outcomes"): Case(RECORDERS, 201, _p(
        "POST", "/api/v1/participants/{id}/outcomes", "standard",
        lambda obj: {"diagnosis_date": yesterday(obj), "detection_mode": "clinical",
                     "behaviour": "invasive", "t": "T1c", "n": "N0", "m": "M0"})),
    ("POST", "/api/v1/participants/{study_id}/questionnaires"): Case(RECORDERS, 201, _p(
        "POST", "/api/v1/participants/{id}/questionnaires", "consented",
        lambda obj: {"instrument": "EQ-5D-5L", "timepoint_months": 0,
                     "answers": {"mobility": 1, "vas": 90}, "completed_on": yesterday(obj)})),
    ("POST", "/api/v1/participants/{study_id}/death"): Case(RECORDERS, 201, _p(
        "POST", "/api/v1/participants/{id}/death", "standard",
        lambda obj: {"date_of_death": yesterday(obj), "cause": "other"})),
    # randomisation overrides and allocation lists (docs/security.md: never the site roles)
    ("POST", "/api/v1/participants/{study_id}/allocation/override"): Case(OVERRIDE, 200, _p(
        "POST", "/api/v1/participants/{id}/allocation/override", "consented",
        {"arm": "risk-based", "reason": "randomised on paper during an outage",
         "confirm": True})),
    ("POST", "/api/v1/allocation-slots/{slot_id}/unusable"): Case(LISTS, 200, _unusable, "none"),
    ("POST", "/api/v1/allocation-lists"): Case(LISTS, 201, _generate, "none"),
    ("POST", "/api/v1/allocation-lists/{list_id}/verification"): Case(LISTS, 200, _verify,
                                                                      "none"),
    # worklists: the object is the site
    ("GET", "/api/v1/worklists/risk-pending"): Case(WORKLIST_READERS, 200, _get(
        "/api/v1/worklists/risk-pending", lambda obj: {"study": "mypebs-demo",
                                                       "on": _site_today(obj),
                                                       "site": SITE_OF[obj]})),
    ("GET", "/api/v1/worklists/{site}"): Case(WORKLIST_READERS, 200, _get(
        "/api/v1/worklists/{site}", lambda obj: {"study": "mypebs-demo",
                                                 "on": _site_today(obj)})),
    # saliva kits: the object is a kit (or shipment) of a woman at the object's site
    ("GET", "/api/v1/participants/{study_id}/kits"): Case(SAMPLE_READERS, 200, _p(
        "GET", "/api/v1/participants/{id}/kits")),
    ("POST", "/api/v1/participants/{study_id}/kits"): Case(RECORDERS, 201, _assign_kit),
    ("GET", "/api/v1/kits/{kit_id}"): Case(SAMPLE_READERS, 200, _k(
        "GET", "/api/v1/kits/{kit}", "assigned"), "kit"),
    ("POST", "/api/v1/kits/{kit_id}/collection"): Case(RECORDERS, 200, _k(
        "POST", "/api/v1/kits/{kit}/collection", "assigned",
        lambda obj: {"collected_on": _site_today(obj)})),
    ("POST", "/api/v1/kits/{kit_id}/abandonment"): Case(RECORDERS, 200, _k(
        "POST", "/api/v1/kits/{kit}/abandonment", "assigned", {"reason": "tube broken"})),
    ("POST", "/api/v1/kits/{kit_id}/recollection"): Case(RECORDERS, 201, _k(
        "POST", "/api/v1/kits/{kit}/recollection", "failed_qc", {"reason": "call rate 0.8"})),
    ("POST", "/api/v1/shipments"): Case(RECORDERS, 201, _ship),
    ("GET", "/api/v1/shipments"): Case(SAMPLE_READERS, 200, _get(
        "/api/v1/shipments", lambda obj: {"study": "mypebs-demo", "site": SITE_OF[obj]}), "kit"),
    ("GET", "/api/v1/shipments/{reference}"): Case(SAMPLE_READERS, 200, _k(
        "GET", "/api/v1/shipments/{reference}", "shipment"), "kit"),
    ("POST", "/api/v1/shipments/{reference}/receipt"): Case(RECEIVERS, 200, _k(
        "POST", "/api/v1/shipments/{reference}/receipt", "shipment", {}), "kit"),
    ("GET", "/api/v1/worklists/{site}/kits"): Case(WORKLIST_READERS, 200, _get(
        "/api/v1/worklists/{site}/kits", lambda obj: {"study": "mypebs-demo",
                                                      "on": _site_today(obj)})),
    ("GET", "/api/v1/manifests/{site}"): Case(SAMPLE_READERS, 200, _get(
        "/api/v1/manifests/{site}", _study), "kit"),
    # the laboratory's genotype batches (kit IDs only); conflicts are the data manager's
    ("POST", "/api/v1/lab/batches"): Case(IMPORTERS, 200, _upload, "none"),
    ("GET", "/api/v1/lab/batches"): Case(IMPORTERS, 200, _get("/api/v1/lab/batches", _study),
                                         "none"),
    ("GET", "/api/v1/lab/batches/{reference}"): Case(IMPORTERS, 200, _lab_batch, "none"),
    ("GET", "/api/v1/lab/conflicts"): Case(OVERRIDE, 200, _get("/api/v1/lab/conflicts"), "none"),
    # a whole trial imported from files: the data manager's (a dry run stores nothing)
    ("POST", "/api/v1/studies/{study}/imports"): Case(OVERRIDE, 200, _trial_import, "none"),
    ("POST", "/api/v1/lab/conflicts/{kit_id}/resolution"): Case(OVERRIDE, 200, _resolve_conflict,
                                                                "none"),
    # aggregates: scoped by the caller's sites inside, no object
    ("GET", "/api/v1/dashboards/recruitment"): Case(READERS, 200, _get(
        "/api/v1/dashboards/recruitment", _study), "none"),
    ("GET", "/api/v1/dashboards/consort"): Case(READERS, 200, _get(
        "/api/v1/dashboards/consort", _study), "none"),
    ("GET", "/api/v1/dashboards/allocation-balance"): Case(BALANCE, 200, _get(
        "/api/v1/dashboards/allocation-balance", _study), "none"),
    ("GET", "/api/v1/dashboards/risk-levels"): Case(READERS, 200, _get(
        "/api/v1/dashboards/risk-levels", _study), "none"),
    ("GET", "/api/v1/exports/participants.{format}"): Case(READERS, 200, _export, "none"),
    # letters and consultations
    ("POST", "/api/v1/participants/{study_id}/letters"): Case(RECORDERS, 200, _letter),
    ("GET", "/api/v1/participants/{study_id}/letters"): Case(READERS, 200, _p(
        "GET", "/api/v1/participants/{id}/letters")),
    ("PUT", "/api/v1/participants/{study_id}/language"): Case(RECORDERS, 200, _p(
        "PUT", "/api/v1/participants/{id}/language", "standard",
        lambda obj: {"language": "fr" if obj == "other_country" else "it"})),
    ("POST", "/api/v1/participants/{study_id}/consultations"): Case(RECORDERS, 201, _p(
        "POST", "/api/v1/participants/{id}/consultations", "standard",
        lambda obj: {"held_on": _site_today(obj), "mode": "visit", "held_by": "Dr Neri"})),
    ("GET", "/api/v1/participants/{study_id}/consultations"): Case(READERS, 200, _p(
        "GET", "/api/v1/participants/{id}/consultations")),
    ("GET", "/api/v1/studies/{study}/letters/due"): Case(RECORDERS, 200, _get(
        "/api/v1/studies/mypebs-demo/letters/due"), "none"),
    ("POST", "/api/v1/studies/{study}/letters/batch"): Case(RECORDERS, 200, _batch, "none"),
    # monitoring: source data verification, signatures, locks (docs/trial/monitoring.md)
    ("GET", "/api/v1/participants/{study_id}/monitoring"): Case(READERS, 200, _p(
        "GET", "/api/v1/participants/{id}/monitoring")),
    ("POST", "/api/v1/participants/{study_id}/source-verification"): Case(MONITORS, 200, _p(
        "POST", "/api/v1/participants/{id}/source-verification", None, {"form": "registration"})),
    ("GET", "/api/v1/studies/{study}/source-verification"): Case(READERS, 200, _get(
        "/api/v1/studies/mypebs-demo/source-verification"), "none"),
    ("GET", "/api/v1/participants/{study_id}/signature"): Case(READERS, 200, _p(
        "GET", "/api/v1/participants/{id}/signature")),
    ("POST", "/api/v1/participants/{study_id}/signature"): Case(SIGNERS, 201, _sign),
    ("POST", "/api/v1/participants/{study_id}/locks"): Case(OVERRIDE, 201, _p(
        "POST", "/api/v1/participants/{id}/locks", "consented", {})),
    ("POST", "/api/v1/participants/{study_id}/locks/release"): Case(OVERRIDE, 200, _release),
    ("GET", "/api/v1/studies/{study}/lock"): Case(READERS, 200, _get(
        "/api/v1/studies/mypebs-demo/lock"), "none"),
    ("POST", "/api/v1/studies/{study}/lock"): Case(OVERRIDE, 201, _lock_study, "none"),
    ("POST", "/api/v1/studies/{study}/unlock"): Case(OVERRIDE, 200, _unlock_study, "none"),
    # the trial's statistical analysis
    ("POST", "/api/v1/studies/{study}/analyses"): Case(ANALYSTS, 201, _analyse, "none"),
    ("GET", "/api/v1/studies/{study}/analyses/{run}.zip"): Case(ANALYSTS, 200, _analysis_zip,
                                                                "none"),
    # the data monitoring committee's reports (a closed report's files: statisticians only)
    ("POST", "/api/v1/studies/{study}/dsmb-reports"): Case(DSMB_OPEN, 201, _dsmb("open"), "none"),
    ("GET", "/api/v1/studies/{study}/dsmb-reports/{run}.zip"): Case(DSMB_CLOSED, 200, _dsmb_zip,
                                                                    "none"),
    # administration
    ("POST", "/api/v1/users/{username}/disable"): Case(ADMIN, 200, _disable, "none"),
    ("POST", "/api/v1/users/{username}/unlock"): Case(ADMIN, 200, _unlock, "none"),
    ("GET", "/api/v1/users"): Case(ADMIN, 200, _get("/api/v1/users"), "none"),
    ("POST", "/api/v1/users"): Case(ADMIN, 201, _create_user, "none"),
    ("POST", "/api/v1/users/{username}/enable"): Case(ADMIN, 200, _enable, "none"),
    # model cards: every logged-in role, no participant data
    ("GET", "/api/v1/models"): Case(ALL, 200, _get("/api/v1/models"), "none"),
    ("GET", "/api/v1/models/{card_id}"): Case(ALL, 200, _get("/api/v1/models/personalised-IT"),
                                              "none"),
    # data queries (docs/trial/queries.md): raised and closed centrally, answered by her site
    ("POST", "/api/v1/participants/{study_id}/queries"): Case(REVIEWERS, 201, _p(
        "POST", "/api/v1/participants/{id}/queries", None,
        {"form": "allocation", "item": "arm", "question": "Arm as on the paper form?"})),
    ("GET", "/api/v1/queries"): Case(QUERY_READERS, 200, _get("/api/v1/queries", _site_of)),
    ("GET", "/api/v1/queries/worklist"): Case(QUERY_READERS, 200, _get(
        "/api/v1/queries/worklist", _site_of)),
    ("GET", "/api/v1/queries/{query_id}"): Case(QUERY_READERS, 200, _query(
        "open", "/api/v1/queries/{query}")),
    ("POST", "/api/v1/queries/{query_id}/answer"): Case(ANSWERERS, 200, _query(
        "open", "/api/v1/queries/{query}/answer", "POST", {"text": "It is."})),
    ("POST", "/api/v1/queries/{query_id}/close"): Case(REVIEWERS, 200, _query(
        "open", "/api/v1/queries/{query}/close", "POST", {})),
    ("POST", "/api/v1/queries/{query_id}/reopen"): Case(REVIEWERS, 200, _query(
        "closed", "/api/v1/queries/{query}/reopen", "POST", {"text": "Not settled."})),
    ("POST", "/api/v1/studies/{study}/edit-checks"): Case(OVERRIDE, 200, lambda api, role, obj,
        allowed: api.client.post("/api/v1/studies/mypebs-demo/edit-checks",
                                 headers=api.bearer(role)), "none"),
    ("GET", "/api/v1/dashboards/queries"): Case(QUERY_READERS, 200, _get(
        "/api/v1/dashboards/queries", _study), "none"),
    ("GET", "/api/v1/studies/{study}/missing-forms"): Case(WORKLIST_READERS, 200, _get(
        "/api/v1/studies/mypebs-demo/missing-forms", _site_of)),
    ("GET", "/api/v1/studies/{study}/missing-forms.csv"): Case(WORKLIST_READERS, 200, _get(
        "/api/v1/studies/mypebs-demo/missing-forms.csv", _site_of)),
}  # fmt: skip

MATRIX = [
    pytest.param(route, role, obj, id=f"{route[0]} {route[1]} {role} {obj}")
    for route in CASES
    for role in sorted(ALL)
    for obj in OBJECTS
]


def test_every_route_is_in_the_matrix(tmp_path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert routes == set(CASES)
    assert len(MATRIX) == len(CASES) * 8 * 3


@pytest.mark.parametrize(("route", "role", "obj"), MATRIX)
def test_authorisation(api: Api, route: tuple[str, str], role: str, obj: str) -> None:
    case = CASES[route]
    expected = case.expected(role, obj)
    response = case.call(api, role, obj, expected < 300)
    assert response.status_code == expected, (response.status_code, response.text)
    if expected >= 400:
        body = response.json()
        assert body["error"] in ("permission_denied", "not_found"), body
        assert set(body) >= {"error", "detail"}


@pytest.mark.parametrize("role", sorted(ALL - DSMB_CLOSED))
def test_the_closed_dsmb_report_is_refused_to_every_other_role(api: Api, role: str) -> None:
    response = _dsmb("closed")(api, role, "own", False)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "permission_denied"
