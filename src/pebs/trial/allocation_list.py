"""Concealed allocation lists: permuted blocks of random size, one list per stratum.

The algorithm (name :data:`ALGORITHM`, version :data:`ALGORITHM_VERSION`) is specified in
``docs/trial/randomisation.md`` precisely enough to be re-implemented from the text:

1. **One random stream per stratum.** Stratum ``s`` uses
   ``Generator(PCG64(SeedSequence(seed, spawn_key=k(s))))`` where ``k(s)`` is the SHA-256 of the
   label's UTF-8 bytes read as eight big-endian unsigned 32-bit words. A stratum's list therefore
   depends only on ``(seed, stratum, design, length)``: adding, removing or lengthening another
   stratum never changes it, and a longer list of the same stratum starts with the shorter one.
2. **Only raw 64-bit outputs are used** (``bit_generator.random_raw()``). NumPy guarantees a fixed
   ``PCG64`` stream for a fixed seed, but allows ``Generator`` methods (``choice``, ``permutation``,
   ...) to change between feature releases (NumPy "Compatibility policy", numpy.random reference).
   Drawing from raw words with the integer and float rules below keeps a list byte-identical across
   NumPy versions and machines.
3. **Each block**: one raw word ``w`` chooses the block size by inverse CDF on
   ``u = (w >> 11) * 2**-53`` (the first size whose cumulative probability exceeds ``u``); the block
   holds ``ratio[i] * size / sum(ratio)`` slots of arm ``i``, in design order; a Fisher-Yates
   shuffle (``i`` from ``size - 1`` down to 1, swap with ``j`` uniform in ``0..i``) permutes it,
   each ``j`` drawn without bias by rejection (``w < 2**64 - 2**64 % (i + 1)``, then
   ``j = w % (i + 1)``).
4. **Whole blocks** are generated until the stratum has at least the requested number of slots, so
   every list ends at a block end (a list may be up to one block longer than asked).

What is concealed, and from whom (``docs/trial/randomisation.md``): the seed, the list,
its block sizes and block boundaries, and therefore the next allocation in any stratum, are known
to the statistician who generates the list and to the allocation service only. Site staff,
investigators and anyone who recruits or assesses eligibility never see them: with random block
sizes an observer who learns past allocations still cannot be certain of the next one, but can
guess it better than chance (about 70% right for sizes 2, 4, 6 when guessing the arm that is behind;
``docs/trial/randomisation.md``), so past allocations in a stratum must stay hidden too. The
SHA-256 of the serialised list may be recorded openly (trial master file) when the seed is a fresh
128-bit secret (:func:`fresh_seed`); with a small or guessable seed the hash would let anyone
search the seeds and recover the list.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

ALGORITHM = "pebs-permuted-blocks-random-size"
"""Name of the list-generation algorithm; recorded with every list."""

ALGORITHM_VERSION = "1"
"""Bump whenever a list generated from the same inputs could change by one byte."""

FORMAT_HEADER = "# pebs allocation list"
"""First line of the canonical serialisation."""

COLUMNS = ("stratum", "position", "arm", "block_number", "block_size")
"""CSV columns of the canonical serialisation, after the ``#`` header lines."""

_HEADER_KEYS = (
    "algorithm", "algorithm_version", "seed", "arms", "ratio", "block_sizes",
    "block_probabilities",
)  # fmt: skip

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:|/+-]*$")
_NAME_RULE = "letters, digits and _ . : | / + - (starting with a letter or digit)"
_TWO_64 = 1 << 64


class AllocationListError(ValueError):
    """The list cannot be generated, parsed or verified as asked; the message names the field."""


def _check_name(kind: str, value: object) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise AllocationListError(f"{kind} {value!r} must be made of {_NAME_RULE}")
    return value


