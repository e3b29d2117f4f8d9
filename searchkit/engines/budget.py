"""The time a query may take: one deadline, checked by the searcher and by either engine between steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from time import thread_time

from searchkit.errors import QueryError


@dataclass(frozen=True)
class Deadline:
    """When a query must be done by and the budget it was given, in the thread's CPU time.

    CPU time, not wall time: a query waiting for the interpreter while other requests of a busy
    server run is not charged for the wait, so load alone never turns ordinary queries away.
    ``clock`` reads that time (a test gives one it moves itself).
    """

    at: float
    seconds: float
    clock: Callable[[], float] = field(default=thread_time, repr=False, compare=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] | None = None) -> Deadline:
        clock = clock or thread_time
        return cls(clock() + seconds, seconds, clock)

    def check(self) -> None:
        if self.clock() > self.at:
            raise QueryError(
                f"the query took too long (more than {self.seconds:g} s); make it narrower",
                code="query_timeout",
                limit=self.seconds,
            )


def check(deadline: Deadline | None) -> None:
    """Stops a query past ``deadline`` (none: no limit) with a ``query_timeout`` :class:`QueryError`."""
    if deadline is not None:
        deadline.check()
