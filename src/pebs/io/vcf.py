"""VCF genotypes (plain, gzip or bgzip): ALT-allele dosages at chosen positions, many samples.

Only the records at the positions asked for are parsed beyond CHROM and POS; the sample columns
of a record are parsed when :meth:`VcfRecord.dosages` is called, with numpy over the bytes of the
whole line (no Python loop over samples in the common cases), so memory per record is a few times
the line length.

Per sample, the dosage of each ALT allele comes from ``GT`` (the number of copies of that allele;
phased ``|`` or unphased ``/``; any ploidy, e.g. haploid ``1``), or from ``DS`` (``Number=A``) when
the GT is missing or absent. A genotype with any missing allele (``./.``, ``0/.``) and no DS is
missing (NaN). bgzip files are gzip files made of many members, which :mod:`gzip` reads.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from pebs.io._files import open_binary
from pebs.io.errors import FileAccessError, InputFormatError
from pebs.risk.prs import normalise_chromosome

FIXED_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT")
DEFAULT_PLOIDY = 2
"""Ploidy of a sample whose record has DS but no GT field."""

_TAB, _COLON, _DOT, _ZERO = 9, 58, 46, 48
_SLASH, _PIPE = 47, 124
_FAST_WIDTH = 24
"""Sample subfields longer than this are parsed one by one (keeps the byte matrices small)."""
_MAX_FAST_DIGITS = 15
"""Decimal digits that fit exactly in a float64 mantissa (< 2**53)."""
_GZIP_MAGIC = b"\x1f\x8b"
_ALLELES_SPLIT = re.compile(r"[/|]")


@dataclass(frozen=True)
class AlleleDosages:
    """Dosages of the ALT alleles of one record, per sample."""

    alt_dosages: np.ndarray
    """Copies of each ALT allele, shape (n_samples, n_alts); NaN where the genotype is missing."""
    ploidy: np.ndarray
    """Allele copies per sample (float), NaN where the genotype is missing, shape (n_samples,)."""


@dataclass(frozen=True)
class VcfRecord:
    """One data line of a VCF file; the sample columns are parsed on demand."""

    chromosome: str
    """As written in the file (compare with :func:`pebs.risk.prs.normalise_chromosome`)."""
    position: int
    ref: str
    alts: tuple[str, ...]
    """ALT alleles in file order (empty for ALT ``.``)."""
    line_number: int
    path: Path
    samples: tuple[str, ...]
    format_keys: tuple[str, ...]
    sample_columns: bytes
    """The sample columns as in the file, tab-separated, without the line end."""

    def dosages(self) -> AlleleDosages:
        """Parse GT (and DS where GT is missing) for every sample.

        Raises
        ------
        InputFormatError
            A malformed GT or DS value, an allele index above the number of ALT alleles, or a
            DS outside [0, ploidy]; the message names the file, line and sample.
        """
        columns = _SampleColumns(self)
        n_samples, n_alts = len(self.samples), len(self.alts)
        alt = np.full((n_samples, n_alts), np.nan)  # (n_samples, n_alts)
        ploidy = np.full(n_samples, float(DEFAULT_PLOIDY))
        is_called = np.zeros(n_samples, dtype=bool)
        if "GT" in self.format_keys:
            ploidy, counts, is_called = columns.genotypes(self.format_keys.index("GT"), n_alts)
            alt = np.where(is_called[:, None], counts, np.nan)
        if "DS" in self.format_keys and not is_called.all():
            ds = columns.dosages(self.format_keys.index("DS"), n_alts, ploidy)
            use_ds = ~is_called & ~np.isnan(ds).any(axis=1)
            alt = np.where(use_ds[:, None], ds, alt)
            is_called |= use_ds
        ploidy = np.where(is_called, ploidy, np.nan)
        return AlleleDosages(alt_dosages=alt, ploidy=ploidy)


@dataclass(frozen=True)
class _Subfield:
    """Where one FORMAT subfield lies in every sample column."""

    begin: np.ndarray
    """Offset of its first byte in the line's sample columns, shape (n_samples,)."""
    end: np.ndarray
    """Offset just past it (= ``begin`` when the sample drops it), shape (n_samples,)."""
    columns: np.ndarray | None
    """Its bytes as a (length, n_samples) view when every sample has it at the same offset with
    the same length (the common case: fixed-width values such as ``0|1:0.123``), else None."""

    @property
    def length(self) -> np.ndarray:
        return self.end - self.begin


