"""Running the Message Center: the `serve`, `worker` and `run` commands, the worker's
periodic scheduler, the Server-Timing middleware and the liveness endpoint
(docs/architecture.md#processes)."""
