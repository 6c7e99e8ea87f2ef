"""A small fixed set of calls, shifts and breaks for the report tests (golden numbers).

Times are written in Moscow time (UTC+3 all year since 2014) and stored as UTC. Every queued
call joins its queue 15 s after arriving (the IVR); ``answered_at = queued_at + wait``,
``ended_at = answered_at + talk``.

=====  ======================  ==============  =====  ====  ====  ======  ======  ==========
call   arrived (Moscow)        outcome         wait   talk  wrap  handle  agent   queue
=====  ======================  ==============  =====  ====  ====  ======  ======  ==========
c01    2026-11-02 09:00:00     answered           20   180    30     210  a1      general
c02    2026-11-02 09:10:00     answered          400   300    60     360  a2      general
c03    2026-11-02 09:20:00     abandoned         350     -     -       -  -       general
c04    2026-11-02 09:30:00     short_abandon       3     -     -       -  -       general
c05    2026-11-02 09:40:00     transferred*       10    60     0      60  a1      general
c06    2026-11-02 10:05:00     abandoned          40     -     -       -  -       general
c07    2026-11-02 10:15:00     abandoned           2     -     -       -  -       general
c08    2026-11-02 10:25:00     answered          300   240    20    NULL  a2      general
c09    2026-11-02 10:35:00     voicemail         120     -     -       -  -       general
c10    2026-11-02 23:58:00     answered          150   120    10     130  a1      general
c11    2026-11-02 23:59:59.5   abandoned         390     -     -       -  -       general
c12    2026-11-03 00:00:00     answered            5    50  NULL    NULL  a2      general
c13    2026-11-03 12:00:00     transferred**      30     -     -       -  -       general
c14    2026-11-03 12:30:00     answered            0   420    45     465  a1      vip
c15    2026-11-03 18:00:00     short_abandon       4     -     -       -  -       general
c16    2026-11-01 23:59:59     answered           10   100     0     100  a1      general
c17    2026-11-04 00:00:00     answered           10   100     0     100  a1      general
=====  ======================  ==============  =====  ====  ====  ======  ======  ==========

``*`` answered by an agent and then transferred; ``**`` transferred out of the queue by the
system, never answered. c16 and c17 fall just outside 2026-11-02..2026-11-03 (the end is
exclusive); c12 arrives at Moscow midnight, which is still 2 November in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from acd.storage.db import create_schema, make_engine, make_sessions
from acd.storage.models import Agent, AgentShift, AgentStateLog, Call, CallEventRow

MSK = ZoneInfo("Europe/Moscow")
IVR_SECONDS = 15.0

TOPIC_PAY = "Способы оплаты"
TOPIC_ACCOUNT = "Узнать ЛС"
TOPIC_BLOCK = "Как заблокировать ККМ"
TOPIC_REGISTER = "Как зарегистрироваться на сайте?"

G = "general"
#: no talk, wrap-up, handling, agent or topic; queue "general"
UNANSWERED = (None, None, None, None, None, G)

# id, Moscow arrival, outcome, wait, talk, wrap, handle, agent, topic, queue
# (a call with an agent was answered by that agent)
CALLS: list[tuple] = [
    ("c01", "2026-11-02 09:00:00", "answered", 20, 180, 30, 210, "a1", TOPIC_PAY, G),
    ("c02", "2026-11-02 09:10:00", "answered", 400, 300, 60, 360, "a2", TOPIC_ACCOUNT, G),
    ("c03", "2026-11-02 09:20:00", "abandoned", 350, *UNANSWERED),
    ("c04", "2026-11-02 09:30:00", "short_abandon", 3, *UNANSWERED),
    ("c05", "2026-11-02 09:40:00", "transferred", 10, 60, 0, 60, "a1", TOPIC_BLOCK, G),
    ("c06", "2026-11-02 10:05:00", "abandoned", 40, *UNANSWERED),
    ("c07", "2026-11-02 10:15:00", "abandoned", 2, *UNANSWERED),
    ("c08", "2026-11-02 10:25:00", "answered", 300, 240, 20, None, "a2", TOPIC_PAY, G),
    ("c09", "2026-11-02 10:35:00", "voicemail", 120, *UNANSWERED),
    ("c10", "2026-11-02 23:58:00", "answered", 150, 120, 10, 130, "a1", TOPIC_PAY, G),
    ("c11", "2026-11-02 23:59:59.500", "abandoned", 390, *UNANSWERED),
    ("c12", "2026-11-03 00:00:00", "answered", 5, 50, None, None, "a2", TOPIC_REGISTER, G),
    ("c13", "2026-11-03 12:00:00", "transferred", 30, *UNANSWERED),
    ("c14", "2026-11-03 12:30:00", "answered", 0, 420, 45, 465, "a1", TOPIC_PAY, "vip"),
    ("c15", "2026-11-03 18:00:00", "short_abandon", 4, *UNANSWERED),
    ("c16", "2026-11-01 23:59:59", "answered", 10, 100, 0, 100, "a1", TOPIC_PAY, G),
    ("c17", "2026-11-04 00:00:00", "answered", 10, 100, 0, 100, "a1", TOPIC_PAY, G),
]

# agent, login (Moscow), logout (Moscow or None: still logged in)
SHIFTS: list[tuple[str, str, str | None]] = [
    ("a1", "2026-11-02 08:55:00", "2026-11-02 18:05:00"),
    ("a1", "2026-11-02 23:50:00", "2026-11-03 13:00:00"),
    ("a2", "2026-11-01 22:00:00", "2026-11-02 11:00:00"),
    ("a2", "2026-11-03 23:00:00", None),
    ("a3", "2026-11-03 09:00:00", "2026-11-03 10:00:00"),
]

# agent, state, reason, start (Moscow), end (Moscow)
STATES: list[tuple[str, str, str | None, str, str]] = [
    ("a1", "break", "обед", "2026-11-02 13:00:00", "2026-11-02 13:45:00"),
    ("a1", "break", "обед", "2026-11-03 12:45:00", "2026-11-03 13:00:00"),
    ("a1", "break", None, "2026-11-02 16:00:00", "2026-11-02 16:10:00"),
    ("a2", "break", "тренинг", "2026-11-02 10:40:00", "2026-11-02 11:00:00"),
    ("a2", "wrap_up", None, "2026-11-02 09:22:00", "2026-11-02 09:23:00"),
]

#: "now" for open shifts: 2026-11-04 02:00 Moscow, after the period.
NOW = datetime(2026, 11, 3, 23, 0, tzinfo=UTC)


def moscow(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=MSK).astimezone(UTC)


def call_rows() -> list[Call]:
    rows = []
    for n, (cid, arrived, outcome, wait, talk, wrap, handle, agent, topic, queue) in enumerate(
        CALLS, start=1
    ):
        answered = agent is not None
        arrived_at = moscow(arrived)
        queued_at = arrived_at + timedelta(seconds=IVR_SECONDS)
        answered_at = queued_at + timedelta(seconds=wait) if answered else None
        ended_at = (
            answered_at + timedelta(seconds=talk)
            if answered_at is not None and talk is not None
            else queued_at + timedelta(seconds=wait)
        )
        rows.append(
            Call(
                id=cid,
                caller_number=f"+7495123450{n:02d}",
                topic=topic,
                queue_id=queue,
                agent_id=agent,
                arrived_at=arrived_at,
                ivr_ended_at=queued_at,
                queued_at=queued_at,
                answered_at=answered_at,
                ended_at=ended_at,
                wait_seconds=float(wait),
                talk_seconds=None if talk is None else float(talk),
                wrap_up_seconds=None if wrap is None else float(wrap),
                handle_seconds=None if handle is None else float(handle),
                outcome=outcome,
            )
        )
    return rows


def event_rows() -> list[CallEventRow]:
    """c01 rang a2 for 8 s without an answer, then a1 answered after 8 s of ringing."""
    queued = moscow("2026-11-02 09:00:00") + timedelta(seconds=IVR_SECONDS)

    def at(seconds: float) -> datetime:
        return queued + timedelta(seconds=seconds)

    return [
        CallEventRow(call_id="c01", at=at(2), kind="offered", data={"agent_id": "a2"}),
        CallEventRow(
            call_id="c01",
            at=at(10),
            kind="ring_ended",
            data={"agent_id": "a2", "reason": "no_answer"},
        ),
        CallEventRow(call_id="c01", at=at(12), kind="offered", data={"agent_id": "a1"}),
        CallEventRow(call_id="c01", at=at(20), kind="connected", data={"agent_id": "a1"}),
    ]


async def load(url: str) -> None:
    """Create the schema and insert the whole data set."""
    engine = make_engine(url)
    try:
        await create_schema(engine)
        sessions = make_sessions(engine)
        async with sessions() as session, session.begin():
            session.add_all(
                [Agent(id="a1", name="Иванова Анна"), Agent(id="a2", name="Петров Пётр")]
            )
            session.add_all(call_rows())
            session.add_all(event_rows())
            for agent, login, logout in SHIFTS:
                session.add(
                    AgentShift(
                        agent_id=agent,
                        login_at=moscow(login),
                        logout_at=None if logout is None else moscow(logout),
                    )
                )
            for agent, state, reason, start, end in STATES:
                session.add(
                    AgentStateLog(
                        agent_id=agent,
                        state=state,
                        reason=reason,
                        started_at=moscow(start),
                        ended_at=moscow(end),
                    )
                )
    finally:
        await engine.dispose()
