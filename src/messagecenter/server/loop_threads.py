"""A pool of threads for calls the event loop awaits: the main road's requests
(server/threads.py, WEB_THREADS) and the express lane's sends (server/express.py,
SEND_THREADS).

`loop.run_in_executor` on a `ThreadPoolExecutor` takes a call through more steps than the
hand-off needs: it checks that the callable is no coroutine function (through
`functools.partial`, by unwrapping it), the executor takes an idle-thread semaphore and a
lock on each submit and makes a `concurrent.futures.Future`, and that future is chained to
an asyncio one whose state is copied across, under their locks, when the call ends. Here
a call goes on a queue with the asyncio future it settles, and the thread that ran it sets
the result (or the exception) on that future through `loop.call_soon_threadsafe` — one
hand-off each way. With 32 callers each awaiting a call that does nothing (uvloop),
≈ 65 µs of CPU a call through the executor and ≈ 26 µs here (`bench/loop_handoff.py`;
docs/benchmarks.md, "Sends: the lane's threads answer into the event loop").

The threads start together at the first call (so in each server process, after uvicorn
has started it) and live as long as the process (daemon threads); a process forked after
its pool's first call would have none of them. A request in flight when the process is
told to stop is awaited by uvicorn's graceful shutdown (`timeout_graceful_shutdown`,
serve.py); one still running after that ends with the process, unanswered — its answer
could no longer be sent — and what it had not committed is not stored (a send's client
tries again with its idempotency key).
"""

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

# What a thread takes from the queue: the loop awaiting, the future it awaits, the call.
type _Call = tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Callable[[], Any]]


class LoopThreads:
    def __init__(self, size: int, name: str) -> None:
        if size < 1:
            raise ValueError("A pool needs at least one thread.")
        self.size = size
        self.name = name
        self._calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._starting = threading.Lock()

    def run[T](self, call: Callable[[], T]) -> "asyncio.Future[T]":
        """`call()` on one of the pool's threads; awaited in the running event loop, the
        future gives its result or raises its exception. Cancelling the future does not
        stop the call (as with an executor): its outcome is then dropped."""
        if not self._threads:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, future, call))
        return future

    def _start(self) -> None:
        with self._starting:
            if self._threads:
                return
            threads = [
                threading.Thread(target=self._answer, name=f"{self.name}_{number}", daemon=True)
                for number in range(self.size)
            ]
            for thread in threads:
                thread.start()
            self._threads = threads

    def _answer(self) -> None:
        take = self._calls.get
        while True:
            # In a function of its own: nothing of a call stays referenced while the
            # thread waits for the next.
            _answer_one(*take())


def _answer_one(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], call: Callable[[], Any]
) -> None:
    try:
        result = call()
    except BaseException as error:  # noqa: BLE001 (the awaiting request raises it)
        _settle_threadsafe(loop, _fail, future, error)
    else:
        _settle_threadsafe(loop, _succeed, future, result)


def _settle_threadsafe(
    loop: asyncio.AbstractEventLoop,
    settle: Callable[[asyncio.Future[Any], Any], None],
    future: asyncio.Future[Any],
    outcome: Any,
) -> None:
    # RuntimeError: the loop has closed (the process is stopping), nobody awaits it.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle, future, outcome)


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
