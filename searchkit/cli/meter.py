"""Progress of long work on stderr: a bar on a terminal, a line every few seconds anywhere else.

The rate (and the time left it gives) is measured over the last few seconds, not since the start:
a build's first articles go several times faster than its later ones (Whoosh's segments grow and
merge), so the average since the start promised 150 articles/s and 19 s left a third of the way
through a build that then ran at 61/s. click's bar measures its ETA since the start, so the bar here
shows its own rate and time left instead. Written to a pipe or a file (a CI log, ``2> build.log``),
click's bar prints its label once and nothing until the end; this prints a line every ``interval``
seconds and one at the end.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable
from typing import IO, TypeVar

import click

WINDOW = 10.0
"""Seconds of recent progress the rate is measured over."""
INTERVAL = 5.0
"""Seconds between two progress lines when stderr is no terminal."""

T = TypeVar("T")


class Rate:
    """Units per second over the last ``window`` seconds of ``(seconds, done)`` readings."""

    def __init__(self, window: float = WINDOW):
        self.window = window
        self._readings: deque[tuple[float, int]] = deque()

    def add(self, now: float, done: int) -> None:
        self._readings.append((now, done))
        # Keep one reading at or before the window's start, so the window is always covered whole.
        while len(self._readings) > 2 and now - self._readings[1][0] >= self.window:
            self._readings.popleft()

    def per_second(self) -> float | None:
        if len(self._readings) < 2:
            return None
        (then, before), (now, done) = self._readings[0], self._readings[-1]
        return (done - before) / (now - then) if now > then and done > before else None

    def seconds_left(self, remaining: int) -> float | None:
        rate = self.per_second()
        return remaining / rate if rate else None


def duration(seconds: float) -> str:
    """``19 s``, ``2 min 05 s``, ``1 h 02 min``."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Meter:
    """``meter(done, total)`` as work goes on, ``close()`` at its end (or when it stops)."""

    def __init__(
        self,
        label: str,
        unit: str,
        *,
        one: str | None = None,
        file: IO[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = None,
        terminal: bool | None = None,
    ):
        # ``unit`` counts many (``articles``), ``one`` a single one (``article``): "Indexing 1 article".
        self.label, self.unit, self.one = label, unit, one or unit
        self.file = file if file is not None else sys.stderr
        self.clock = clock
        self.interval = INTERVAL if interval is None else interval
        self.terminal = self.file.isatty() if terminal is None else terminal
        self.rate = Rate()
        self.done = self.total = 0
        self._started: float | None = None
        self._shown = 0.0  # when the last line was printed, and how far the work was then
        self._shown_done = 0
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        self.done, self.total = done, total
        self.rate.add(now, done)
        if self._started is None:
            self._started = self._shown = now
            self._shown_done = done
            if self.terminal:
                self._bar = click.progressbar(
                    length=total,
                    label=self.label,
                    file=self.file,
                    show_pos=True,
                    show_eta=False,
                    item_show_func=lambda _: self.about(),
                )
                self._bar.__enter__()
            else:
                click.echo(f"{self.label} {total} {self.one if total == 1 else self.unit}", file=self.file)
        if self._bar is not None:
            self._bar.update(done - self._bar.pos)
        elif now - self._shown >= self.interval and self._shown_done < done < total:
            self._shown, self._shown_done = now, done
            click.echo(self.line(), file=self.file)

    def about(self) -> str:
        """``61.0 articles/s, 19 s left``: the recent rate and the time it gives for the rest."""
        rate = self.rate.per_second()
        if rate is None:
            return ""
        left = self.rate.seconds_left(self.total - self.done)
        return f"{rate:.1f} {self.unit}/s" + (f", {duration(left)} left" if left and self.done < self.total else "")

    def line(self) -> str:
        share = f" ({100 * self.done // self.total} %)" if self.total else ""
        about = self.about()
        return f"{self.label}: {self.done}/{self.total} {self.unit}{share}" + (f", {about}" if about else "")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        elif self._started is not None and self.total and self.done == self.total:
            took = duration(self.clock() - self._started)
            click.echo(f"{self.label}: {self.done}/{self.total} {self.unit} in {took}", file=self.file)
        self._started = None


def with_progress(
    run: Callable[[Callable[[int, int], None] | None], T],
    *,
    quiet: bool,
    label: str = "Indexing",
    unit: str = "articles",
    one: str = "article",
) -> T:
    """``run(progress)``: long work with its progress on stderr (a bar on a terminal, a line every few
    seconds elsewhere), unless ``quiet``; Ctrl+C ends it with exit status 130 and a line saying so."""
    meter = Meter(label, unit, one=one)
    try:
        return run(None if quiet else meter)
    except KeyboardInterrupt:
        meter.close()
        click.echo("Interrupted: the index keeps its last committed state.", err=True)
        sys.exit(130)
    finally:
        meter.close()