def _whole(kind: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise AllocationListError(f"{kind} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class BlockDesign:
    """Arms, allocation ratio and the distribution of block sizes.

    Parameters
    ----------
    arms
        Arm names, at least two, in the order used to fill a block before it is shuffled.
    ratio
        Whole-number allocation ratio, one entry per arm (``(1, 1)``; ``(2, 1)`` for 2:1).
    block_sizes
        Ascending block sizes; each a multiple of ``sum(ratio)``. Concealed from site staff.
    block_probabilities
        Probability of each block size (proportions summing to 1); ``None`` means equal.

    Examples
    --------
    >>> BlockDesign().block_probabilities
    (0.3333333333333333, 0.3333333333333333, 0.3333333333333333)
    >>> try:
    ...     BlockDesign(block_sizes=(2, 5))
    ... except AllocationListError as exc:
    ...     print(exc)
    block_sizes: 5 is not a multiple of sum(ratio) = 2 (ratio 1:1)
    """

    arms: tuple[str, ...] = ("standard", "risk-based")
    ratio: tuple[int, ...] = (1, 1)
    block_sizes: tuple[int, ...] = (2, 4, 6)
    block_probabilities: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.arms, tuple) or len(self.arms) < 2:
            raise AllocationListError(
                f"arms must be a tuple of at least two names, got {self.arms!r}"
            )
        for arm in self.arms:
            _check_name("arm", arm)
        if len(set(self.arms)) != len(self.arms):
            raise AllocationListError(f"arms {self.arms!r} name an arm more than once")
        if not isinstance(self.ratio, tuple) or len(self.ratio) != len(self.arms):
            raise AllocationListError(
                f"ratio must have one whole number per arm ({len(self.arms)}), got {self.ratio!r}"
            )
        for part in self.ratio:
            _whole("each ratio entry", part, 1)
        unit = sum(self.ratio)
        if not isinstance(self.block_sizes, tuple) or not self.block_sizes:
            raise AllocationListError(
                f"block_sizes must be a non-empty tuple, got {self.block_sizes!r}"
            )
        for size in self.block_sizes:
            _whole("each block size", size, 1)
            if size % unit:
                raise AllocationListError(
                    f"block_sizes: {size} is not a multiple of sum(ratio) = {unit} "
                    f"(ratio {self.ratio_text})"
                )
        if any(b <= a for a, b in itertools.pairwise(self.block_sizes)):
            raise AllocationListError(
                f"block_sizes must be strictly ascending, got {self.block_sizes!r}"
            )
        if self.block_probabilities is None:
            equal = 1.0 / len(self.block_sizes)
            object.__setattr__(self, "block_probabilities", (equal,) * len(self.block_sizes))
            return
        probabilities = self.block_probabilities
        if not isinstance(probabilities, tuple) or len(probabilities) != len(self.block_sizes):
            raise AllocationListError(
                f"block_probabilities must have one proportion per block size "
                f"({len(self.block_sizes)}), got {probabilities!r}"
            )
        for p in probabilities:
            if isinstance(p, bool) or not isinstance(p, int | float) or not 0 < p <= 1:
                raise AllocationListError(
                    f"each block probability must be a proportion in (0, 1], got {p!r}"
                )
        if abs(sum(probabilities) - 1.0) > 1e-9:
            raise AllocationListError(
                f"block_probabilities must sum to 1, got {probabilities!r} "
                f"(sum {sum(probabilities)!r})"
            )
        object.__setattr__(self, "block_probabilities", tuple(float(p) for p in probabilities))

    @property
    def ratio_text(self) -> str:
        """``"1:1"``."""
        return ":".join(str(part) for part in self.ratio)

    def block_contents(self, size: int) -> list[str]:
        """Arms of one block of ``size`` before shuffling, in design order."""
        per_unit = size // sum(self.ratio)
        pairs = zip(self.arms, self.ratio, strict=True)
        return [arm for arm, part in pairs for _ in range(part * per_unit)]


DEFAULT_DESIGN = BlockDesign()
"""1:1 standard / risk-based, block sizes 2, 4, 6 with equal probabilities."""


@dataclass(frozen=True)
class Slot:
    """One allocation of a stratum's list (positions and block numbers count from 1)."""

    position: int
    arm: str
    block_number: int
    block_size: int


@dataclass(frozen=True)
class StratumList:
    """The list of one stratum, in allocation order."""

    stratum: str
    slots: tuple[Slot, ...]

    @property
    def arms(self) -> tuple[str, ...]:
        """Arm of each slot, in order."""
        return tuple(slot.arm for slot in self.slots)


@dataclass(frozen=True)
class AllocationList:
    """Lists of all strata with the inputs that regenerate them.

    ``strata`` is sorted by label (Unicode code point order), so the serialisation and its
    SHA-256 do not depend on the order the strata were given in.
    """

    seed: int
    design: BlockDesign
    strata: tuple[StratumList, ...]
    algorithm: str = ALGORITHM
    algorithm_version: str = ALGORITHM_VERSION
    _index: dict[str, StratumList] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        labels = [s.stratum for s in self.strata]
        if any(b <= a for a, b in itertools.pairwise(labels)):
            raise AllocationListError(
                "strata must be unique and in label order (canonical form), got "
                + ", ".join(labels)
            )
        object.__setattr__(self, "_index", dict(zip(labels, self.strata, strict=True)))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(s.stratum for s in self.strata)

    def stratum(self, label: str) -> StratumList:
        """The list of one stratum; :class:`AllocationListError` names the known strata."""
        try:
            return self._index[label]
        except KeyError:
            raise AllocationListError(
                f"stratum {label!r} is not in this list; strata: {', '.join(self.labels)}"
            ) from None

    def serialise(self) -> str:
        """The canonical text of the list (UTF-8, ``\\n`` line ends, final newline).

        Header lines start with ``#`` and give ``key: value`` for the algorithm, its version, the
        seed, arms, ratio, block sizes and probabilities (``repr`` of the floats); then a CSV
        header :data:`COLUMNS` and one row per slot, strata in label order, slots in position
        order. The SHA-256 of these bytes is :attr:`sha256`.
        """
        design = self.design
        lines = [
            FORMAT_HEADER,
            f"# algorithm: {self.algorithm}",
            f"# algorithm_version: {self.algorithm_version}",
            f"# seed: {self.seed}",
            f"# arms: {','.join(design.arms)}",
            f"# ratio: {design.ratio_text}",
            f"# block_sizes: {','.join(str(s) for s in design.block_sizes)}",
            f"# block_probabilities: {','.join(repr(p) for p in design.block_probabilities)}",
            ",".join(COLUMNS),
        ]
        for stratum in self.strata:
            lines.extend(
                f"{stratum.stratum},{s.position},{s.arm},{s.block_number},{s.block_size}"
                for s in stratum.slots
            )
        return "\n".join(lines) + "\n"

    @functools.cached_property
    def sha256(self) -> str:
        """Hex SHA-256 of :meth:`serialise` encoded as UTF-8; store it when the list is created."""
        return hashlib.sha256(self.serialise().encode("utf-8")).hexdigest()


def fresh_seed() -> int:
    """A new 128-bit seed from the operating system's secure source (:mod:`secrets`)."""
    return secrets.randbits(128)


def _stream(seed: int, stratum: str):
    """The raw 64-bit word source of one stratum (see the module docstring, step 1)."""
    digest = hashlib.sha256(stratum.encode("utf-8")).digest()
    spawn_key = tuple(int.from_bytes(digest[i : i + 4], "big") for i in range(0, 32, 4))
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn_key)))
    raw = rng.bit_generator.random_raw
    return lambda: int(raw())


