"""Timing helper shared by the benchmark scripts (each prints ratios measured in one run)."""

import time


def timed(fn, *args, **kwargs):
    """Call ``fn(*args, **kwargs)``; return its result and the wall time in seconds."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start
