"""Which binds and Host headers count as this machine only (open mode's two address checks)."""

from __future__ import annotations

import socket

import pytest

from convostore.server.context import addressed_to_loopback, binds_only_loopback


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),  # resolved: every address it has here is loopback
        ("", False),  # binds every interface
        ("0.0.0.0", False),
        ("::", False),
        ("[::]", False),
        ("192.0.2.1", False),
        ("no-such-host.invalid", False),  # unresolvable: never assumed safe
    ],
)
def test_binds_only_loopback(host: str, expected: bool) -> None:
    assert binds_only_loopback(host) is expected


def test_a_name_is_loopback_only_if_every_address_is(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(name: str, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        addresses = {"mixed.test": ["127.0.0.1", "192.0.2.7"], "lo.test": ["127.0.0.1", "::1"]}
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in addresses[name]]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert binds_only_loopback("lo.test") is True
    assert binds_only_loopback("mixed.test") is False


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LocalHost",
        "localhost:8080",
        "localhost:",
        "127.0.0.1",
        "127.0.0.1:8080",
        "127.255.0.3:1",
        "[::1]",
        "[::1]:8080",
        " localhost:8080 ",
    ],
)
def test_loopback_host_headers(host: str) -> None:
    assert addressed_to_loopback(host) is True


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        "evil.example",
        "evil.example:8080",
        "localhost.evil.example",
        "127.0.0.1.evil.example",
        "localhost.",  # not resolved, so only the exact names count
        "sub.localhost",
        "127.1",
        "0127.0.0.1",
        "0.0.0.0:8080",
        "10.0.0.1",
        "::1",  # IPv6 in a Host header is bracketed
        "[::1",
        "[::1]x",
        "[::2]:8080",
        "[::ffff:127.0.0.1]",
        "localhost:80x",
        "localhost:8080:1",
        "localhost:\uff18\uff10",  # fullwidth digits
    ],
)
def test_other_host_headers(host: str | None) -> None:
    assert addressed_to_loopback(host) is False
