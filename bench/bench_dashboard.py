"""The workshop dashboard under a room's load, in a real browser (Playwright on Debian's Chromium).

    .venv/bin/python bench/bench_dashboard.py [--opens 20] [--seconds 60] [--pool-size 1] [--sequential 10]
    .venv/bin/python bench/bench_dashboard.py --room 30 [--seconds 60] [--notebook 01_compute]

``--room N`` measures only a room: the dashboard started as ``--room N`` starts it, N pages
opened at an even pace over ``--seconds`` (the six notebooks in turn, or all on
``--notebook``), each kept open as a participant keeps it until every page is interactive
or has waited :data:`TIMEOUT_MS`; then how many became interactive, the time to interactive
(median, p95, max), how many ever showed the widgets' raw text, the server's memory at rest
and at its peak, the machine's load, and the kernels reclaimed once the pages close.

Without ``--room``:

1. Starts the dashboard as ``make workshop`` does and waits for its pool to fill.
2. ``--sequential`` pages opened one after the other, each with the pool warm and the server
   quiet (the budget's case): time to an interactive panel, median and p95, first each page in
   a fresh browser (everyone's first page: nothing cached), then all in one browser after its
   first page (a participant moving through the session). ``--opens 0`` stops after these and
   the redraws.
3. Opens ``--opens`` pages at an even pace over ``--seconds`` (the six notebooks in turn,
   each in a fresh browser context, as 20 people would), without waiting for one page before
   asking for the next; each page is closed like a tab (its ``beforeunload`` runs) once its
   panel is live. The time from the request to an interactive panel (its headline shown and
   the widgets rendered), median and p95, and the server's memory (the Voilà process and its
   kernels, RSS) while they open.
4. After the last page closes: the kernel count and memory every 5 s for 60 s (they should
   come back to the pool's level).
5. Key press → redraw: on each notebook's panel, ``--presses`` arrow-key presses on one
   slider, the time from the press to the new headline; p95 per panel.

Prints a table; figures depend on the machine's load (printed with them).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
from pathlib import Path

from ftcost_helpers import dashboard
from ftcost_helpers.pdf import MACHINE_FLAGS, find_chromium

REDRAW_SLIDERS = {
    "01_compute": "Runs",
    "02_dataset": "Annotation hours",
    "03_eval": "Horizon (months)",
    "04_maintenance": "Maintenance starts (month)",
    "05_roi": "Serving GPUs",
}
"""A slider per panel whose every step changes a headline figure (for example A)."""
TIMEOUT_MS = 120_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def server_state(root: int) -> tuple[int, float]:
    """(kernels, MB of RSS) of the dashboard's process tree."""
    tree = process_tree(root)
    kernels = 0
    for pid in tree:
        try:
            if b"ipykernel_launcher" in Path(f"/proc/{pid}/cmdline").read_bytes():
                kernels += 1
        except OSError:
            pass
    return kernels, sum(rss_mb(pid) for pid in tree)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def open_panel(browser, url: str, context=None):
    """(seconds to an interactive panel, context, page), in ``context`` or a fresh one."""
    context = context or browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    page.locator(".ftcost-headline").first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".widget-slider .noUi-handle").first.wait_for(timeout=TIMEOUT_MS)
    return time.perf_counter() - started, context, page


def is_interactive(page) -> bool:
    """The panel's headline and a slider's handle are on the page."""
    return page.evaluate(
        "() => !!document.querySelector('.ftcost-headline') && !!document.querySelector('.widget-slider .noUi-handle')"
    )


