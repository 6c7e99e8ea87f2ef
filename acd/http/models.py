"""Payloads and answers of the HTTP API (pydantic): validation and the OpenAPI schemas.

Request models forbid unknown fields and refuse control characters in text, so nothing a
client sends can reach a file name, a log line or PostgreSQL (which refuses NUL) unchecked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from acd.storage.models import Outcome, Role

# --------------------------------------------------------------------------- field types

#: One line of text: no control characters.
LINE = r"^[^\x00-\x1f\x7f]*$"
#: Several lines: tabs and line breaks allowed, other control characters not.
LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
IDENT = r"^[A-Za-z0-9_.-]{1,64}$"
CALL_ID = r"^[0-9A-Za-z_-][0-9A-Za-z._-]{0,63}$"
USERNAME = r"^[A-Za-z0-9_.@-]{1,100}$"
SCENARIO_NAME = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$"
LOCAL_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$"


Text100 = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=LINE)]
Text40 = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=LINE)]
Text200 = Annotated[str, StringConstraints(max_length=200, pattern=LINE)]


Ident = Annotated[str, StringConstraints(pattern=IDENT)]
CallIdText = Annotated[str, StringConstraints(pattern=CALL_ID)]
Username = Annotated[str, StringConstraints(pattern=USERNAME)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
NewPassword = Annotated[str, StringConstraints(min_length=8, max_length=1024)]
Level = Annotated[int, Field(ge=1, le=10)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{3,20}$")]
Email = Annotated[
    str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,120}$")
]
Notes = Annotated[str, StringConstraints(max_length=4000, pattern=LINES)]
LocalTime = Annotated[str, StringConstraints(pattern=LOCAL_TIME)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- errors


class FieldErrorModel(Answer):
    field: str
    message: str


class ScenarioProblem(Answer):
    line: int | None
    column: int | None
    field: str
    message: str


class ErrorModel(BaseModel):
    """Every error answer."""

    error: str = Field(description="a stable code: invalid_request, not_found, ...")
    message: str
    fields: list[FieldErrorModel] | None = None
    retry_after: int | None = None
    problems: list[ScenarioProblem] | None = None


# --------------------------------------------------------------------------- auth


class LoginRequest(Request):
    username: Username
    password: Password


class AgentLoginRequest(Request):
    agent_id: Ident
    password: Password


class UserInfo(Answer):
    id: int
    username: str
    role: Role
    agent_id: str | None
    active: bool


class AgentStateView(Answer):
    agent_id: str
    name: str
    state: str
    since: datetime
    seconds_in_state: float
    reason: str | None = Field(description="the break reason, when on a break")
    call_id: str | None
    pending_break: str | None
    pending_logout: bool
    talk_today_seconds: float
    phone_registered: bool
    transfer_skills: list[str] = Field(
        default_factory=list, description="the skills a connected call can be transferred to"
    )


class LoginResponse(Answer):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: UserInfo
    agent: AgentStateView | None = None


class Me(Answer):
    user: UserInfo
    expires_at: datetime


# --------------------------------------------------------------------------- agent


class BreakRequest(Request):
    reason: Text100


class DispositionRequest(Request):
    """What the agent records about the current call (or the last one, or ``call_id``)."""

    call_id: CallIdText | None = None
    topic: Text100 | None = None
    disposition: Text40 | None = None
    notes: Notes | None = None
    ticket: Text100 | None = None

    @model_validator(mode="after")
    def _something(self) -> DispositionRequest:
        if all(v is None for v in (self.topic, self.disposition, self.notes, self.ticket)):
            raise ValueError("give at least one of topic, disposition, notes, ticket")
        return self


class DispositionResponse(Answer):
    call_id: str
    stored: bool = Field(description="false: the call's row is not in the database yet")
    topic: str | None
    disposition: str | None
    notes: str | None
    ticket: str | None


class TransferBody(Request):
    skill: Ident
    min_level: Level = 1
    reason: Text200 | None = None


class TransferResponse(Answer):
    call_id: str
    skill: str
    min_level: int
    status: Literal["requested", "handed_over"]


class CallbackRequest(Request):
    due_at: AwareDatetime = Field(description="when to call back: a time the caller chose")
    number: Phone | None = Field(None, description="default: the caller's number")
    email: Email | None = None
    call_id: CallIdText | None = Field(None, description="default: the current or last call")
    queue_id: Ident | None = None


class CallbackView(Answer):
    id: int
    call_id: str | None
    number: str
    email: str | None
    queue_id: str | None
    requested_at: datetime
    due_at: datetime | None
    status: str
    attempts: int


# --------------------------------------------------------------------------- supervisor


class Estimate(Answer):
    position: int
    eligible_agents: int
    mean_seconds: float | None
    low_seconds: float | None
    high_seconds: float | None


class LiveCall(Answer):
    call_id: str
    status: str
    caller_number: str | None
    language: str
    priority: int
    waited_seconds: float
    agent_id: str | None
    estimate: Estimate | None


class QueueView(Answer):
    id: str
    waiting: int
    ringing: int
    connected: int
    longest_wait_seconds: float | None
    calls: list[LiveCall]


class QueuesResponse(Answer):
    at: datetime
    queues: list[QueueView]


class AgentsResponse(Answer):
    at: datetime
    by_state: dict[str, int]
    agents: list[AgentStateView]


class ServiceLevelView(Answer):
    queue: str | None
    threshold_seconds: float
    received: int
    answered: int
    answered_within: int
    lost: int
    service_level_pct: float | None


class ServiceLevelResponse(Answer):
    date: str
    time_zone: str
    overall: ServiceLevelView
    queues: list[ServiceLevelView]


class SupervisorSnapshot(Answer):
    queues: QueuesResponse
    agents: AgentsResponse
    service_level: ServiceLevelResponse | None


# --------------------------------------------------------------------------- reports


class ReportQuery(Query):
    date_from: LocalTime = Field(alias="from", description="local date or time")
    date_to: LocalTime = Field(alias="to", description="local date (included) or time")
    format: Literal["csv", "xlsx"] = "csv"
    by: Literal["hour", "day", "week", "month"] = "day"
    queue: Ident | None = None
    threshold: float = Field(300.0, ge=0, le=86400, description="service-level seconds")
    short_abandon: float = Field(5.0, ge=0, le=86400)
    sl: Literal["answered", "inclusive"] = "answered"
    agent: Ident | None = Field(None, description="detail report: only this agent")
    caller: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{1,20}$")] | None = Field(
        None, description="detail report: numbers containing this"
    )


# --------------------------------------------------------------------------- QA


class CallSearchQuery(Query):
    date_from: LocalTime | None = Field(None, alias="from")
    date_to: LocalTime | None = Field(None, alias="to")
    agent: Ident | None = None
    topic: Text100 | None = None
    caller: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{1,20}$")] | None = None
    outcome: Outcome | None = None
    queue: Ident | None = None
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(50, ge=1, le=200)


class CallSummary(Answer):
    id: str
    arrived_at: datetime
    caller_number: str | None
    queue_id: str | None
    agent_id: str | None
    language: str | None
    topic: str | None
    ticket: str | None
    outcome: str | None
    wait_seconds: float | None
    talk_seconds: float | None


class CallSearchResponse(Answer):
    items: list[CallSummary]
    page: int
    page_size: int
    total: int


class RecordingInfo(Answer):
    url: str
    size_bytes: int | None
    duration_seconds: float | None
    deleted_at: datetime | None


class CallDetail(CallSummary):
    caller_name: str | None
    dialled_number: str | None
    scenario: str | None
    ivr_path: list[Any] | None
    category: str | None
    priority: int
    skills: str | None
    previous_ticket: str | None
    notes: str | None
    disposition: str | None
    answered_at: datetime | None
    ended_at: datetime | None
    wrap_up_seconds: float | None
    handle_seconds: float | None
    recording: RecordingInfo | None


class TimelineEvent(Answer):
    at: datetime
    kind: str
    data: dict[str, Any]
    summary: str | None = Field(
        description="the event in words (an offer: its routing explanation)"
    )


class TimelineResponse(Answer):
    call_id: str
    events: list[TimelineEvent]


# --------------------------------------------------------------------------- admin


class SkillCreate(Request):
    id: Ident
    name: Text200 = ""


class SkillUpdate(Request):
    name: Text200


class SkillView(Answer):
    id: str
    name: str
    agents: int
    source: Literal["database", "config"]


class AgentCreate(Request):
    id: Ident
    name: Text200 = ""
    phone: Ident | None = None
    languages: list[Language] = Field(default_factory=lambda: ["ru"], min_length=1, max_length=10)
    skills: dict[Ident, Level] = Field(min_length=1, max_length=100)
    active: bool = True


class AgentUpdate(Request):
    name: Text200 | None = None
    phone: Ident | None = None
    languages: list[Language] | None = Field(None, min_length=1, max_length=10)
    skills: dict[Ident, Level] | None = Field(None, min_length=1, max_length=100)
    active: bool | None = None


class AgentAdminView(Answer):
    id: str
    name: str
    phone: str | None
    languages: list[str]
    skills: dict[str, int]
    active: bool
    source: Literal["database", "config"]
    live_state: str | None = Field(description="the router's state; null: not routed")


class UserCreate(Request):
    username: Username
    password: NewPassword
    role: Role
    agent_id: Ident | None = None
    active: bool = True


class UserUpdate(Request):
    password: NewPassword | None = None
    role: Role | None = None
    agent_id: Ident | None = None
    active: bool | None = None


class ScenarioUpload(Request):
    content: Annotated[str, StringConstraints(min_length=1, max_length=262144)]
    activate: bool = False


class ScenarioVersionView(Answer):
    scenario: str
    version: int
    author: str | None
    created_at: datetime
    active: bool
    size: int


class ScenarioVersionContent(ScenarioVersionView):
    content: str


class ScenarioSummary(Answer):
    name: str
    active_version: int | None
    latest_version: int
    updated_at: datetime


class Activation(Answer):
    version: int
    previous_version: int | None
    action: str
    by: str | None
    at: datetime
    applied: bool


class ScenarioHistory(Answer):
    scenario: str
    versions: list[ScenarioVersionView]
    activations: list[Activation]


class ActivationResponse(Answer):
    scenario: str
    version: int
    previous_version: int | None
    applied: bool = Field(description="false: no scenario hook; only the database changed")


class UploadResponse(Answer):
    version: ScenarioVersionView
    activation: ActivationResponse | None


# --------------------------------------------------------------------------- health


class HealthCheckView(Answer):
    ok: bool | None = Field(description="null: not known (no probe given)")
    detail: str | None = None


class HealthResponse(Answer):
    status: Literal["ok", "degraded"]
    checks: dict[str, HealthCheckView]