def _below(next_word, bound: int) -> int:
    """Uniform integer in ``0..bound - 1`` by rejection (no modulo bias)."""
    limit = _TWO_64 - _TWO_64 % bound
    while True:
        word = next_word()
        if word < limit:
            return word % bound


def generate_stratum(
    stratum: str, length: int, seed: int, design: BlockDesign = DEFAULT_DESIGN
) -> StratumList:
    """The list of one stratum: whole blocks until at least ``length`` slots.

    Parameters
    ----------
    stratum
        Stratum label (see :func:`pebs.trial.strata.stratum_label`).
    length
        Minimum number of slots; the list ends at the first block end at or after it.
    seed
        Non-negative whole number; use :func:`fresh_seed` for a real trial.
    design
        Arms, ratio and block-size distribution.

    Examples
    --------
    >>> slots = generate_stratum("FR-PA:50-59", 10, seed=2024).slots
    >>> len(slots) >= 10 and sum(s.arm == "standard" for s in slots) * 2 == len(slots)
    True
    """
    _check_name("stratum", stratum)
    length = _whole("length", length, 1)
    seed = _whole("seed", seed, 0)
    next_word = _stream(seed, stratum)
    cumulative = list(itertools.accumulate(design.block_probabilities))
    slots: list[Slot] = []
    for block_number in itertools.count(1):
        if len(slots) >= length:
            break
        u = (next_word() >> 11) * 2.0**-53
        index = next((i for i, c in enumerate(cumulative) if u < c), len(cumulative) - 1)
        size = design.block_sizes[index]
        block = design.block_contents(size)
        for i in range(size - 1, 0, -1):
            j = _below(next_word, i + 1)
            block[i], block[j] = block[j], block[i]
        start = len(slots)
        slots.extend(Slot(start + k + 1, arm, block_number, size) for k, arm in enumerate(block))
    return StratumList(stratum, tuple(slots))


