"""What a report was made from, as a fingerprint stored beside it (``fingerprint.json``).

A report folder depends on more than its client file: the defaults and the price book it was
merged over (and any other input file of ``params/``, such as a rates overlay or a catalogue),
the package that computed it — every file of ``ftcost_helpers/``, so a change to any imported
module counts, not only to the notebooks — the notebooks that were executed, the versions of
the libraries that rendered it, and the date of the run (the report is dated, and the price
book's age is judged against it). ``report`` skips a client whose stored fingerprint equals
the one it would write now; a change to any part redoes exactly the clients it touches: the
client file only its own report, anything shared every report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import ftcost_helpers
from ftcost_helpers import __version__
from ftcost_helpers.engine.loading import params_dir, project_root
from ftcost_helpers.engine.summary import package_versions

FINGERPRINT_JSON = "fingerprint.json"
FORMAT_VERSION = 1
PACKAGE_DIR = Path(ftcost_helpers.__file__).resolve().parent
LIBRARIES = (
    "numpy",
    "pandas",
    "matplotlib",
    "pydantic",
    "PyYAML",
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "ipykernel",
    "XlsxWriter",
    "genai-prices",
    "nh3",
    "bleach",
)
SKIPPED_PARTS = ("__pycache__", ".ipynb_checkpoints")


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(root: Path, files: Iterable[Path]) -> str:
    """SHA-256 over every file's path (relative to ``root``) and bytes, in sorted order, so a
    renamed, added or removed file changes it as surely as an edited one."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def package_digest(package_dir: Path = PACKAGE_DIR) -> str:
    """Every file of the package (source and package data, no byte-code caches)."""
    files = [path for path in package_dir.rglob("*") if path.is_file() and not set(SKIPPED_PARTS) & set(path.parts)]
    return tree_digest(package_dir, files)


def shared_input_files(extra: Sequence[Path | None] = ()) -> list[Path]:
    """The input files every client is merged over: each YAML file of ``params/`` itself
    (defaults, price book, catalogues, overlays kept there; client files are not among them)
    and any further file given (``--price-book``, ``--rates``)."""
    found = {path.resolve() for pattern in ("*.yaml", "*.yml") for path in params_dir().glob(pattern)}
    found |= {Path(path).resolve() for path in extra if path is not None}
    return sorted(found)


def library_versions(names: Sequence[str] = LIBRARIES) -> dict[str, str]:
    """Python's and the installed libraries' versions (:func:`~ftcost_helpers.engine.summary.package_versions`)."""
    return {"python": platform.python_version(), **package_versions(names)}


def _input_key(path: Path) -> str:
    """An input file's name in a fingerprint: relative to the project when inside it, else its
    bare name (no folder of the analyst's in a report folder; the digest tells files apart)."""
    try:
        return path.relative_to(project_root().resolve()).as_posix()
    except ValueError:
        return f"outside the project/{path.name}"


@dataclass(frozen=True)
class SharedInputs:
    """The parts of every client's fingerprint that one batch shares, worked out once."""

    parts: Mapping[str, object]

    @classmethod
    def gather(cls, notebooks: Sequence[Path], extra_files: Sequence[Path | None], today: dt.date) -> SharedInputs:
        files = shared_input_files(extra_files)
        return cls(
            {
                "package_version": __version__,
                "package_source": package_digest(),
                "input_files": {_input_key(path): file_digest(path) for path in files},
                "notebooks": {path.name: file_digest(path) for path in notebooks},
                "libraries": library_versions(),
                "report_date": today.isoformat(),
            }
        )


def client_fingerprint(source: Path, shared: SharedInputs) -> dict[str, object]:
    """The fingerprint of one client's report: its own file and the shared parts, with one
    digest over all of it (what is compared)."""
    record = {"format": FORMAT_VERSION, "client_file": file_digest(source), **shared.parts}
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    return {"digest": digest, **record}


def stored_fingerprint(report_dir: Path) -> dict[str, object] | None:
    """The fingerprint a report folder was written with; None if it has none or it is unreadable."""
    try:
        stored = json.loads((report_dir / FINGERPRINT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stored if isinstance(stored, dict) else None


def is_unchanged(report_dir: Path, fingerprint: Mapping[str, object], outputs: Sequence[str] = ()) -> bool:
    """Whether ``report_dir`` is a report made from exactly these inputs whose ``outputs``
    (file names) are all still there."""
    stored = stored_fingerprint(report_dir)
    if stored is None or stored.get("digest") != fingerprint["digest"]:
        return False
    return all((report_dir / name).is_file() for name in outputs)


def write_fingerprint(report_dir: Path, fingerprint: Mapping[str, object]) -> None:
    (report_dir / FINGERPRINT_JSON).write_text(json.dumps(fingerprint, indent=2, sort_keys=True) + "\n", "utf-8")
