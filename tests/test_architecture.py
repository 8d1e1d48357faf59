"""The import contracts hold, refuse what they are meant to refuse, and match the architecture doc.

Each contract of ``[tool.importlinter]`` (``pyproject.toml``) is run as configured on a small
package built here, once with an import the architecture forbids (the contract must be broken and
name that import) and once without (it must be kept): a contract that was narrowed, or whose
module names no longer match anything, fails here. The package is named ``arch`` instead of
``pebs`` so that the installed ``pebs`` cannot be imported in its place.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CONTRACTS = {c["name"]: c for c in PYPROJECT["tool"]["importlinter"]["contracts"]}
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))

LAYERS = "Layers: entry points over services over adapters over the core"
NO_FRAMEWORKS = "Services and adapters use no web or command-line framework"
PRIVATE = "A service package's private modules are its own"
NO_STORE = "API and pages reach the database through the services and pebs.http only"

PACKAGES = ("cli", "server", "web", "api", "http", "services", "io", "store", "reports", "letters",
            "i18n", "trial", "sim", "screening", "risk", "stats", "config")  # fmt: skip
FRAMEWORKS = ("fastapi", "starlette", "typer", "click", "rich", "jinja2")


def _renamed(value: object) -> object:
    """``value`` with the module names of ``pebs`` renamed to ``arch``."""
    if isinstance(value, str):
        return re.sub(r"\bpebs\b", "arch", value)
    if isinstance(value, list):
        return [_renamed(item) for item in value]
    return value


def _toml(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(tmp_path: Path, name: str, modules: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the contract ``name`` of pyproject.toml on a package ``arch`` of ``modules``
    (dotted name under ``arch`` -> source); every layer package exists, empty."""
    tree = tmp_path / "tree"
    for package in PACKAGES:
        (tree / "arch" / package).mkdir(parents=True, exist_ok=True)
        (tree / "arch" / package / "__init__.py").touch()
    (tree / "arch" / "__init__.py").touch()
    for dotted, source in modules.items():
        path = tree / "arch" / Path(*dotted.split("."))
        for parent in reversed(path.relative_to(tree).parents[:-1]):
            (tree / parent).mkdir(exist_ok=True)
            (tree / parent / "__init__.py").touch()
        path.with_suffix(".py").write_text(source, encoding="utf-8")
    lines = ["[tool.importlinter]", 'root_package = "arch"', "include_external_packages = true",
             "", "[[tool.importlinter.contracts]]"]  # fmt: skip
    lines += [f"{key} = {_toml(_renamed(value))}" for key, value in CONTRACTS[name].items()]
    config = tmp_path / "contract.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return subprocess.run(
        [LINT_IMPORTS, str(config), "--no-cache", "--no-logo"],
        cwd=tree, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)},
        check=False,
    )  # fmt: skip


