"""Callbacks and voicemail tasks (REQUIREMENTS.md "Callbacks (003 §2.9)", docs/callbacks.md).

A booked callback keeps the caller's *virtual place* in the queue: the request waits in the
router like any call (same arrival time, skills, priority), with no caller channel, so it
counts in the positions and estimated waits of the callers behind it. When an agent is
offered it, the agent's phone rings first (``[acd-callback-agent]``), then the caller's
number is dialled through the trunk. A caller who is busy, unreachable or does not answer is
tried again after ``callbacks.retry_minutes``; after ``callbacks.max_attempts`` failed
attempts the request is cancelled and the caller is told by e-mail when an address is known.

A message left in voicemail becomes a task due within ``callbacks.voicemail_hours``: it is
offered to qualified agents as a callback to the number that left it; a warning (log line at
WARNING, a ``voicemail_deadline`` call event, :attr:`CallbackManager.alerts`) is raised when
its deadline is near and when it is overdue.

Pending requests are kept in the ``callbacks`` and ``voicemails`` tables and loaded again at
start. The pure rules are the module-level functions; :class:`CallbackManager` applies them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from acd.call_events import CallEvent
from acd.callcenter import CallCenter, CallInfo
from acd.config import CallbacksSettings, SmtpSettings
from acd.core.calls import SkillRequirement, format_requirements
from acd.storage.models import Callback, Voicemail

__all__ = [
    "CallbackManager",
    "CallbackRequest",
    "CallbackStore",
    "Mailer",
    "VoicemailTask",
    "after_failure",
    "cancellation_email",
    "deadline_state",
    "newest_message",
    "parse_requirements",
]

log = logging.getLogger(__name__)

Status = Literal["pending", "queued", "retry", "done", "cancelled"]
DeadlineState = Literal["ok", "near", "overdue"]
OPEN_CALLBACK = ("pending", "queued", "retry")
OPEN_VOICEMAIL = ("new", "offered", "overdue")


# --------------------------------------------------------------------------- pure rules


def after_failure(attempts: int, max_attempts: int) -> Literal["retry", "cancelled"]:
    """What follows the ``attempts``-th unanswered attempt."""
    return "cancelled" if attempts >= max_attempts else "retry"


def deadline_state(now: float, due_at: float, warn_seconds: float) -> DeadlineState:
    """Whether a task due at ``due_at`` is fine, near its deadline, or overdue."""
    if now > due_at:
        return "overdue"
    if due_at - now <= warn_seconds:
        return "near"
    return "ok"


def parse_requirements(text: str) -> tuple[SkillRequirement, ...]:
    """``"operator:3,billing:2"`` -> requirements (bad parts are skipped)."""
    result: list[SkillRequirement] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        skill, _, level = part.partition(":")
        if skill:
            result.append(SkillRequirement(skill, int(level) if level.isdigit() else 1))
    return tuple(result)


def newest_message(directory: Path, mailbox: str) -> Path:
    """The newest message of ``box[@context]`` under Asterisk's voicemail spool, or its
    INBOX folder when none can be read there (the PBX may be on another host)."""
    box, _, context = mailbox.partition("@")
    inbox = directory / (context or "default") / box / "INBOX"
    with contextlib.suppress(OSError):
        messages = sorted(inbox.glob("msg*.wav"))
        if messages:
            return messages[-1]
    return inbox


def cancellation_email(
    sender: str, to: str, number: str, attempts: int, booked_at: datetime
) -> EmailMessage:
    """The message telling a caller their callback was cancelled."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Обратный звонок отменён / Callback cancelled"
    when = booked_at.strftime("%Y-%m-%d %H:%M UTC")
    message.set_content(
        f"Мы пытались перезвонить вам на номер {number} ({attempts} раза), но не дозвонились. "
        f"Заявка на обратный звонок от {when} отменена; позвоните нам, пожалуйста, снова.\n\n"
        f"We tried to call you back on {number} ({attempts} times) without reaching you. "
        f"Your callback request of {when} is cancelled; please call us again.\n"
    )
    return message


# --------------------------------------------------------------------------- state


@dataclass(slots=True)
class VoicemailTask:
    """A message left, to be handled (called back) before ``due_at``."""

    call_id: str
    number: str | None
    path: str
    left_at: float
    due_at: float
    status: str = "new"  # new | offered | handled | overdue | cancelled
    alerted: set[str] = field(default_factory=set)  # deadline states already alerted
    row_id: int | None = None
    skills: str = ""  # what the caller chose in the IVR ("operator:3,billing:2")
    language: str | None = None


