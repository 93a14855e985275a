"""When the report runner's kernel client calls a kernel ready (issue 14): a kernel_info reply
on the shell channel *and* a message delivered on its newly connected IOPub channel, asked
again every few milliseconds rather than jupyter_client's 0.2 s (which cost every notebook
0.2 s of idle). The rule is driven with stand-in channels, then against a real kernel."""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

import pytest

from ftcost_helpers.report.execute import KernelSettings, prompt_client_class, start_kernel, stop_kernel


class Channel:
    """A stand-in channel: hands out the queued messages, then raises queue.Empty."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        if not self.messages:
            raise queue.Empty
        return self.messages.pop(0)


def stand_in_client(iopub_silent_for: int, alive: bool = True) -> Any:
    """A client whose kernel answers every kernel_info at once but whose IOPub subscription
    delivers nothing for the first ``iopub_silent_for`` requests (the slow joiner)."""

    class StandIn(prompt_client_class()):  # type: ignore[misc]
        shell_channel = Channel()
        iopub_channel = Channel()

        def __init__(self) -> None:
            self.requests: list[str] = []
            self.handled: list[dict[str, Any]] = []

        def kernel_info(self) -> str:
            msg_id = f"info-{len(self.requests)}"
            self.requests.append(msg_id)
            self.shell_channel.messages.append({"parent_header": {"msg_id": "stale"}})  # another request's
            self.shell_channel.messages.append({"parent_header": {"msg_id": msg_id}, "msg_type": "kernel_info_reply"})
            if len(self.requests) > iopub_silent_for:
                self.iopub_channel.messages.append({"msg_type": "status"})
            return msg_id

        def is_alive(self) -> bool:
            return alive

        def _handle_kernel_info_reply(self, msg: dict[str, Any]) -> None:
            self.handled.append(msg)

    return StandIn()


def test_ready_waits_until_iopub_delivers_asking_again_each_time() -> None:
    client = stand_in_client(iopub_silent_for=3)
    client.wait_for_ready(timeout=10)
    # requests 1-3 get a reply but nothing on IOPub; the 4th's status message arrives
    assert client.requests == ["info-0", "info-1", "info-2", "info-3"]
    assert [m["parent_header"]["msg_id"] for m in client.handled] == ["info-3"]  # its own reply, not a stale one


def test_ready_at_the_first_reply_when_iopub_is_already_live() -> None:
    client = stand_in_client(iopub_silent_for=0)
    client.wait_for_ready(timeout=10)
    assert client.requests == ["info-0"]


def test_a_dead_kernel_is_an_error_not_a_wait() -> None:
    client = stand_in_client(iopub_silent_for=10**9, alive=False)
    with pytest.raises(RuntimeError, match="died"):
        client.wait_for_ready(timeout=60)
    assert len(client.requests) == 1


def test_a_kernel_whose_iopub_never_delivers_times_out() -> None:
    client = stand_in_client(iopub_silent_for=10**9)
    with pytest.raises(RuntimeError, match=r"didn't respond in 0.3 seconds"):
        client.wait_for_ready(timeout=0.3)
    assert len(client.requests) > 1  # asked again, not once


def test_papermill_gets_the_prompt_client_and_a_live_iopub_from_a_real_kernel(tmp_path: Path) -> None:
    """The manager start_kernel returns makes prompt clients (nbclient calls ``km.client()``);
    once one says ready, the output of code run next reaches its IOPub channel."""
    km = start_kernel(KernelSettings(cwd=tmp_path))
    try:
        client = km.client()
        assert isinstance(client, prompt_client_class())
        client.start_channels()
        try:
            client.wait_for_ready(timeout=30)
            msg_id = client.execute("print('ready and heard')")
            texts = []
            while "ready and heard\n" not in texts:
                msg = client.get_iopub_msg(timeout=30)
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                    texts.append(msg["content"]["text"])
        finally:
            client.stop_channels()
    finally:
        stop_kernel(km)
