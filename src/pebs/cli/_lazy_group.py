"""Command groups that import a sub-command's module only when that sub-command runs.

A group made by :func:`lazy_group` knows each of its lazy sub-commands by name, module and
one-line help (:class:`LazyCommand`). Its help lists them from that summary without importing
anything; ``pebs risk gail`` imports ``pebs.cli.risk`` and nothing of the other commands. The
sub-command itself is the module's Typer app (a group) or command function, built exactly as
``app.add_typer(sub_app, name=...)`` or ``app.command(name)(function)`` would build it.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, ClassVar, NamedTuple

import typer
from typer._click import Command, Context, HelpFormatter
from typer.core import TyperCommand, TyperGroup, TyperOption


class LazyCommand(NamedTuple):
    """A sub-command known before its module is imported."""

    name: str
    target: str
    """``module:attribute``: a :class:`typer.Typer` app (a group) or a command function."""
    help: str
    """The first paragraph of the command's help, line breaks included, as the group's help
    lists it."""

    def load(self, group: TyperGroup) -> Command:
        """Import the module and build the command with ``group``'s settings."""
        module_name, _, attribute = self.target.partition(":")
        target = getattr(importlib.import_module(module_name), attribute)
        holder = typer.Typer()  # registered as on the parent app, so the options are the same
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=self.name)
            return typer.main.get_group_from_info(
                holder.registered_groups[0],
                pretty_exceptions_short=holder.pretty_exceptions_short,
                rich_markup_mode=group.rich_markup_mode,
                suggest_commands=group.suggest_commands,
            )
        holder.command(self.name)(target)
        return typer.main.get_command_from_info(
            holder.registered_commands[0],
            pretty_exceptions_short=holder.pretty_exceptions_short,
            rich_markup_mode=group.rich_markup_mode,
        )

    def stand_in(self) -> Command:
        """A command that carries only the name and help: for listing, never for running."""
        return TyperCommand(self.name, help=self.help)


class _Commands(MutableMapping[str, Command]):
    """A group's sub-commands by name, the lazy ones first; a lazy one is imported the first time
    it is looked up (names, ``in`` and ``len`` import nothing)."""

    def __init__(
        self, group: TyperGroup, lazy: tuple[LazyCommand, ...], built: Mapping[str, Command]
    ) -> None:
        self._group = group
        self._lazy = {entry.name: entry for entry in lazy}
        self._built: dict[str, Command] = dict(built)

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            self._built[name] = self._lazy[name].load(self._group)
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._lazy.pop(name, None)
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._lazy
        yield from (name for name in self._built if name not in self._lazy)

    def __len__(self) -> int:
        return len(self._lazy.keys() | self._built.keys())

    def __contains__(self, name: object) -> bool:
        return name in self._lazy or name in self._built

    def get(self, name: str, default: Command | None = None) -> Command | None:
        """The command, or ``default`` for an unknown name (an import error is not hidden)."""
        if name not in self:
            return default
        return self[name]

    def listing(self) -> dict[str, Command]:
        """Every sub-command, a stand-in for each lazy one not imported yet."""
        return {
            name: self._built[name] if name in self._built else self._lazy[name].stand_in()
            for name in self
        }


class LazyGroup(TyperGroup):
    """A Typer group whose :attr:`lazy_commands` are imported when first looked up; commands
    registered on its app as usual follow them."""

    lazy_commands: ClassVar[tuple[LazyCommand, ...]] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(self, self.lazy_commands, dict(self.commands))

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        """Typer's ``--help``, valued False rather than None when not given: Typer then takes
        the value as it is, where None would be converted through a pydantic adapter (a tenth
        of a second to import, on every command line that passes through the group)."""
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)  # the names alone: nothing imported

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The help lists the sub-commands not imported yet by their summaries."""
        listing = copy.copy(self)
        listing.commands = self.commands.listing()
        TyperGroup.format_help(listing, ctx, formatter)


def lazy_group(*commands: LazyCommand) -> type[LazyGroup]:
    """A group class for ``typer.Typer(cls=...)`` with these lazy sub-commands, in this order."""
    return type("LazyGroup", (LazyGroup,), {"lazy_commands": commands})
