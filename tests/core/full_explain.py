"""A reference for routing explanations: every agent of the skill group looked at one by one.

The router builds a bounded explanation from its indexes; the tests check it against this
brute-force scan taken at the same moment (the scan is what the spec describes).
"""

from __future__ import annotations

from collections import Counter

from acd.core.agents import Agent, AgentState
from acd.core.calls import Call
from acd.core.explain import Candidate, Exclusion, ExclusionReason, OfferExplanation
from acd.core.router import Router

S = AgentState
R = ExclusionReason


def tiers_of(router: Router, call: Call) -> list[tuple[str, int]]:
    primary = call.requirements[0]
    steps = router.queues[call.queue_id].relaxation
    tiers = [(primary.skill, primary.min_level)]
    for step in steps[: call.active_tiers - 1]:
        tiers.append((step.skill or primary.skill, step.min_level))
    return tiers


def exclusion(agent: Agent, call: Call, tiers: list[tuple[str, int]]) -> Exclusion | None:
    aid, state = agent.agent_id, agent.state
    if state is S.LOGGED_OUT:
        return Exclusion(aid, R.LOGGED_OUT)
    if state is S.BREAK:
        return Exclusion(aid, R.ON_BREAK, agent.break_reason or "")
    if state is S.WRAP_UP:
        return Exclusion(aid, R.WRAP_UP)
    if state is S.RINGING:
        return Exclusion(aid, R.RINGING_ELSEWHERE, agent.call_id or "")
    if state is S.ON_CALL:
        return Exclusion(aid, R.ON_CALL, agent.call_id or "")
    if not agent.phone_registered:
        return Exclusion(aid, R.PHONE_UNREGISTERED)
    if agent.phone_busy:
        return Exclusion(aid, R.PHONE_BUSY)
    if call.language not in agent.profile.languages:
        return Exclusion(aid, R.WRONG_LANGUAGE, f"needs {call.language}")
    skills = agent.profile.skills
    for req in call.requirements[1:]:
        has = skills.get(req.skill, 0)
        if has < req.min_level:
            reason = R.BELOW_LEVEL if req.skill in skills else R.MISSING_SKILL
            return Exclusion(aid, reason, f"{req.skill}: has {has}, needs {req.min_level}")
    if all(skills.get(skill, 0) < level for skill, level in tiers):
        skill, needed = tiers[0][0], min(level for _, level in tiers)
        return Exclusion(aid, R.BELOW_LEVEL, f"{skill}: has {skills.get(skill, 0)}, needs {needed}")
    return None


def full_explanation(
    router: Router, call: Call, chosen_id: str, at: float
) -> tuple[list[Candidate], list[Exclusion]]:
    """Every candidate, best first (the chosen agent first), and every left-out agent."""
    tiers = tiers_of(router, call)
    group_skills = {skill for skill, _ in tiers}
    day = router.day.day_number(at)
    candidates: list[Candidate] = []
    excluded: list[Exclusion] = []
    for agent in router.agents.values():
        if not group_skills & set(agent.profile.skills):
            continue
        left_out = exclusion(agent, call, tiers)
        if left_out is not None:
            excluded.append(left_out)
            continue
        skills = agent.profile.skills
        tier = next(t for t, (skill, level) in enumerate(tiers) if skills.get(skill, 0) >= level)
        candidates.append(
            Candidate(
                agent.agent_id,
                agent.agent_id in call.missed_by,
                tier,
                skills[tiers[tier][0]],
                agent.talk_today(day),
                at - agent.available_since,
            )
        )
    candidates.sort(
        key=lambda c: (
            c.agent_id != chosen_id,
            c.missed_this_call,
            c.tier,
            -c.level,
            c.talk_today_seconds,
            -c.idle_seconds,
            c.agent_id,
        )
    )
    return candidates, excluded


def check_summary(
    got: OfferExplanation,
    candidates: list[Candidate],
    excluded: list[Exclusion],
    top: int,
    sample: int,
) -> None:
    """``got`` is the bounded form of the full explanation (``candidates``, ``excluded``)."""
    assert list(got.candidates) == candidates[:top]
    assert got.candidate_count == len(candidates)
    counts = Counter(e.reason for e in excluded)
    assert dict(got.excluded_counts) == dict(counts)
    assert list(got.excluded_counts) == [r for r in ExclusionReason if r in counts]
    assert got.excluded_total == len(excluded)
    assert set(got.excluded) <= set(excluded), set(got.excluded) - set(excluded)
    named = Counter(e.reason for e in got.excluded)
    assert named == Counter({r: min(n, sample) for r, n in counts.items() if min(n, sample)})
    order = list(ExclusionReason)
    keys = [(order.index(e.reason), e.agent_id) for e in got.excluded]
    assert keys == sorted(keys)
    assert got.complete == (len(candidates) <= top and all(n <= sample for n in counts.values()))