def _assert_kept(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def _assert_broken(result: subprocess.CompletedProcess, *imports: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 kept, 1 broken" in result.stdout
    for edge in imports:
        assert re.search(rf"{re.escape(edge[0])} -> {re.escape(edge[1])}\b", result.stdout), (
            edge, result.stdout)  # fmt: skip


def test_every_contract_of_the_project_is_kept():
    result = subprocess.run([LINT_IMPORTS, "--no-cache", "--no-logo"], cwd=ROOT,
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CONTRACTS)} kept, 0 broken" in result.stdout


def test_the_architecture_doc_names_the_layers_the_contract_enforces():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("\n## Layers\n", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block is not None
    assert block.group(1).splitlines() == CONTRACTS[LAYERS]["layers"]


def test_the_architecture_doc_explains_every_contract():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    explained = set(re.findall(r"^- \*\*(.+?)\*\*", text, re.M | re.S))
    assert {re.sub(r"\s+", " ", name) for name in explained} >= set(CONTRACTS)


# -- layers: the API and the pages are siblings over pebs.http, composed by pebs.server ---------


def test_the_site_may_compose_the_api_and_the_pages_over_what_they_share(tmp_path):
    _assert_kept(_check(tmp_path, LAYERS, {
        "server.site": "import arch.api.app\nimport arch.web.pages\n",
        "api.app": "import arch.http.state\n",
        "web.pages": "from arch.http import deps\n",
        "http.state": "import arch.services.trial\nimport arch.store.engine\n",
    }))  # fmt: skip


@pytest.mark.parametrize(("importer", "imported"), [
    ("web.pages", "api.app"),  # siblings: the pages use pebs.http, not the API
    ("api.app", "web.pages"),
    ("http.state", "api.app"),  # what both share is below both
    ("api.app", "server.site"),
])  # fmt: skip
def test_the_layers_refuse_an_import_between_siblings_or_upwards(tmp_path, importer, imported):
    modules = {"server.site": "", "api.app": "", "web.pages": "", "http.state": ""}
    modules[importer] = f"import arch.{imported}\n"
    _assert_broken(_check(tmp_path, LAYERS, modules), (f"arch.{importer}", f"arch.{imported}"))


# -- no web or command-line framework below the entry points -------------------------------------


@pytest.mark.parametrize("package", ["services", "store", "io"])
def test_services_and_adapters_import_no_framework(tmp_path, package):
    modules = {f"{package}.uses_{name}": f"import {name}\n" for name in FRAMEWORKS}
    _assert_broken(
        _check(tmp_path, NO_FRAMEWORKS, modules),
        *[(f"arch.{package}.uses_{name}", name) for name in FRAMEWORKS],
    )


def test_the_entry_points_may_use_the_frameworks(tmp_path):
    modules = {"api.app": "import fastapi\nimport starlette\n", "web.pages": "import jinja2\n",
               "cli.main": "import typer\nimport click\nimport rich\n",
               "services.use": "import sqlalchemy\n"}  # fmt: skip
    _assert_kept(_check(tmp_path, NO_FRAMEWORKS, modules))


# -- private modules of the service packages -----------------------------------------------------


def test_a_service_package_may_not_import_another_ones_private_module(tmp_path):
    modules = {
        "services.trial._gate": "",
        "services.auth.accounts": "from arch.services.trial import _gate\n",
        "services.records.listing": "import arch.services.trial._gate\n",
    }
    _assert_broken(
        _check(tmp_path, PRIVATE, modules),
        ("arch.services.auth.accounts", "arch.services.trial._gate"),
        ("arch.services.records.listing", "arch.services.trial._gate"),
    )


def test_an_entry_point_may_not_import_a_private_service_module(tmp_path):
    modules = {"services.operations._versions": "",
               "api.routers": "from arch.services.operations._versions import X\n"}  # fmt: skip
    _assert_broken(_check(tmp_path, PRIVATE, modules),
                   ("arch.api.routers", "arch.services.operations._versions"))  # fmt: skip


def test_private_modules_serve_their_own_package_and_the_core_is_public(tmp_path):
    modules = {
        "services.errors": "",
        "services.actor": "",
        "services.trial._gate": "import arch.services.errors\n",
        "services.trial.allocation": "from arch.services.trial import _gate\n",
        "services.trial.reports._rows": "from arch.services.trial import _gate\n",
        "services.auth.accounts": "from arch.services import actor, errors\n",
    }
    _assert_kept(_check(tmp_path, PRIVATE, modules))


# -- the API and the pages reach the store only through the services and pebs.http ---------------


@pytest.mark.parametrize(
    "importer", ["api.routers", "api.vocabularies", "web.routes", "web.errors"]
)
def test_the_api_and_the_pages_import_nothing_from_the_store(tmp_path, importer):
    modules = {"store.models": "", importer: "from arch.store.models import BEHAVIOURS\n"}
    _assert_broken(_check(tmp_path, NO_STORE, modules), (f"arch.{importer}", "arch.store.models"))


def test_the_shared_http_layer_opens_the_database(tmp_path):
    modules = {
        "store.engine": "",
        "services.use": "import arch.store.engine\n",
        "http.state": "import arch.store.engine\n",
        "api.app": "import arch.http.state\nimport arch.services.use\n",
        "web.pages": "import arch.http.state\n",
    }
    _assert_kept(_check(tmp_path, NO_STORE, modules))


# -- the trial names a risk model in the registry and uses the protocol, never a model package ---

MODEL_PROTOCOL = (
    "The trial uses a risk model through the protocol and the registry, never one model directly"
)
RISK_MODULES = {
    "risk.personalised.model": "", "risk.gail.model": "", "risk.icare.model": "",
    "risk.protocol": "", "risk.registry": "import arch.risk.personalised.model\n",
}  # fmt: skip


@pytest.mark.parametrize(
    ("importer", "imported"),
    [("trial.rules", "arch.risk.personalised.model"), ("trial.rules", "arch.risk.gail.model"),
     ("services.trial.assess", "arch.risk.personalised.model"),
     ("services.trial.assess", "arch.risk.icare.model")],
)  # fmt: skip
def test_the_trial_imports_no_model_package(tmp_path, importer, imported):
    other = "services.trial.other" if importer.startswith("trial") else "trial.other"
    modules = {**RISK_MODULES, other: "", importer: f"import {imported}\n"}
    _assert_broken(_check(tmp_path, MODEL_PROTOCOL, modules), (f"arch.{importer}", imported))


def test_the_trial_may_use_the_registry_and_the_protocol(tmp_path):
    modules = {
        **RISK_MODULES,
        "trial.rules": "import arch.risk.registry\n",
        "services.trial.assess": "from arch.risk import protocol, registry\n",
    }
    _assert_kept(_check(tmp_path, MODEL_PROTOCOL, modules))
