"""The rules of a CanRisk pedigree as a whole (:mod:`pebs.io.imports.canrisk`): one family,
exactly one target and a woman, unique identifiers, both parents or neither and each in the
file, fathers male and mothers female, everyone connected to the
target."""

from __future__ import annotations

from collections.abc import Sequence

from pebs.io.canrisk_format import MAX_INDIVIDUALS
from pebs.io.imports._canrisk_fields import Member, Problem

__all__ = ["pedigree_problems"]


def pedigree_problems(members: Sequence[Member]) -> list[Problem]:
    """Every problem of the pedigree as a whole (``members``: its lines, each one valid)."""
    problems: list[Problem] = []
    if len(members) > MAX_INDIVIDUALS:
        problems.append(
            Problem(
                None,
                None,
                None,
                (f"{len(members)} family members; allowed: at most {MAX_INDIVIDUALS}"),
            )
        )
    first = members[0]
    by_id: dict[str, Member] = {}
    for member in members:
        if member.family_id != first.family_id:
            problems.append(
                Problem(
                    member.line,
                    "FamID",
                    member.family_id,
                    (
                        f"a second family (line {first.line} has {first.family_id!r}): export her "
                        "family alone"
                    ),
                )
            )
        if member.id in by_id:
            problems.append(
                Problem(
                    member.line,
                    "IndivID",
                    member.id,
                    f"given twice (first on line {by_id[member.id].line})",
                )
            )
        by_id.setdefault(member.id, member)
    targets = [m for m in members if m.target]
    if not targets:
        problems.append(
            Problem(
                None,
                "Target",
                None,
                "no member is the target; allowed: exactly one line with Target 1 (hers)",
            )
        )
    for extra in targets[1:]:
        problems.append(
            Problem(
                extra.line,
                "Target",
                "1",
                (f"a second target (the first is on line {targets[0].line}); allowed: exactly one"),
            )
        )
    if targets and targets[0].sex != "F":
        problems.append(
            Problem(
                targets[0].line,
                "Sex",
                targets[0].sex,
                (
                    "the target is a man; allowed: F (the woman whose data this is: pebs screens "
                    "women)"
                ),
            )
        )
    for member in members:
        _check_parents(member, by_id, problems)
    if targets and not problems:
        _check_connected(targets[0], members, by_id, problems)
    return problems


def _check_parents(member: Member, by_id: dict[str, Member], problems: list[Problem]) -> None:
    if (member.father is None) != (member.mother is None):
        column = "FathID" if member.father is None else "MothID"
        problems.append(
            Problem(
                member.line,
                column,
                "0",
                "one parent only; allowed: both "
                "parents (add the other one's line) or neither (0 and 0)",
            )
        )
        return
    for column, parent, sex in (("FathID", member.father, "M"), ("MothID", member.mother, "F")):
        if parent is None:
            continue
        found = by_id.get(parent)
        if parent == member.id:
            problems.append(Problem(member.line, column, parent, "her own parent"))
        elif found is None:
            problems.append(
                Problem(member.line, column, parent, "no family member has this IndivID")
            )
        elif found.sex != sex:
            role = "father" if sex == "M" else "mother"
            problems.append(
                Problem(
                    member.line,
                    column,
                    parent,
                    (
                        f"the {role} (line {found.line}) has Sex {found.sex}; allowed: a "
                        f"{role} with Sex {sex}"
                    ),
                )
            )


def _check_connected(
    target: Member, members: Sequence[Member], by_id: dict[str, Member], problems: list[Problem]
) -> None:
    """Everyone is reached from the target through parent and child links."""
    links: dict[str, set[str]] = {m.id: set() for m in members}
    for member in members:
        for parent in (member.father, member.mother):
            if parent is not None:
                links[member.id].add(parent)
                links[parent].add(member.id)
    reached, todo = {target.id}, [target.id]
    while todo:
        for other in links[todo.pop()] - reached:
            reached.add(other)
            todo.append(other)
    for member in members:
        if member.id not in reached:
            problems.append(
                Problem(
                    member.line,
                    "IndivID",
                    member.id,
                    ("not connected to the target through parents and children"),
                )
            )
