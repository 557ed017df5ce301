"""The messenger backend's shared code: a package per bounded context, plus shared plumbing.

Shipped to Lambda as the `messenger` layer; installed editable in development.

In a Lambda execution environment (AWS_LAMBDA_FUNCTION_NAME set, as by the local gateway's
workers too), importing this package holds the cyclic garbage collector until the function's
init ends (`end_init`: the entrypoints call it). An init builds some 50,000-80,000 objects that
live as long as the process (modules, classes, pydantic schemas); the collector's passes over
them took 15-60 ms of each cold start, and some first calls paid a full pass of 20-30 ms
(decision 64).
"""

from __future__ import annotations

import gc as _gc
import os as _os

_holding = bool(_os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and _gc.isenabled()
if _holding:
    _gc.disable()


def end_init() -> None:
    """The init is over: what it built moves to the collector's permanent generation (never
    scanned again; SnapStart's snapshot holds it anyway) and the collector runs again.

    Does nothing when the collector was not held here (outside Lambda, or called twice)."""
    global _holding
    if _holding:
        _holding = False
        _gc.freeze()
        _gc.enable()
