"""Shared helpers for the simulation entry points (CLI, service, Dask runner)."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree

import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"


def read_summary(directory: Path) -> tuple[list[dict], dict]:
    """(rows of summary.csv, summary.json) of an output directory."""
    with (directory / "summary.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return rows, json.loads((directory / "summary.json").read_text(encoding="utf-8"))


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk of a PNG file (checks the signature)."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path}: not a PNG"
    assert data[12:16] == b"IHDR", f"{path}: first chunk is not IHDR"
    assert data[-8:-4] == b"IEND", f"{path}: truncated PNG (no IEND chunk)"
    return struct.unpack(">II", data[16:24])


def svg_root(path: Path) -> ElementTree.Element:
    """Parsed SVG root element (checks that it is an SVG document)."""
    root = ElementTree.parse(path).getroot()
    assert root.tag == f"{SVG_NS}svg", f"{path}: root is {root.tag}"
    return root


@pytest.fixture
def quiet_data_dir(tmp_path, monkeypatch):
    """PEBS_DATA_DIR inside the test's temporary directory."""
    monkeypatch.setenv("PEBS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture(scope="session")
def sim_files():
    """Readers of a simulation output directory: ``read_summary``, ``png_size``, ``svg_root``."""
    return SimpleNamespace(read_summary=read_summary, png_size=png_size, svg_root=svg_root)
