"""A server's first sends after it starts (docs/benchmarks.md, "A server process warmed
before its first request").

    DATABASE_URL=... .venv/bin/python bench/first_request.py --tokens FILE --rounds 3

Each round starts `messagecenter serve --workers N` on a free loopback port (the code first
on PYTHONPATH, as bench/run.py's server), waits until the port accepts connections, then
sends --sends messages one after another, each on a new connection and as a different
bench sender (so each starts its seller's wait, as a new question does), and prints how
long the port took to accept and each send's time (request written → answer read), then
kills the server. With two processes, connections are spread over them: the first send
each process gets pays for whatever it had not loaded yet.
"""

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

# Run as a script: the repository's root, for the bench package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.limits import LIFTED_SEND_LIMITS
from bench.run import free_port

_SERVE = (sys.executable, "-m", "messagecenter", "serve")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sends", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--first-sender", type=int, default=0, help="the dataset's first")
    args = parser.parse_args()
    senders = json.loads(args.tokens.read_text())["senders"]
    if args.first_sender + args.rounds * args.sends > len(senders):
        parser.error(f"the dataset has {len(senders)} senders: fewer rounds or sends")
    environment = {**os.environ, "LOG_LEVEL": "WARNING", **LIFTED_SEND_LIMITS}
    number = args.first_sender
    for _ in range(args.rounds):
        port = free_port()
        started = time.perf_counter()
        server = subprocess.Popen(
            [*_SERVE, "--port", str(port), "--workers", str(args.workers)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_until_accepting(port)
            accepting = time.perf_counter() - started
            times = []
            for _ in range(args.sends):
                times.append(_send(port, senders[number]))
                number += 1
        finally:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        print(
            f"accepting after {accepting:.2f} s; sends (ms): "
            + ", ".join(f"{ms:.0f}" for ms in times)
        )


def _wait_until_accepting(port: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"the server did not accept connections within {timeout} s")


def _send(port: int, sender: dict[str, object]) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = json.dumps({"body": f"First sends {time.time_ns()}: any news about the delivery?"})
    began = time.perf_counter()
    connection.request(
        "POST",
        f"/api/v1/conversations/{sender['conversation_id']}/messages",
        body,
        {
            "Authorization": f"Bearer {sender['token']}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"first-{time.time_ns()}",
        },
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 201:
        raise SystemExit(f"a send answered {response.status}")
    return (time.perf_counter() - began) * 1000


if __name__ == "__main__":
    main()
