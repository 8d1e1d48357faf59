"""Output files appear whole or not at all, and a device or pipe given as the output is written
to, never replaced."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from pebs.cli import main
from pebs.io.atomic import atomic_output, is_stream_destination, write_bytes_atomically
from pebs.io.errors import FileAccessError

GAIL_HEADER = "T1,T2,N_Biop,HypPlas,AgeMen,Age1st,N_Rels,Race"


def read_fifo_in_background(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader, received


def test_a_complete_block_replaces_the_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with atomic_output(target) as stream:
        stream.write("new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_failed_block_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def interrupted() -> None:
        with atomic_output(target) as stream:
            stream.write("half")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        interrupted()
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_the_written_file_is_private_to_its_owner(tmp_path):
    target = write_bytes_atomically(tmp_path / "letter.pdf", [b"%PDF", b"-1.7"])
    assert target.read_bytes() == b"%PDF-1.7"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_an_unwritable_folder_names_the_file(tmp_path):
    with pytest.raises(FileAccessError, match=r"missing/out\.csv"):
        write_bytes_atomically(tmp_path / "missing" / "out.csv", [b"x"])


def test_devices_and_pipes_are_stream_destinations(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert is_stream_destination(Path(os.devnull))
    assert is_stream_destination(fifo)
    assert not is_stream_destination(tmp_path)
    assert not is_stream_destination(tmp_path / "absent.csv")
    (tmp_path / "plain.csv").write_text("")
    assert not is_stream_destination(tmp_path / "plain.csv")


def test_a_pipe_is_written_through_and_stays_a_pipe(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader, received = read_fifo_in_background(fifo)
    write_bytes_atomically(fifo, [b"a,b\n", b"1,2\n"])
    reader.join(timeout=10)
    assert received == [b"a,b\n1,2\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_the_command_line_writes_to_a_pipe_without_replacing_it(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(f"{GAIL_HEADER}\n43.7,48.7,1,0,12,27,1,1\n", encoding="utf-8")
    fifo = tmp_path / "scored"
    os.mkfifo(fifo)
    reader, received = read_fifo_in_background(fifo)
    assert main(["risk", "gail", str(source), "-o", str(fifo)]) == 0
    reader.join(timeout=10)
    lines = received[0].decode("utf-8").splitlines()
    assert lines[0].startswith(GAIL_HEADER)
    assert len(lines) == 2
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
