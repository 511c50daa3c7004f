"""The hand-off between the event loop and a pool of threads, alone: CPU and wall time per
call when `--callers` coroutines each await, one after the other, a call that does nothing
on a pool of 32 threads — through `loop.run_in_executor` on a `ThreadPoolExecutor` (how
the main road and the express lane handed requests over before) and through `LoopThreads`
(how they do now, server/loop_threads.py). uvloop, as `messagecenter serve` runs.
Medians of `--rounds` alternating rounds (docs/benchmarks.md, "Sends: the lane's threads
answer into the event loop").

    .venv/bin/python bench/loop_handoff.py --calls 20000 --rounds 5
"""

import argparse
import asyncio
import contextvars
import functools
import statistics
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvloop

from messagecenter.server.loop_threads import LoopThreads

THREADS = 32

type Run = Callable[[Callable[[], Any]], Awaitable[Any]]


def _nothing(number: int) -> int:
    return number


async def _timed(make_run: Callable[[], Run], calls: int, callers: int) -> tuple[float, float]:
    run = make_run()

    async def caller(count: int) -> None:
        for number in range(count):
            # As the lane and the main road hand a call over: in a copy of the context.
            context = contextvars.copy_context()
            await run(functools.partial(context.run, _nothing, number))

    each = calls // callers
    await asyncio.gather(*(caller(10) for _ in range(callers)))  # threads started
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(caller(each) for _ in range(callers)))
    done = each * callers
    return (
        (time.process_time() - cpu) / done * 1e6,
        (time.perf_counter() - wall) / done * 1e6,
    )


def _executor() -> Run:
    executor = ThreadPoolExecutor(THREADS)
    loop = asyncio.get_running_loop()
    return lambda call: loop.run_in_executor(executor, call)


def _loop_threads() -> Run:
    return LoopThreads(THREADS, name="bench").run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sides: dict[str, Callable[[], Run]] = {
        "run_in_executor (ThreadPoolExecutor)": _executor,
        "LoopThreads": _loop_threads,
    }
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, make_run in sides.items():
            figures[name].append(uvloop.run(_timed(make_run, args.calls, args.callers)))
    for name, rounds in figures.items():
        cpu = statistics.median(each for each, _ in rounds)
        wall = statistics.median(each for _, each in rounds)
        shown = ", ".join(f"{each:.1f}" for each, _ in rounds)
        print(f"{name}: CPU {cpu:.1f} µs a call (rounds: {shown}), wall {wall:.1f} µs")


if __name__ == "__main__":
    main()