def room_opens(browser, port: int, opens: int, seconds: float, server: int):
    """Open ``opens`` pages at an even pace over ``seconds``; each is closed as a tab once
    its panel is interactive, or after :data:`TIMEOUT_MS` without. Returns (seconds to
    interactive per page, seconds of each page that never was, peak (kernels, MB), seconds)."""
    gap = seconds / opens
    started = time.perf_counter()
    pending: list[tuple[float, object, object]] = []
    ready: list[float] = []
    timed_out: list[float] = []
    peak = server_state(server)
    asked = 0
    while asked < opens or pending:
        now = time.perf_counter()
        if asked < opens and now >= started + asked * gap:
            notebook = dashboard.NOTEBOOKS[asked % len(dashboard.NOTEBOOKS)]
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(dashboard.notebook_url(port, notebook), wait_until="commit", timeout=TIMEOUT_MS)
            pending.append((now, context, page))
            asked += 1
        for item in list(pending):
            opened, context, page = item
            if is_interactive(page):
                ready.append(time.perf_counter() - opened)
                page.close(run_before_unload=True)
                context.close()
                pending.remove(item)
            elif time.perf_counter() - opened > TIMEOUT_MS / 1000:
                timed_out.append(time.perf_counter() - opened)  # counted, closed, and the room goes on
                page.close(run_before_unload=True)
                context.close()
                pending.remove(item)
        peak = max(peak, server_state(server), key=lambda state: state[1])
        time.sleep(0.1)
    return ready, timed_out, peak, time.perf_counter() - started


def room_kept_open(browser, port: int, notebooks: list[str], seconds: float, server: int):
    """Open one page per entry of ``notebooks`` at an even pace over ``seconds``, each in its
    own browser context, and keep them all open (as a room does) until each is interactive
    or has waited :data:`TIMEOUT_MS`. Returns (seconds to interactive per page that became
    so, pages that never did, pages that ever showed raw widget text, peak (kernels, MB),
    contexts to close)."""
    gap = seconds / len(notebooks)
    started = time.perf_counter()
    opened: list[tuple[float, object, object]] = []
    ready: dict[int, float] = {}
    raw_seen: set[int] = set()
    peak = server_state(server)
    while len(opened) < len(notebooks) or _waiting(opened, ready):
        now = time.perf_counter()
        if len(opened) < len(notebooks) and now >= started + len(opened) * gap:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(dashboard.notebook_url(port, notebooks[len(opened)]), wait_until="commit", timeout=TIMEOUT_MS)
            opened.append((now, context, page))
        for number, (asked, _context, page) in enumerate(opened):
            if number in ready:
                continue
            if _answer(page, INTERACTIVE):
                ready[number] = time.perf_counter() - asked
            elif _answer(page, RAW_TEXT):
                raw_seen.add(number)
        peak = max(peak, server_state(server), key=lambda state: state[1])
        time.sleep(0.2)
    never = len(opened) - len(ready)
    return list(ready.values()), never, len(raw_seen), peak, [context for _, context, _ in opened]


INTERACTIVE = (
    "() => !!document.querySelector('.ftcost-headline') && !!document.querySelector('.widget-slider .noUi-handle')"
)
RAW_TEXT = "() => /(VBox|HBox)\\(children=/.test(document.body.innerText)"


def _waiting(opened: list, ready: dict[int, float]) -> bool:
    """Some page is neither interactive nor past its time."""
    now = time.perf_counter()
    return any(n not in ready and now - asked < TIMEOUT_MS / 1000 for n, (asked, _c, _p) in enumerate(opened))


def _answer(page, script: str) -> bool:
    from playwright.sync_api import Error

    try:
        return bool(page.evaluate(script))
    except Error:  # the page is navigating (reloading itself)
        return False