class _SampleColumns:
    """Byte-level views of one record's sample columns.

    Byte matrices are laid out (offset, sample) so that reductions over the few offsets of a
    value run along whole rows of samples.
    """

    def __init__(self, record: VcfRecord) -> None:
        self.record = record
        self.buf = np.frombuffer(record.sample_columns + b"\t", dtype=np.uint8)
        tabs = np.flatnonzero(self.buf == _TAB)  # one per sample, the last one added above
        self.starts = np.concatenate(([0], tabs[:-1] + 1))
        self.ends = tabs
        self.colons = np.flatnonzero(self.buf == _COLON)
        n, stride = tabs.size, self.buf.size // tabs.size
        self.table: np.ndarray | None = None  # (n_samples, stride) when every column is as long
        if self.buf.size == n * stride and np.all(self.buf[stride - 1 :: stride] == _TAB):
            table = self.buf.reshape(n, stride)
            is_colon = table == _COLON
            if np.all(is_colon == is_colon[0]):  # colons at the same offsets too
                self.table = table
        self._colon_spans: tuple[np.ndarray, np.ndarray] | None = None

    def fail(self, sample: int, what: str) -> InputFormatError:
        r = self.record
        return InputFormatError(
            f"{r.path}: line {r.line_number}: sample {r.samples[sample]}: {what}"
        )

    def subfield(self, key_index: int) -> _Subfield:
        """Subfield ``key_index`` of every sample; empty where a sample drops it."""
        if self.table is not None:
            bounds = [-1, *np.flatnonzero(self.table[0] == _COLON), self.table.shape[1] - 1]
            if key_index + 1 >= len(bounds):
                return _Subfield(self.ends, self.ends, None)
            first, last = bounds[key_index] + 1, bounds[key_index + 1]
            columns = self.table[:, first:last].T
            return _Subfield(self.starts + first, self.starts + last, columns)
        starts, ends, colons = self.starts, self.ends, self.colons
        if colons.size == 0:
            return _Subfield(starts, ends, None) if key_index == 0 else _Subfield(ends, ends, None)
        if self._colon_spans is None:
            first = np.searchsorted(colons, starts)  # index of each sample's first colon
            self._colon_spans = first, np.searchsorted(colons, ends) - first
        first, n_colons = self._colon_spans
        last = colons.size - 1
        if key_index == 0:
            begin = starts
        else:
            after = colons[np.minimum(first + key_index - 1, last)] + 1
            begin = np.where(n_colons >= key_index, after, ends)
        end = np.where(n_colons > key_index, colons[np.minimum(first + key_index, last)], ends)
        return _Subfield(begin, end, None)

    def matrix(self, field: _Subfield, width: int) -> np.ndarray:
        """The subfield's bytes, zero-padded to ``width``, shape (width, n_samples)."""
        if field.columns is not None and field.columns.shape[0] == width:
            return np.ascontiguousarray(field.columns)  # strided reductions are slow
        offsets = np.arange(width)[:, None]
        index = np.minimum(field.begin + offsets, self.buf.size - 1)  # (width, n_samples)
        return np.where(offsets < field.length, self.buf[index], 0).astype(np.uint8)

    def text(self, field: _Subfield, sample: int) -> str:
        return bytes(self.buf[field.begin[sample] : field.end[sample]]).decode("utf-8", "replace")

    def genotypes(self, key_index: int, n_alts: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ploidy (float), ALT-allele counts (n_samples, n_alts) and is-called mask from GT."""
        field = self.subfield(key_index)
        length = field.length
        width = int(min(length.max(initial=0), _FAST_WIDTH))
        width += 1 - width % 2  # odd: alleles at even offsets, separators at odd ones
        m = self.matrix(field, width)  # (width, n_samples)
        used = np.arange(width)[:, None] < length
        alleles, has_allele = m[0::2], used[0::2]  # (ploidy slots, n_samples)
        separators, has_separator = m[1::2], used[1::2]
        digits = alleles - np.uint8(_ZERO)  # wraps below '0', so < 10 only for '0'..'9'
        is_digit = (digits < 10) & has_allele
        is_dot = (alleles == _DOT) & has_allele
        is_separator = (separators == _SLASH) | (separators == _PIPE)
        fast = (
            (length % 2 == 1)
            & (length <= _FAST_WIDTH)
            & np.all(is_digit | is_dot | ~has_allele, axis=0)
            & np.all(is_separator | ~has_separator, axis=0)
        )
        ploidy = ((length + 1) // 2).astype(np.float64)
        is_called = fast & ~is_dot.any(axis=0)
        too_high = np.flatnonzero(fast & (is_digit & (digits > n_alts)).any(axis=0))
        if too_high.size:
            i = int(too_high[0])
            raise self.fail(i, self._allele_error(field, i, n_alts))
        counts = np.zeros((length.size, n_alts))  # (n_samples, n_alts)
        for k in range(1, n_alts + 1):
            counts[:, k - 1] = (is_digit & (digits == k)).sum(axis=0)
        for i in np.flatnonzero(~fast):  # multi-digit allele indices, malformed values
            ploidy[i], counts[i], is_called[i] = self._genotype(field, int(i), n_alts)
        return ploidy, counts, is_called

    def _allele_error(self, field: _Subfield, sample: int, n_alts: int) -> str:
        return (
            f"genotype {self.text(field, sample)!r} refers to an allele beyond the "
            f"{n_alts} ALT allele(s) {','.join(self.record.alts) or '.'}"
        )

    def _genotype(
        self, field: _Subfield, sample: int, n_alts: int
    ) -> tuple[float, np.ndarray, bool]:
        text = self.text(field, sample)
        alleles = _ALLELES_SPLIT.split(text)
        if not text or not all(a == "." or a.isdigit() for a in alleles):
            raise self.fail(
                sample, f"genotype {text!r} is not a GT value such as 0/1, 1|0, 1 or ./."
            )
        counts = np.zeros(n_alts)
        if "." in alleles:
            return float(len(alleles)), counts, False
        for allele in map(int, alleles):
            if allele > n_alts:
                raise self.fail(sample, self._allele_error(field, sample, n_alts))
            if allele:
                counts[allele - 1] += 1
        return float(len(alleles)), counts, True

    def dosages(self, key_index: int, n_alts: int, ploidy: np.ndarray) -> np.ndarray:
        """DS values, shape (n_samples, n_alts); NaN where missing (``.`` or dropped)."""
        field = self.subfield(key_index)
        n = field.begin.size
        values = np.full((n, n_alts), np.nan)
        if n_alts == 0:
            return values
        slow = np.ones(n, dtype=bool)
        if n_alts == 1:
            values[:, 0], slow = self._decimals(field)
        for i in np.flatnonzero(slow):
            values[i] = self._dosage(field, int(i), n_alts)
        bad = np.flatnonzero((values < 0).any(axis=1) | (values > ploidy[:, None]).any(axis=1))
        if bad.size:
            i = int(bad[0])
            raise self.fail(
                i, f"DS {self.text(field, i)!r} is outside 0..{ploidy[i]:g} (the ploidy)"
            )
        return values

    def _decimals(self, field: _Subfield) -> tuple[np.ndarray, np.ndarray]:
        """Plain decimals (``1``, ``0.25``, ``.5``) parsed exactly; other values flagged as slow.

        The digits form an integer mantissa below 2**53, so ``mantissa / 10**n_fraction`` is one
        correctly rounded division: the same float64 as Python's ``float(text)``.
        """
        length = field.length
        width = int(min(length.max(initial=0), _FAST_WIDTH))
        m = self.matrix(field, width)  # (width, n_samples)
        offsets = np.arange(width)[:, None]
        digits = m - np.uint8(_ZERO)  # wraps below '0', so < 10 only for '0'..'9'
        is_digit = digits < 10
        is_dot = m == _DOT
        n_digits = is_digit.sum(axis=0)
        is_missing = length == 0
        if width:
            is_missing |= (length == 1) & is_dot[0]
        fast = (
            (length <= width)
            & np.all(is_digit | is_dot | (offsets >= length), axis=0)
            & (is_dot.sum(axis=0) <= 1)
            & (n_digits >= 1)
            & (n_digits <= _MAX_FAST_DIGITS)
        )
        mantissa = np.zeros(length.size, dtype=np.int64)
        dot_at = length.copy()  # offset of the decimal point; the length if there is none
        for row in range(width):  # the digits, most significant first
            mantissa = np.where(is_digit[row], mantissa * 10 + digits[row], mantissa)
            dot_at = np.where(is_dot[row], row, dot_at)  # one dot at most in fast rows
        n_fraction = (is_digit & (offsets > dot_at)).sum(axis=0)
        values = mantissa / 10.0 ** np.where(fast, n_fraction, 0)
        values[~fast | is_missing] = np.nan
        return values, ~fast & ~is_missing

    def _dosage(self, field: _Subfield, sample: int, n_alts: int) -> np.ndarray:
        text = self.text(field, sample)
        if text in ("", "."):
            return np.full(n_alts, np.nan)
        parts = text.split(",")
        try:
            values = np.array([np.nan if p == "." else float(p) for p in parts])
        except ValueError:
            values = np.array([])
        if values.size != n_alts or np.isinf(values).any():
            raise self.fail(sample, f"DS {text!r} is not {n_alts} number(s) (one per ALT allele)")
        return np.full(n_alts, np.nan) if np.isnan(values).any() else values


class VcfReader:
    """Read a VCF file's samples and the records at chosen positions.

    Use as a context manager::

        with VcfReader(path, positions={("1", 100880328)}) as vcf:
            for record in vcf:
                dosages = record.dosages()

    Parameters
    ----------
    path : Path
        Plain text, gzip or bgzip (detected from the first bytes, not the name).
    positions : collection of (chromosome, position), optional
        Only records at these positions are returned; chromosomes compared after
        :func:`~pebs.risk.prs.normalise_chromosome`. Default: every record.
    repeated_samples : bool
        Accept a sample name given more than once (the caller decides what a repeat means,
        e.g. a laboratory batch refuses every copy); default: refused.

    Raises
    ------
    FileAccessError
        The file cannot be opened or read.
    InputFormatError
        Not a usable VCF: no ``#CHROM`` header line, no samples, repeated sample names, a line with
        too few columns, a POS that is not a number... The message names the file and line.
    """

    def __init__(
        self,
        path: Path | str,
        positions: Collection[tuple[str, int]] | None = None,
        *,
        repeated_samples: bool = False,
    ):
        self.path = Path(path)
        self._positions = None if positions is None else set(positions)
        self._repeated_samples = repeated_samples
        self._raw: IO[bytes] | None = None
        self._stream: IO[bytes] | None = None
        self._line_number = 0
        self.samples: tuple[str, ...] = ()

    def __enter__(self) -> VcfReader:
        self._raw = open_binary(self.path, "a VCF file")
        try:
            is_gzip = self._raw.peek(2)[:2] == _GZIP_MAGIC  # type: ignore[attr-defined]
            self._stream = gzip.GzipFile(fileobj=self._raw) if is_gzip else self._raw
            self.samples = self._read_header()
        except BaseException:
            self._raw.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._raw is not None:
            self._raw.close()

    @property
    def bytes_read(self) -> int:
        """Bytes of the file (compressed, for gzip) read so far, for progress reports."""
        return self._raw.tell() if self._raw is not None and not self._raw.closed else 0

    def _lines(self) -> Iterator[bytes]:
        assert self._stream is not None, "use VcfReader as a context manager"
        try:
            for line in self._stream:
                self._line_number += 1
                yield line.rstrip(b"\r\n")
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise InputFormatError(
                f"{self.path}: damaged or truncated gzip data after line {self._line_number} "
                f"({exc})"
            ) from exc
        except OSError as exc:
            raise FileAccessError(f"{self.path}: cannot be read ({exc.strerror})") from exc

    def _fail(self, what: str) -> InputFormatError:
        return InputFormatError(f"{self.path}: line {self._line_number}: {what}")

    def _read_header(self) -> tuple[str, ...]:
        for line in self._lines():
            if line.startswith(b"##"):
                continue
            if line.startswith(b"BCF"):
                raise self._fail("this is BCF; convert it first (bcftools view -Ov or -Oz)")
            if not line.startswith(b"#CHROM"):
                raise self._fail(
                    "expected the '#CHROM POS ID REF ALT QUAL FILTER INFO FORMAT sample...' "
                    f"header line before the data, found {line[:40]!r}"
                )
            return self._samples(line)
        raise InputFormatError(f"{self.path}: no '#CHROM' header line (empty file or not a VCF)")

    def _samples(self, line: bytes) -> tuple[str, ...]:
        try:
            columns = line.decode("utf-8").split("\t")
        except UnicodeDecodeError as exc:
            raise self._fail(f"header line is not UTF-8 text ({exc.reason})") from exc
        if tuple(columns[:8]) != FIXED_COLUMNS[:8]:
            raise self._fail(f"header columns must start {' '.join(FIXED_COLUMNS[:8])}")
        if len(columns) < 10 or columns[8] != "FORMAT":
            raise self._fail("no samples: the header needs FORMAT and at least one sample column")
        samples = tuple(columns[9:])
        counts = {} if self._repeated_samples else Counter(samples)
        repeated = sorted(name for name, n in counts.items() if n > 1)
        if repeated or "" in samples:
            raise self._fail(f"sample names empty or repeated: {', '.join(repeated) or '(empty)'}")
        return samples

    def __iter__(self) -> Iterator[VcfRecord]:
        chromosome_names: dict[bytes, str] = {}
        wanted = self._positions
        for line in self._lines():
            if not line:
                continue
            if line.startswith(b"#"):
                raise self._fail("header line after the #CHROM line")
            first = line.find(b"\t")
            second = line.find(b"\t", first + 1)
            if first <= 0 or second < 0:
                raise self._fail("not a VCF data line (fewer than 2 tab-separated columns)")
            raw_chromosome = line[:first]
            chromosome = chromosome_names.get(raw_chromosome)
            if chromosome is None:
                chromosome = normalise_chromosome(raw_chromosome.decode("utf-8", "replace"))
                chromosome_names[raw_chromosome] = chromosome
            try:
                position = int(line[first + 1 : second])
            except ValueError:
                position = 0
            if position < 1:
                text = line[first + 1 : second][:20].decode("utf-8", "replace")
                raise self._fail(f"POS {text!r} is not a position")
            if wanted is not None and (chromosome, position) not in wanted:
                continue
            yield self._record(line, position)

    def _record(self, line: bytes, position: int) -> VcfRecord:
        fields = line.split(b"\t", 9)
        if len(fields) < 10:
            raise self._fail(f"{len(fields)} columns; expected 9 + {len(self.samples)} samples")
        n_samples = fields[9].count(b"\t") + 1
        if n_samples != len(self.samples):
            raise self._fail(
                f"{n_samples} sample columns but the header names {len(self.samples)} samples"
            )
        try:
            chromosome, ref, alt, form = (fields[i].decode("ascii") for i in (0, 3, 4, 8))
        except UnicodeDecodeError as exc:
            raise self._fail("CHROM, REF, ALT and FORMAT must be ASCII text") from exc
        if not ref or ref == ".":
            raise self._fail(f"REF {ref!r} is not an allele")
        alts = () if alt == "." else tuple(a.upper() for a in alt.split(","))
        if "" in alts:
            raise self._fail(f"ALT {alt!r} has an empty allele")
        return VcfRecord(
            chromosome=chromosome,
            position=position,
            ref=ref.upper(),
            alts=alts,
            line_number=self._line_number,
            path=self.path,
            samples=self.samples,
            format_keys=tuple(form.split(":")),
            sample_columns=fields[9],
        )
