"""The report's window: times in UTC, per-day or per-week buckets, and numbers as the JSON holds
them (rounded to 6 places, ``None`` where undefined)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "DAILY_UP_TO",
    "Row",
    "bucket_of",
    "rounded",
    "share",
    "utc",
    "window_buckets",
    "with_utc",
]

#: Windows up to this long are bucketed per day, longer ones per ISO week.
DAILY_UP_TO = timedelta(days=14)

#: A prediction (or prediction-with-feedback) row of the store.
Row = Mapping[str, Any]


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive ones are UTC already (SQLite returns them naive)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def with_utc(row: Row) -> dict[str, Any]:
    return {**row, "created_at": utc(row["created_at"])}


def rounded(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def share(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole else None


def window_buckets(start: datetime, end: datetime, unit: str) -> list[tuple[str, str]]:
    """The window's buckets in order, as (key, first day in the window)."""
    found: dict[str, str] = {}
    day = start
    while day < end:
        found.setdefault(bucket_of(day, unit), day.date().isoformat())
        day = datetime.combine(day.date() + timedelta(days=1), datetime.min.time(), UTC)
    return list(found.items())


def bucket_of(moment: datetime, unit: str) -> str:
    """``2025-03-04`` for a day, ``2025-W10`` for an ISO week (UTC)."""
    if unit == "day":
        return moment.date().isoformat()
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"
