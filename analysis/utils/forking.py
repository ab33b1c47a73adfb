"""Work in forked processes: children that die with the run, results and errors sent back.

Two users: the pipeline runs the cleaning stage in a child process
(:func:`run_in_child`), and the report renders a share of its figures in forked
workers (:class:`analysis.report._figure_render.FigureRenderer`). Both rely on:

* :func:`die_with_parent`: a forked process is killed when the run dies, so a
  stopped run leaves nothing working;
* :func:`fork_available`: fork only where it is safe (POSIX ``fork``, not from a
  Jupyter kernel, whose sockets a child would share);
* :func:`pack_exception` / :func:`unpack_exception`: an exception raised in a
  child is raised again in the parent, with the child's traceback as its cause.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable

__all__ = [
    "die_with_parent",
    "fork_available",
    "in_jupyter_kernel",
    "RemoteTraceback",
    "pack_exception",
    "unpack_exception",
    "run_in_child",
]


def die_with_parent(parent: int) -> None:
    """In a forked process: be killed (SIGKILL) when the parent dies (Linux ``PR_SET_PDEATHSIG``).

    Exits at once if the parent ``parent`` (its process id) is already gone. Elsewhere
    than on Linux only that check is made.

    Examples
    --------
    In the child, right after ``os.fork()``::

        die_with_parent(parent_pid)
    """
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


def in_jupyter_kernel() -> bool:
    """True inside a Jupyter kernel (a forked kernel process would share its sockets).

    Examples
    --------
    >>> isinstance(in_jupyter_kernel(), bool)
    True
    """
    return "ipykernel" in sys.modules


def fork_available() -> bool:
    """True where processes may be forked: the ``fork`` start method exists, not in a Jupyter kernel.

    Examples
    --------
    >>> isinstance(fork_available(), bool)
    True
    """
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and not in_jupyter_kernel()


class RemoteTraceback(Exception):
    """The traceback of an exception raised in another process (set as ``__cause__``)."""

    def __str__(self) -> str:
        return self.args[0]


def pack_exception(exc: BaseException) -> tuple[str, bytes | None, str]:
    """An exception ready to be sent to the parent: (traceback text, pickle or None, summary).

    The pickle is None when the exception cannot be pickled (or unpickled) as is.

    Examples
    --------
    >>> text, payload, summary = pack_exception(ValueError("bad"))
    >>> summary, payload is not None
    ('ValueError: bad', True)
    """
    import pickle
    import traceback

    text = "".join(traceback.format_exception(exc))
    try:
        payload = pickle.dumps(exc)
        pickle.loads(payload)
    except Exception:  # noqa: BLE001 - not every exception can be sent
        payload = None
    return text, payload, f"{type(exc).__name__}: {exc}"


def unpack_exception(text: str, payload: bytes | None, summary: str, *, where: str,
                     fallback: Callable[[str], BaseException]) -> BaseException:
    """The exception packed by :func:`pack_exception`, to raise ``from RemoteTraceback(text)``.

    The unpickled exception gets the note ``(raised while <where>)``; an exception that
    could not be sent becomes ``fallback(summary)``.

    Examples
    --------
    >>> exc = unpack_exception(*pack_exception(KeyError("k")), where="testing", fallback=RuntimeError)
    >>> type(exc).__name__, exc.__notes__
    ('KeyError', ['(raised while testing)'])
    >>> unpack_exception("tb", None, "Local: boom", where="x", fallback=RuntimeError)
    RuntimeError('Local: boom')
    """
    import pickle

    exc = None
    if payload is not None:
        try:
            exc = pickle.loads(payload)
        except Exception:  # noqa: BLE001
            exc = None
    if exc is None:
        return fallback(summary)
    exc.add_note(f"(raised while {where})")
    return exc


def run_in_child(func: Callable[[Callable[[str], None]], object], progress: Callable[[str], None], *,
                 what: str = "the child process", meanwhile: Callable[[], None] | None = None) -> object:
    """Run ``func(progress)`` in a forked child process and return its (picklable) result.

    The child's progress messages are relayed to ``progress``; an exception raised in
    the child is raised again here. A child that dies without answering (killed, out of
    memory) gives a :class:`~analysis.errors.SiSurveyError` naming ``what``. The child is
    killed if this process dies, so a stopped run leaves nothing running. ``meanwhile``
    runs in a thread of this process while the child works (and is over on return).

    Examples
    --------
    ::

        out = run_in_child(lambda say: say("step") or 42, print, what="the demo")  # prints "step"
    """
    import multiprocessing.connection as mpc
    import pickle

    parent_id = os.getpid()
    reader, writer = mpc.Pipe(duplex=False)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            reader.close()
            die_with_parent(parent_id)
            out = func(lambda m: writer.send(("progress", m)))
            writer.send(("ok", out))
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
            code = 1
            try:
                pickle.dumps(exc)
                writer.send(("error", exc))
            except Exception:  # noqa: BLE001 - an exception that cannot be pickled
                writer.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
                writer.close()
            finally:
                os._exit(code)
    writer.close()
    thread = None
    if meanwhile is not None:  # the child's progress is relayed as it comes
        thread = threading.Thread(target=meanwhile, daemon=True)
        thread.start()
    try:
        while True:
            try:
                kind, payload = reader.recv()
            except EOFError:
                _, status = os.waitpid(pid, 0)
                pid = 0
                why = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                       else f"exit status {os.WEXITSTATUS(status)}")
                from analysis.errors import SiSurveyError

                raise SiSurveyError(
                    f"{what} stopped without finishing ({why}; out of memory?); "
                    "the previous outputs are unchanged") from None
            if kind == "progress":
                progress(payload)
            elif kind == "ok":
                return payload
            else:
                raise payload
    finally:
        if thread is not None:
            thread.join()  # nothing left running when this process forks again
        reader.close()
        if pid:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
