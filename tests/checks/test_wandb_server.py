"""A W&B server out of reach: found in seconds by a TCP probe, and the run switches to
offline mode with one warning. Only loopback addresses are ever contacted here."""

from __future__ import annotations

import logging
import os
import socket
import time

from macformer.training.wandb_run import offline_unless_reachable, server_unreachable


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_closed_port_is_unreachable_at_once():
    started = time.monotonic()
    assert server_unreachable(f"http://127.0.0.1:{closed_port()}") == "Connection refused"
    assert time.monotonic() - started < 3.5  # the probe's bound, whatever the network does


def test_a_listening_server_is_reachable():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert server_unreachable(f"http://127.0.0.1:{server.getsockname()[1]}") is None


def test_a_url_without_a_host_says_so():
    assert server_unreachable("not a url") == "WANDB_BASE_URL='not a url' names no host"


def test_online_mode_falls_back_to_offline_with_one_warning(monkeypatch, caplog, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("WANDB_BASE_URL", url)
    with caplog.at_level(logging.WARNING):
        assert offline_unless_reachable(tmp_path / "wandb") is True
    assert os.environ["WANDB_MODE"] == "offline"
    assert [r.getMessage() for r in caplog.records] == [
        f"W&B server {url} cannot be reached (Connection refused); logging offline under "
        f"{tmp_path / 'wandb'} instead: upload it later with `wandb sync {tmp_path / 'wandb'}/offline-run-*`"]
    assert offline_unless_reachable(tmp_path / "wandb") is False  # offline now: no second probe


def test_offline_mode_never_probes(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:1")
    assert offline_unless_reachable("anywhere") is False
