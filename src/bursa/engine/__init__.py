"""The single writer of balances: order books, matching, batches and recovery.

``core`` is a pure state machine (commands in, effects out, no I/O); ``persistence`` and
``runner`` put it on PostgreSQL and an inbox. ``core``, ``state``, ``commands``, ``specs``
and ``errors`` are compiled with mypyc at install time (see ``setup.py``); an edit to one
of them needs ``pip install -e .`` again, or the old compiled module keeps running.
"""

import warnings
from pathlib import Path

_HERE = Path(__file__).parent


def _stale_compiled_modules() -> list[str]:
    stale = []
    for compiled in _HERE.glob("*.so"):
        source = _HERE / (compiled.name.split(".")[0] + ".py")
        if source.exists() and source.stat().st_mtime > compiled.stat().st_mtime:
            stale.append(source.name)
    return stale


if _stale := _stale_compiled_modules():
    warnings.warn(
        f"compiled engine modules are older than {', '.join(_stale)}: "
        "run `pip install -e .` to rebuild them",
        RuntimeWarning,
        stacklevel=1,
    )
