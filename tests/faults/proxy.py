"""A TCP fault proxy on 127.0.0.1: put it between a client and a server, then break the link.

``FaultProxy(target_port).start()`` listens on a free port of its own and forwards every
connection to the target. ``set(fault, amount)`` changes what it does, at once, for the
connections already open and for new ones; ``clear()`` goes back to passing bytes:

- ``PASS``: forward both ways.
- ``REFUSE``: stop listening, so new connections are refused (ECONNREFUSED); open ones are
  reset. ``clear()`` listens again on the same port.
- ``RESET``: a connection that forwards ``amount`` more bytes (both ways together, counted
  from the switch, or from its start when it is newer) is reset: RST to both ends
  (``SO_LINGER`` 0).
- ``CUT``: the same, with a clean close (FIN) instead of a reset.
- ``STALL``: forward nothing and close nothing; connections (new ones too) hang.
- ``THROTTLE``: forward at most ``amount`` bytes per second, each connection.
- ``HTTP_503``: answer new connections with a minimal ``503 Service Unavailable`` and close
  them; open ones are closed cleanly at the switch, so an HTTP client's pooled connections
  come back for a 503 too (for HTTP targets only).

Each connection is one thread that owns both its sockets and looks at the fault between
reads (``select`` with a short tick), so no socket is ever closed under another thread.
Counters (connections, bytes, what each fault did) let tests prove a fault was hit.
"""
from __future__ import annotations

import enum
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import contextlib

TICK = 0.05  # seconds between looks at the fault while a connection waits
CHUNK = 64 * 1024
RESPONSE_503 = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 20\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
                b"fault proxy: 503\r\n\r\n")
DRAIN_SECONDS = 2.0  # how long a 503 answer waits for the client to hang up first


class Fault(enum.Enum):
    PASS = "pass"
    REFUSE = "refuse"
    RESET = "reset"
    CUT = "cut"
    STALL = "stall"
    THROTTLE = "throttle"
    HTTP_503 = "http_503"


@dataclass
class Counters:
    connections: int = 0  # accepted, 503 answers included
    bytes_up: int = 0  # client -> target
    bytes_down: int = 0  # target -> client
    resets: int = 0  # connections reset (RESET, and open ones at REFUSE)
    cuts: int = 0  # connections closed cleanly (CUT, and open ones at HTTP_503)
    answered_503: int = 0
    stalled: int = 0  # connections that had bytes held back by STALL
    throttled: int = 0  # bytes forwarded under THROTTLE


