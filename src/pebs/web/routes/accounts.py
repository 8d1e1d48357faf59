"""Account administration (administrator): the accounts, a new account (its generated password
shown once), and per account: disable with a reason, enable again, reset her TOTP, unlock her
logins. Each form calls the service the API and the command line call
(:mod:`pebs.services.auth.accounts`); each change is audited there."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from pebs.http.deps import SessionMakerDep, StateDep
from pebs.services.auth import (
    create_account,
    disable_account,
    enable_account,
    list_accounts,
    reset_totp,
    unlock_logins,
)
from pebs.services.errors import Conflict, InvalidInput, NotFound
from pebs.services.field_rules import (
    FULL_NAME_CHARS,
    REASON_CHARS,
    SITE_CODE_CHARS,
    USERNAME_CHARS,
)
from pebs.trial.vocabularies import ROLES
from pebs.web.forms import FieldError, FormReader, place_refusal
from pebs.web.rendering import catalogue_for, render
from pebs.web.viewer import PostedForm, ViewerDep

router = APIRouter(include_in_schema=False)

Username = Annotated[str, Path(min_length=1, max_length=USERNAME_CHARS)]
_NEW_FIELDS = ("username", "full_name", "role", "site", "country", "password")
_NO_STORE = {"Cache-Control": "no-store"}


def _list_page(request, viewer, sessions, state, *, values, errors, problem=None,
               created=None, status=200):  # fmt: skip
    accounts = list_accounts(sessions, viewer.actor, state.policy)
    response = render(request, "accounts.html", viewer=viewer, accounts=accounts, roles=ROLES,
                      values=values, errors=errors, problem=problem, created=created,
                      limits={"username": USERNAME_CHARS, "full_name": FULL_NAME_CHARS,
                              "site": SITE_CODE_CHARS},
                      status=status)  # fmt: skip
    if created is not None:
        response.headers.update(_NO_STORE)  # a generated password: never cached
    return response


@router.get("/accounts")
def accounts_page(request: Request, viewer: ViewerDep, sessions: SessionMakerDep,
                  state: StateDep):  # fmt: skip
    """Every account, and the form creating one."""
    return _list_page(request, viewer, sessions, state, values={}, errors={})


@router.post("/accounts")
def account_create(
    request: Request, viewer: ViewerDep, form: PostedForm, sessions: SessionMakerDep,
    state: StateDep,
) -> Response:  # fmt: skip
    """Create the account; a generated password is shown on this page only."""
    reader = FormReader(form)
    username = reader.text("username", required=True, max_length=USERNAME_CHARS)
    full_name = reader.text("full_name", max_length=FULL_NAME_CHARS)
    role = reader.choice("role", ROLES, required=True)
    site = reader.text("site", max_length=SITE_CODE_CHARS)
    country = reader.text("country", max_length=2)
    password = None
    if form.get("password_choice") == "given":
        password = reader.text("password", required=True, max_length=256)
    shown = (*_NEW_FIELDS[:-1], "password_choice")  # never the password
    values = {k: str(form.get(k) or "") for k in shown}
    problem, status = None, 422
    if not reader.errors:
        assert username is not None
        assert role is not None
        try:
            created = create_account(sessions, viewer.actor, state.policy, username, role,
                                     site=site, country=country, password=password,
                                     full_name=full_name)  # fmt: skip
        except Conflict as error:
            reader.errors["username"] = FieldError("error.account_exists")
            problem, status = str(error), 409
        except InvalidInput as error:
            problem = place_refusal(reader, error, _NEW_FIELDS, catalogue_for(request))
        else:
            return _list_page(request, viewer, sessions, state, values={}, errors={},
                              created=created, status=201)  # fmt: skip
    return _list_page(request, viewer, sessions, state, values=values, errors=reader.errors,
                      problem=problem, status=status)  # fmt: skip


def _account_page(request, viewer, sessions, state, username, *, errors, values, problem=None,
                  status=200):  # fmt: skip
    accounts = list_accounts(sessions, viewer.actor, state.policy)
    account = next((a for a in accounts if a.username == username), None)
    if account is None:
        raise NotFound(f"no user {username!r}")
    return render(request, "account.html", viewer=viewer, account=account, errors=errors,
                  values=values, problem=problem, reason_chars=REASON_CHARS,
                  status=status)  # fmt: skip


@router.get("/accounts/{username}")
def account_page(request: Request, username: Username, viewer: ViewerDep,
                 sessions: SessionMakerDep, state: StateDep):  # fmt: skip
    """One account and what the administrator may do with it."""
    return _account_page(request, viewer, sessions, state, username, errors={}, values={})


def _done(username: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/accounts/{username}?done={done}", status_code=303)


@router.post("/accounts/{username}/disable")
def account_disable(
    request: Request, username: Username, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep, state: StateDep,
) -> Response:  # fmt: skip
    """Disable her account (with the reason): her sessions and API tokens end at once."""
    reader = FormReader(form)
    reason = reader.text("reason", required=True, max_length=REASON_CHARS)
    problem = None
    if reason is not None:
        try:
            disable_account(sessions, viewer.actor, username, reason)
        except InvalidInput as error:
            problem = place_refusal(reader, error, ("reason",), catalogue_for(request))
        else:
            return _done(username, "account_disabled")
    return _account_page(request, viewer, sessions, state, username, errors=reader.errors,
                         values={"reason": str(form.get("reason") or "")}, problem=problem,
                         status=422)  # fmt: skip


@router.post("/accounts/{username}/enable")
def account_enable(username: Username, viewer: ViewerDep, form: PostedForm,
                   sessions: SessionMakerDep) -> Response:  # fmt: skip
    """Enable her account again."""
    del form  # checked for its CSRF token
    enable_account(sessions, viewer.actor, username)
    return _done(username, "account_enabled")


@router.post("/accounts/{username}/reset-totp")
def account_reset_totp(username: Username, viewer: ViewerDep, form: PostedForm,
                       sessions: SessionMakerDep) -> Response:  # fmt: skip
    """Remove her authenticator app (lost phone): she enrols a new one at her next login."""
    del form
    reset_totp(sessions, viewer.actor, username)
    return _done(username, "totp_reset")


@router.post("/accounts/{username}/unlock")
def account_unlock(username: Username, viewer: ViewerDep, form: PostedForm,
                   sessions: SessionMakerDep) -> Response:  # fmt: skip
    """Forget her failed logins: she may log in again at once."""
    del form
    unlock_logins(sessions, viewer.actor, username)
    return _done(username, "unlocked")
