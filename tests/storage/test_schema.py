"""The schema creates and round-trips a call on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from acd.storage.db import create_schema, make_engine, make_sessions
from acd.storage.models import Call


async def test_a_call_round_trips_with_cyrillic_and_utc_times(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await create_schema(engine)
        sessions = make_sessions(engine)
        arrived = datetime(2026, 11, 23, 6, 0, 0, 250000, tzinfo=UTC)
        async with sessions() as session, session.begin():
            session.add(
                Call(
                    id="1700000000.1",
                    caller_name="Иван Петров",
                    arrived_at=arrived,
                    ivr_path=["greeting", "menu:2"],
                    outcome="answered",
                )
            )
        async with sessions() as session:
            call = (await session.execute(select(Call))).scalar_one()
        assert call.caller_name == "Иван Петров"
        assert call.ivr_path == ["greeting", "menu:2"]
        assert call.arrived_at == arrived and call.arrived_at.tzinfo is not None
    finally:
        await engine.dispose()
