"""A fake executor shared by the sweep tests: the public seam through which they watch the work."""

import pytest


class _LazyFuture:
    def __init__(self, executor, fn, args):
        self.executor, self.fn, self.args = executor, fn, args
        self.cancelled = False

    def result(self):
        return self.executor.run(self.fn, self.args)

    def cancel(self):
        self.cancelled = True
        return True


class CountingExecutor:
    """A duck-typed executor (``submit(fn, *args)``) that runs each task in this process when its
    result is asked for (the sweeps do so in submission order), and records the tasks it ran.

    After ``fail_after`` tasks the next one raises ``KeyboardInterrupt``, as Ctrl-C would.
    """

    def __init__(self, fail_after=None):
        self.fail_after = fail_after
        self.tasks = []

    @property
    def calls(self):
        return len(self.tasks)

    def submit(self, fn, *args):
        return _LazyFuture(self, fn, args)

    def run(self, fn, args):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt
        self.tasks.append(args[0])
        return fn(*args)


@pytest.fixture
def counting():
    """``counting(fail_after=None)`` makes a :class:`CountingExecutor`."""
    return CountingExecutor
