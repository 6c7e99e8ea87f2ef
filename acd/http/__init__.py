"""The HTTP API beside the call centre (aiohttp): agents, supervisors, QA and admins.

Build it with :func:`build_http_app` from :class:`HttpDeps`; :class:`EventHub` is the
call-event fan-out the App adds to the call centre's sink. See ``docs/api.md``.
"""

from acd.http.app import build_http_app
from acd.http.deps import HttpDeps, TransferRequest
from acd.http.events import EventHub
from acd.http.scenarios import directory_scenario_hook

__all__ = ["EventHub", "HttpDeps", "TransferRequest", "build_http_app", "directory_scenario_hook"]
