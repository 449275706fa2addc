"""What the CLI layer (depinrev/cli.py, each package's commands.py) shares: consoles that print
text as it is, one-line error answers, and a progress display with counts and rates.

Imports nothing of the product and rich only when a console or a progress display is made, so
`depinrev --help` stays quick.
"""

from __future__ import annotations

import sys
import time
from functools import cache
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as RichProgress


@cache
def out() -> Console:
    """stdout. Markup off: names, paths and messages are printed as they are (a regex in an
    error such as `^[a-z0-9][a-z0-9-]*$` is not a style tag). Piped output (CI logs,
    `make demo | tee`) gets a wide page instead of rich's 80 columns."""
    from rich.console import Console

    return Console(markup=False, width=None if sys.stdout.isatty() else 200)


@cache
def err() -> Console:
    """stderr, markup off like `out()`."""
    from rich.console import Console

    return Console(stderr=True, markup=False, highlight=False)


def one_line(text: str) -> str:
    """A message on one line: a multi-line one (pydantic's list of problems) joined by '; '."""
    lines = [ln.strip().removeprefix("- ") for ln in text.splitlines()]
    return "; ".join(ln for ln in lines if ln) or "(no message)"


def say_error(message: str) -> None:
    """`error: <message>` as one line on stderr, red on a terminal, never read as markup."""
    import typer

    typer.secho("error:", fg="red", bold=True, err=True, nl=False)
    typer.echo(" " + one_line(message), err=True)


class Progress:
    """Counts and rates of a long step, one task per `what` (a network's chain, a build stage).

    On a terminal: a transient rich bar per task on stderr, `done/total unit` and `unit/s`.
    Otherwise (CI logs, pipes): a plain line on stderr when a task starts, every `every`
    seconds while it runs and when it completes, so logs show progress without bar redraws.
    """

    def __init__(self, unit: str, *, every: float = 5.0, tty: bool | None = None) -> None:
        self.unit = unit
        self.every = every
        self.tty = sys.stderr.isatty() if tty is None else tty
        self._rich: RichProgress | None = None
        self._tasks: dict[str, int] = {}
        self._started: dict[str, float] = {}
        self._last_line: dict[str, float] = {}
        self._units: dict[str, str] = {}
        self._seen: dict[str, tuple[int, int]] = {}
        self._shown: dict[str, tuple[int, int]] = {}

    def __enter__(self) -> Progress:
        if self.tty:
            self._rich = _rich_progress(self.unit)
            self._rich.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._rich is not None:
            self._rich.__exit__(exc_type, exc, tb)
            return
        for what, state in self._seen.items():  # where each task ended, if not shown yet
            if self._shown.get(what) != state:
                self._print(what, *state)

    def update(self, what: str, done: int, total: int, unit: str | None = None) -> None:
        """`done` of `total` (0: unknown) `unit`s of the task `what` (the display's unit if
        None; a task keeps the unit it started with)."""
        now = time.monotonic()
        first = what not in self._started
        if first:
            self._started[what] = now
            self._units[what] = unit or self.unit
        self._seen[what] = (done, total)
        if self._rich is not None:
            if first:
                self._tasks[what] = self._rich.add_task(
                    what, total=total or None, unit=self._units[what])
            self._rich.update(self._tasks[what], completed=done, total=total or None)
            return
        if self._shown.get(what) == (done, total):
            return  # nothing new to say (a poll that found the same counts)
        finished = total > 0 and done >= total
        if first or finished or now - self._last_line.get(what, now) >= self.every:
            self._print(what, done, total)

    def _print(self, what: str, done: int, total: int) -> None:
        now = time.monotonic()
        self._last_line[what] = now
        self._shown[what] = (done, total)
        print(self.line(what, done, total, now - self._started[what], self._units[what]),
              file=sys.stderr, flush=True)

    @staticmethod
    def line(what: str, done: int, total: int, seconds: float, unit: str) -> str:
        count = f"{done}/{total}" if total else str(done)
        rate = f", {done / seconds:,.1f} {unit}/s" if seconds >= 1 and done else ""
        return f"{what}: {count} {unit}{rate}, {seconds:.1f} s"


def _rich_progress(unit: str) -> RichProgress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Items per second since the task started (rich's own speed column is for bytes)."""

        def render(self, task: Task) -> Text:
            elapsed = task.elapsed or 0.0
            per = task.fields.get("unit", unit)
            if not elapsed or not task.completed:
                return Text(f"- {per}/s")
            return Text(f"{task.completed / elapsed:,.1f} {per}/s")

    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}", markup=False),
        RateColumn(),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
    )
