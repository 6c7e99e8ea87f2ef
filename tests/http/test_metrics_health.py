"""/metrics (Prometheus, own registry) and /healthz, both without a login."""

from __future__ import annotations

from typing import Any

from http_support import Api
from prometheus_client.parser import text_string_to_metric_families


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def test_metrics_follow_the_calls(api: Api) -> None:
    await api.agent_login("agent1")
    api.queue_call("1790000000.1")  # offered to a1
    api.queue_call("1790000000.2")  # waits
    api.answer("1790000000.1", "a1")
    api.clock.advance(5)
    api.center.caller_hung_up("1790000000.2")  # abandoned
    api.center.routing_latency.extend([0.002, 0.0004])
    response = await api.client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = _samples(await response.text())
    assert samples[("acd_offers_total", ())] == 1
    assert samples[("acd_answers_total", ())] == 1
    assert samples[("acd_abandons_total", ())] == 1
    assert samples[("acd_calls_finished_total", (("outcome", "abandoned"),))] == 1
    assert samples[("acd_calls_waiting", (("queue", "hotline"),))] == 0
    assert samples[("acd_calls_live", (("status", "connected"),))] == 1
    assert samples[("acd_agents", (("state", "on_call"),))] == 1
    assert samples[("acd_agents", (("state", "logged_out"),))] == 1
    assert samples[("acd_ami_connected", ())] == 1
    assert samples[("acd_fastagi_serving", ())] == 1
    assert samples[("acd_routing_latency_seconds_count", ())] == 2
    assert samples[("acd_routing_latency_seconds_bucket", (("le", "0.0005"),))] == 1
    # Scraped again: the same latency samples are not counted twice.
    again = _samples(await (await api.client.get("/metrics")).text())
    assert again[("acd_routing_latency_seconds_count", ())] == 2
    requests = [k for k in again if k[0] == "acd_http_requests_total"]
    assert any(("route", "/metrics") in labels for _, labels in requests)


async def test_healthz_reports_each_part(api_factory: Any, sqlite_url: str) -> None:
    state = {"ami": True}

    async def fastagi() -> bool:
        raise RuntimeError("not listening")

    api = await api_factory(sqlite_url, ami_connected=lambda: state["ami"], fastagi_serving=fastagi)
    try:
        response = await api.client.get("/healthz")
        assert response.status == 503
        body = await response.json()
        assert body["status"] == "degraded"
        assert body["checks"]["ami"] == {"ok": True, "detail": None}
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["fastagi"]["ok"] is False
        assert "not listening" in body["checks"]["fastagi"]["detail"]
        state["ami"] = False
        metrics = _samples(await (await api.client.get("/metrics")).text())
        assert metrics[("acd_ami_connected", ())] == 0
        assert metrics[("acd_fastagi_serving", ())] == 0
    finally:
        await api.close()


async def test_healthz_without_probes(api_factory: Any, sqlite_url: str) -> None:
    api = await api_factory(sqlite_url, ami_connected=None, fastagi_serving=None)
    try:
        body = await (await api.client.get("/healthz")).json()
        assert body["status"] == "ok"
        assert body["checks"]["ami"]["ok"] is None
        metrics = await (await api.client.get("/metrics")).text()
        assert ("acd_ami_connected", ()) not in _samples(metrics)  # unknown: no sample
    finally:
        await api.close()


async def test_a_database_outage_is_503_not_500(api_factory: Any) -> None:
    api = await api_factory(
        "postgresql+asyncpg://acd_test:acd_test@127.0.0.1:1/none", prepare_database=False
    )
    try:
        response = await api.client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["checks"]["database"]["ok"] is False
        response = await api.client.post("/api/login", json={"username": "qa", "password": "x"})
        assert response.status == 503
        assert (await response.json())["error"] == "database_unavailable"
    finally:
        await api.close()
