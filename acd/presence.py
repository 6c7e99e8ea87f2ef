"""Agents' presence kept across restarts of the daemon.

A restart must not log every agent out: each presence change is written to a small JSON
file (atomically: write a temporary file, then rename), and read back on start. An agent who
logged in at another desk's phone (``*70``) has that phone recorded too (``phone``).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from acd.core.agents import AgentState

log = logging.getLogger(__name__)

#: Call-work states come back as "available": the call itself is rebuilt from Asterisk.
_RESTORED_AS = {
    AgentState.RINGING: AgentState.AVAILABLE,
    AgentState.ON_CALL: AgentState.AVAILABLE,
    AgentState.WRAP_UP: AgentState.AVAILABLE,
}


class PresenceStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, str | None]] = {}

    def load(self) -> dict[str, tuple[AgentState, str | None]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.error("presence file %s unreadable (%s): agents start logged out", self.path, exc)
            return {}
        result: dict[str, tuple[AgentState, str | None]] = {}
        for agent_id, entry in raw.items() if isinstance(raw, dict) else ():
            try:
                state = AgentState(entry["state"])
            except (KeyError, TypeError, ValueError):
                continue
            restorable = _RESTORED_AS.get(state, state)
            reason = entry.get("reason") if restorable is AgentState.BREAK else None
            result[agent_id] = (restorable, reason)
            self._data[agent_id] = {"state": restorable.value, "reason": reason}
            phone = entry.get("phone")
            if isinstance(phone, str) and phone and restorable is not AgentState.LOGGED_OUT:
                self._data[agent_id]["phone"] = phone
        return result

    def seats(self) -> dict[str, str]:
        """Agents logged in at a phone not their own (as :meth:`load` read them)."""
        return {
            agent_id: str(entry["phone"])
            for agent_id, entry in self._data.items()
            if entry.get("phone")
        }

    def record(
        self, agent_id: str, state: AgentState, reason: str | None, phone: str | None = None
    ) -> None:
        """Save an agent's state if what a restart would restore changes.

        Ringing, on a call and wrap-up all come back as available, so an agent going round
        the call cycle writes nothing: the file is rewritten on log-in, log-out and breaks
        only, never on the dispatch path of a call.
        """
        restorable = _RESTORED_AS.get(state, state)
        entry: dict[str, str | None] = {
            "state": restorable.value,
            "reason": reason if restorable is AgentState.BREAK else None,
        }
        if phone is not None and restorable is not AgentState.LOGGED_OUT:
            entry["phone"] = phone
        if self._data.get(agent_id) == entry:
            return
        self._data[agent_id] = entry
        self.flush()

    def flush(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self._data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.error("cannot save agents' presence to %s: %s", self.path, exc)
