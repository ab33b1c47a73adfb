"""Figures rendered while the tables are written, a share of them in forked worker processes.

:func:`figure_renderer` schedules the figures of a report: it estimates what the
tables will cost this process (:data:`TABLE_CELL_COST`) and shares the figures
among this process and forked workers (:class:`FigureRenderer`) so that all end
together; :func:`write_figure_files` writes each figure's PNG and PDF once all are
rendered. The files do not depend on the number of workers.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from analysis.errors import SiSurveyError
from analysis.report._figure_style import figure_bytes
from analysis.utils.forking import (
    RemoteTraceback,
    die_with_parent,
    fork_available,
    pack_exception,
    unpack_exception,
)

__all__ = [
    "FIGURE_FORMATS",
    "FigureRenderer",
    "default_workers",
    "figure_cost",
    "figure_renderer",
    "split_by_cost",
    "write_figure_files",
]

#: The files of each figure: a 300 dpi PNG and a PDF.
FIGURE_FORMATS = ("png", "pdf")

#: Cost of writing the tables, per table cell, in :func:`figure_cost` units (roughly
#: 10 ms of CPU): rendering and results CSVs, then each format.
TABLE_CELL_COST = {"": 0.012, "docx": 0.04, "xlsx": 0.02, "html": 0.001, "md": 0.001, "tex": 0.001}


def figure_cost(fig: Figure) -> float:
    """Rough relative cost of rendering a figure (PNG and PDF): it grows with the texts and ticks.

    Used to share figures among processes (:class:`FigureRenderer`); one unit is
    roughly 10 ms of CPU. Cheap: the artists are not searched recursively.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.report import regional_bars
    >>> small = regional_bars(pd.DataFrame({"region": ["A"], "value": [1]}))
    >>> big = regional_bars(pd.DataFrame({"region": list("ABCDEFGHIJ"), "value": range(10)}))
    >>> figure_cost(big) > figure_cost(small)
    True
    """
    axes = sum(len(ax.texts) + len(ax.get_xticks()) + len(ax.get_yticks()) for ax in fig.axes)
    return 20.0 + axes + sum(len(legend.texts) for legend in fig.legends)


def split_by_cost(costs: Sequence[float], bins: int, head_start: float = 0.0) -> list[list[int]]:
    """Share items among ``bins``, the costliest first, each to the least loaded bin.

    Bin 0 starts with ``head_start`` (the other work of the process that takes it).
    Deterministic: ties go to the lower bin, items of equal cost in input order.

    Examples
    --------
    >>> split_by_cost([5, 1, 4, 2], 2)
    [[0, 1], [2, 3]]
    >>> split_by_cost([5, 1, 4, 2], 2, head_start=10)
    [[1], [0, 2, 3]]
    """
    load = [float(head_start)] + [0.0] * (max(1, bins) - 1)
    share: list[list[int]] = [[] for _ in load]
    for i in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        k = min(range(len(load)), key=lambda b: (load[b], b))
        share[k].append(i)
        load[k] += costs[i]
    return share


def default_workers() -> int:
    """Processes for :class:`FigureRenderer`: the usable CPUs (at most 4), 1 without ``fork``.

    Also 1 inside a Jupyter kernel (a forked kernel process would share its sockets).

    Examples
    --------
    >>> 1 <= default_workers() <= 4
    True
    """
    if not fork_available():
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


class FigureRenderer:
    """Render figures to bytes (:func:`figure_bytes`), a share of them in forked worker processes.

    The figures are shared among ``workers`` processes by :func:`figure_cost`
    (:func:`split_by_cost`); this process takes the first share, with
    ``head_start`` units of other work it does meanwhile. :meth:`start` forks one
    worker per other share; a worker only renders and sends the bytes back through
    a pipe, it writes no file. :meth:`finish` renders this process's share, waits
    for the workers and returns the bytes of every figure, in order. An exception
    in a worker is raised again here (its traceback as the cause); a worker that
    dies is an error too. Leaving the ``with`` block stops the workers still
    running; a worker is also killed if this process dies.

    The bytes do not depend on the number of workers: each figure is rendered once,
    from its state at the fork.

    Parameters
    ----------
    figures : sequence of matplotlib.figure.Figure
    formats : sequence of str, default ("png", "pdf")
    dpi : int, default 300
    png_compress_level : int, optional
    names : sequence of str, optional
        The figures' names, for error messages.
    workers : int, optional
        Processes in all, this one included; default :func:`default_workers`.
        1: everything here, no fork.
    head_start : float, default 0
        Cost (in :func:`figure_cost` units) of the other work this process does
        between :meth:`start` and :meth:`finish`.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.report import regional_bars
    >>> figs = [regional_bars(pd.DataFrame({"region": ["A"], "value": [v]})) for v in (1, 2, 3)]
    >>> with FigureRenderer(figs, workers=2) as renderer:
    ...     data = renderer.finish()
    >>> [len(d) for d in data], data[2] == figure_bytes(figs[2])
    ([2, 2, 2], True)
    """

    def __init__(
        self,
        figures: Sequence[Figure],
        formats: Sequence[str] = ("png", "pdf"),
        *,
        dpi: int = 300,
        png_compress_level: int | None = None,
        names: Sequence[str] | None = None,
        workers: int | None = None,
        head_start: float = 0.0,
    ):
        import multiprocessing

        self.figures = list(figures)
        self.names = list(names) if names is not None else [f"figure {i + 1}" for i in range(len(self.figures))]
        self.formats = tuple(formats)
        self.dpi, self.png_compress_level = dpi, png_compress_level
        workers = default_workers() if workers is None else max(1, int(workers))
        if "fork" not in multiprocessing.get_all_start_methods():
            workers = 1
        workers = min(workers, len(self.figures)) or 1
        self.shares = split_by_cost([figure_cost(f) for f in self.figures], workers, head_start)
        self._results: dict[int, list[bytes]] = {}
        self._errors: list[tuple] = []
        self._done: set[int] = set()
        self._workers: list[tuple] = []  # (number, process, connection, thread, share)

    def _render(self, index: int) -> list[bytes]:
        return figure_bytes(self.figures[index], self.formats, dpi=self.dpi,
                            png_compress_level=self.png_compress_level)

    def start(self) -> FigureRenderer:
        """Fork the workers (none when all the figures are this process's share)."""
        import multiprocessing
        import threading

        if self._workers or len(self.shares) < 2:
            return self
        ctx = multiprocessing.get_context("fork")
        # the objects of this process out of the workers' garbage collections: a collection
        # would touch every object and copy the whole (shared, copy-on-write) memory
        gc.freeze()
        try:
            for k, share in enumerate(self.shares[1:], start=1):
                if not share:
                    continue
                receiver, sender = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=self._work, args=(share, sender, os.getpid()),
                                   name=f"si-survey-figures-{k}", daemon=True)
                proc.start()
                sender.close()
                thread = threading.Thread(target=self._receive, args=(k, receiver), daemon=True)
                self._workers.append((k, proc, receiver, thread, share))
        finally:
            gc.unfreeze()
        for worker in self._workers:  # threads only once every worker is forked
            worker[3].start()
        return self

    def _work(self, share: list[int], conn, parent: int) -> None:
        """Body of a worker process: render its share and send the bytes (never raises)."""
        die_with_parent(parent)
        index = None
        try:
            for index in share:
                conn.send(("figure", index, self._render(index)))
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
            with contextlib.suppress(OSError):  # this process's side is gone: nothing to tell
                conn.send(("error", index, *pack_exception(exc)))
        else:
            conn.send(("done",))
        finally:
            conn.close()

    def _receive(self, k: int, conn) -> None:
        """Thread of this process: collect what worker ``k`` sends (so that it never blocks on the pipe)."""
        try:
            while True:
                message = conn.recv()
                if message[0] == "figure":
                    self._results[message[1]] = message[2]
                elif message[0] == "done":
                    self._done.add(k)
                    return
                else:
                    self._errors.append(message)
                    return
        except (EOFError, OSError):
            return

    def _raise_worker_error(self) -> None:
        _, index, text, payload, summary = self._errors[0]
        where = f"figure '{self.names[index]}'" if index is not None else "a figure"
        exc = unpack_exception(
            text, payload, summary, where=f"rendering {where} in a worker process",
            fallback=lambda s: SiSurveyError(f"{where} could not be rendered (in a worker process): {s}"))
        raise exc from RemoteTraceback(text)

    def finish(self) -> list[list[bytes]]:
        """Render this process's share, wait for the workers; the bytes of every figure, in order."""
        own = self.shares[0] if self._workers else sorted(i for share in self.shares for i in share)
        for index in own:
            if self._errors:
                break
            self._results[index] = self._render(index)
        while not self._errors and any(w[3].is_alive() for w in self._workers):
            next(w for w in self._workers if w[3].is_alive())[3].join(0.05)
        if self._errors:
            self._raise_worker_error()
        for k, proc, _, _, share in self._workers:
            proc.join()
            missing = [self.names[i] for i in share if i not in self._results]
            if k not in self._done or missing:
                raise SiSurveyError(
                    f"a figure worker process stopped (exit code {proc.exitcode}) before sending "
                    f"figure(s) {', '.join(repr(n) for n in missing)}"
                )
        return [self._results[i] for i in range(len(self.figures))]

    def close(self) -> None:
        """Stop the workers still running (after an error here) and release the pipes."""
        for _, proc, conn, thread, _ in self._workers:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
                if proc.is_alive():  # pragma: no cover
                    proc.kill()
                    proc.join()
            thread.join(5)  # the worker is gone: its pipe is at its end
            conn.close()
        self._workers = []

    def __enter__(self) -> FigureRenderer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def figure_renderer(outputs: dict, formats: Sequence[str], workers: int | None) -> FigureRenderer:
    """The figures of ``outputs`` (table id -> TableOutput), rendered while this process writes the tables.

    Shares them between this process and forked workers (:class:`FigureRenderer`);
    this process's share is smaller by the estimated cost of the tables it writes
    meanwhile (``formats``).
    """
    cells = sum(int(t.data.size) for o in outputs.values() for t in o.tables)
    per_cell = TABLE_CELL_COST[""] + sum(TABLE_CELL_COST.get(f, 0.0) for f in formats)
    figures = [(name, fig) for o in outputs.values() for name, fig in o.figures.items()]
    return FigureRenderer([fig for _, fig in figures], FIGURE_FORMATS, dpi=300, png_compress_level=1,
                          names=[name for name, _ in figures], workers=workers, head_start=cells * per_cell)


def write_figure_files(fig, stem: Path, data: Sequence[bytes] | None = None) -> list[Path]:
    """PNG (300 dpi) and PDF without dates, atomically; the PNG with fast zlib compression.

    The figure is laid out once, for the PNG; the PDF reuses that layout
    (:func:`analysis.report.figure_bytes`). ``data``: the PNG and PDF bytes when
    the figure is already rendered (:func:`figure_renderer`).
    """
    from analysis.utils.atomic import atomic_write_bytes

    stem.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = figure_bytes(fig, FIGURE_FORMATS, dpi=300, png_compress_level=1)
    return [atomic_write_bytes(stem.parent / f"{stem.name}.{fmt}", b) for fmt, b in zip(FIGURE_FORMATS, data)]
