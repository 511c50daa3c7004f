"""The pools of the main road and the express lane (messagecenter/server/loop_threads.py):
calls run on a pool's threads, at most its size at once, and each awaiting request gets
its own call's result or exception."""

import asyncio
import threading
import time

import pytest

from messagecenter.server.loop_threads import LoopThreads
from tests.asgi import run_in_own_loop


def test_each_caller_gets_its_own_result_from_a_thread_of_the_pool() -> None:
    pool = LoopThreads(4, name="answering")

    async def main() -> list[tuple[int, str]]:
        def call(number: int) -> tuple[int, str]:
            return number, threading.current_thread().name

        return await asyncio.gather(*(pool.run(lambda n=n: call(n)) for n in range(50)))

    answers = run_in_own_loop(main)

    assert [number for number, _ in answers] == list(range(50))
    assert {name for _, name in answers} <= {f"answering_{n}" for n in range(4)}
    assert threading.main_thread().name not in {name for _, name in answers}


def test_a_call_that_raises_raises_in_its_caller_alone_and_the_thread_goes_on() -> None:
    pool = LoopThreads(1, name="answering")

    def refused() -> None:
        raise PermissionError("not yours")

    async def main() -> tuple[BaseException | str, ...]:
        return tuple(
            await asyncio.gather(
                pool.run(refused), pool.run(lambda: "sent"), return_exceptions=True
            )
        )

    error, sent = run_in_own_loop(main)

    assert isinstance(error, PermissionError)
    assert str(error) == "not yours"
    # The pool's one thread answered the next call.
    assert sent == "sent"


def test_no_more_calls_run_at_once_than_the_pool_has_threads() -> None:
    pool = LoopThreads(3, name="answering")
    running = 0
    most = 0
    counting = threading.Lock()

    def call() -> None:
        nonlocal running, most
        with counting:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with counting:
            running -= 1

    async def main() -> None:
        await asyncio.gather(*(pool.run(call) for _ in range(12)))

    run_in_own_loop(main)

    assert most == 3


def test_a_call_whose_caller_stopped_waiting_is_dropped_and_the_thread_goes_on() -> None:
    pool = LoopThreads(1, name="answering")
    release = threading.Event()

    async def main() -> str:
        slow = pool.run(lambda: release.wait(5))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(slow, 0.05)
        assert slow.cancelled()
        release.set()
        return await asyncio.wait_for(pool.run(lambda: "next"), 5)

    assert run_in_own_loop(main) == "next"


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        LoopThreads(0, name="answering")
