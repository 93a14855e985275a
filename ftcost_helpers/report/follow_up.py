"""``report --previous OLD`` and ``report --actuals FILE`` (issue 23): what a report adds when
an engagement has gone on since the first quote.

* ``--previous`` names the earlier quote: its client file, or a report folder ftcost wrote,
  which keeps a copy of the client file it was made from (:data:`PLAN_COPY`, written by
  :func:`keep_inputs`) and of the rates overlay it was priced with (:data:`RATES_COPY`),
  if any. The earlier plan is priced on the report's price book with that overlay (or
  ``--previous-rates``), the new one as the report prices it, and the change is attributed
  by :func:`~ftcost_helpers.engine.requote.requote`.
* ``--actuals`` names a cost export or plain CSV of spend to date
  (:mod:`~ftcost_helpers.engine.readers.cost_exports`); the figures are those ``ftcost track``
  prints (:func:`~ftcost_helpers.report.track.track_figures`).

Both apply to one client file. Everything is checked before the batch starts
(:func:`check_follow_up`): a bad file is one line and no report is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.readers.errors import ParamsError

PLAN_COPY = "plan.yaml"
"""The copy of its client file a report folder keeps (what ``--previous FOLDER`` reads)."""
RATES_COPY = "rates.yaml"
"""The copy of the rates overlay a report was priced with, when it had one."""


@dataclass(frozen=True)
class FollowUp:
    """What ``--previous`` / ``--actuals`` ask a report to add (paths resolved)."""

    previous: Path | None = None
    """The earlier quote's client file (a report folder's :data:`PLAN_COPY`)."""
    previous_rates: Path | None = None
    """The rates overlay the earlier quote was priced with (None: the price book alone)."""
    actuals: Path | None = None
    gpu_hours: str | None = None
    area_tag: str = "ftcost-area"

    def __bool__(self) -> bool:
        return self.previous is not None or self.actuals is not None

    def files(self) -> list[Path]:
        """The files the report is made from besides the client file (for its fingerprint)."""
        found = [self.previous, self.previous_rates, self.actuals]
        if self.gpu_hours is not None and Path(self.gpu_hours).is_file():
            found.append(Path(self.gpu_hours))
        return [path for path in found if path is not None]

    def fingerprint(self) -> dict[str, str]:
        """The digest of each file and the options, so a report is redone when one changes."""
        parts = {
            f"file{index}": hashlib.sha256(path.read_bytes()).hexdigest() for index, path in enumerate(self.files())
        }
        parts.update(
            previous=str(self.previous is not None),
            actuals=str(self.actuals is not None),
            gpu_hours=str(self.gpu_hours),
            area_tag=self.area_tag,
        )
        return parts


NO_FOLLOW_UP = FollowUp()
"""A report without ``--previous`` or ``--actuals``."""


def is_report_folder(folder: Path) -> bool:
    """A client's report folder ftcost wrote (its ``.source`` mark, or an earlier version's
    ``summary.json`` beside ``report.html``)."""
    from ftcost_helpers.report.index import REPORT_HTML, SUMMARY_JSON
    from ftcost_helpers.report.ownership import holds_source_mark

    return holds_source_mark(folder) or ((folder / SUMMARY_JSON).is_file() and (folder / REPORT_HTML).is_file())


def report_of(out_dir: Path, source: Path) -> Path | None:
    """The report folder of client file ``source`` in an output folder ``out_dir``: the one
    whose ``.source`` names that file, else the one named after its stem; None if neither."""
    from ftcost_helpers.report.index import folder_owner
    from ftcost_helpers.report.slug import slugify, source_id

    owner = source_id(source)
    for folder in sorted(out_dir.iterdir()):
        if folder.is_dir() and not folder.is_symlink() and folder_owner(folder) == owner:
            return folder
    named = out_dir / slugify(source.stem)
    return named if named.is_dir() and is_report_folder(named) else None


def previous_files(given: Path, rates: Path | None, source: Path | None = None) -> tuple[Path, Path | None]:
    """(client file, rates overlay) of the earlier quote ``given``: a client file as it is;
    a report folder's copies; or, in an output folder (``reports/``), the copies in the
    report folder of ``source``, the client file being reported. Raises ParamsError (one
    line) when none of these."""
    if not given.exists():
        raise ParamsError(given, "", "--previous: no such file or folder")
    if not given.is_dir():
        return given.resolve(), rates.resolve() if rates else None
    if not is_report_folder(given):
        found = report_of(given, source) if source is not None else None
        if found is None:
            raise ParamsError(
                given,
                "",
                "--previous: neither a report folder ftcost wrote nor an output folder holding this client's report; "
                "give the earlier client file",
            )
        given = found
    plan = given / PLAN_COPY
    if not plan.is_file():
        raise ParamsError(
            given,
            "",
            f"--previous: the report folder keeps no {PLAN_COPY} (written before reports kept their client file); "
            "give the earlier client file",
        )
    kept_rates = given / RATES_COPY
    if rates is None and kept_rates.is_file():
        rates = kept_rates
    return plan.resolve(), rates.resolve() if rates else None


def follow_up_from_args(args: argparse.Namespace) -> FollowUp:
    """The follow-up ``report``'s options ask for (``--previous``, ``--previous-rates``,
    ``--actuals``, ``--gpu-hours``, ``--area-tag``); raises ParamsError for a bad one."""
    previous = getattr(args, "previous", None)
    rates = getattr(args, "previous_rates", None)
    actuals = getattr(args, "actuals", None)
    gpu_hours = getattr(args, "gpu_hours", None)
    files = getattr(args, "files", None) or []
    source = Path(files[0]) if len(files) == 1 else None
    plan, kept_rates = (None, None)
    if previous:
        plan, kept_rates = previous_files(Path(previous), Path(rates) if rates else None, source)
    if rates is not None and previous is None:
        raise ParamsError(rates, "", "--previous-rates: only with --previous")
    if gpu_hours is not None and actuals is None:
        raise ParamsError(str(gpu_hours), "", "--gpu-hours: only with --actuals")
    if actuals is not None and not Path(actuals).is_file():
        raise ParamsError(actuals, "", "--actuals: no such file")
    if gpu_hours is not None and Path(gpu_hours).is_file():
        gpu_hours = str(Path(gpu_hours).resolve())  # the report's kernels run in notebooks/
    return FollowUp(
        previous=plan,
        previous_rates=kept_rates,
        actuals=Path(actuals).resolve() if actuals else None,
        gpu_hours=gpu_hours,
        area_tag=getattr(args, "area_tag", None) or "ftcost-area",
    )


def requote_for(follow: FollowUp, params: Any, book: Any, basis: str, price_book: Path | None, today: dt.date) -> Any:
    """The re-quote from ``follow.previous`` to ``params`` on ``basis`` (None without ``--previous``)."""
    if follow.previous is None:
        return None
    from ftcost_helpers.engine.loading import load_price_book
    from ftcost_helpers.engine.overrides import load_plan
    from ftcost_helpers.engine.requote import requote

    old_book = load_price_book(price_book, follow.previous_rates)
    old = load_plan(follow.previous, old_book)
    if old.currency != params.currency:  # a change between two currencies is no change of cost
        raise ParamsError(
            follow.previous,
            "currency",
            f"--previous: the earlier quote is in {old.currency}, this one in {params.currency}; "
            "a re-quote compares two quotes in one currency",
        )
    return requote(old, old_book, params, book, basis, today=today)


def tracking_for(follow: FollowUp, source: Path, price_book: Path | None, rates: Path | None) -> dict[str, Any] | None:
    """What ``ftcost track`` shows for ``source`` and ``follow.actuals`` (None without ``--actuals``)."""
    if follow.actuals is None:
        return None
    from ftcost_helpers.report.track import track_figures

    args = argparse.Namespace(
        file=source,
        actuals=follow.actuals,
        gpu_hours=follow.gpu_hours,
        area_tag=follow.area_tag,
        price_book=price_book,
        rates=rates,
    )
    return track_figures(args)


def check_follow_up(follow: FollowUp, files: Sequence[Path], price_book: Path | None, rates: Path | None) -> None:
    """Refuse, before anything is written, a follow-up that cannot be made: more than one
    client file, or an earlier quote or a cost export the engine cannot read (each one line,
    the file's :class:`ParamsError`)."""
    if not follow:
        return
    if len(files) != 1:
        raise ParamsError("report", "", "--previous and --actuals apply to one client file: give exactly one FILE")
    from ftcost_helpers.engine.firm import load_firm
    from ftcost_helpers.engine.headline import resolve_basis
    from ftcost_helpers.engine.loading import load_price_book
    from ftcost_helpers.engine.overrides import load_plan

    book = load_price_book(price_book, rates)
    plan = load_plan(files[0], book)
    requote_for(follow, plan, book, resolve_basis(plan, load_firm().default_basis), price_book, dt.date.today())
    tracking_for(follow, Path(files[0]), price_book, rates)


def keep_inputs(folder: Path, source: Path, rates: Path | None) -> None:
    """Copy the client file a report is made from into its folder as :data:`PLAN_COPY`, and
    the rates overlay as :data:`RATES_COPY` when there is one, so that a later
    ``report --previous FOLDER`` can re-price that quote."""
    shutil.copyfile(source, folder / PLAN_COPY)
    if rates is not None:
        shutil.copyfile(rates, folder / RATES_COPY)
