"""Terminal output shared by the commands: progress bars and row accounting, on stderr."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

T = TypeVar("T")


def stderr_console() -> Console:
    """Messages go to stderr so that stdout can carry a CSV. Plain text: labels such as
    ``1:123:G:A`` must not turn into emoji or markup."""
    return Console(stderr=True, soft_wrap=True, emoji=False, markup=False, highlight=False)


def with_progress(
    console: Console, input_path: Path, label: str, job: Callable[[Callable[[int], None] | None], T]
) -> T:
    """Run ``job(on_progress)``; on a terminal, show a bar of the input bytes read so far."""
    if not console.is_terminal:
        return job(None)
    columns = (TextColumn(label), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        size = input_path.stat().st_size if input_path.is_file() else None
        task = progress.add_task(label, total=size)
        return job(lambda done: progress.update(task, completed=done))


def report_rows(
    console: Console,
    *,
    n_rows: int,
    n_done: int,
    done: str,
    rejected_by_reason: Mapping[str, int],
    note: str = "",
) -> None:
    """Account for every row: done, or rejected with the count per reason."""
    console.print(
        f"pebs: {n_rows:,} rows: {n_done:,} {done}, {n_rows - n_done:,} rejected"
        f"{note if n_rows - n_done else ''}",
        highlight=False,
    )
    for reason, count in sorted(rejected_by_reason.items(), key=lambda kv: -kv[1]):
        console.print(f"  {count:>10,}  {reason}", highlight=False, markup=False)
