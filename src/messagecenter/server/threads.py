"""Django's WSGI handler on a pool of threads, under `messagecenter serve` (asgi.py,
decision 0006), with one hand-off each way for an ordinary request.

a2wsgi's responder crosses between the event loop and the request's thread for every piece
of an exchange and waits each time: each read of the body, the response's start, each chunk
and the end — four or five round trips for a JSON call, and each needs the event loop's
thread to get the interpreter lock from the request threads at work. Here:

- a body with a Content-Length of at most PREREAD_BYTES (every JSON call, every form) is
  read in the event loop before the request goes to its thread, and handed on in memory;
- a response that is not streaming (Django's HttpResponse holds its whole content already)
  is sent from the event loop once the thread is done with it.

A larger or chunked body is read from the thread as before (a2wsgi's `Body`; the
`ChunkedBodies` wrapper reads chunked ones whole), and a streaming response (an attachment,
an export: `StreamingHttpResponse`, `FileResponse`) goes out chunk by chunk as it is made,
each chunk sent before the next is asked for. WebSocket and lifespan scopes are a2wsgi's.
"""

import asyncio
import contextvars
import functools
import io
from collections.abc import Iterable
from typing import Any

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import Body, build_environ
from a2wsgi.wsgi_typing import Environ, WSGIApp

from messagecenter.server.loop_threads import LoopThreads

# Far above a JSON call or a form; below an attachment, which is read as it comes.
PREREAD_BYTES = 256 * 1024

Message = dict[str, Any]


class DjangoInThreads(WSGIMiddleware):
    """An ASGI application: `app` (a WSGI application) on `workers` threads
    (`LoopThreads`, which answer straight into the event loop: server/loop_threads.py);
    WebSocket and lifespan scopes are a2wsgi's, which never start its executor's threads."""

    def __init__(self, app: WSGIApp, workers: int) -> None:
        super().__init__(app, workers=workers)
        self.threads = LoopThreads(workers, name="web")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        exchange = _Exchange(self.app, loop, send)
        environ = build_environ(scope, await _body(scope, receive, loop))
        context = contextvars.copy_context()
        held = await self.threads.run(functools.partial(context.run, exchange.run, environ))
        for message in held:
            await send(message)


async def _body(scope: Any, receive: Any, loop: asyncio.AbstractEventLoop) -> Any:
    """The request body as the WSGI application reads it: in memory when small and of a
    known length, read now; otherwise read from the thread as the application asks."""
    headers = dict(scope.get("headers", ()))
    length = headers.get(b"content-length", b"")
    if length.isdigit() and int(length) <= PREREAD_BYTES and b"transfer-encoding" not in headers:
        return io.BytesIO(await read_whole_body(receive))
    return Body(loop, receive)


async def read_whole_body(receive: Any) -> bytes:
    """A small body of a known length, read in the event loop (also the express lane's)."""
    data = bytearray()
    while True:
        message = await receive()
        data += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(data)


def asgi_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """WSGI's or Django's (name, value) header pairs as an ASGI response start gives them."""
    return [
        (name.strip().encode("latin1").lower(), value.strip().encode("latin1"))
        for name, value in headers
    ]


class _Exchange:
    """One request in its thread: `run` answers with the messages left for the event loop
    to send (all of them, unless the response was streamed from the thread)."""

    def __init__(self, app: WSGIApp, loop: asyncio.AbstractEventLoop, send: Any) -> None:
        self.app = app
        self.loop = loop
        self.asgi_send = send
        self.held: list[Message] = []
        self.started = False

    def run(self, environ: Environ) -> list[Message]:
        chunks: Iterable[bytes] = self.app(environ, self.start_response)
        try:
            if _is_whole(chunks):
                body = b"".join(chunks)
                return [*self.held, {"type": "http.response.body", "body": body}]
            for chunk in chunks:
                if chunk:
                    self.write(chunk)
            # A generator may call start_response only when first asked for a chunk.
            self.release()
            self.send_now({"type": "http.response.body", "body": b""})
            return []
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        if self.started:
            # PEP 3333: called again with the error that stopped the application. Once the
            # start is sent it re-raises; while it is held, the new one replaces it.
            if not exc_info:
                raise RuntimeError("start_response was called twice")
            if not self.held:
                raise exc_info[1].with_traceback(exc_info[2])
            self.held.clear()
        self.started = True
        self.held.append(
            {
                "type": "http.response.start",
                "status": int(status.split(" ", 1)[0]),
                "headers": asgi_headers(headers),
            }
        )
        return self.write

    def write(self, chunk: bytes) -> None:
        """A chunk of a streaming response, sent now (also WSGI's legacy write())."""
        self.release()
        self.send_now({"type": "http.response.body", "body": chunk, "more_body": True})

    def release(self) -> None:
        """Send what was held (the response's start), from here on as it comes."""
        held, self.held = self.held, []
        for message in held:
            self.send_now(message)

    def send_now(self, message: Message) -> None:
        asyncio.run_coroutine_threadsafe(self.asgi_send(message), self.loop).result()


def _is_whole(chunks: Iterable[bytes]) -> bool:
    """Django says whether its response streams; a list (an answer built by a wrapper,
    such as ChunkedBodies' 413) is whole; anything else is taken as streaming."""
    streaming = getattr(chunks, "streaming", None)
    if streaming is not None:
        return not streaming
    return isinstance(chunks, list | tuple)
