"""How the workshop dashboard serves a room: when a page's kernel may be stopped, and how
many kernels are kept warm for a room of a given size.

Pure rules (no Jupyter imports), used by :mod:`ftcost_helpers.dashboard.kernels` inside the
server and by :mod:`ftcost_helpers.dashboard` to size the pool.

**Why a page is never culled while it connects.** Jupyter Server's culler stops a kernel that
has been idle for ``cull_idle_timeout`` seconds with no connection. A Voilà page's kernel has
no connection from the moment it finishes running the page's cells until the page's
JavaScript has loaded and opened the kernel's websocket; in a room of 20 opening pages on a
small host that took more than the 40 s timeout, and the culler stopped kernels whose pages
were still loading ("Culling 'idle' kernel … 0 connections", then 404 for the page's own
kernel: a dead panel). Here a kernel whose page has never connected is given
:data:`DEFAULT_CONNECT_GRACE_S`; only a kernel whose page has connected and since gone (the
tab closed without its beacon, the laptop shut) is stopped after the idle timeout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEFAULT_CONNECT_GRACE_S = 600
"""Seconds a page's kernel waits for its page to connect before it is taken for abandoned
(a browser closed before the page's script ran sends no beacon). Ten minutes: far longer than
the slowest room measured (103 s to an interactive panel), short enough to reclaim a
laptop's kernels within a workshop's break."""

ROOM_REFILL_DELAY_S = 60.0
"""Seconds between a page taking a warm kernel and the pool starting its replacement, for a
room sized with ``--room``: a room's pages arrive within about a minute, and a replacement
started meanwhile takes the CPU the arriving pages need (3–5 s of CPU per kernel). Measured
with ``bench/bench_dashboard.py --room 20`` on 2 cores: with the 6 s delay the pool started
20 replacements while the 20 pages loaded (40 kernels at the peak)."""

NEXT_NOTEBOOK_DELAY_S = 180.0
"""Seconds after the room reaches a notebook before the next one is warmed for it: after the
room's pages have all arrived (about a minute), well before the room moves on (the session
plan gives each notebook 10–18 minutes). Warming 30 kernels a minute after the room's first
quarter arrived took the CPU from its last pages (``--room 30``, 2 cores: 70 kernels, 13.6 GB
at the peak, p95 138 s)."""

ROOM_ARRIVED_SHARE = 0.25
"""The share of a room whose pages must have opened a notebook for the room to count as
having reached it (one person peeking ahead moves nothing)."""


@dataclass(frozen=True)
class KernelWatch:
    """What the server knows about one page's kernel when the culler looks at it.

    Times are seconds on one clock (the culler uses seconds since the epoch)."""

    last_activity: float
    """The last message from the kernel (it ran a cell, drew a chart, answered a widget)."""
    connections: int
    """Websockets open to the kernel now (a page has one while it is open)."""
    ever_connected: bool
    """Whether a page has ever opened a websocket to the kernel."""
    disconnected_at: float | None = None
    """When the last websocket closed, if one has."""
    busy: bool = False
    """Running a cell (a pooled kernel waiting for its page is busy)."""


def may_cull(watch: KernelWatch, now: float, idle_timeout_s: float, connect_grace_s: float) -> bool:
    """Whether the culler may stop this kernel now.

    - a busy kernel, or one with a page connected, is never stopped;
    - a kernel whose page has not connected yet is stopped only after ``connect_grace_s``
      without activity (its page is still loading, however slowly);
    - a kernel whose page connected and has gone is stopped ``idle_timeout_s`` after the later
      of its last activity and the page going (a brief network drop reconnects in time)."""
    if watch.busy or watch.connections > 0:
        return False
    if not watch.ever_connected:
        return now - watch.last_activity > connect_grace_s
    quiet_since = max(watch.last_activity, watch.disconnected_at or watch.last_activity)
    return now - quiet_since > idle_timeout_s


def session_pool_sizes(
    room_size: int, notebooks: Sequence[str], opened: Mapping[str, int], floor: int = 1
) -> dict[str, int]:
    """Warm kernels per notebook for a room that follows the session plan, one notebook after
    another: one per person for the notebook the room opens next, ``floor`` for the others.

    The room has *reached* a notebook once a quarter of it (:data:`ROOM_ARRIVED_SHARE`) has
    opened it (``opened``: pages per notebook so far); the next notebook is the first one not
    reached. A room of 30 starts with 30 warm kernels for ``01_compute`` and one for each other
    notebook (35 in all); once 8 pages (30 / 4 = 7.5, rounded up) have opened ``01_compute``,
    ``02_dataset`` is warmed to 30 (after :data:`NEXT_NOTEBOOK_DELAY_S`) while the room works
    on the first (18 minutes in the session plan), and ``01_compute`` is no longer refilled
    beyond ``floor``.

    Why not spread over the notebooks: a room opens the same notebook within the same minute,
    and a page that finds no warm kernel waits for one to start and warm up while the room's
    other pages do the same (``bench/bench_dashboard.py --room 20 --notebook 01_compute`` on 2
    cores, four warm kernels per notebook: 20 of 20 interactive but median 56 s, p95 110 s)."""
    needed = max(1, math.ceil(ROOM_ARRIVED_SHARE * room_size))
    reached = 0
    while reached < len(notebooks) and opened.get(notebooks[reached], 0) >= needed:
        reached += 1
    following = notebooks[reached] if reached < len(notebooks) else None
    return {name: max(room_size, floor) if name == following else floor for name in notebooks}


def refill_delay_for_room(room_size: int, single_delay_s: float) -> float:
    """Seconds before the pool replaces a kernel a page took: ``single_delay_s`` (pages one at
    a time) unless a room was said, then :data:`ROOM_REFILL_DELAY_S` (the room's minute)."""
    return ROOM_REFILL_DELAY_S if room_size > 0 else single_delay_s
