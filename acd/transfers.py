"""Agents' transfers (``POST /api/agent/transfer``) carried out: the call centre queues the
call again for the skill asked for, then the telephony moves the caller to the music on hold
and ends the agent's leg (``docs/api.md``, Transfer)."""

from __future__ import annotations

import logging

from acd.asterisk.telephony import AmiTelephony
from acd.callcenter import CallCenter
from acd.core.calls import SkillRequirement
from acd.http.deps import TransferHook, TransferRequest

log = logging.getLogger(__name__)


def transfer_hook(center: CallCenter, telephony: AmiTelephony) -> TransferHook:
    async def transfer(request: TransferRequest) -> None:
        requirement = SkillRequirement(request.skill, request.min_level)
        call = center.transfer(request.call_id, request.agent_id, (requirement,), request.reason)
        log.info(
            "call %s transferred by %s to %s:%d",
            request.call_id,
            request.agent_id,
            request.skill,
            request.min_level,
        )
        await telephony.transfer_caller(call, request.agent_id)

    return transfer
