"""Scripts that start worker processes: checking the main module can start them.

A spawned worker (the default process pool, :mod:`~waste_harmony.batch.executors`)
starts a fresh interpreter and imports the parent's main module again, as
``__mp_main__``, so that what it defines can be unpickled. Two kinds of main module
break that, and without this check the failure shows only as every run failing
(``WorkerDied``) and an unrelated error at the end:

* **A script whose experiment call is not under** ``if __name__ == "__main__":``. Each
  worker re-runs the script's top level, reaches the experiment call again and dies in
  the spawn bootstrap (``RuntimeError: An attempt has been made to start a new
  process before the current process has finished its bootstrapping phase``). This
  is refused before any worker starts, in one line that shows the fix
  (:class:`UnguardedMainError`).
* **Code read from standard input** (``python - < study.py``, ``python < study.py``):
  its main module's file is ``'<stdin>'``, which a worker cannot import
  (``FileNotFoundError: '<stdin>'``). The experiment runs serially instead, with a
  warning that says why and how to get workers (:func:`checked_executor`).

``python -c``, the interactive interpreter and notebooks have no main file: spawned
workers do not re-import anything, so they work (what they define in ``__main__``
cannot be sent to a worker; :func:`~waste_harmony.batch.checks.check_sendable` says so).

The choice (refuse a script without the guard, run standard input serially) keeps a
plain script from silently using one core, and still lets a pasted snippet run.
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
import warnings
from types import FrameType, ModuleType
from typing import Any

__all__ = ["UnguardedMainError", "checked_executor", "unguarded_line"]


class UnguardedMainError(RuntimeError):
    """An experiment with worker processes was started from a script's top level."""


def _is_main_test(test: ast.expr) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    texts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return bool(names and texts)


def _top_level_frame(main: ModuleType) -> FrameType | None:
    """The outermost frame running the main module's top level, if the call came from it."""
    found = None
    frame = inspect.currentframe()
    while frame is not None:
        if frame.f_globals is vars(main) and frame.f_code.co_name == "<module>":
            found = frame
        frame = frame.f_back
    return found


def unguarded_line(main: ModuleType | None = None) -> int | None:
    """The line of the main script that called us outside ``if __name__ == "__main__":``.

    Parameters
    ----------
    main : module, optional
        The main module (default: ``sys.modules["__main__"]``).

    Returns
    -------
    int or None
        The script's line, or ``None`` when the call is guarded, does not come from
        the main module's top level (a test runner, a notebook, a function called by
        another program), or the main module has no readable source file.

    Examples
    --------
    Under a test runner the main module is the runner's, not a study script:

    >>> unguarded_line() is None
    True
    """
    main = main if main is not None else sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path or not os.path.isfile(path):
        return None
    frame = _top_level_frame(main)
    if frame is None:
        return None
    line = frame.f_lineno
    try:
        with open(path, encoding="utf-8") as source:
            tree = ast.parse(source.read(), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_test(node.test):
            end = node.end_lineno or node.lineno
            if node.lineno <= line <= end:
                return None
    return line


def _spawns(executor: Any) -> bool:
    """Whether ``executor`` starts workers that import the main module again."""
    from concurrent.futures import ProcessPoolExecutor

    if executor is None:
        return True  # the default pool: spawn
    if isinstance(executor, ProcessPoolExecutor):
        context = getattr(executor, "_mp_context", None)
        method = context.get_start_method() if context is not None else "spawn"
        return method != "fork"
    return False


def checked_executor(executor: Any) -> Any:
    """The executor to use, after checking the main module can start worker processes.

    Parameters
    ----------
    executor : None, "serial", Executor or Dask client
        As given to an experiment.

    Returns
    -------
    executor
        ``executor`` itself, or ``"serial"`` when the main module was read from
        standard input (with a :class:`RuntimeWarning` saying why).

    Raises
    ------
    UnguardedMainError
        When a script starts an experiment with spawned workers from its top level,
        outside ``if __name__ == "__main__":`` (one line naming the script's line and
        the fix).
    """
    if not _spawns(executor):
        return executor
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path and not os.path.isfile(path):
        warnings.warn(
            f"this code was read from {path} (standard input), which worker processes "
            "cannot import: running serially, in this process. To use workers, save it "
            'as a file with the call under `if __name__ == "__main__":` and run that; '
            "pass executor='serial' to silence this warning",
            RuntimeWarning,
            stacklevel=4,
        )
        return "serial"
    line = unguarded_line(main)
    if line is not None:
        raise UnguardedMainError(
            f"{os.path.basename(str(path))} line {line} starts worker processes from the "
            "script's top level, and each worker would run the script again: put the "
            'call under `if __name__ == "__main__":` (see the docs, "Experiments from '
            "a script\"), or pass executor='serial'"
        )
    return executor
