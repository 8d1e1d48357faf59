"""Her first-degree relatives with breast cancer, found in a pedigree.

The classical factor ``n_relatives`` of the Gail model (NCI BCRAT; Gail et al., JNCI 1989) and
of pebs's personalised model counts her **first-degree female relatives** ever diagnosed with
breast cancer: her mother, her sisters and her daughters. In a pedigree where each person has
both parents recorded or neither:

- her **mother** is her mother link;
- a **sister** is a woman with the same father *and* the same mother (a twin sister included);
- a **daughter** is a woman whose mother is she.

A **half-sister** (one parent in common) shares on average a quarter of her genes, as a
grandmother, an aunt or a niece does: she is a second-degree relative and is not counted. Nor
are grandparents, aunts, nieces and cousins (second and third degree). Her father, brothers and
sons are first-degree relatives, but the models count women only; a man with breast cancer is
not counted here (pedigree models such as BOADICEA use him).

>>> people = [
...     Person("her", "dad", "mum", "F", False, None),
...     Person("dad", None, None, "M", False, None),
...     Person("mum", None, None, "F", True, 52),
...     Person("sis", "dad", "mum", "F", True, None),
...     Person("half", "other", "mum", "F", True, 40),
...     Person("other", None, None, "M", False, None),
... ]
>>> [(r.relation, r.id, r.age_at_diagnosis) for r in affected_first_degree(people, "her")]
[('mother', 'mum', 52), ('sister', 'sis', None)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["RELATIONS", "AffectedRelative", "Person", "affected_first_degree"]

RELATIONS = ("mother", "sister", "daughter")
"""The first-degree female relatives the models count, in the order they are listed."""


@dataclass(frozen=True)
class Person:
    """One member of a pedigree, as far as her family history needs."""

    id: str
    father: str | None
    """``None``: not recorded (then her mother is not either)."""
    mother: str | None
    sex: Literal["F", "M"]
    breast_cancer: bool
    """Ever diagnosed with (a first) breast cancer."""
    age_at_diagnosis: int | None
    """Years; ``None`` when not known (or no breast cancer)."""


@dataclass(frozen=True)
class AffectedRelative:
    """A first-degree female relative with breast cancer."""

    relation: Literal["mother", "sister", "daughter"]
    id: str
    """Her identifier in the pedigree."""
    age_at_diagnosis: int | None
    """Years; ``None``: affected at an unknown age."""


def affected_first_degree(people: Sequence[Person], target: str) -> tuple[AffectedRelative, ...]:
    """The first-degree female relatives of ``target`` with breast cancer: her mother, then her
    sisters and her daughters in pedigree order (see the module docstring for who counts).

    ``people`` must hold ``target``; every parent named is expected among ``people`` (a parent
    that is not is simply nobody's relative here).
    """
    her = next(person for person in people if person.id == target)
    found: list[AffectedRelative] = []
    for person in people:
        if person.id == target or person.sex != "F" or not person.breast_cancer:
            continue
        relation = _relation(her, person)
        if relation is not None:
            found.append(AffectedRelative(relation, person.id, person.age_at_diagnosis))
    return tuple(sorted(found, key=lambda r: RELATIONS.index(r.relation)))


def _relation(her: Person, other: Person) -> Literal["mother", "sister", "daughter"] | None:
    if her.mother is not None and other.id == her.mother:
        return "mother"
    if other.mother == her.id:
        return "daughter"
    full_sibling = (
        her.father is not None and her.mother is not None
        and (other.father, other.mother) == (her.father, her.mother)
    )  # fmt: skip
    return "sister" if full_sibling else None
