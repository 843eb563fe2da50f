"""Decision ids: UUIDv7, so they sort by the millisecond they were made in and index well."""

from __future__ import annotations

import uuid

import pytest

from ticket_triage.production import records
from ticket_triage.production.records import new_id

NOW_NS = 1_764_000_000_123 * 1_000_000  # a fixed wall-clock time, in nanoseconds


def _ids_at(monkeypatch: pytest.MonkeyPatch, nanoseconds: int, n: int) -> list[str]:
    monkeypatch.setattr(records.time, "time_ns", lambda: nanoseconds)
    return [new_id() for _ in range(n)]


def test_ids_of_a_later_millisecond_sort_after_every_id_of_an_earlier_one(monkeypatch) -> None:
    # GIVEN many ids made in one millisecond and many made in the next
    earlier = _ids_at(monkeypatch, NOW_NS, 200)
    later = _ids_at(monkeypatch, NOW_NS + 1_000_000, 200)
    # THEN every later id sorts after every earlier one, as text (how the store indexes them)
    assert max(earlier) < min(later)
    # AND ids of the same millisecond share the time prefix but never collide
    assert {i[:12] for i in earlier} == {f"{NOW_NS // 1_000_000:012x}"}
    assert len(set(earlier)) == len(earlier)


def test_an_id_is_a_version_7_uuid_carrying_its_time(monkeypatch) -> None:
    (value,) = _ids_at(monkeypatch, NOW_NS + 999_999, 1)  # the sub-millisecond part is dropped
    parsed = uuid.UUID(value)
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    assert parsed.int >> 80 == NOW_NS // 1_000_000
    assert len(value) == 32
    assert value == parsed.hex
