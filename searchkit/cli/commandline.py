"""How the command line is read and how its failures are written: one line, or JSON under --json.

Click writes a usage error as four lines (``Usage:``, ``Try …``, a blank line, ``Error: …``) and reads
any word starting with "-" as an option, so ``searchkit query "-an nêu gương"`` failed with
``No such option: -a``. The group here writes every failure as one line on stderr, or, when the
command was given ``--json``, as the JSON API's ``{"error", "code", "status"}`` on stdout, with the
same exit status either way; the query command takes a "-" word that is no option of its as TEXT.

Each command lives in a module of its own, imported only when that command runs (or when the help lists
them all), so that ``searchkit query`` loads neither the build path nor the web server.
"""

from __future__ import annotations

import gc
import importlib
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import click

from searchkit.cli.terminal import escaped, json_text
from searchkit.errors import IndexBusyError, QueryError, SearchkitError

# The JSON API's statuses (searchkit/webapp/failures.py): 400 for what the asker can change, 503 when the
# index cannot answer. A usage error is the asker's too.
BAD_REQUEST, UNAVAILABLE = 400, 503
# Exit statuses (README): 2 for a bad query or usage, 3 when another build holds the index, 1 otherwise.
EXIT_USAGE, EXIT_BUSY, EXIT_FAILED = 2, 3, 1


# Raised for a bare "searchkit" since click 8.2 (whose help it shows); before, the help was printed and exited 0.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class Failure(click.ClickException):
    """A failure of a command with the code and status its JSON error reports."""

    def __init__(self, message: str, *, code: str, status: int, exit_code: int):
        super().__init__(message)
        self.code, self.status, self.exit_code = code, status, exit_code


def failure(exc: SearchkitError, message: str) -> Failure:
    """The library's error ``exc``, written as ``message``, with the code, status and exit status it gets."""
    if isinstance(exc, QueryError):
        return Failure(message, code=exc.code, status=BAD_REQUEST, exit_code=EXIT_USAGE)
    exit_code = EXIT_BUSY if isinstance(exc, IndexBusyError) else EXIT_FAILED
    return Failure(message, code=exc.code, status=UNAVAILABLE, exit_code=exit_code)


@contextmanager
def errors() -> Iterator[None]:
    """Turns the library's errors into failures with their code: one-line messages (JSON under --json)
    and exit codes: 2 for a bad query, 3 for an index another build holds, 1 otherwise
    (IndexDamagedError included: its message says to rebuild). Messages name paths, so they are
    escaped too."""
    try:
        yield
    except SearchkitError as exc:
        raise failure(exc, escaped(exc)) from None


def error_code(exc: click.ClickException) -> str:
    """``no_such_option``, ``bad_parameter``, ``missing_parameter``…: click's exception class, as a code."""
    if isinstance(exc, Failure):
        return exc.code
    if not isinstance(exc, click.UsageError):
        return "error"
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
    return name.removesuffix("_error") or "usage"


def error_status(exc: click.ClickException) -> int:
    """The HTTP status the JSON API gives such an error: 400 for a usage error, 503 for one of click's own
    others (a file it cannot open)."""
    if isinstance(exc, Failure):
        return exc.status
    return BAD_REQUEST if isinstance(exc, click.UsageError) else UNAVAILABLE


class Group(click.Group):
    """The ``searchkit`` group: its commands' failures on one line, or as JSON under ``--json``.

    ``lazy_commands`` names each command's ``module:attribute``, imported when the command is looked up
    (Click's documented "lazily loading subcommands").
    """

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **extra: Any):
        super().__init__(*args, **extra)
        self.lazy_commands = dict(lazy_commands or {})
        self._starting = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module, _, name = self.lazy_commands[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list]:
        found = super().resolve_command(ctx, args)
        if self._starting:  # the command's modules are loaded: they stay, and need no collecting
            self._starting = False
            gc.freeze()
            gc.enable()
        return found

    def main(self, args: Sequence[str] | None = None, *positional: Any, standalone_mode: bool = True, **extra: Any):
        # A process of its own (the arguments are its own): no garbage collection while the command's modules are
        # imported, each collection going through every object loaded so far again (3 % of a cold query's
        # instructions); they are frozen out of later collections once the command is found.
        self._starting = args is None and gc.isenabled()
        if self._starting:
            gc.disable()
        if not standalone_mode:
            return super().main(args, *positional, standalone_mode=False, **extra)
        given = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(given, *positional, standalone_mode=False, **extra)
        except click.ClickException as exc:
            self._show(exc, given)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(EXIT_FAILED)
        sys.exit(code if isinstance(code, int) else 0)

    def _show(self, exc: click.ClickException, given: list[str]) -> None:
        if isinstance(exc, _NO_ARGS_IS_HELP):  # "searchkit" alone: click's help, as click shows it
            exc.show()
            return
        message = escaped(exc.format_message())
        if self._wants_json(given):
            data = {"error": message, "code": error_code(exc), "status": error_status(exc)}
            click.echo(json_text(data))
            return
        if isinstance(exc, click.UsageError):
            command = self._command(given)
            path = exc.ctx.command_path if exc.ctx is not None else " ".join(filter(None, ["searchkit", command]))
            message += f" (see '{path} --help')"
        click.echo(f"Error: {message}", err=True)

    def _command(self, given: list[str]) -> str | None:
        """The name of the command the command line runs (its first word naming one)."""
        return next((word for word in given if word in self.commands or word in self.lazy_commands), None)

    def _wants_json(self, given: list[str]) -> bool:
        """Whether the command line names a command that takes --json, and gives it before any "--"."""
        words = given[: given.index("--")] if "--" in given else given
        name = self._command(given)
        command = self.get_command(None, name) if name else None
        takes_json = command is not None and any("--json" in param.opts for param in command.params)
        return takes_json and "--json" in words


class TextCommand(click.Command):
    """A command whose TEXT argument may start with "-" (``-an nêu gương`` leaves out "an"): a word
    that starts with one "-" and is no option of the command is taken as TEXT when it cannot be
    mistaken for a mistyped short option: it holds more than one letter, a space, a digit or a
    letter outside ASCII. ``-x`` and every unknown ``--long`` option are still refused (a typo of
    ``--limit`` must not become a query); ``--`` before TEXT takes anything."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._text_last(ctx, args))

    def _text_last(self, ctx: click.Context, args: list[str]) -> list[str]:
        """``args`` with the "-" words that are TEXT moved after a "--", where click takes them as TEXT."""
        takes_value: set[str] = set()
        options: set[str] = set()
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                options.update(param.opts + param.secondary_opts)
                if not (param.is_flag or param.count):
                    takes_value.update(param.opts)
        kept: list[str] = []
        texts: list[str] = []
        position = 0
        while position < len(args):
            word = args[position]
            if word == "--":
                return [*kept, "--", *texts, *args[position + 1 :]] if texts else args
            if word in takes_value:  # its value is the next word, whatever it starts with
                kept.extend(args[position : position + 2])
                position += 2
                continue
            (texts if _is_text(word, options) else kept).append(word)
            position += 1
        return [*kept, "--", *texts] if texts else args


def _is_text(word: str, options: set[str]) -> bool:
    if not word.startswith("-") or word.startswith("--") or len(word) < 2:
        return False
    if word in options or word.split("=", 1)[0] in options:
        return False
    rest = word[1:]
    return len(rest) > 1 or not rest.isascii() or not rest.isalpha()
