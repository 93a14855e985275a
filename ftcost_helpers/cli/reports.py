"""``report``: the batch of client reports (:mod:`~ftcost_helpers.report.runner`), then, when
asked, their PDFs and the client packs."""

from __future__ import annotations

import argparse
from contextlib import suppress
from pathlib import Path
from typing import Any

from ftcost_helpers.cli.common import EXIT_BAD_INPUT, EXIT_OK, add_command, positive_int
from ftcost_helpers.cli.engagement import add_actuals_options
from ftcost_helpers.report.messages import say_error


def _report(args: argparse.Namespace) -> int:
    from ftcost_helpers.report.runner import EXIT_INTERRUPTED, report_command

    if args.pdf:
        from ftcost_helpers.pdf import PdfError, find_chromium

        try:
            find_chromium()  # before the batch: a missing browser fails fast
        except PdfError as error:
            say_error(str(error))
            return EXIT_BAD_INPUT
    status = report_command(args)
    status = max(status, _report_pdfs(args)) if args.pdf and status != EXIT_INTERRUPTED else status
    return max(status, _client_packs(args)) if args.client_pack and status != EXIT_INTERRUPTED else status


def _client_packs(args: argparse.Namespace) -> int:
    """``report --client-pack``: after the reports (and their PDFs), what each client receives."""
    from ftcost_helpers.engine.loading import project_root
    from ftcost_helpers.report.pack import client_packs_command

    return client_packs_command(args.out if args.out is not None else project_root() / "reports")


def _report_pdfs(args: argparse.Namespace) -> int:
    """``report --pdf``: print every report in the output folder whose PDF is missing or stale."""
    from ftcost_helpers.engine.loading import project_root
    from ftcost_helpers.pdf import PdfError, reports_to_pdf

    out = Path(args.out if args.out is not None else project_root() / "reports")
    try:
        written = reports_to_pdf(out)
    except PdfError as error:
        say_error(str(error))
        return EXIT_BAD_INPUT
    from ftcost_helpers.report.index import ForeignIndex, write_index

    with suppress(ForeignIndex):  # not ftcost's: the batch said so, and left it as it is
        write_index(out)  # with its PDF links
    print(f"{len(written)} PDF report{'' if len(written) == 1 else 's'} written")
    return EXIT_OK


def add_report(commands: Any) -> None:
    rep = add_command(
        commands,
        "report",
        _report,
        help="full client reports and an index page",
        description="Client reports: executed notebooks, HTML, Excel and summary.json for each client, "
        "and reports/index.html.",
    )
    rep.add_argument(
        "files", type=Path, nargs="*", metavar="FILE", help="client files (default: every params/clients/*.yaml)"
    )
    rep.add_argument("--out", type=Path, default=None, metavar="FOLDER", help="output folder (default: reports/)")
    _out_folder_options(rep)
    rep.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help="worker processes, at least 1 (default: the machine's cores)",
    )
    rep.add_argument("--kernel", default="python3", metavar="NAME", help="Jupyter kernel name (default: python3)")
    rep.add_argument(
        "--fresh-kernels", action="store_true", help="a new kernel for every notebook (default: one per client)"
    )
    rep.add_argument("--force", action="store_true", help="redo every client, even those whose report is unchanged")
    rep.add_argument("--pdf", action="store_true", help="also print each report.html to report.pdf (Debian's chromium)")
    rep.add_argument(
        "--client-pack",
        action="store_true",
        help="also write <report folder>/client-pack/: only what the client receives (PDF, workbook, page)",
    )
    _follow_up_options(rep)  # issue 23: --previous, --actuals


def _out_folder_options(report: argparse.ArgumentParser) -> None:
    """``report``'s options about whose files ``--out`` may hold."""
    report.add_argument(
        "--allow-other-files",
        action="store_true",
        help="write into an --out folder that holds files ftcost did not write (refused otherwise); "
        "they are left exactly as they are, an index.html among them included",
    )


def _follow_up_options(report: argparse.ArgumentParser) -> None:
    """``report``'s options for an engagement under way (one client file; issue 23)."""
    report.add_argument(
        "--previous",
        type=Path,
        default=None,
        metavar="OLD",
        help="the earlier quote (its client file, its report folder, or an output folder holding that): adds "
        "'Since the last quote', the change "
        "attributed to prices, plan, calibration and model, with a waterfall chart and a workbook sheet",
    )
    report.add_argument(
        "--previous-rates",
        type=Path,
        default=None,
        metavar="FILE",
        help="the rates overlay the earlier quote was priced with (default: the one its report folder kept, or none)",
    )
    add_actuals_options(
        report,
        dict(
            default=None,
            help="spend to date (a FOCUS cost export or a plain CSV, as for track): adds 'Spend to date', forecast "
            "against actual, the rate/volume split and the re-forecast, with a burn-down chart and a workbook sheet",
        ),
        gpu_hours="with --actuals: measured compute GPU-hours (as for track)",
        area_tag="with --actuals: the FOCUS tag naming a row's area",
    )
