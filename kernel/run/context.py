"""The context every hook call receives as ``ctx``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Journal", "MemoryJournal", "NodeContext", "ProgressCallback", "Usage"]

#: ``(node_id, item_index, completed, total, message)``
ProgressCallback = Callable[[str, "int | None", float, "float | None", "str | None"], None]


def _no_progress(*_: Any) -> None:
    return None


class MemoryJournal:
    """Journal entries of an ephemeral run (no run store): kept in memory."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, int | None, str], str] = {}

    def journal_get(self, run_id: str, node_id: str, item: int | None, key: str) -> str | None:
        return self._entries.get((run_id, node_id, item, key))

    def journal_put(
        self, run_id: str, node_id: str, item: int | None, key: str, value: str
    ) -> None:
        self._entries[(run_id, node_id, item, key)] = value


class Journal:
    """Durable notes a hook keeps about remote work, so a resumed run does not repeat it.

    Record a remote task id *before* polling it; after a crash, the resumed
    node finds the id and polls the task it already paid for instead of
    submitting again::

        task_id = ctx.journal.get("task_id")
        if task_id is None:
            task_id = client.submit(prompt)
            ctx.journal.record("task_id", task_id)
        return client.wait(task_id)

    Entries belong to one run, node and map item. With a run store they are
    committed to SQLite before ``record`` returns; without one (an ephemeral
    run) they live in memory for the run.
    """

    __slots__ = ("_store", "_run_id", "_node_id", "_item")

    def __init__(self, store: Any, run_id: str, node_id: str, item_index: int | None) -> None:
        self._store = store
        self._run_id = run_id
        self._node_id = node_id
        self._item = item_index

    def get(self, key: str) -> str | None:
        """The value recorded under ``key`` by this node (in this or an earlier attempt)."""
        return self._store.journal_get(self._run_id, self._node_id, self._item, key)

    def record(self, key: str, value: str) -> None:
        """Record ``value`` under ``key``; durable when this returns."""
        if not isinstance(value, str):
            raise TypeError(f"journal values are strings, got {type(value).__name__}")
        self._store.journal_put(self._run_id, self._node_id, self._item, key, value)


class Usage:
    """Cost and model usage one hook call reported through its context.

    Attributes:
        cost_usd: US dollars spent.
        operation, provider_name, model: ``gen_ai.operation.name``,
            ``gen_ai.provider.name`` and ``gen_ai.request.model`` of the
            OpenTelemetry GenAI semantic conventions.
        input_tokens, output_tokens: token counts, summed over calls.
        details: free-text notes attached to costs.
    """

    __slots__ = (
        "cost_usd",
        "operation",
        "provider_name",
        "model",
        "input_tokens",
        "output_tokens",
        "details",
    )

    def __init__(self) -> None:
        self.cost_usd = 0.0
        self.operation: str | None = None
        self.provider_name: str | None = None
        self.model: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.details: list[str] = []


