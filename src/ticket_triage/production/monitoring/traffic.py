"""What is the model doing? The share of tickets per queue and the review rate, for the window,
the previous window and per bucket, from every prediction (not only those with feedback)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ticket_triage.production.monitoring.window import Row, bucket_of, share, window_buckets

__all__ = ["queue_shares", "review_rate", "traffic"]


def queue_shares(rows: Sequence[Row]) -> dict[str, float]:
    counts = Counter(str(row["queue"]) for row in rows)
    return {queue: round(n / len(rows), 6) for queue, n in counts.most_common()}


def review_rate(rows: Sequence[Row]) -> float | None:
    return share(sum(bool(row["needs_review"]) for row in rows), len(rows))


def traffic(
    window: Sequence[Row], previous: Sequence[Row], start: datetime, end: datetime, unit: str
) -> dict[str, Any]:
    """Queue shares and review rate, for the window, the previous window and per bucket."""
    by_bucket: dict[str, list[Row]] = {}
    for row in window:
        by_bucket.setdefault(bucket_of(row["created_at"], unit), []).append(row)
    buckets = []
    for key, first_day in window_buckets(start, end, unit):
        rows = by_bucket.get(key, [])
        buckets.append(
            {
                "bucket": key,
                "start": first_day,
                "n": len(rows),
                "review_rate": review_rate(rows),
                "queues": queue_shares(rows),
            }
        )
    return {
        "n": len(window),
        "queues": queue_shares(window),
        "previous_queues": queue_shares(previous),
        "review_rate": review_rate(window),
        "previous_review_rate": review_rate(previous),
        "buckets": buckets,
    }
