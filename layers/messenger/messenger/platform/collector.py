"""The garbage collector around a function's init (decision 64).

An init builds some 50,000-80,000 objects that live as long as the execution environment
(modules, classes, pydantic schemas). The collector's passes over them took 15-60 ms of each
cold start, and some first calls paid a full pass of 20-30 ms. In Lambda (AWS_LAMBDA_FUNCTION_NAME
set, as by the local gateway's workers too), importing the `messenger` package holds the
collector (`hold`); the end of the function's module ends the init (`end_init`: the HTTP and
Kafka entrypoints call it), which freezes what the init built and turns the collector back on.
"""

from __future__ import annotations

import gc
import os

_holding = False


def hold() -> None:
    """Stop the collector for the init, in a Lambda execution environment only."""
    global _holding
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and gc.isenabled() and not _holding:
        gc.disable()
        _holding = True


def end_init() -> None:
    """The init is over: what it built moves to the collector's permanent generation (never
    scanned again; SnapStart's snapshot holds it anyway) and the collector runs again.

    Does nothing when the collector was not held (outside Lambda, or called twice)."""
    global _holding
    if _holding:
        _holding = False
        gc.freeze()
        gc.enable()