def generate_list(
    lengths: Mapping[str, int], seed: int, design: BlockDesign = DEFAULT_DESIGN
) -> AllocationList:
    """Allocation lists for several strata from one seed.

    Parameters
    ----------
    lengths
        Stratum label -> minimum number of slots (``dict.fromkeys(labels, 600)``).
    seed, design
        As for :func:`generate_stratum`.

    Examples
    --------
    >>> one = generate_list({"IT-TO:40-49": 20, "IT-TO:50-59": 20}, seed=7)
    >>> two = generate_list({"IT-TO:50-59": 20, "IT-TO:40-49": 20}, seed=7)
    >>> one.sha256 == two.sha256, len(one.sha256)
    (True, 64)
    """
    if not isinstance(lengths, Mapping) or not lengths:
        raise AllocationListError("lengths must map at least one stratum label to a length")
    strata = [generate_stratum(label, lengths[label], seed, design) for label in sorted(lengths)]
    return AllocationList(seed=_whole("seed", seed, 0), design=design, strata=tuple(strata))


def _header_value(lines: list[str], number: int, key: str) -> str:
    prefix = f"# {key}: "
    if number >= len(lines) or not lines[number].startswith(prefix):
        raise AllocationListError(f"line {number + 1}: expected '{prefix}...'")
    return lines[number][len(prefix) :]


