"""Data files shipped with pebs and chosen by name, or given by path (policies, studies)."""

from __future__ import annotations

from importlib.abc import Traversable
from pathlib import Path


def shipped_names(folder: Traversable, suffix: str = ".toml") -> tuple[str, ...]:
    """Names (without ``suffix``) of the files shipped in ``folder``, sorted."""
    return tuple(
        sorted(p.name.removesuffix(suffix) for p in folder.iterdir() if p.name.endswith(suffix))
    )


def read_named(
    name_or_path: str | Path, folder: Traversable, *, what: str, error: type[Exception],
    suffix: str = ".toml",
) -> tuple[str, str]:  # fmt: skip
    """(text, source label) of a shipped file by name, or of a file by path.

    A ``Path``, or text ending in ``suffix`` or containing ``/``, is a path. Raises ``error``
    for an unreadable file or an unknown name (listing the shipped ones).
    """
    text_path = str(name_or_path)
    if isinstance(name_or_path, Path) or text_path.endswith(suffix) or "/" in text_path:
        path = Path(name_or_path)
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise error(f"{path}: cannot be read ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise error(
                f"{path}: not a UTF-8 text file (byte {exc.start} is "
                f"0x{exc.object[exc.start]:02x}); give a {suffix} text file"
            ) from exc
    shipped = shipped_names(folder, suffix)
    if text_path not in shipped:
        raise error(
            f"unknown {what} {text_path!r}; shipped: {', '.join(shipped)} "
            f"(or give the path of a {suffix} file)"
        )
    return folder.joinpath(text_path + suffix).read_text(encoding="utf-8"), text_path + suffix
