"""Prometheus metrics of the daemon, in a registry of their own (served at ``/metrics``).

Read live at each scrape: calls by queue and status, agents by state, the AMI link and the
FastAGI server. Counted from the call-event stream (:class:`~acd.http.events.EventHub`):
offers, answers, abandons, finished calls by outcome. The routing latency histogram takes
the call centre's ``routing_latency`` samples (seconds from a freeing event to the ring
being sent) that appeared since the previous scrape. HTTP requests are counted by route
pattern and status.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from acd.call_events import CallEvent
from acd.core.agents import AgentState
from acd.core.calls import CallStatus
from acd.http.deps import HealthCheck

__all__ = ["CONTENT_TYPE", "Metrics", "probe"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


async def probe(check: HealthCheck | None) -> tuple[bool | None, str | None]:
    """Run a health probe: ``(ok, detail)``; ``(None, ...)`` when there is none."""
    if check is None:
        return None, "no probe configured"
    try:
        result = check()
        if inspect.isawaitable(result):
            result = await result
    except Exception as exc:  # a probe that fails says "down", with why
        return False, f"{type(exc).__name__}: {exc}"
    return bool(result), None


class _Live(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        center = self.metrics.center
        router = center.router
        waiting = GaugeMetricFamily(
            "acd_calls_waiting", "Calls waiting for an agent, by queue", labels=["queue"]
        )
        live = GaugeMetricFamily(
            "acd_calls_live", "Calls in the router, by status", labels=["status"]
        )
        per_queue = dict.fromkeys(router.queues, 0)
        per_status = dict.fromkeys((s.value for s in CallStatus), 0)
        for call in router.calls.values():
            per_status[call.status.value] += 1
            if call.status is CallStatus.WAITING:
                per_queue[call.queue_id] = per_queue.get(call.queue_id, 0) + 1
        for queue, count in sorted(per_queue.items()):
            waiting.add_metric([queue], count)
        for status, count in per_status.items():
            live.add_metric([status], count)
        yield waiting
        yield live
        agents = GaugeMetricFamily("acd_agents", "Agents by state", labels=["state"])
        per_state = dict.fromkeys((s.value for s in AgentState), 0)
        for agent in router.agents.values():
            per_state[agent.state.value] += 1
        for state, count in per_state.items():
            agents.add_metric([state], count)
        yield agents
        for name, text, value in (
            ("acd_ami_connected", "1 if the AMI link is up, 0 if down", self.metrics.ami_up),
            ("acd_fastagi_serving", "1 if the FastAGI server listens", self.metrics.fastagi_up),
        ):
            gauge = GaugeMetricFamily(name, text)
            if value is not None:
                gauge.add_metric([], 1.0 if value else 0.0)
            yield gauge
        yield GaugeMetricFamily(
            "acd_event_subscribers",
            "WebSocket connections following the call events",
            value=self.metrics.hub_subscribers(),
        )


class Metrics:
    def __init__(
        self,
        center: Any,
        ami: HealthCheck | None,
        fastagi: HealthCheck | None,
        hub_subscribers: Any = lambda: 0,
    ) -> None:
        self.center = center
        self.ami = ami
        self.fastagi = fastagi
        self.hub_subscribers = hub_subscribers
        self.ami_up: bool | None = None
        self.fastagi_up: bool | None = None
        self._latency_seen = 0
        self.registry = CollectorRegistry()
        r = self.registry
        self.offers = Counter("acd_offers", "Offers of a call to an agent (rings)", registry=r)
        self.answers = Counter("acd_answers", "Calls connected to an agent", registry=r)
        self.abandons = Counter(
            "acd_abandons", "Calls the caller left before an answer", registry=r
        )
        self.finished = Counter(
            "acd_calls_finished", "Calls that left the router, by outcome", ["outcome"], registry=r
        )
        self.routing_latency = Histogram(
            "acd_routing_latency_seconds",
            "From an agent or call becoming free to the ring being sent",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.http_requests = Counter(
            "acd_http_requests", "HTTP API requests", ["method", "route", "status"], registry=r
        )
        r.register(_Live(self))

    def on_event(self, event: CallEvent) -> None:
        kind = event.kind
        if kind == "offered":
            self.offers.inc()
        elif kind == "connected":
            self.answers.inc()
        elif kind == "finished":
            outcome = str(event.data.get("outcome") or "unknown")[:40]
            self.finished.labels(outcome).inc()
            if outcome == "abandoned":
                self.abandons.inc()

    def _take_latency(self) -> None:
        samples = getattr(self.center, "routing_latency", None)
        if not isinstance(samples, list):
            return
        if len(samples) < self._latency_seen:  # someone trimmed the list: start over
            self._latency_seen = 0
        for value in samples[self._latency_seen :]:
            self.routing_latency.observe(value)
        self._latency_seen = len(samples)

    async def render(self) -> bytes:
        self.ami_up, _ = await probe(self.ami)
        self.fastagi_up, _ = await probe(self.fastagi)
        self._take_latency()
        return generate_latest(self.registry)