class FaultProxy:
    """Forwards 127.0.0.1:``port`` to ``target_host``:``target_port``; see the module doc."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = "127.0.0.1"
        self.port = 0
        self.counters = Counters()
        self.fault = Fault.PASS
        self.amount = 0
        self.generation = 0  # bumped at every switch: connections restart their count
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._closing = False
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FaultProxy:
        self._listen()
        return self

    def set(self, fault: Fault, amount: int = 0) -> None:
        """Switch to ``fault`` now (``amount``: bytes for RESET and CUT, bytes per second for
        THROTTLE)."""
        if fault in (Fault.RESET, Fault.CUT, Fault.THROTTLE) and amount <= 0:
            raise ValueError(f"{fault.value} needs a positive amount")
        with self._lock:
            self.fault, self.amount = fault, amount
            self.generation += 1
            accepting, listening = self._accepting, self._listener is not None
            if fault is Fault.REFUSE:
                self._listener = None  # the accept thread closes it and ends
        if fault is Fault.REFUSE and accepting is not None:
            accepting.join()  # closed now: the next connect is refused
        elif fault is not Fault.REFUSE and not listening and not self._closing:
            self._listen()

    def clear(self) -> None:
        self.set(Fault.PASS)

    def close(self) -> None:
        with self._lock:
            self._closing = True
            self.generation += 1
            self._listener = None
            threads = list(self._threads)
        for thread in threads:
            thread.join(10)

    # -- listening ----------------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:  # the same port again after REFUSE: clients keep their address
            listener.bind((self.host, self.port))
        except OSError as exc:
            listener.close()
            raise RuntimeError(f"the fault proxy cannot listen on port {self.port} again: "
                               f"{exc}") from None
        listener.listen(64)
        listener.settimeout(TICK)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        self._accepting = self._spawn(self._accept, listener)

    def _spawn(self, target: Callable[..., None], *args: object) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True,
                                  name=f"fault-proxy-{self.port}")
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return thread

    def _accept(self, listener: socket.socket) -> None:
        with listener:  # closed here, by the thread that waits on it
            while True:
                with self._lock:
                    if self._listener is not listener:
                        return
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                self._take(client)

    def _take(self, client: socket.socket) -> None:
        client.settimeout(None)
        with self._lock:
            self.counters.connections += 1
            answer_503 = self.fault is Fault.HTTP_503
        self._spawn(self._answer_503 if answer_503 else self._forward, client)

    def _answer_503(self, client: socket.socket) -> None:
        with client:
            try:
                client.settimeout(DRAIN_SECONDS)
                client.recv(CHUNK)  # the request line and headers, at least
                client.sendall(RESPONSE_503)
                client.shutdown(socket.SHUT_WR)
                deadline = time.monotonic() + DRAIN_SECONDS
                while time.monotonic() < deadline and client.recv(CHUNK):
                    pass  # read the rest of a body, so the close sends no RST
            except OSError:
                pass  # the client gave up first: it saw the answer or a closed socket
        with self._lock:
            self.counters.answered_503 += 1

    # -- forwarding ---------------------------------------------------------------------------

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            _reset(client)  # the target is down: the client sees its connection drop
            return
        upstream.settimeout(None)
        with client, upstream:
            _Link(self, client, upstream).run()

    def state(self) -> tuple[Fault, int, int, bool]:
        with self._lock:
            return self.fault, self.amount, self.generation, self._closing

    def count(self, **added: int) -> None:
        with self._lock:
            for name, value in added.items():
                setattr(self.counters, name, getattr(self.counters, name) + value)


class _Link:
    """One proxied connection: both directions, in one thread."""

    def __init__(self, proxy: FaultProxy, client: socket.socket,
                 upstream: socket.socket) -> None:
        self.proxy = proxy
        self.peers = {client: upstream, upstream: client}
        self.client = client
        self.open = {client, upstream}  # sockets whose reading side is still open
        self.generation = -1
        self.passed = 0  # bytes forwarded since the fault last changed
        self.stalled = False

    def run(self) -> None:
        while self.open:
            fault, amount, generation, closing = self.proxy.state()
            if closing:
                return
            if generation != self.generation:
                self.generation, self.passed = generation, 0
                if fault is Fault.REFUSE:
                    self._end(reset=True)
                    return
                if fault is Fault.HTTP_503:
                    self._end(reset=False)
                    return
            if fault is Fault.STALL:
                if not self.stalled:
                    self.stalled = True
                    self.proxy.count(stalled=1)
                time.sleep(TICK)
                continue
            readable, _, _ = select.select(list(self.open), [], [], TICK)
            for sock in readable:
                if not self._pump(sock, fault, amount):
                    return

    def _pump(self, sock: socket.socket, fault: Fault, amount: int) -> bool:
        """Forward what ``sock`` has; False once the link is ended."""
        size = CHUNK
        if fault in (Fault.RESET, Fault.CUT):
            size = min(size, amount - self.passed)
        elif fault is Fault.THROTTLE:
            size = max(1, min(size, int(amount * TICK)))
        if size <= 0:  # the budget is spent: this is where the fault strikes
            self._end(reset=fault is Fault.RESET)
            return False
        try:
            data = sock.recv(size)
        except OSError:
            self._end(reset=True)  # one end reset: pass it on
            return False
        peer = self.peers[sock]
        if not data:  # a clean half-close: pass it on, keep the other way going
            self.open.discard(sock)
            with contextlib.suppress(OSError):
                peer.shutdown(socket.SHUT_WR)
            return True
        try:
            peer.sendall(data)
        except OSError:
            self._end(reset=True)
            return False
        self.passed += len(data)
        direction = "bytes_up" if sock is self.client else "bytes_down"
        self.proxy.count(**{direction: len(data)},
                         throttled=len(data) if fault is Fault.THROTTLE else 0)
        if fault is Fault.THROTTLE:
            time.sleep(len(data) / amount)
        return True

    def _end(self, reset: bool) -> None:
        for sock in self.peers:
            if reset:
                _reset(sock)
            else:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self.proxy.count(**({"resets": 1} if reset else {"cuts": 1}))
        self.open.clear()


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN: linger on, zero seconds."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


ProxyFactory = Callable[[int], FaultProxy]


@pytest.fixture
def fault_proxy() -> Iterator[ProxyFactory]:
    """``fault_proxy(target_port)``: a started proxy to 127.0.0.1:target_port, closed at
    teardown."""
    made: list[FaultProxy] = []

    def make(target_port: int) -> FaultProxy:
        proxy = FaultProxy(target_port).start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()