@dataclass(slots=True)
class CallbackRequest:
    """One callback: its place in the queue and its attempts."""

    call_id: str  # the router's call ID of the request ("cb-..." / "vm-...")
    origin_call_id: str | None  # the call that booked it
    number: str
    queue_id: str
    requirements: tuple[SkillRequirement, ...]
    priority: int
    language: str
    arrived_at: float  # its place in the queue
    requested_at: float
    due_at: float | None = None  # a time the caller chose
    email: str | None = None
    caller_name: str | None = None
    topic: str | None = None
    category: str | None = None
    attempts: int = 0
    status: Status = "pending"
    row_id: int | None = None
    voicemail: VoicemailTask | None = None
    timer: asyncio.TimerHandle | None = None


# --------------------------------------------------------------------------- e-mail


class Mailer:
    """Sends e-mail through ``callbacks.smtp`` with the standard library, in a thread."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        smtp = self.smtp
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls:
                client.starttls()
            if smtp.user:
                password = smtp.password.get_secret_value() if smtp.password else ""
                client.login(smtp.user, password)
            client.send_message(message)


# --------------------------------------------------------------------------- storage


def _instant(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


class CallbackStore:
    """The ``callbacks`` and ``voicemails`` rows of pending requests."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def add_callback(self, request: CallbackRequest) -> int:
        async with self.sessions.begin() as session:
            row = Callback(
                call_id=request.origin_call_id,
                number=request.number,
                email=request.email,
                queue_id=request.queue_id,
                requested_at=_instant(request.requested_at),
                due_at=_instant(request.due_at) if request.due_at is not None else None,
                attempts=request.attempts,
                status=request.status,
                skills=format_requirements(request.requirements),
                priority=request.priority,
                language=request.language,
                queued_since=_instant(request.arrived_at),
                caller_name=request.caller_name,
                topic=request.topic,
                category=request.category,
            )
            session.add(row)
            await session.flush()
            return int(row.id)

    async def update_callback(self, row_id: int, **values: Any) -> None:
        async with self.sessions.begin() as session:
            await session.execute(update(Callback).where(Callback.id == row_id).values(**values))

    async def add_voicemail(self, task: VoicemailTask) -> int:
        async with self.sessions.begin() as session:
            row = Voicemail(
                call_id=task.call_id,
                number=task.number,
                path=task.path,
                left_at=_instant(task.left_at),
                due_at=_instant(task.due_at),
                status=task.status,
                skills=task.skills or None,
                language=task.language,
            )
            session.add(row)
            await session.flush()
            return int(row.id)

    async def update_voicemail(self, row_id: int, **values: Any) -> None:
        async with self.sessions.begin() as session:
            await session.execute(update(Voicemail).where(Voicemail.id == row_id).values(**values))

    async def open_callbacks(self) -> list[Callback]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Callback).where(Callback.status.in_(OPEN_CALLBACK)).order_by(Callback.id)
            )
            return list(rows)

    async def open_voicemails(self) -> list[Voicemail]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Voicemail).where(Voicemail.status.in_(OPEN_VOICEMAIL)).order_by(Voicemail.id)
            )
            return list(rows)


# --------------------------------------------------------------------------- the manager


