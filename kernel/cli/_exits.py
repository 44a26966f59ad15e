"""How a ``reelgraph`` command ends: its exit status, and one line on stderr when it fails.

Exit statuses (also in ``reelgraph run --help`` and docs/kernel.md):

===  ===========================================================================
0    the run succeeded (or the command did what it was asked)
1    a node failed (or an unexpected error: its traceback is printed, redacted)
2    bad input: a spec, an input, an argument or an answer is wrong
3    a quality gate failed (``failed_quality``); the outputs are kept to inspect
4    the budget would be exceeded (``over_budget``); resume with a larger one
5    another live process holds the run (or took it over from this one)
6    a storage fault: a full disk, a read-only or missing folder, a broken store
7    the run needs input (``needs_input``): answer with ``reelgraph answer``
130  cancelled (Ctrl-C, SIGTERM); continue with ``reelgraph resume``
===  ===========================================================================
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_BUDGET",
    "EXIT_CANCELLED",
    "EXIT_FAILED",
    "EXIT_LEASED",
    "EXIT_NEEDS_INPUT",
    "EXIT_QUALITY",
    "EXIT_STORAGE",
    "fail",
    "fail_with",
    "spec_error_text",
    "stderr",
    "storage_exit",
]

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_QUALITY = 3
EXIT_BUDGET = 4
#: the run is being executed by another live process (or was taken over from this one)
EXIT_LEASED = 5
#: a disk is full, a folder read-only or missing, the run store broken or busy
EXIT_STORAGE = 6
#: a node asked clarifying questions: `reelgraph answer RUN_ID -a KEY=ANSWER` resumes
EXIT_NEEDS_INPUT = 7
#: Ctrl-C or SIGTERM (128 + SIGINT, as shells report it)
EXIT_CANCELLED = 130


class _Options:
    #: --debug: print tracebacks of errors that are otherwise one line
    debug = False


options = _Options()


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``error: MESSAGE`` (redacted) on stderr and exit with ``code``."""
    from reelgraph.observe.secrets import redact

    if options.debug and sys.exc_info()[0] is not None:
        import traceback

        sys.stderr.write(redact(traceback.format_exc()))
    from rich.markup import escape

    # escaped: a message may hold brackets, e.g. pip install 'reelgraph[piper]'
    stderr().print(f"[bold red]error:[/] {escape(redact(message))}", soft_wrap=True)
    raise typer.Exit(code)


def fail_with(err: Exception) -> NoReturn:
    """One line for ``err``: exit 6 for a storage fault, else 2 (bad input)."""
    from reelgraph.store.faults import storage_fault

    fault = storage_fault(err)
    if fault is not None:
        storage_exit(fault)
    fail(str(err))


def storage_exit(fault: Any, run_id: str | None = None) -> NoReturn:
    """One line for a storage fault, and how to continue; exit 6."""
    message = str(fault)
    if run_id and fault.resumable:
        message += f"; then continue with: reelgraph resume {run_id}"
    fail(message, EXIT_STORAGE)


def spec_error_text(err: Any) -> str:
    """A :class:`~reelgraph.errors.SpecError`'s one problem alone, or the whole list."""
    if len(err.problems) == 1:
        return str(err.problems[0])
    return str(err)
