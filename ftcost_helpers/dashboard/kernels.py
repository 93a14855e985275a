"""The dashboard's kernel manager: Jupyter Server's, with a culler that never stops a kernel
whose page is still connecting (the rule is :func:`ftcost_helpers.dashboard.room.may_cull`).

Voilà builds its pooling manager on top of this class (``VoilaConfiguration.
multi_kernel_manager_class``); the pool keeps its own rule that a warm kernel waiting in the
pool is never culled. Imported only inside the Voilà process."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import ensure_async
from traitlets import Integer

from ftcost_helpers.dashboard.room import (
    DEFAULT_CONNECT_GRACE_S,
    NEXT_NOTEBOOK_DELAY_S,
    KernelWatch,
    may_cull,
    session_pool_sizes,
)


def _seconds(moment: datetime) -> float:
    return moment.timestamp()


class RoomKernelManager(AsyncMappingKernelManager):
    """Kernels for a room's pages: remembers which pages have connected and when they left."""

    connect_grace = Integer(
        DEFAULT_CONNECT_GRACE_S,
        config=True,
        help="Seconds a kernel waits for its page to connect before it is culled as abandoned.",
    )

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._ever_connected: set[str] = set()
        self._disconnected_at: dict[str, float] = {}

    def notify_connect(self, kernel_id: str) -> None:
        super().notify_connect(kernel_id)
        self._ever_connected.add(kernel_id)
        self._disconnected_at.pop(kernel_id, None)

    def notify_disconnect(self, kernel_id: str) -> None:
        super().notify_disconnect(kernel_id)
        from jupyter_server._tz import utcnow

        self._disconnected_at[kernel_id] = _seconds(utcnow())

    def watch(self, kernel_id: str) -> KernelWatch | None:
        """What the culler needs to know of ``kernel_id`` (None before it has started)."""
        kernel = self._kernels.get(kernel_id)
        if kernel is None or not hasattr(kernel, "last_activity"):
            return None
        return KernelWatch(
            last_activity=_seconds(kernel.last_activity),
            connections=self._kernel_connections.get(kernel_id, 0),
            ever_connected=kernel_id in self._ever_connected,
            disconnected_at=self._disconnected_at.get(kernel_id),
            busy=getattr(kernel, "execution_state", None) == "busy",
        )

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """Stop the kernel if :func:`may_cull` says so, with one line in the log."""
        from jupyter_server._tz import utcnow

        kernel = self._kernels[kernel_id]
        if getattr(kernel, "execution_state", None) == "dead":
            await ensure_async(super().cull_kernel_if_idle(kernel_id))
            return
        watch = self.watch(kernel_id)
        now = _seconds(utcnow())
        if watch is None or not may_cull(watch, now, self.cull_idle_timeout, self.connect_grace):
            return
        reason = "its page has gone" if watch.ever_connected else "its page never connected"
        self.log.info("Stopping kernel %s: %s (%d s without activity).", kernel_id, reason, now - watch.last_activity)
        await ensure_async(self.shutdown_kernel(kernel_id))

    def _forget(self, kernel_id: str) -> None:
        self._ever_connected.discard(kernel_id)
        self._disconnected_at.pop(kernel_id, None)

    async def shutdown_kernel(self, kernel_id: str, *args, **kwargs):  # type: ignore[override]
        self._forget(kernel_id)
        return await ensure_async(super().shutdown_kernel(kernel_id, *args, **kwargs))


class SessionPool:
    """Voilà's kernel pool following a room through the session plan (mixed into Voilà's
    pooling manager by :func:`follow_the_session`): the pool sizes are
    :func:`~ftcost_helpers.dashboard.room.session_pool_sizes` of the pages opened so far."""

    def start_following(self, room_size: int, notebook_files: Sequence[str]) -> None:
        self._room_size = room_size
        self._room_notebooks = tuple(notebook_files)
        self._room_opened: dict[str, int] = {}
        for name in self._apply_session_sizes():
            self.fill_if_needed(delay=0, notebook_name=name)

    def _pool_size(self, name: str) -> int:
        default = self.kernel_pools_config.get("default", {})
        return self.kernel_pools_config.get(name, default).get("pool_size", default.get("pool_size", 1))

    def _apply_session_sizes(self) -> list[str]:
        """Set each notebook's pool size for the room; the notebooks whose pool grew."""
        floor = self.kernel_pools_config.get("default", {}).get("pool_size", 1)
        sizes = session_pool_sizes(self._room_size, self._room_notebooks, self._room_opened, floor)
        before = {name: self._pool_size(name) for name in self._room_notebooks}
        config = dict(self.kernel_pools_config)
        for name, size in sizes.items():
            config[name] = {**config.get(name, {}), "pool_size": size}
        self.kernel_pools_config = config
        return [name for name in self._room_notebooks if sizes[name] > before[name]]

    async def get_rendered_notebook(self, notebook_name: str, *args, **kwargs):
        """A page takes a warm kernel: count it, resize the pools, then warm the notebook the
        room opens next once the room's pages have arrived (:data:`NEXT_NOTEBOOK_DELAY_S`)."""
        self._room_opened[notebook_name] = self._room_opened.get(notebook_name, 0) + 1
        grown = self._apply_session_sizes()
        taken = await super().get_rendered_notebook(notebook_name, *args, **kwargs)
        for name in grown:
            self.fill_if_needed(delay=NEXT_NOTEBOOK_DELAY_S, notebook_name=name)
        return taken


def follow_the_session(manager: object, room_size: int, notebook_files: Sequence[str]) -> None:
    """Make Voilà's pooling kernel manager ``manager`` (already started) keep its pool for a
    room of ``room_size`` following the notebooks ``notebook_files`` in order."""
    base = type(manager)
    manager.__class__ = type(f"SessionPool{base.__name__}", (SessionPool, base), {})
    manager.start_following(room_size, notebook_files)