class CallbackManager:
    def __init__(
        self,
        center: CallCenter,
        settings: CallbacksSettings,
        *,
        store: CallbackStore | None = None,
        mailer: Mailer | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.center = center
        self.settings = settings
        self.store = store
        self.mailer = mailer or (Mailer(settings.smtp) if settings.smtp is not None else None)
        #: the deadline clock (voicemail alerts); default: the call centre's
        self.clock: Callable[[], float] = clock or center.now
        self.requests: dict[str, CallbackRequest] = {}  # router call ID -> request
        self.voicemails: dict[str, VoicemailTask] = {}  # the call that left it -> task
        self.alerts: Counter[str] = Counter()  # "near" / "overdue" alerts raised
        self._db: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        center.finished_hooks.append(self._finished)

    @property
    def retry_seconds(self) -> float:
        return self.settings.retry_minutes * 60.0

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Load the pending requests kept in the database; start the deadline watch."""
        loop = asyncio.get_running_loop()
        self._workers.append(loop.create_task(self._db_worker()))
        self._workers.append(loop.create_task(self._watch_deadlines()))
        if self.store is None:
            return
        try:
            callbacks = await self.store.open_callbacks()
            voicemails = await self.store.open_voicemails()
        except Exception as exc:
            log.error("pending callbacks could not be loaded: %s", exc)
            return
        tasks: dict[int, VoicemailTask] = {}
        for vm in voicemails:
            task = VoicemailTask(
                vm.call_id or f"voicemail-{vm.id}",
                vm.number,
                vm.path,
                vm.left_at.timestamp(),
                vm.due_at.timestamp(),
                status=vm.status,
                row_id=vm.id,
                skills=vm.skills or "",
                language=vm.language,
            )
            tasks[vm.id] = task
            self.voicemails[task.call_id] = task
            if task.number:
                self._voicemail_request(task, parse_requirements(task.skills), task.language)
        for row in callbacks:
            self._restore_callback(row)
        log.info("callbacks: %d pending, %d voicemail tasks", len(callbacks), len(tasks))

    async def aclose(self) -> None:
        for request in self.requests.values():
            if request.timer is not None:
                request.timer.cancel()
        # Let queued writes finish, briefly.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await self._db.join()
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers.clear()

    # ------------------------------------------------------------------ booking

    def book(
        self,
        *,
        call_id: str,
        number: str,
        queue_id: str | None = None,
        requirements: Iterable[SkillRequirement] = (),
        priority: int | None = None,
        language: str | None = None,
        arrived_at: float | None = None,
        due_at: float | None = None,
        email: str | None = None,
        caller_name: str | None = None,
        topic: str | None = None,
        category: str | None = None,
    ) -> CallbackRequest:
        """Book a callback to ``number`` for the call ``call_id``; it takes its place in the
        queue now (at its arrival time) or at ``due_at``."""
        now = self.center.now()
        routing = self.center.routing
        queue = self.center.queue_settings.get(queue_id or routing.default_queue)
        if queue is None:
            queue = routing.queue_for_number(None)
        request = CallbackRequest(
            call_id=f"cb-{call_id}",
            origin_call_id=call_id,
            number=number,
            queue_id=queue.id,
            requirements=tuple(requirements) or queue.requirements(),
            priority=queue.priority if priority is None else priority,
            language=language or queue.language or "ru",
            arrived_at=min(arrived_at if arrived_at is not None else now, now),
            requested_at=now,
            due_at=due_at,
            email=email,
            caller_name=caller_name,
            topic=topic,
            category=category,
        )
        self.requests[request.call_id] = request
        self._event(
            request,
            "callback_booked",
            number=number,
            due_at=due_at,
            email=bool(email),
            origin=call_id,
        )
        self._persist_new(request)
        self._start(request)
        return request

    def _start(self, request: CallbackRequest) -> None:
        now = self.center.now()
        if request.due_at is not None and request.due_at > now:
            request.arrived_at = request.due_at  # it joins the queue at the time chosen
            self._schedule(request, request.due_at)
        else:
            self._enqueue(request)

    def _restore_callback(self, row: Callback) -> None:
        """A pending callback from the database, routed as it was booked (a skill since
        taken out of the configuration falls back to the queue's)."""
        origin = row.call_id or f"row-{row.id}"
        call_id = f"cb-{origin}"
        if call_id in self.requests or call_id in self.center.calls:
            return
        queue = self.center.queue_settings.get(row.queue_id or "") or (
            self.center.routing.queue_for_number(None)
        )
        known = set(self.center.routing.skills)
        requirements = tuple(r for r in parse_requirements(row.skills or "") if r.skill in known)
        requested = row.requested_at.timestamp()
        due = row.due_at.timestamp() if row.due_at is not None else None
        if due is not None:
            place = due
        elif row.queued_since is not None:
            place = row.queued_since.timestamp()
        else:
            place = requested
        request = CallbackRequest(
            call_id=call_id,
            origin_call_id=row.call_id,
            number=row.number,
            queue_id=queue.id,
            requirements=requirements or queue.requirements(),
            priority=queue.priority if row.priority is None else row.priority,
            language=row.language or queue.language or "ru",
            arrived_at=place,
            requested_at=requested,
            due_at=due,
            email=row.email,
            caller_name=row.caller_name,
            topic=row.topic,
            category=row.category,
            attempts=row.attempts,
            status="retry" if row.attempts else "pending",
            row_id=row.id,
        )
        self.requests[call_id] = request
        if row.attempts:
            self._schedule(request, self.center.now() + self.retry_seconds)
        else:
            self._start(request)

    # ------------------------------------------------------------------ voicemail tasks

    def voicemail_left(
        self,
        call_id: str,
        number: str | None,
        mailbox: str,
        *,
        skills: str = "",
        language: str | None = None,
    ) -> VoicemailTask | None:
        """A message was left: a task due within ``voicemail_hours``, offered as a callback."""
        if call_id in self.voicemails:
            return self.voicemails[call_id]
        now = self.center.now()
        path = newest_message(self.settings.voicemail_directory, mailbox)
        task = VoicemailTask(
            call_id=call_id,
            number=number if number and number != "unknown" else None,
            path=str(path),
            left_at=now,
            due_at=now + self.settings.voicemail_hours * 3600.0,
            skills=skills,
            language=language,
        )
        self.voicemails[call_id] = task
        self.center.sink.emit(
            CallEvent(
                call_id,
                now,
                "voicemail_task",
                {"number": task.number, "path": task.path, "due_at": task.due_at},
            )
        )
        self._persist_voicemail(task)
        if task.number:
            self._voicemail_request(task, parse_requirements(skills), language)
        else:
            log.warning("voicemail of call %s has no number to call back", call_id)
        return task

    def _voicemail_request(
        self,
        task: VoicemailTask,
        requirements: tuple[SkillRequirement, ...] = (),
        language: str | None = None,
    ) -> None:
        assert task.number is not None
        routing = self.center.routing
        queue = self.center.queue_settings.get(routing.default_queue) or (
            routing.queue_for_number(None)
        )
        known = set(routing.skills)
        requirements = tuple(r for r in requirements if r.skill in known)
        request = CallbackRequest(
            call_id=f"vm-{task.call_id}",
            origin_call_id=task.call_id,
            number=task.number,
            queue_id=queue.id,
            requirements=requirements or queue.requirements(),
            priority=queue.priority,
            language=language or queue.language or "ru",
            arrived_at=min(task.left_at, self.center.now()),
            requested_at=task.left_at,
            voicemail=task,
        )
        self.requests[request.call_id] = request
        task.status = "offered"
        self._update_voicemail(task, status="offered")
        self._enqueue(request)

    def check_deadlines(self, now: float | None = None) -> list[tuple[str, DeadlineState]]:
        """Alert on voicemail tasks near their deadline or overdue (once per state)."""
        now = self.clock() if now is None else now
        warn = self.settings.voicemail_warn_hours * 3600.0
        raised: list[tuple[str, DeadlineState]] = []
        for task in self.voicemails.values():
            if task.status in ("handled", "cancelled"):
                continue
            state = deadline_state(now, task.due_at, warn)
            if state == "ok" or state in task.alerted:
                continue
            task.alerted.add(state)
            self.alerts[state] += 1
            raised.append((task.call_id, state))
            left = task.due_at - now
            log.warning(
                "voicemail task %s (%s): %s",
                task.call_id,
                task.number or "no number",
                f"overdue by {-left / 60:.0f} min"
                if state == "overdue"
                else f"{left / 60:.0f} min left",
            )
            self.center.sink.emit(
                CallEvent(
                    task.call_id,
                    now,
                    "voicemail_deadline",
                    {"state": state, "due_at": task.due_at, "seconds_left": round(left, 1)},
                )
            )
            if state == "overdue" and task.status != "overdue":
                task.status = "overdue"
                self._update_voicemail(task, status="overdue")
        return raised

    async def _watch_deadlines(self) -> None:
        while True:
            await asyncio.sleep(self.settings.check_interval)
            try:
                self.check_deadlines()
            except Exception:
                log.exception("voicemail deadline check failed")

    # ------------------------------------------------------------------ the queue

    def _enqueue(self, request: CallbackRequest) -> None:
        request.timer = None
        if request.call_id in self.center.calls or request.status in ("done", "cancelled"):
            return
        now = self.center.now()
        info = CallInfo(
            call_id=request.call_id,
            channel="",
            queue_id=request.queue_id,
            language=request.language,
            priority=request.priority,
            requirements=request.requirements,
            arrived_at=min(request.arrived_at, now),
            caller_number=request.number,
            caller_name=request.caller_name,
            topic=request.topic,
            category=request.category,
            callback_number=request.number,
        )
        info.extra["callback"] = request
        info.extra["dial_timeout"] = round(self.settings.dial_timeout)
        self.center.queue_call(info)
        if request.call_id not in self.center.calls:
            log.error("callback %s could not be queued in %s", request.call_id, request.queue_id)
            return
        request.status = "queued"
        self._update_callback(request, status="queued")

    def _schedule(self, request: CallbackRequest, at: float) -> None:
        if request.timer is not None:
            request.timer.cancel()
        delay = max(0.0, at - self.center.now())
        request.timer = asyncio.get_running_loop().call_later(delay, self._enqueue, request)

    def dial_failed(self, call_id: str, agent_id: str, dial_status: str) -> None:
        """``[acd-callback-agent]``: the caller's number did not answer (busy, no answer,
        unavailable). The agent's leg hangs up next, which finishes the attempt."""
        info = self.center.calls.get(call_id)
        if info is None or "callback" not in info.extra:
            log.info("dial result for unknown callback %s (%s)", call_id, dial_status)
            return
        info.outcome = "callback"
        info.finished_data["dial_status"] = dial_status
        log.info("callback %s by %s: caller not reached (%s)", call_id, agent_id, dial_status)

    def _finished(self, call_id: str, info: CallInfo | None, outcome: str) -> None:
        request = self.requests.get(call_id)
        if request is None or info is None or info.extra.get("callback") is not request:
            return
        if outcome == "answered":
            request.status = "done"
            self.requests.pop(call_id, None)
            self._update_callback(request, status="done", done_at=_instant(self.center.now()))
            task = request.voicemail
            if task is not None:
                task.status = "handled"
                self._update_voicemail(task, status="handled", handled_by=info.accepted_by)
            self._event(request, "callback_done", agent_id=info.accepted_by)
            return
        if outcome != "callback":  # taken out of the queue otherwise: try again later
            request.status = "retry"
            self._schedule(request, self.center.now() + self.retry_seconds)
            return
        request.attempts += 1
        decision = after_failure(request.attempts, self.settings.max_attempts)
        info.finished_data.update(callback_status=decision, attempts=request.attempts)
        if decision == "retry":
            request.status = "retry"
            self._update_callback(request, status="retry", attempts=request.attempts)
            self._schedule(request, self.center.now() + self.retry_seconds)
            self._event(request, "callback_retry", attempts=request.attempts)
            return
        request.status = "cancelled"
        self.requests.pop(call_id, None)
        now = self.center.now()
        self._update_callback(
            request, status="cancelled", attempts=request.attempts, done_at=_instant(now)
        )
        if request.voicemail is not None:
            request.voicemail.status = "cancelled"
            self._update_voicemail(request.voicemail, status="cancelled")
        log.warning(
            "callback %s to %s cancelled after %d unanswered attempts",
            call_id,
            request.number,
            request.attempts,
        )
        self._event(request, "callback_cancelled", attempts=request.attempts)
        self._notify(request)

    def _notify(self, request: CallbackRequest) -> None:
        if not request.email:
            return
        if self.mailer is None:
            log.warning(
                "callback %s: no callbacks.smtp to e-mail %s", request.call_id, request.email
            )
            return
        message = cancellation_email(
            self.settings.smtp.sender if self.settings.smtp else "acd@localhost",
            request.email,
            request.number,
            request.attempts,
            _instant(request.requested_at),
        )
        mailer = self.mailer
        to = request.email

        async def send() -> None:
            try:
                await mailer.send(message)
            except Exception as exc:
                log.error("callback %s: e-mail to %s failed: %s", request.call_id, to, exc)
                return
            self._event(request, "callback_notified", email=request.email)

        self.center._spawn(send(), f"e-mail {request.call_id}")

    # ------------------------------------------------------------------ persistence

    def _queue_db(self, operation: Callable[[], Awaitable[None]]) -> None:
        if self.store is not None:
            self._db.put_nowait(operation)

    async def _db_worker(self) -> None:
        while True:
            operation = await self._db.get()
            try:
                await operation()
            except Exception as exc:
                log.error("callbacks: database write failed: %s", exc)
            finally:
                self._db.task_done()

    def _persist_new(self, request: CallbackRequest) -> None:
        store = self.store
        if store is None:
            return

        async def add() -> None:
            request.row_id = await store.add_callback(request)

        self._queue_db(add)

    def _update_callback(self, request: CallbackRequest, **values: Any) -> None:
        store = self.store
        if store is None or request.voicemail is not None:
            return  # voicemail tasks live in the voicemails table

        async def change() -> None:
            if request.row_id is not None:
                await store.update_callback(request.row_id, **values)

        self._queue_db(change)

    def _persist_voicemail(self, task: VoicemailTask) -> None:
        store = self.store
        if store is None:
            return

        async def add() -> None:
            task.row_id = await store.add_voicemail(task)

        self._queue_db(add)

    def _update_voicemail(self, task: VoicemailTask, **values: Any) -> None:
        store = self.store
        if store is None:
            return

        async def change() -> None:
            if task.row_id is not None:
                await store.update_voicemail(task.row_id, **values)

        self._queue_db(change)

    async def flush(self) -> None:
        """Wait until every queued database write is done (tests, shutdown)."""
        await self._db.join()

    # ------------------------------------------------------------------ events

    def _event(self, request: CallbackRequest, kind: str, **data: Any) -> None:
        self.center.sink.emit(CallEvent(request.call_id, self.center.now(), kind, data))
