"""A TCP proxy on loopback in front of a real server, that loses answers when told to.

``lose(...)`` arms it for the next request whose request line matches a pattern: the request goes
through to the server, which runs it and answers, and the proxy then throws the answer away,
either resetting the client's connection (what a crash after the commit looks like to a client)
or answering ``502`` itself (a proxy whose upstream went away); ``then`` runs in between (kill the
server, say). ``refuse(...)`` answers a status of its own without passing the request on at all.
While the server is down the proxy answers ``502``, as a reverse proxy does. Everything else passes
through untouched. One thread per direction per connection; daemon threads, closed with ``close``.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["LossyProxy"]

How = Literal["reset", "502"]


_BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass
class _Rule:
    pattern: re.Pattern[bytes]
    how: How | int  # lose the answer (reset or 502), or refuse with this status
    then: Callable[[], None] | None = None
    done: threading.Event = field(default_factory=threading.Event)


class LossyProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def lose(
        self, pattern: str, how: How, *, then: Callable[[], None] | None = None
    ) -> threading.Event:
        """Lose the answer to the next request whose request line matches ``pattern`` (a regular
        expression matched at its start: ``"POST /api/v1/models"``), calling ``then`` once the
        server has answered; the event is set once the answer was lost."""
        return self._arm(_Rule(re.compile(pattern.encode()), how, then))

    def refuse(self, pattern: str, status: int) -> threading.Event:
        """Answer the next request matching ``pattern`` with ``status``, not passing it on."""
        return self._arm(_Rule(re.compile(pattern.encode()), status))

    def _arm(self, rule: _Rule) -> threading.Event:
        with self._lock:
            self._rules.append(rule)
        return rule.done

    def _take(self, chunk: bytes) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.pattern.match(chunk):
                    self._rules.remove(rule)
                    return rule
        return None

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                threading.Thread(target=_bad_gateway, args=(client,), daemon=True).start()
                continue
            pending: list[_Rule] = []
            for pump, args in (
                (self._upward, (client, server, pending)),
                (self._downward, (server, client, pending)),
            ):
                threading.Thread(target=pump, args=args, daemon=True).start()

    def _upward(self, client: socket.socket, server: socket.socket, pending: list[_Rule]) -> None:
        """Client → server; notes which request's answer is to be lost."""
        try:
            while chunk := client.recv(65536):
                rule = self._take(chunk)
                if rule is not None and isinstance(rule.how, int):
                    # Closed after: the rest of the request (its body) must not reach the server.
                    client.sendall(
                        f"HTTP/1.1 {rule.how} Refused\r\nContent-Length: 0\r\n"
                        "Connection: close\r\n\r\n".encode()
                    )
                    rule.done.set()
                    return
                if rule is not None:
                    pending.append(rule)
                server.sendall(chunk)
        except OSError:
            pass
        finally:
            _close(server)

    def _downward(self, server: socket.socket, client: socket.socket, pending: list[_Rule]) -> None:
        """Server → client; the answer to a marked request is thrown away."""
        try:
            while chunk := server.recv(65536):
                if pending:
                    rule = pending.pop()
                    if rule.then is not None:
                        rule.then()
                    if rule.how == "502":
                        client.sendall(_BAD_GATEWAY)
                        _close(client)
                    else:
                        _reset(client)
                    rule.done.set()
                    return
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            _close(client)
            _close(server)


def _bad_gateway(client: socket.socket) -> None:
    """What a reverse proxy answers while its server is down."""
    try:
        client.recv(65536)
        client.sendall(_BAD_GATEWAY)
    except OSError:
        pass
    _close(client)


def _reset(sock: socket.socket) -> None:
    """Close with an RST, as a crashed peer's kernel would (SHUT_RD sends nothing; it wakes the
    thread reading from ``sock``)."""
    try:
        sock.shutdown(socket.SHUT_RD)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    _close(sock)


def _close(sock: socket.socket) -> None:
    """Close ``sock``, waking the thread reading from it."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