def parse_list(text: str) -> AllocationList:
    """Read a list back from its canonical text (:meth:`AllocationList.serialise`).

    Raises :class:`AllocationListError` naming the line of the first problem. Parsing does not
    prove the list is genuine: :func:`verify_list` regenerates it from the seed.
    """
    lines = text.split("\n")
    if not text.endswith("\n") or lines[0] != FORMAT_HEADER:
        raise AllocationListError(
            f"not a pebs allocation list: it must start with {FORMAT_HEADER!r} and end with a "
            "newline"
        )
    lines = lines[:-1]
    keys = _HEADER_KEYS
    values = {key: _header_value(lines, i + 1, key) for i, key in enumerate(keys)}
    try:
        design = BlockDesign(
            arms=tuple(values["arms"].split(",")),
            ratio=tuple(int(v) for v in values["ratio"].split(":")),
            block_sizes=tuple(int(v) for v in values["block_sizes"].split(",")),
            block_probabilities=tuple(float(v) for v in values["block_probabilities"].split(",")),
        )
        seed = int(values["seed"])
    except ValueError as exc:
        raise AllocationListError(f"list header: {exc}") from exc
    if lines[len(keys) + 1] != ",".join(COLUMNS):
        raise AllocationListError(f"line {len(keys) + 2}: expected the columns {','.join(COLUMNS)}")
    rows: dict[str, list[Slot]] = {}
    for number, line in enumerate(lines[len(keys) + 2 :], start=len(keys) + 3):
        cells = line.split(",")
        try:
            label, position, arm, block_number, block_size = cells
            slot = Slot(int(position), arm, int(block_number), int(block_size))
        except ValueError:
            raise AllocationListError(
                f"line {number}: expected {len(COLUMNS)} values ({','.join(COLUMNS)}), got {line!r}"
            ) from None
        rows.setdefault(label, []).append(slot)
    strata = tuple(StratumList(label, tuple(slots)) for label, slots in rows.items())
    return AllocationList(
        seed=seed,
        design=design,
        strata=strata,
        algorithm=values["algorithm"],
        algorithm_version=values["algorithm_version"],
    )


@dataclass(frozen=True)
class ListVerification:
    """Outcome of :func:`verify_list`; ``matches`` is True only when ``problems`` is empty."""

    matches: bool
    sha256_of_list: str
    sha256_regenerated: str
    problems: tuple[str, ...]


def _first_difference(given: AllocationList, regenerated: AllocationList) -> str | None:
    for mine, theirs in zip(given.strata, regenerated.strata, strict=True):
        for a, b in zip(mine.slots, theirs.slots, strict=False):
            if a != b:
                return f"stratum {mine.stratum!r}: the list has {a}, the seed gives {b}"
        if len(mine.slots) != len(theirs.slots):
            return (
                f"stratum {mine.stratum!r}: the list has {len(mine.slots)} slots, the seed gives "
                f"{len(theirs.slots)} (a list ends at a block end)"
            )
    return None


def verify_list(
    allocation_list: AllocationList, seed: int, expected_sha256: str | None = None
) -> ListVerification:
    """Regenerate a list from ``seed`` and compare it byte for byte.

    The list's own design, strata and stratum lengths are the inputs to regenerate (a list always
    ends at a block end, so its length reproduces it exactly). ``seed`` comes from the
    statistician's sealed record, not from the list. ``expected_sha256`` is the hash stored when
    the list was created; give it to detect a list altered after storage.

    Examples
    --------
    >>> stored = generate_list({"UK-MA:60-70": 30}, seed=99)
    >>> verify_list(stored, 99, stored.sha256).matches, verify_list(stored, 98).matches
    (True, False)
    """
    problems: list[str] = []
    if allocation_list.algorithm != ALGORITHM or allocation_list.algorithm_version != (
        ALGORITHM_VERSION
    ):
        raise AllocationListError(
            f"the list was made by {allocation_list.algorithm} version "
            f"{allocation_list.algorithm_version}; this is {ALGORITHM} version {ALGORITHM_VERSION}"
            " (verify it with the pebs release that made it)"
        )
    if allocation_list.seed != seed:
        problems.append(f"the list header names seed {allocation_list.seed}, not {seed}")
    lengths = {s.stratum: len(s.slots) for s in allocation_list.strata}
    regenerated = generate_list(lengths, seed, allocation_list.design)
    if regenerated.serialise() != allocation_list.serialise():
        difference = _first_difference(allocation_list, regenerated)
        problems.append(
            "the list differs from the one the seed generates"
            + (f" (first difference: {difference})" if difference else "")
        )
    if expected_sha256 is not None and expected_sha256.lower() != allocation_list.sha256:
        problems.append(
            f"the list's SHA-256 {allocation_list.sha256} differs from the stored {expected_sha256}"
        )
    return ListVerification(
        matches=not problems,
        sha256_of_list=allocation_list.sha256,
        sha256_regenerated=regenerated.sha256,
        problems=tuple(problems),
    )
