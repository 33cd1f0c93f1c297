"""The HTTP transport: a server that dies mid-answer is no answer, as Twilio sees it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from ivr.harness.transport import HttpTransport, TransportError


@pytest.fixture
def half_answering_server() -> Iterator[str]:
    """A server that promises 515 bytes of body and closes after the headers, as a worker
    killed by SIGKILL in the middle of its answer leaves the connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer_once() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 515\r\n\r\n<Resp"
            )
            # End the answer with a clean FIN, then read whatever the client still sends:
            # closing with unread bytes would reset the connection instead.
            connection.shutdown(socket.SHUT_WR)
            while connection.recv(65536):
                pass

    thread = threading.Thread(target=answer_once, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/voice"
    thread.join(timeout=5)
    listener.close()


def test_an_answer_cut_short_is_a_transport_error(half_answering_server: str) -> None:
    with pytest.raises(TransportError, match="no complete answer"):
        HttpTransport(timeout=5).send("POST", half_answering_server, {"CallSid": "CA1"}, {})