class NodeContext:
    """What a hook implementation gets from the kernel for one call.

    Attributes:
        run_id: the run's id.
        node_id: the spec node being executed.
        hook: the hook name.
        provider: the pinned provider, or ``None`` when any implementation may
            answer.
        attempt: 1 for the first attempt, 2 for the first retry, ...
        item_index: the position of the map item, or ``None`` for a node
            without ``map``.
        run_dir: the run's working directory.

    A context is cheap to create: the logger and the working directory are
    made on first use.
    """

    __slots__ = (
        "run_id",
        "node_id",
        "hook",
        "provider",
        "attempt",
        "item_index",
        "run_dir",
        "_log",
        "_workdir",
        "_progress",
        "_store",
        "_journal",
        "_usage",
        "_cancelled",
        "_publish",
    )

    def __init__(
        self,
        *,
        run_id: str,
        node_id: str,
        hook: str,
        provider: str | None,
        run_dir: Path,
        attempt: int = 1,
        item_index: int | None = None,
        progress: ProgressCallback | None = None,
        store: Any = None,
    ) -> None:
        self.run_id = run_id
        self.node_id = node_id
        self.hook = hook
        self.provider = provider
        self.attempt = attempt
        self.item_index = item_index
        self.run_dir = run_dir
        self._log: Any = None
        self._workdir: Path | None = None
        self._progress = progress or _no_progress
        self._store = store
        self._journal: Journal | None = None
        self._usage: Usage | None = None
        self._cancelled = False
        #: the ``publish_asset`` hook (set by the scheduler when a plugin implements it)
        self._publish: Callable[..., str | None] | None = None

    @classmethod
    def _for_call(
        cls,
        run_id: str,
        node_id: str,
        hook: str,
        provider: str | None,
        run_dir: Path,
        attempt: int,
        item_index: int | None,
        progress: ProgressCallback,
        store: Any,
    ) -> NodeContext:
        """The scheduler's constructor: positional, no defaults to fill (a third of
        ``__init__``'s cost, which matters at a few microseconds per node)."""
        self = object.__new__(cls)
        self.run_id = run_id
        self.node_id = node_id
        self.hook = hook
        self.provider = provider
        self.attempt = attempt
        self.item_index = item_index
        self.run_dir = run_dir
        self._log = None
        self._workdir = None
        self._progress = progress
        self._store = store
        self._journal = None
        self._usage = None
        self._cancelled = False
        self._publish = None
        return self

    @property
    def cancelled(self) -> bool:
        """True once the kernel gave up on this attempt (its ``timeout_s`` passed, or the
        run was cancelled).

        An ``async def`` hook is cancelled by the kernel itself. A ``def`` hook
        runs in a worker thread that Python cannot stop from outside: check
        this between steps of long work (and stop a child process you
        started) so a timed-out attempt does not keep running.
        """
        return self._cancelled

    def report_cost(self, usd: float, *, detail: str = "") -> None:
        """Report money this call spent, in US dollars (a vendor's price for a clip).

        Costs are added up per node and per run, stored with the run, checked
        against the spec's ``budget.max_cost_usd`` and set on the attempt's
        span as ``reelgraph.cost_usd``. Report a cost once it is incurred
        (after the vendor accepted the job), not before.

        Raises:
            ValueError: ``usd`` is negative or not a finite number.
        """
        if not (usd >= 0 and usd != float("inf")):
            raise ValueError(f"cost must be a finite number of US dollars >= 0, got {usd!r}")
        usage = self.usage
        usage.cost_usd += float(usd)
        if detail:
            usage.details.append(detail)

    def report_usage(
        self,
        *,
        operation: str | None = None,
        provider_name: str | None = None,
        model: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost_usd: float | None = None,
    ) -> None:
        """Report a generative-AI call (an LLM or a video model) made by this hook.

        The values go on the attempt's span under the OpenTelemetry GenAI
        semantic conventions (``gen_ai.operation.name``,
        ``gen_ai.provider.name``, ``gen_ai.request.model``,
        ``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``); tokens
        add up over several calls. ``cost_usd`` is passed to
        :meth:`report_cost`.
        """
        usage = self.usage
        if operation is not None:
            usage.operation = operation
        if provider_name is not None:
            usage.provider_name = provider_name
        if model is not None:
            usage.model = model
        if input_tokens is not None:
            usage.input_tokens = (usage.input_tokens or 0) + int(input_tokens)
        if output_tokens is not None:
            usage.output_tokens = (usage.output_tokens or 0) + int(output_tokens)
        if cost_usd is not None:
            self.report_cost(cost_usd)

    def publish_asset(
        self, path: Path | str, *, content_type: str | None = None, expires_s: float = 3600.0
    ) -> str | None:
        """Put a local file where a remote vendor can fetch it; its URL, or ``None``.

        Asks the ``publish_asset`` hook (e.g. the ``s3_assets`` provider with
        ``REELGRAPH_ASSET_URL=s3://bucket/prefix``: a presigned GET URL).
        ``None`` means no publisher is configured: go without (say so in the
        log). ``content_type`` is guessed from the file name when not given;
        ``expires_s`` is how long the URL must stay readable, in seconds.

        Raises:
            ConfigurationError, TransientError: the publisher is configured but
                failed (its message names the setting to fix).
        """
        if self._publish is None:
            return None
        if content_type is None:
            import mimetypes

            content_type = mimetypes.guess_type(str(path))[0] or "application/octet-stream"
        return self._publish(path=Path(path), content_type=content_type, expires_s=expires_s)

    @property
    def usage(self) -> Usage:
        """What this call reported so far (cost, tokens, model)."""
        if self._usage is None:
            self._usage = Usage()
        return self._usage

    @property
    def journal(self) -> Journal:
        """This call's :class:`Journal` for idempotent remote submissions."""
        if self._store is None:
            self._store = MemoryJournal()
        if self._journal is None:
            self._journal = Journal(self._store, self.run_id, self.node_id, self.item_index)
        return self._journal

    @property
    def log(self) -> Any:
        """A structlog logger bound to run, node, hook, provider and attempt.

        It uses the application's structlog configuration, with
        :func:`reelgraph.observe.secrets.redact_processor` before the renderer.
        """
        if self._log is None:
            import structlog

            from reelgraph.observe.secrets import with_redaction

            # the application's structlog set-up, with secrets redacted before rendering
            processors = with_redaction(structlog.get_config()["processors"])
            self._log = structlog.wrap_logger(
                None, processors=processors, logger_factory_args=("reelgraph.node",)
            ).bind(
                run_id=self.run_id,
                node_id=self.node_id,
                hook=self.hook,
                provider=self.provider,
                attempt=self.attempt,
                item_index=self.item_index,
            )
        return self._log

    @property
    def workdir(self) -> Path:
        """A directory for this call's files (created on first use).

        ``<run_dir>/<node_id>`` for a plain node, ``<run_dir>/<node_id>/<item_index>``
        for a map item. Files written here live as long as the run's directory.
        """
        if self._workdir is None:
            path = self.run_dir / self.node_id
            if self.item_index is not None:
                path = path / str(self.item_index)
            path.mkdir(parents=True, exist_ok=True)
            self._workdir = path
        return self._workdir

    def progress(
        self, completed: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Report progress of long work (``completed`` out of ``total`` units).

        Shown as a progress bar by the CLI and stored as a ``node.progress`` event.
        """
        self._progress(self.node_id, self.item_index, completed, total, message)

    @classmethod
    def for_testing(
        cls, workdir: Path, *, node_id: str = "test", hook: str = "test"
    ) -> NodeContext:
        """A context for calling a hook implementation directly in a test."""
        return cls(run_id="test-run", node_id=node_id, hook=hook, provider=None, run_dir=workdir)
