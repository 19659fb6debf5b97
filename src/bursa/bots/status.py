"""The status file: each strategy's counters (JSON), replaced whole after every tick, read
by ``bursa bots status``.
"""

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from bursa.formats import decimal_text

log = logging.getLogger(__name__)

State = Literal["starting", "running", "halted", "stopped", "killed"]


@dataclass
class Status:
    """A strategy's counters, as the status file shows them."""

    id: str
    target: str
    state: State = "starting"
    ticks: int = 0
    open_orders: int = 0
    placed: int = 0  # since the start, on the target and the venues
    cancelled: int = 0
    fills: int = 0  # of the strategy's orders since the start, everywhere
    base_unit: str | None = None
    quote_unit: str | None = None
    base_balance: str | None = None  # total (available + locked)
    position: str | None = None  # base balance now − at the start
    inventory: str | None = None  # base bought − sold by the fills on the target
    realised_pnl: str | None = None  # quote, average cost, on the target (fees aside)
    venue_positions: dict[str, dict[str, str]] = field(default_factory=dict)  # the same
    day_pnl: str | None = None  # when daily_loss_limit is set
    last_tick: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None


def default_status_path(config_path: Path) -> Path:
    """``bots.yml`` → ``bots.status.json`` in the same folder."""
    return config_path.with_name(f"{config_path.stem}.status.json")


def snapshot(config_source: str, statuses: Iterable[Status]) -> dict[str, Any]:
    """What the status file holds: the file run, when, by which process, and each
    strategy's counters."""
    return {
        "config": config_source,
        "updated_at": now_text(),
        "pid": os.getpid(),
        "strategies": [asdict(status) for status in statuses],
    }


def write_status(path: Path, found: dict[str, Any]) -> None:
    """The status file, replaced whole (a reader never sees half of it); a failure is
    logged, never raised (the bots go on)."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        log.warning("status file %s: %s", path, exc.strerror)


def read_status(path: Path) -> dict[str, Any]:
    """A status file as ``write_status`` wrote it."""
    found = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(found, dict) or not isinstance(found.get("strategies"), list):
        raise ValueError(f"{path}: not a bots status file")
    return found


def optional_text(value: Decimal | None) -> str | None:
    """A decimal as the status file writes it (None stays None)."""
    return None if value is None else decimal_text(value)


def money_text(value: Decimal, places: int | None) -> str:
    """``value`` to ``places`` decimals (a P&L from average prices has long fractions)."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    return decimal_text(value)


def now_text() -> str:
    """Now, UTC, to the second (ISO 8601)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
