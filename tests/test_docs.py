"""The documentation holds together: links resolve, and every command is documented.

Every relative link in README.md and docs/ points at a file of the repository; every command of
the ``pebs`` CLI (and every sub-command) has help text and is named in README.md or docs/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from pebs.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _relative_links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    links = [m.group(1) for m in LINK.finditer(text)]
    return [
        link
        for link in links
        if not re.match(r"^[a-z][a-z0-9+.-]*:", link) and not link.startswith("#")
    ]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document):
    broken = []
    for link in _relative_links(document):
        target = (document.parent / link.split("#", 1)[0]).resolve()
        if not target.exists():
            broken.append(link)
    assert not broken, f"{document.relative_to(ROOT)}: links to missing files {broken}"


def _commands(group, prefix=()):
    """(path of names, click command) for every command and sub-command of the CLI."""
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        yield path, command
        if hasattr(command, "commands"):
            yield from _commands(command, path)


COMMANDS = list(_commands(typer.main.get_command(app)))
DOCS_TEXT = "\n".join(p.read_text(encoding="utf-8") for p in DOCUMENTS)


def test_the_cli_has_commands():
    assert len(COMMANDS) > 20


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_every_command_has_help_and_is_documented(path, command):
    assert (command.help or command.short_help or "").strip(), f"pebs {' '.join(path)}: no help"
    name = "pebs " + " ".join(path)
    assert name in DOCS_TEXT, f"{name} is not named in README.md or docs/"


def test_the_page_table_names_every_page_of_the_site():
    """docs/web.md's "Every page" table names every GET page of the site (``/static`` aside)."""
    from fastapi import FastAPI

    from pebs.api.errors import install_error_handlers
    from pebs.web.pages import install_pages

    site = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(site)
    install_pages(site)

    def flattened(routes):
        for route in routes:
            included = getattr(route, "original_router", None)
            yield from flattened(included.routes) if included is not None else (route,)

    pages = {route.path for route in flattened(site.routes)
             if "GET" in (getattr(route, "methods", None) or ())}  # fmt: skip
    text = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    section = text.split("\n## Every page\n", 1)[1].split("\n## ", 1)[0]
    named = {path for row in section.splitlines() if row.startswith("| `")
             for path in re.findall(r"`(/[^`]*)`", row.split(" | ")[0])}  # fmt: skip
    assert pages - named == set(), f"pages missing from docs/web.md: {sorted(pages - named)}"
    assert named - pages == set(), f"docs/web.md names pages that do not exist: {named - pages}"
