"""Administration: skills, agents with their skill levels, users, and routing scenarios.

Agents and skills live in the database (``agents``, ``agent_skills``, ``skills``); those of
the configuration file (``routing:``) are listed too, marked ``"source": "config"``. Saving a
configured agent through the API copies it into the database (which then wins); deleting
one is refused. Every change is applied to the running router at once where it can be
(:mod:`acd.http.live`): a new agent with a phone becomes routable, new skill levels count
for the next decision; an agent who is logged in is never removed under them.

Scenario versions are kept in ``scenario_versions`` (who uploaded each); activations and
rollbacks are recorded as ``scenario_activated`` rows of ``call_events`` (``call_id`` "")
with who did it, and put live through the scenario hook (:mod:`acd.http.scenarios`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from acd.http import live
from acd.http.auth import hash_password
from acd.http.errors import ApiError, BadRequest, Conflict, NotFound
from acd.http.live import instant
from acd.http.models import (
    Activation,
    ActivationResponse,
    AgentAdminView,
    AgentCreate,
    AgentUpdate,
    ScenarioHistory,
    ScenarioProblem,
    ScenarioSummary,
    ScenarioUpload,
    ScenarioVersionContent,
    ScenarioVersionView,
    SkillCreate,
    SkillUpdate,
    SkillView,
    UploadResponse,
    UserCreate,
    UserInfo,
    UserUpdate,
)
from acd.http.routes import Ctx, Endpoint, PathParam, json_response
from acd.http.scenarios import check_content
from acd.http.session_api import user_info
from acd.http.state import ApiState
from acd.scenario.check import RoutingFacts
from acd.storage.models import (
    Agent,
    AgentSkill,
    CallEventRow,
    Role,
    ScenarioVersion,
    Skill,
    User,
)

log = logging.getLogger(__name__)

TAG = "admin"
ADMIN = frozenset({Role.ADMIN})
ACTIVATED = "scenario_activated"

SKILL_PARAM = {"skill_id": PathParam(r"[A-Za-z0-9_.-]{1,64}", "skill")}
AGENT_PARAM = {"agent_id": PathParam(r"[A-Za-z0-9_.-]{1,64}", "agent")}
USER_PARAM = {"username": PathParam(r"[A-Za-z0-9_.@-]{1,100}", "user")}
SCENARIO_PARAM = {"name": PathParam(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}", "scenario")}
VERSION_PARAM = {
    **SCENARIO_PARAM,
    "version": PathParam(r"[0-9]{1,10}", "scenario version", integer=True),
}


def _field(name: str, message: str) -> BadRequest:
    return BadRequest(message, fields=[{"field": name, "message": message}])


# --------------------------------------------------------------------------- skills


async def _db_skills(session: AsyncSession) -> dict[str, str]:
    return {row.id: row.name for row in (await session.execute(select(Skill))).scalars()}


async def _known_skills(state: ApiState, session: AsyncSession) -> set[str]:
    return (
        set(await _db_skills(session))
        | set(state.deps.settings.routing.skills)
        | set(state.center.router.skills)
    )


async def _skill_views(state: ApiState) -> list[SkillView]:
    agents = await _all_agents(state)
    async with state.sessions() as session:
        names = await _db_skills(session)
    config = set(state.deps.settings.routing.skills)
    ids = sorted(set(names) | config | set(state.center.router.skills))
    return [
        SkillView(
            id=skill,
            name=names.get(skill, ""),
            agents=sum(1 for a in agents.values() if skill in a.skills),
            source="database" if skill in names else "config",
        )
        for skill in ids
    ]


async def list_skills(ctx: Ctx[None, None]) -> web.StreamResponse:
    return json_response([v.model_dump(mode="json") for v in await _skill_views(ctx.state)])


async def _skill_view(state: ApiState, skill_id: str) -> SkillView:
    for view in await _skill_views(state):
        if view.id == skill_id:
            return view
    raise NotFound(f"no skill {skill_id}")


async def create_skill(ctx: Ctx[SkillCreate, None]) -> web.StreamResponse:
    state, body = ctx.state, ctx.body
    try:
        async with state.sessions() as session, session.begin():
            if await session.get(Skill, body.id) is not None:
                raise Conflict(f"skill {body.id} exists", code="exists")
            session.add(Skill(id=body.id, name=body.name))
    except IntegrityError:
        raise Conflict(f"skill {body.id} exists", code="exists") from None
    live.add_skill(state.center, body.id)
    return json_response(await _skill_view(state, body.id), status=201)


async def update_skill(ctx: Ctx[SkillUpdate, None]) -> web.StreamResponse:
    state, skill_id = ctx.state, ctx.path["skill_id"]
    async with state.sessions() as session, session.begin():
        row = await session.get(Skill, skill_id)
        if row is None:
            if skill_id not in state.deps.settings.routing.skills:
                raise NotFound(f"no skill {skill_id}")
            session.add(Skill(id=skill_id, name=ctx.body.name))
        else:
            row.name = ctx.body.name
    return json_response(await _skill_view(state, skill_id))


async def delete_skill(ctx: Ctx[None, None]) -> web.StreamResponse:
    state, skill_id = ctx.state, ctx.path["skill_id"]
    if skill_id in state.deps.settings.routing.skills:
        raise Conflict(f"skill {skill_id} is defined in the configuration file", code="config")
    agents = await _all_agents(state)
    users = sorted(a.id for a in agents.values() if skill_id in a.skills)
    if users:
        raise Conflict(f"skill {skill_id} is used by agents {', '.join(users[:10])}", code="in_use")
    async with state.sessions() as session, session.begin():
        if await session.get(Skill, skill_id) is None:
            raise NotFound(f"no skill {skill_id}")
        await session.execute(delete(Skill).where(Skill.id == skill_id))
    return web.Response(status=204)


# --------------------------------------------------------------------------- agents


def _live_state(state: ApiState, agent_id: str) -> str | None:
    agent = state.center.router.agents.get(agent_id)
    return agent.state.value if agent is not None else None


async def _all_agents(state: ApiState) -> dict[str, AgentAdminView]:
    out: dict[str, AgentAdminView] = {}
    for agent in state.deps.settings.routing.agents:
        out[agent.id] = AgentAdminView(
            id=agent.id,
            name=agent.name,
            phone=agent.phone,
            languages=list(agent.languages),
            skills=dict(agent.skills),
            active=True,
            source="config",
            live_state=_live_state(state, agent.id),
        )
    async with state.sessions() as session:
        saved = await live.saved_agent_rows(session)
    for row, skills in saved:
        out[row.id] = AgentAdminView(
            id=row.id,
            name=row.name or "",
            phone=row.phone,
            languages=[str(x) for x in row.languages or []],
            skills=skills,
            active=row.active,
            source="database",
            live_state=_live_state(state, row.id),
        )
    return out


async def _agent(state: ApiState, agent_id: str) -> AgentAdminView:
    found = (await _all_agents(state)).get(agent_id)
    if found is None:
        raise NotFound(f"no agent {agent_id}")
    return found


async def list_agents(ctx: Ctx[None, None]) -> web.StreamResponse:
    agents = await _all_agents(ctx.state)
    return json_response([agents[k].model_dump(mode="json") for k in sorted(agents)])


async def get_agent(ctx: Ctx[None, None]) -> web.StreamResponse:
    return json_response(await _agent(ctx.state, ctx.path["agent_id"]))


async def _check_agent(
    state: ApiState, session: AsyncSession, agent_id: str, phone: str | None, skills: dict[str, int]
) -> None:
    known = await _known_skills(state, session)
    unknown = sorted(set(skills) - known)
    if unknown:
        raise BadRequest(
            "unknown skills",
            fields=[{"field": f"skills.{s}", "message": f"no skill {s}"} for s in unknown],
        )
    if phone is None:
        return
    owners = {a.phone: a.id for a in state.deps.settings.routing.agents}
    owners.update(
        {
            row.phone: row.id
            for row in (await session.execute(select(Agent).where(Agent.phone == phone))).scalars()
            if row.phone
        }
    )
    live_owner = state.center.agents_by_phone.get(phone)
    if live_owner is not None:
        owners.setdefault(phone, live_owner.id)
    owner = owners.get(phone)
    if owner is not None and owner != agent_id:
        raise Conflict(f"phone {phone} belongs to agent {owner}", code="phone_taken")


async def _save_agent(
    state: ApiState, session: AsyncSession, view: AgentAdminView, *, new: bool
) -> None:
    for skill in view.skills:
        if await session.get(Skill, skill) is None:
            session.add(Skill(id=skill, name=""))
    await session.flush()
    row = None if new else await session.get(Agent, view.id)
    if row is None:
        session.add(
            Agent(
                id=view.id,
                name=view.name,
                phone=view.phone,
                languages=view.languages,
                active=view.active,
            )
        )
    else:
        row.name, row.phone, row.languages, row.active = (
            view.name,
            view.phone,
            view.languages,
            view.active,
        )
    await session.flush()
    await session.execute(delete(AgentSkill).where(AgentSkill.agent_id == view.id))
    for skill, level in view.skills.items():
        session.add(AgentSkill(agent_id=view.id, skill_id=skill, level=level))


def _apply(state: ApiState, view: AgentAdminView) -> str | None:
    note = live.apply_agent(
        state.center, view.id, view.name, view.phone, view.languages, view.skills, view.active
    )
    if note:
        log.warning("agent %s saved; the running router keeps the old settings: %s", view.id, note)
    return note


def _answer(
    state: ApiState, view: AgentAdminView, note: str | None, status: int = 200
) -> web.Response:
    view = view.model_copy(update={"live_state": _live_state(state, view.id)})
    response = json_response(view, status=status)
    if note:
        response.headers["X-ACD-Note"] = note.encode("ascii", "replace").decode()
    return response


async def create_agent(ctx: Ctx[AgentCreate, None]) -> web.StreamResponse:
    state, body = ctx.state, ctx.body
    if body.id in {a.id for a in state.deps.settings.routing.agents}:
        raise Conflict(f"agent {body.id} exists (configuration file)", code="exists")
    view = AgentAdminView(
        id=body.id,
        name=body.name,
        phone=body.phone,
        languages=body.languages,
        skills=body.skills,
        active=body.active,
        source="database",
        live_state=None,
    )
    try:
        async with state.sessions() as session, session.begin():
            if await session.get(Agent, body.id) is not None:
                raise Conflict(f"agent {body.id} exists", code="exists")
            await _check_agent(state, session, body.id, body.phone, body.skills)
            await _save_agent(state, session, view, new=True)
    except IntegrityError:
        raise Conflict(f"agent {body.id} or its phone exists", code="exists") from None
    return _answer(state, view, _apply(state, view), status=201)


async def update_agent(ctx: Ctx[AgentUpdate, None]) -> web.StreamResponse:
    state, body = ctx.state, ctx.body
    current = await _agent(state, ctx.path["agent_id"])
    changes = body.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k == "phone"}
    view = current.model_copy(update={**changes, "source": "database"})
    try:
        async with state.sessions() as session, session.begin():
            await _check_agent(state, session, view.id, view.phone, view.skills)
            await _save_agent(state, session, view, new=False)
    except IntegrityError:
        raise Conflict(f"phone {view.phone} is taken", code="phone_taken") from None
    return _answer(state, view, _apply(state, view))


async def delete_agent(ctx: Ctx[None, None]) -> web.StreamResponse:
    state, agent_id = ctx.state, ctx.path["agent_id"]
    current = await _agent(state, agent_id)
    if current.source == "config":
        raise Conflict(f"agent {agent_id} is defined in the configuration file", code="config")
    reason = live.remove_agent(state.center, agent_id)
    if reason is not None:
        raise Conflict(reason, code="logged_in")
    async with state.sessions() as session, session.begin():
        await session.execute(delete(AgentSkill).where(AgentSkill.agent_id == agent_id))
        await session.execute(delete(Agent).where(Agent.id == agent_id))
    return web.Response(status=204)


# --------------------------------------------------------------------------- users


async def _user(session: AsyncSession, username: str) -> User:
    row = (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no user {username}")
    return row


async def _check_link(state: ApiState, role: Role, agent_id: str | None) -> None:
    if role is Role.AGENT:
        if agent_id is None:
            raise _field("agent_id", "an agent user needs agent_id")
        if agent_id not in await _all_agents(state) and agent_id not in state.center.router.agents:
            raise _field("agent_id", f"no agent {agent_id}")
    elif agent_id is not None:
        raise _field("agent_id", "only users with the role agent are linked to an agent")


async def _other_active_admins(session: AsyncSession, user_id: int) -> int:
    count = await session.execute(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN.value, User.active.is_(True), User.id != user_id)
    )
    return int(count.scalar_one())


async def list_users(ctx: Ctx[None, None]) -> web.StreamResponse:
    async with ctx.state.sessions() as session:
        rows = (await session.execute(select(User).order_by(User.username))).scalars().all()
    return json_response([user_info(row).model_dump(mode="json") for row in rows])


async def get_user(ctx: Ctx[None, None]) -> web.StreamResponse:
    async with ctx.state.sessions() as session:
        return json_response(user_info(await _user(session, ctx.path["username"])))


async def create_user(ctx: Ctx[UserCreate, None]) -> web.StreamResponse:
    state, body = ctx.state, ctx.body
    await _check_link(state, body.role, body.agent_id)
    password_hash = await asyncio.to_thread(hash_password, body.password, state.hasher)
    try:
        async with state.sessions() as session, session.begin():
            exists = (
                await session.execute(select(User.id).where(User.username == body.username))
            ).scalar_one_or_none()
            if exists is not None:
                raise Conflict(f"user {body.username} exists", code="exists")
            row = User(
                username=body.username,
                password_hash=password_hash,
                role=body.role.value,
                agent_id=body.agent_id,
                active=body.active,
            )
            session.add(row)
            await session.flush()
            info = user_info(row)
    except IntegrityError:
        raise Conflict(f"user {body.username} exists", code="exists") from None
    log.info("user %s (%s) created by %s", body.username, body.role, ctx.principal.username)
    return json_response(info, status=201)


async def update_user(ctx: Ctx[UserUpdate, None]) -> web.StreamResponse:
    state, body = ctx.state, ctx.body
    async with state.sessions() as session:
        row = await _user(session, ctx.path["username"])
    changes = body.model_dump(exclude_unset=True)
    role = Role(changes.get("role") or row.role)
    agent_id = changes.get("agent_id", row.agent_id)
    if role is not Role.AGENT and "agent_id" not in changes:
        agent_id = None
    await _check_link(state, role, agent_id)
    values: dict[str, Any] = {"role": role.value, "agent_id": agent_id}
    if changes.get("active") is not None:
        values["active"] = changes["active"]
    if changes.get("password") is not None:
        values["password_hash"] = await asyncio.to_thread(
            hash_password, changes["password"], state.hasher
        )
    async with state.sessions() as session, session.begin():
        stays_admin = values["role"] == Role.ADMIN.value and values.get("active", row.active)
        last = row.role == Role.ADMIN.value and not stays_admin
        if last and await _other_active_admins(session, row.id) == 0:
            raise Conflict("this is the last active admin", code="last_admin")
        await session.execute(update(User).where(User.id == row.id).values(**values))
        fresh = await session.get(User, row.id, populate_existing=True)
        assert fresh is not None
        info = user_info(fresh)
    if set(changes) & {"password", "role", "agent_id", "active"}:
        state.tokens.revoke_user(row.id)
    return json_response(info)


async def delete_user(ctx: Ctx[None, None]) -> web.StreamResponse:
    state = ctx.state
    async with state.sessions() as session, session.begin():
        row = await _user(session, ctx.path["username"])
        if row.id == ctx.principal.user_id:
            raise Conflict("you cannot delete yourself", code="self")
        if row.role == Role.ADMIN.value and await _other_active_admins(session, row.id) == 0:
            raise Conflict("this is the last active admin", code="last_admin")
        await session.execute(delete(User).where(User.id == row.id))
    state.tokens.revoke_user(row.id)
    return web.Response(status=204)


# --------------------------------------------------------------------------- scenarios


def _version_view(row: ScenarioVersion) -> ScenarioVersionView:
    return ScenarioVersionView(
        scenario=row.scenario,
        version=row.version,
        author=row.author,
        created_at=row.created_at,
        active=row.active,
        size=len(row.content.encode("utf-8")),
    )


def _facts(state: ApiState) -> RoutingFacts:
    routing = state.deps.settings.routing
    return RoutingFacts(
        skills=frozenset(routing.skills) | frozenset(state.center.router.skills),
        queues=frozenset(q.id for q in routing.queues),
        origin="routing",
    )


async def list_scenarios(ctx: Ctx[None, None]) -> web.StreamResponse:
    async with ctx.state.sessions() as session:
        rows = (
            (
                await session.execute(
                    select(ScenarioVersion).order_by(
                        ScenarioVersion.scenario, ScenarioVersion.version
                    )
                )
            )
            .scalars()
            .all()
        )
    summaries: dict[str, ScenarioSummary] = {}
    for row in rows:
        current = summaries.get(row.scenario)
        active = row.version if row.active else (current.active_version if current else None)
        summaries[row.scenario] = ScenarioSummary(
            name=row.scenario,
            active_version=active,
            latest_version=row.version,
            updated_at=max(row.created_at, current.updated_at) if current else row.created_at,
        )
    return json_response([s.model_dump(mode="json") for s in summaries.values()])


async def upload_scenario(ctx: Ctx[ScenarioUpload, None]) -> web.StreamResponse:
    state, body = ctx.state, ctx.body
    directory = state.deps.settings.scenarios.directory
    result = await asyncio.to_thread(check_content, body.content, _facts(state), directory)
    if result.problems or result.name is None:
        problems = [
            ScenarioProblem(
                line=p.line, column=p.column, field=p.field, message=p.message
            ).model_dump()
            for p in result.problems
        ]
        raise ApiError(
            f"the scenario has {len(problems)} problem(s)",
            code="invalid_scenario",
            status=400,
            fields=[
                {"field": f"content:{p['line']}:{p['column']}", "message": p["message"]}
                for p in problems
            ],
            extra={"problems": problems},
        )
    now = instant(state.now())
    try:
        async with state.sessions() as session, session.begin():
            latest = (
                await session.execute(
                    select(func.max(ScenarioVersion.version)).where(
                        ScenarioVersion.scenario == result.name
                    )
                )
            ).scalar_one()
            row = ScenarioVersion(
                scenario=result.name,
                version=(latest or 0) + 1,
                author=ctx.principal.username,
                created_at=now,
                content=body.content,
                active=False,
            )
            session.add(row)
            await session.flush()
            view = _version_view(row)
    except IntegrityError:
        raise Conflict("another upload of this scenario came first: retry", code="race") from None
    log.info("scenario %s version %d uploaded by %s", view.scenario, view.version, view.author)
    activation = None
    if body.activate:
        activation = await _activate(ctx, view.scenario, view.version, "activate")
        view = view.model_copy(update={"active": True})
    return json_response(UploadResponse(version=view, activation=activation), status=201)


async def _versions(session: AsyncSession, name: str) -> list[ScenarioVersion]:
    rows = (
        (
            await session.execute(
                select(ScenarioVersion)
                .where(ScenarioVersion.scenario == name)
                .order_by(ScenarioVersion.version)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        raise NotFound(f"no scenario {name}")
    return list(rows)


async def _activations(session: AsyncSession, name: str) -> list[Activation]:
    rows = (
        await session.execute(
            select(CallEventRow)
            .where(CallEventRow.call_id == "", CallEventRow.kind == ACTIVATED)
            .order_by(CallEventRow.at, CallEventRow.id)
        )
    ).scalars()
    out = []
    for row in rows:
        data = row.data if isinstance(row.data, dict) else {}
        if data.get("scenario") != name or not isinstance(data.get("version"), int):
            continue
        previous = data.get("previous_version")
        out.append(
            Activation(
                version=data["version"],
                previous_version=previous if isinstance(previous, int) else None,
                action=str(data.get("action") or "activate"),
                by=data.get("by") if isinstance(data.get("by"), str) else None,
                at=row.at,
                applied=bool(data.get("applied")),
            )
        )
    return out


async def scenario_history(ctx: Ctx[None, None]) -> web.StreamResponse:
    name = ctx.path["name"]
    async with ctx.state.sessions() as session:
        versions = await _versions(session, name)
        activations = await _activations(session, name)
    return json_response(
        ScenarioHistory(
            scenario=name,
            versions=[_version_view(v) for v in versions],
            activations=activations,
        )
    )


async def get_scenario_version(ctx: Ctx[None, None]) -> web.StreamResponse:
    name, version = ctx.path["name"], ctx.path["version"]
    async with ctx.state.sessions() as session:
        row = (
            await session.execute(
                select(ScenarioVersion).where(
                    ScenarioVersion.scenario == name, ScenarioVersion.version == version
                )
            )
        ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no version {version} of scenario {name}")
    return json_response(
        ScenarioVersionContent(**_version_view(row).model_dump(), content=row.content)
    )


async def _activate(ctx: Ctx[Any, Any], name: str, version: int, action: str) -> ActivationResponse:
    state = ctx.state
    async with state.sessions() as session:
        versions = await _versions(session, name)
    target = next((v for v in versions if v.version == version), None)
    if target is None:
        raise NotFound(f"no version {version} of scenario {name}")
    previous = next((v.version for v in versions if v.active), None)
    applied = False
    hook = state.deps.scenario_hook
    if hook is not None:
        outcome = hook(name, target.content)
        problems = await outcome if inspect.isawaitable(outcome) else outcome
        if problems:
            raise ApiError(
                f"the scenario registry refused version {version}",
                code="scenario_refused",
                status=409,
                extra={
                    "problems": [
                        {"line": None, "column": None, "field": "", "message": str(p)}
                        for p in problems
                    ]
                },
            )
        applied = True
    now = instant(state.now())
    async with state.sessions() as session, session.begin():
        await session.execute(
            update(ScenarioVersion)
            .where(ScenarioVersion.scenario == name, ScenarioVersion.version != version)
            .values(active=False)
        )
        await session.execute(
            update(ScenarioVersion)
            .where(ScenarioVersion.scenario == name, ScenarioVersion.version == version)
            .values(active=True)
        )
        session.add(
            CallEventRow(
                call_id="",
                at=now,
                kind=ACTIVATED,
                data={
                    "scenario": name,
                    "version": version,
                    "previous_version": previous,
                    "action": action,
                    "by": ctx.principal.username,
                    "applied": applied,
                },
            )
        )
    log.info(
        "scenario %s: %s version %d (was %s) by %s%s",
        name,
        action,
        version,
        previous,
        ctx.principal.username,
        "" if applied else " (no scenario hook: database only)",
    )
    return ActivationResponse(
        scenario=name, version=version, previous_version=previous, applied=applied
    )


async def activate_scenario(ctx: Ctx[None, None]) -> web.StreamResponse:
    return json_response(await _activate(ctx, ctx.path["name"], ctx.path["version"], "activate"))


async def rollback_scenario(ctx: Ctx[None, None]) -> web.StreamResponse:
    """Activate the version that was active before the current one (else the one below)."""
    name = ctx.path["name"]
    async with ctx.state.sessions() as session:
        versions = await _versions(session, name)
        activations = await _activations(session, name)
    current = next((v.version for v in versions if v.active), None)
    if current is None:
        raise Conflict(f"scenario {name} has no active version to roll back", code="no_active")
    existing = {v.version for v in versions}
    target = None
    for activation in reversed(activations):
        if (
            activation.version == current
            and activation.previous_version in existing
            and activation.previous_version != current
        ):
            target = activation.previous_version
            break
    if target is None:
        lower = [v.version for v in versions if v.version < current]
        target = max(lower) if lower else None
    if target is None:
        raise Conflict(f"scenario {name} has no earlier version", code="no_previous")
    return json_response(await _activate(ctx, name, target, "rollback"))


ENDPOINTS = [
    Endpoint(
        "GET", "/api/admin/skills", list_skills, "Skills", TAG, ADMIN, response=SkillView, many=True
    ),
    Endpoint(
        "POST",
        "/api/admin/skills",
        create_skill,
        "Add a skill",
        TAG,
        ADMIN,
        body=SkillCreate,
        response=SkillView,
        status=201,
        responses={409: "exists"},
    ),
    Endpoint(
        "PATCH",
        "/api/admin/skills/{skill_id}",
        update_skill,
        "Rename a skill",
        TAG,
        ADMIN,
        body=SkillUpdate,
        response=SkillView,
        path_params=SKILL_PARAM,
    ),
    Endpoint(
        "DELETE",
        "/api/admin/skills/{skill_id}",
        delete_skill,
        "Delete an unused skill",
        TAG,
        ADMIN,
        status=204,
        path_params=SKILL_PARAM,
        responses={409: "used by agents, or from the configuration file"},
    ),
    Endpoint(
        "GET",
        "/api/admin/agents",
        list_agents,
        "Agents with skills and levels",
        TAG,
        ADMIN,
        response=AgentAdminView,
        many=True,
    ),
    Endpoint(
        "POST",
        "/api/admin/agents",
        create_agent,
        "Add an agent (routable at once if it has a phone)",
        TAG,
        ADMIN,
        body=AgentCreate,
        response=AgentAdminView,
        status=201,
        responses={409: "the agent or the phone exists"},
    ),
    Endpoint(
        "GET",
        "/api/admin/agents/{agent_id}",
        get_agent,
        "One agent",
        TAG,
        ADMIN,
        response=AgentAdminView,
        path_params=AGENT_PARAM,
    ),
    Endpoint(
        "PATCH",
        "/api/admin/agents/{agent_id}",
        update_agent,
        "Change an agent: name, phone, languages, skill levels, active",
        TAG,
        ADMIN,
        body=AgentUpdate,
        response=AgentAdminView,
        path_params=AGENT_PARAM,
        responses={409: "the phone is taken"},
    ),
    Endpoint(
        "DELETE",
        "/api/admin/agents/{agent_id}",
        delete_agent,
        "Delete an agent (logged out, not from the configuration file)",
        TAG,
        ADMIN,
        status=204,
        path_params=AGENT_PARAM,
        responses={409: "logged in, or from the configuration file"},
    ),
    Endpoint(
        "GET", "/api/admin/users", list_users, "Users", TAG, ADMIN, response=UserInfo, many=True
    ),
    Endpoint(
        "POST",
        "/api/admin/users",
        create_user,
        "Add a user",
        TAG,
        ADMIN,
        body=UserCreate,
        response=UserInfo,
        status=201,
        responses={409: "exists"},
    ),
    Endpoint(
        "GET",
        "/api/admin/users/{username}",
        get_user,
        "One user",
        TAG,
        ADMIN,
        response=UserInfo,
        path_params=USER_PARAM,
    ),
    Endpoint(
        "PATCH",
        "/api/admin/users/{username}",
        update_user,
        "Change a user's password, role, agent or active flag (ends their sessions)",
        TAG,
        ADMIN,
        body=UserUpdate,
        response=UserInfo,
        path_params=USER_PARAM,
        responses={409: "the last active admin"},
    ),
    Endpoint(
        "DELETE",
        "/api/admin/users/{username}",
        delete_user,
        "Delete a user",
        TAG,
        ADMIN,
        status=204,
        path_params=USER_PARAM,
        responses={409: "yourself, or the last active admin"},
    ),
    Endpoint(
        "GET",
        "/api/admin/scenarios",
        list_scenarios,
        "Scenarios with their active and latest versions",
        TAG,
        ADMIN,
        response=ScenarioSummary,
        many=True,
    ),
    Endpoint(
        "POST",
        "/api/admin/scenarios",
        upload_scenario,
        "Upload a scenario version (checked: problems with line and column)",
        TAG,
        ADMIN,
        body=ScenarioUpload,
        response=UploadResponse,
        status=201,
        responses={409: "refused by the registry, or a concurrent upload"},
    ),
    Endpoint(
        "GET",
        "/api/admin/scenarios/{name}/versions",
        scenario_history,
        "Version history: who uploaded and who activated what",
        TAG,
        ADMIN,
        response=ScenarioHistory,
        path_params=SCENARIO_PARAM,
    ),
    Endpoint(
        "GET",
        "/api/admin/scenarios/{name}/versions/{version}",
        get_scenario_version,
        "One version with its YAML text",
        TAG,
        ADMIN,
        response=ScenarioVersionContent,
        path_params=VERSION_PARAM,
    ),
    Endpoint(
        "POST",
        "/api/admin/scenarios/{name}/versions/{version}/activate",
        activate_scenario,
        "Activate a version (through the scenario hook)",
        TAG,
        ADMIN,
        response=ActivationResponse,
        path_params=VERSION_PARAM,
        responses={409: "refused by the registry"},
    ),
    Endpoint(
        "POST",
        "/api/admin/scenarios/{name}/rollback",
        rollback_scenario,
        "Roll back to the version active before the current one",
        TAG,
        ADMIN,
        response=ActivationResponse,
        path_params=SCENARIO_PARAM,
        responses={409: "no active or earlier version, or refused by the registry"},
    ),
]
