"""Files the bot sends with a reply (an export): their names made safe, and the console's copy
written to disk."""

from __future__ import annotations

import re
from pathlib import Path

from community.messages import Document

EXPORTS_FOLDER = Path("data/exports")  # where the console writes the files it is sent
MEDIA_FOLDER = Path("data/media")  # where it writes the photos, videos and files posts show
NAME_LIMIT = 100  # characters of a file name kept
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file name of letters, digits, - _ . only, never hidden nor a path: "export.csv" stays,
    "../x" becomes "x"."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "file"
    return cleaned[-NAME_LIMIT:]


def save_document(document: Document, folder: Path = EXPORTS_FOLDER) -> Path:
    """Write the file into `folder` (made if missing), never over an earlier one: "a.csv",
    then "a-2.csv", "a-3.csv"... Returns where it went."""
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(safe_name(document.name))
    stem, suffix = name.stem, name.suffix
    for number in range(1, 10_000):
        target = folder / (name.name if number == 1 else f"{stem}-{number}{suffix}")
        try:
            # "x": fails when the file exists, so two writers never share one name.
            with target.open("xb") as file:
                file.write(document.content)
        except FileExistsError:
            continue
        return target
    raise FileExistsError(f"{folder}: no free name for {name.name}")
