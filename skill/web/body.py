"""Reading a request body whole, with a size limit and a deadline.

Werkzeug stops reading a chunked body at ``MAX_CONTENT_LENGTH`` without an error, and a client
that sends half a body and stalls would hold the request for as long as the server lets it.
:func:`read_body` counts the bytes it reads (a chunked body past the limit is refused, not cut)
and gives up after ``timeout`` seconds. Under gevent (the production server) the deadline
interrupts a read that is waiting on the socket; elsewhere (Flask's development server, the test
client) it is checked between reads.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import IO, Any

#: Bytes asked of the stream per read.
CHUNK_BYTES = 64 * 1024


class BodyError(Exception):
    """The body could not be read; ``str()`` is a short public reason."""


class BodyTooLarge(BodyError):
    """The body is larger than the limit (declared, or counted while reading)."""


class BodyTimeout(BodyError):
    """The whole body did not arrive before the deadline."""


class BodyUnreadable(BodyError):
    """The client sent a body the server could not read (bad framing, cut off)."""


def _declared_length(environ: Mapping[str, Any]) -> int | None:
    raw = environ.get("CONTENT_LENGTH")
    if raw is None or raw == "":
        return None
    try:
        length = int(raw)
    except ValueError:
        raise BodyUnreadable("the Content-Length header is not a number") from None
    if length < 0:
        raise BodyUnreadable("the Content-Length header is negative")
    return length


def _socket_deadline(timeout: float) -> Any:
    """A gevent timeout when gevent patched the sockets (its worker does), else ``None``."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("socket"):
        return None
    import gevent

    return gevent.Timeout(timeout, BodyTimeout("the request body did not arrive in time"))


@contextmanager
def _reads_mapped() -> Iterator[None]:
    """Whatever the server raises while reading (framing errors, a reset) is unreadable."""
    try:
        yield
    except BodyError:
        raise
    except Exception as exc:  # gunicorn's parse errors, NoMoreData, OSError, ...
        raise BodyUnreadable(f"the request body could not be read ({type(exc).__name__})") from None


def read_body(environ: Mapping[str, Any], *, max_bytes: int, timeout: float) -> bytes:
    """The request body; raises :class:`BodyTooLarge`, :class:`BodyTimeout` or
    :class:`BodyUnreadable`.

    A body with neither ``Content-Length`` nor a server that frames it
    (``wsgi.input_terminated``, set for chunked bodies) is empty, as WSGI says.
    """
    length = _declared_length(environ)
    if length is not None and length > max_bytes:
        raise BodyTooLarge(f"the body is larger than {max_bytes} bytes")
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""
    stream: IO[bytes] = environ["wsgi.input"]
    # A chunked body is read one byte past the limit: that byte is how we know it is too large.
    wanted = length if length is not None else max_bytes + 1
    deadline = time.monotonic() + timeout
    gevent_deadline = _socket_deadline(timeout)
    with gevent_deadline if gevent_deadline is not None else nullcontext(), _reads_mapped():
        data = _read_up_to(stream, wanted, deadline)
    if len(data) > max_bytes:
        raise BodyTooLarge(f"the body is larger than {max_bytes} bytes")
    if length is not None and len(data) < length:
        raise BodyUnreadable("the body ended before its Content-Length")
    return data


def _read_up_to(stream: IO[bytes], wanted: int, deadline: float) -> bytes:
    parts: list[bytes] = []
    received = 0
    while received < wanted:
        chunk = stream.read(min(CHUNK_BYTES, wanted - received))
        if not chunk:
            break
        parts.append(chunk)
        received += len(chunk)
        # Without gevent a read that waits is not interrupted, but a slow drip still ends here.
        if time.monotonic() > deadline:
            raise BodyTimeout("the request body did not arrive in time")
    return b"".join(parts)