def measure_room(args: argparse.Namespace) -> int:
    """The ``--room`` measurement (see the module's docstring)."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    room = dashboard.Room(port=port, room_size=args.room)
    pool = sum(dashboard.session_pool_sizes(args.room, dashboard.NOTEBOOKS, {}, room.pool_size).values())
    process = dashboard.start(room, log=Path("/tmp") / f"bench_dashboard_room_{port}.log")
    try:
        dashboard.wait_until_ready(process, port, timeout_s=120)
        at_rest = settled_state(process.pid, pool)
        print(f"--room {args.room}: {dashboard.pool_description(room)}")
        print(f"at rest {at_rest[0]} kernels, {at_rest[1]:,.0f} MB")
        print(f"load average before {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        notebooks = [args.notebook or dashboard.NOTEBOOKS[n % len(dashboard.NOTEBOOKS)] for n in range(args.room)]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(find_chromium()), headless=True, args=list(MACHINE_FLAGS)
            )
            times, never, raw, peak, contexts = room_kept_open(browser, port, notebooks, args.seconds, process.pid)
            load = os.getloadavg()
            where = f"all on {args.notebook}" if args.notebook else "the six notebooks in turn"
            print(
                f"{args.room} pages over {args.seconds:.0f} s ({where}), kept open: {len(times)} interactive, "
                f"{never} not within {TIMEOUT_MS / 1000:.0f} s, {raw} ever showed raw widget text"
            )
            if times:
                print(
                    f"time to interactive: median {statistics.median(times):.1f} s, "
                    f"p95 {percentile(times, 0.95):.1f} s, max {max(times):.1f} s"
                )
            print(f"peak: {peak[1]:,.0f} MB with {peak[0]} kernels; load average 1/5 min {load[0]:.1f}/{load[1]:.1f}")
            for context in contexts:
                context.close()
            browser.close()
        time.sleep(args.after_seconds)
        kernels, memory = server_state(process.pid)
        print(f"{args.after_seconds:.0f} s after the pages closed: {kernels} kernels, {memory:,.0f} MB")
    finally:
        dashboard.stop(process)
    return 0


def sequential_opens(browser, port: int, opens: int, server: int, pool: int, one_browser: bool = False) -> list[float]:
    """Seconds to an interactive panel for ``opens`` pages opened one after the other (the
    six notebooks in turn), each with the pool warm: the next page is asked for once the
    closed page's kernel is gone and the pool is full again. Each page opens in a fresh
    browser context (nothing cached: everyone's first page), or with ``one_browser`` all in
    one context after a first page (one participant moving through the session: the widget
    extensions' scripts are kept by the browser)."""
    times = []
    shared = browser.new_context(viewport={"width": 1280, "height": 900}) if one_browser else None
    if shared is not None:  # the participant's first page, not counted
        settled_state(server, pool)
        _seconds, _context, page = open_panel(browser, dashboard.notebook_url(port, dashboard.NOTEBOOKS[-1]), shared)
        page.close(run_before_unload=True)
    for number in range(opens):
        settled_state(server, pool)
        notebook = dashboard.NOTEBOOKS[number % len(dashboard.NOTEBOOKS)]
        seconds, context, page = open_panel(browser, dashboard.notebook_url(port, notebook), shared)
        times.append(seconds)
        page.close(run_before_unload=True)
        if shared is None:
            context.close()
    if shared is not None:
        shared.close()
    return times


def settled_state(server: int, pool: int, steady_samples: int = 3) -> tuple[int, float]:
    """(kernels, MB) once the pool is full and its memory has stopped growing for
    ``steady_samples`` samples 5 s apart (the warm-up cell has run in every pooled kernel: a
    large pool warming on few cores grows for minutes, one kernel after another)."""
    deadline = time.perf_counter() + 420
    previous = server_state(server)
    steady = 0
    while time.perf_counter() < deadline:
        time.sleep(5)
        state = server_state(server)
        growing = abs(state[1] - previous[1]) >= 0.01 * previous[1]
        steady = 0 if state[0] < pool or growing else steady + 1
        if steady >= steady_samples:
            return state
        previous = state
    return previous


def redraw_times(page, label: str, presses: int) -> list[float]:
    """Seconds from each arrow-key press on slider ``label`` to the changed headline."""
    import re

    slider = page.locator(".widget-slider", has=page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")))
    handle = slider.locator(".noUi-handle")
    headline = page.locator(".ftcost-headline").first
    times = []
    for press in range(presses):
        before = headline.inner_text()
        handle.focus()
        started = time.perf_counter()
        page.keyboard.press("ArrowRight" if press % 2 == 0 else "ArrowLeft")
        page.wait_for_function(
            "before => document.querySelector('.ftcost-headline').innerText !== before", arg=before, timeout=30_000
        )
        times.append(time.perf_counter() - started)
    return times


def print_redraws(browser, port: int, presses: int) -> None:
    """Key press → redraw on each notebook's panel: median and p95 of ``presses`` presses."""
    print("key press → redraw (s):")
    for notebook, label in REDRAW_SLIDERS.items():
        _seconds, context, page = open_panel(browser, dashboard.notebook_url(port, notebook))
        times = redraw_times(page, label, presses)
        median, p95 = statistics.median(times), percentile(times, 0.95)
        print(f"  {notebook:15} {label:28} median {median:.3f}  p95 {p95:.3f}")
        page.close(run_before_unload=True)
        context.close()
        time.sleep(3)  # the pool refills before the next notebook opens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opens", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pool-size", type=int, default=dashboard.DEFAULT_POOL_SIZE)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--sequential", type=int, default=10, help="pages opened one after the other, pool warm")
    parser.add_argument("--after-seconds", type=float, default=60.0)
    parser.add_argument("--room", type=int, help="measure only a room of N pages kept open (see above)")
    parser.add_argument("--notebook", choices=dashboard.NOTEBOOKS, help="with --room: every page on this notebook")
    args = parser.parse_args(argv)
    if args.room:
        return measure_room(args)

    from playwright.sync_api import sync_playwright

    port = free_port()
    room = dashboard.Room(port=port, pool_size=args.pool_size)
    process = dashboard.start(room, log=Path("/tmp") / f"bench_dashboard_{port}.log")
    try:
        dashboard.wait_until_ready(process, port, timeout_s=120)
        pool = args.pool_size * len(dashboard.NOTEBOOKS)
        at_rest = settled_state(process.pid, pool)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; pool {pool} kernels")
        print(f"at rest: {at_rest[0]} kernels, {at_rest[1]:,.0f} MB")

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(find_chromium()), headless=True, args=list(MACHINE_FLAGS)
            )
            # Sequential opens first, on a quiet server: the budget's case, not the room's aftermath.
            for one_browser, who in ((False, "each in a fresh browser"), (True, "one browser after its first page")):
                one_by_one = sequential_opens(browser, port, args.sequential, process.pid, pool, one_browser)
                print(
                    f"{args.sequential} sequential opens, pool warm, {who}: time to an interactive panel median "
                    f"{statistics.median(one_by_one):.2f} s, p95 {percentile(one_by_one, 0.95):.2f} s, "
                    f"max {max(one_by_one):.2f} s (load average {os.getloadavg()[0]:.1f})"
                )
            if args.opens == 0:
                print_redraws(browser, port, args.presses)
                browser.close()
                return 0

            opens, never, peak, took = room_opens(browser, port, args.opens, args.seconds, process.pid)
            print(
                f"{args.opens} opens asked over {args.seconds:.0f} s (done after {took:.0f} s): {len(opens)} "
                f"interactive, median {statistics.median(opens):.2f} s, p95 {percentile(opens, 0.95):.2f} s, "
                f"max {max(opens):.2f} s; {len(never)} not interactive within {TIMEOUT_MS / 1000:.0f} s"
            )
            print(f"during: peak {peak[1]:,.0f} MB with {peak[0]} kernels")
            closed = time.perf_counter()
            back = None
            while time.perf_counter() - closed < args.after_seconds:
                time.sleep(5)
                kernels, memory = server_state(process.pid)
                print(f"  {time.perf_counter() - closed:4.0f} s after: {kernels} kernels, {memory:,.0f} MB")
                if back is None and kernels <= pool:
                    back = time.perf_counter() - closed
            print(f"load average {os.getloadavg()[0]:.1f}")
            print("kernels back to the pool's level " + (f"within {back:.0f} s" if back is not None else "NOT within"))

            print_redraws(browser, port, args.presses)
            browser.close()
    finally:
        dashboard.stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
