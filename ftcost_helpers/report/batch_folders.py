"""The batch's output folder (:mod:`~ftcost_helpers.report.runner`): locked for a run,
refused when it holds files ftcost did not write, cleared of what a killed run left; each
client file's folder name, its staging folder, a finished report moved into place, a failed
one kept under ``_failed/``. Nothing the runner did not write is replaced, renamed or
removed (:mod:`~ftcost_helpers.report.ownership`)."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.report.batch_tasks import ClientJob
from ftcost_helpers.report.index import INDEX_TEMPORARY, SOURCE_FILE, folder_owner
from ftcost_helpers.report.ownership import FAILED_DIR, foreign_folder_problem, is_leftover
from ftcost_helpers.report.slug import client_dir, slugify, source_id

STAGING, OLD = ".staging-", ".old-"


class ReportError(Exception):
    """The batch cannot start (no notebooks, no client files, an unusable or busy ``--out``)."""


@contextmanager
def locked_out_dir(out_dir: Path) -> Iterator[Path]:
    """``out_dir`` made if missing, checked writable, and locked (flock on the folder itself,
    so no file is added) for the length of the run. Raises ReportError, one line, when it
    cannot be a folder, cannot be written, or another run holds it."""
    import fcntl

    where = f"--out {out_dir}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ReportError(f"{where}: is a file, not a folder") from None
    except OSError as error:
        raise ReportError(f"{where}: cannot create the folder ({error.strerror})") from None
    if not out_dir.is_dir():
        raise ReportError(f"{where}: is a file, not a folder")
    try:
        descriptor = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise ReportError(f"{where}: cannot open the folder ({error.strerror})") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReportError(f"{where}: another report run is writing there; run again once it has finished") from None
        try:
            probe, name = tempfile.mkstemp(prefix=f"{STAGING}{os.getpid()}-probe-", dir=out_dir)
            os.close(probe)
            os.unlink(name)
        except OSError as error:
            raise ReportError(f"{where}: cannot write in the folder ({error.strerror})") from None
        yield out_dir
    finally:
        os.close(descriptor)


def clean_stale(out_dir: Path) -> None:
    """Remove what killed runs left in ``out_dir`` (staging folders, temporary indexes, a write
    probe) and put back a report that one had moved aside (``.old-<pid>-<slug>``) before its
    replacement landed. Only what carries the runner's mark is touched
    (:func:`~.ownership.is_leftover`): a file or folder of the user's with such a name stays as
    it is. Called with the folder locked, so a leftover not this process's is stale, whatever
    its process id says (a pid may be reused, or be PID 1 in a container)."""
    for entry in out_dir.iterdir():
        name = entry.name
        prefix = next((p for p in (STAGING, OLD, INDEX_TEMPORARY) if name.startswith(p)), None)
        if prefix is None or not is_leftover(entry):
            continue
        owner, _, slug = name[len(prefix) :].removesuffix(".html").partition("-")
        if owner == str(os.getpid()):
            continue
        final = out_dir / slug
        if prefix == OLD and not os.path.lexists(final):
            os.rename(entry, final)
        elif entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def refuse_foreign_folder(out_dir: Path, allow_other_files: bool = False) -> None:
    """Raise ReportError (one line) when ``out_dir`` holds anything ftcost did not write
    (:func:`~.ownership.foreign_entries`), unless ``allow_other_files`` or it is the
    project's own ``reports/`` (which git ships with its README). Either way the runner
    never replaces, renames or removes what is not its own."""
    if allow_other_files or out_dir == (project_root() / "reports").resolve():
        return
    problem = foreign_folder_problem(out_dir)
    if problem is not None:
        raise ReportError(f"--out {out_dir}: {problem}")


def assign_folders(out_dir: Path, sources: Sequence[Path]) -> list[str]:
    """One folder name per client file: the slug of its stem, or ``-2``, ``-3``... when that
    folder (or its ``_failed/`` twin) belongs to another file, or another file of this run
    takes it. A folder that does not say whose it is belongs to someone else."""
    taken: set[str] = set()
    slugs = []
    for source in sources:
        slug = next_folder(out_dir, source, taken)
        taken.add(slug)
        slugs.append(slug)
    return slugs


def next_folder(out_dir: Path, source: Path, taken: set[str]) -> str:
    """The folder name of ``source`` when the files before it took ``taken`` (see :func:`assign_folders`)."""
    base = slug = slugify(source.stem)
    count = 1
    while slug in taken or _belongs_elsewhere(out_dir, slug, source):
        count += 1
        slug = f"{base}-{count}"
    return slug


def _belongs_elsewhere(out_dir: Path, slug: str, source: Path) -> bool:
    for folder in (out_dir / slug, out_dir / FAILED_DIR / slug):
        if folder.exists() and folder_owner(folder) != source_id(source):
            return True
    return False


def place(staging: Path, final: Path) -> None:
    """Move a complete report folder into place, replacing an earlier one.

    The earlier folder is renamed aside first and deleted only after the new one is in
    place; a crash in between leaves it as ``.old-<pid>-<slug>``, which :func:`clean_stale`
    restores.
    """
    if final.exists():
        old = final.with_name(f"{OLD}{os.getpid()}-{final.name}")
        if os.path.lexists(old):  # not this run's: never renamed over
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(old))
        os.rename(final, old)
        os.rename(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, final)


def keep_failed(job: ClientJob, out_dir: Path, message: str) -> Path | None:
    """Move a failed client's staging folder to ``_failed/<slug>/`` with ``error.txt`` (over
    an earlier failed folder of the same file only); when that cannot be written (a full
    disk), remove the staging folder and return None."""
    failed = out_dir / FAILED_DIR
    target = client_dir(failed, job.slug)
    made_failed = not os.path.lexists(failed)
    try:
        remove_own_folder(target, job.source)
        failed.mkdir(exist_ok=True)
        (job.staging / "error.txt").write_text(f"{job.source}\n{message}\n", encoding="utf-8")
        os.rename(job.staging, target)
    except OSError:
        shutil.rmtree(job.staging, ignore_errors=True)
        if made_failed and failed.is_dir() and not any(failed.iterdir()):
            failed.rmdir()
        return None
    return target


def remove_own_folder(folder: Path, source: Path) -> None:
    """Remove ``folder`` if it is a report folder of ``source`` (its ``.source`` says so);
    raise FileExistsError if something else is there."""
    if not os.path.lexists(folder):
        return
    if folder.is_symlink() or folder_owner(folder) != source_id(source):
        raise FileExistsError(errno.EEXIST, "not this client file's folder", str(folder))
    shutil.rmtree(folder, ignore_errors=True)


def start_staging(job: ClientJob) -> None:
    """Make a client's staging folder and record whose report it is."""
    job.staging.mkdir()
    (job.staging / SOURCE_FILE).write_text(f"{source_id(job.source)}\n", encoding="utf-8")
