"""The pages (/ui/...) in headless Chromium: log-in, presence, a screen pop from a call of
the simulated PBX, a recording played, a broken scenario's problems shown in place."""

from __future__ import annotations

import csv
import io
import wave
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from e2e_stack import Stack
from http_support import FAST_HASHER, PASSWORDS, Api

from acd.core.agents import AgentState
from acd.http.auth import hash_password
from acd.sim.pbx import SimulatedPBX
from acd.storage.db import make_engine, make_sessions
from acd.storage.models import Call, User
from acd.storage.recordings import index_one

BROKEN = """\
name: support
languages: [ru]
time_zone: Europe/Moscow
entry_points:
  default: hello
nodes:
  hello: {type: play, prompt: {ru: support/hello}, next: nowhere}
  wait: {type: queue, skills: {operator: 1}}
"""


def base_url(api: Api) -> str:
    """The test server's address, as the browser reaches it."""
    return str(api.client.make_url("")).rstrip("/")


async def log_in(page: Any, api: Api, username: str, next_path: str) -> None:
    """Through the login page, which then goes on to ``next_path``."""
    await page.goto(f"{base_url(api)}/ui/login?next={next_path}")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORDS[username])
    await page.click("#login-submit")


async def test_pages_are_served_with_their_assets(ui_api: Api) -> None:
    client = ui_api.client
    for path in ("/ui/login", "/ui/agent", "/ui/wallboard", "/ui/qa", "/ui/admin/scenarios"):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.content_type == "text/html"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    response = await client.get("/ui/static/ui.js")
    assert response.status == 200 and response.content_type == "text/javascript"
    for bad in ("/ui/static/nothing.js", "/ui/static/..%2Fapp.py", "/ui/static/hints.yaml"):
        assert (await client.get(bad)).status == 404, bad
    response = await client.get("/ui/", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/ui/login"


async def test_agent_logs_in_and_changes_state(
    browser: Any, ui_api: Api, console_errors: Callable[[Any], list[str]]
) -> None:
    page = await browser.new_page()
    errors = console_errors(page)
    await page.goto(f"{base_url(ui_api)}/ui/agent")
    await page.fill("#agent-id", "a1")
    await page.fill("#agent-password", "wrong-password")
    await page.click("#agent-login-submit")
    await page.wait_for_selector("#login-error:has-text('Неверный')")
    await page.fill("#agent-password", PASSWORDS["agent1"])
    await page.click("#agent-login-submit")
    await page.wait_for_selector("#agent-state[data-state='available']")
    await page.wait_for_selector("#ws-status:has-text('на связи')")
    router = ui_api.center.router
    assert router.agent("a1").state is AgentState.AVAILABLE

    await page.select_option("#break-reason", "обучение")
    await page.click("#btn-break")
    await page.wait_for_selector("#agent-state[data-state='break']")
    assert router.agent("a1").state is AgentState.BREAK
    assert router.agent("a1").break_reason == "обучение"
    assert "обучение" in (await page.text_content("#state-reason") or "")

    await page.click("#btn-ready")
    await page.wait_for_selector("#agent-state[data-state='available']")
    assert router.agent("a1").state is AgentState.AVAILABLE

    await page.click("#btn-logout")
    await page.wait_for_selector("#login-section:not(.hidden)")
    assert router.agent("a1").state is AgentState.LOGGED_OUT
    assert errors == []


async def test_screen_pop_from_a_call_of_the_simulated_pbx(
    browser: Any, tmp_path: Path, console_errors: Callable[[Any], list[str]]
) -> None:
    pbx = SimulatedPBX(spool_dir=tmp_path / "spool")
    await pbx.start()
    for phone in ("1001", "1002", "1003"):
        pbx.add_phone(phone)
    stack = Stack(tmp_path, pbx)
    try:
        app = await stack.start_app()
        assert app.http_port
        engine = make_engine(app.settings.database.url)  # the daemon's database (SQLite)
        try:
            async with make_sessions(engine)() as session, session.begin():
                session.add(
                    User(
                        username="boris",
                        password_hash=hash_password("boris-secret", FAST_HASHER),
                        role="agent",
                        agent_id="a2",
                        active=True,
                    )
                )
        finally:
            await engine.dispose()
        # Only a2 may take the call: the others are on a break.
        for other in ("a1", "a3"):
            app.center.agent_command(other, "break", "тест")
        page = await browser.new_page()
        errors = console_errors(page)
        await page.goto(f"http://127.0.0.1:{app.http_port}/ui/agent")
        await page.fill("#agent-id", "a2")
        await page.fill("#agent-password", "boris-secret")
        await page.click("#agent-login-submit")
        await page.wait_for_selector("#ws-status:has-text('на связи')")

        caller = await pbx.place_call("+79165550101")
        await page.wait_for_selector("#pop[data-stage='offered']")
        assert await page.text_content("#pop-caller") == "+79165550101"
        assert await page.text_content("#pop-language") == "ru"
        assert await page.locator("#pop-hints li").count() > 0  # the default first-line script
        await page.wait_for_selector("#agent-state[data-state='ringing']")

        ringing = await pbx.phone("1002").wait_ringing()
        pbx.phone("1002").answer(ringing)
        await caller.wait_bridged()
        await page.wait_for_selector("#pop[data-stage='connected']")
        await page.wait_for_selector("#agent-state[data-state='on_call']")
        call_id = await page.get_attribute("#pop", "data-call-id")
        assert call_id and app.center.router.agent("a2").call_id == call_id

        await page.fill("#disp-topic", "Электронная подпись")
        await page.fill("#disp-ticket", "SP-77")
        await page.fill("#disp-notes", "первая строка\nвторая строка")
        await page.click("#disp-submit")
        await page.wait_for_selector(f"#disp-result.ok:has-text('{call_id}')")
        dispositions = stack.events(call_id, "disposition")
        assert dispositions and dispositions[-1].data["ticket"] == "SP-77"

        # Transfer the call: back in the queue for the skill, the agent in wrap-up.
        assert await page.is_enabled("#transfer-submit")
        await page.select_option("#transfer-skill", "operator")
        await page.fill("#transfer-level", "2")
        await page.fill("#transfer-reason", "нужен старший")
        await page.click("#transfer-submit")
        await page.wait_for_selector("#transfer-result.ok[data-status='handed_over']")
        await page.wait_for_selector("#agent-state[data-state='wrap_up']")
        assert await page.is_disabled("#transfer-submit")
        [moved] = stack.events(call_id, "transferred")
        assert (moved.data["skills"], moved.data["reason"]) == ("operator:2", "нужен старший")
        await caller.wait_moh()
        assert errors == []
    finally:
        await stack.stop_app()
        await pbx.stop()


def _wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x10" * int(seconds * rate))
    return buffer.getvalue()


async def test_qa_finds_a_call_and_plays_its_recording(
    browser: Any, ui_api: Api, console_errors: Callable[[Any], list[str]]
) -> None:
    call_id = "1789000000.42"
    async with ui_api.sessions() as session, session.begin():
        session.add(
            Call(
                id=call_id,
                arrived_at=datetime(2026, 9, 10, 9, 0, tzinfo=UTC),
                caller_number="+79161112233",
                queue_id="hotline",
                agent_id="a1",
                topic="billing",
                ticket="SP-42",
                outcome="answered",
                wait_seconds=12.0,
                talk_seconds=60.0,
            )
        )
    (ui_api.recordings / f"{call_id}.wav").write_bytes(_wav(1.5))
    indexed = await index_one(ui_api.sessions, ui_api.recordings, call_id)
    assert indexed is not None

    page = await browser.new_page()
    errors = console_errors(page)
    await page.goto(f"{base_url(ui_api)}/ui/qa")
    await page.wait_for_url("**/ui/login?next=%2Fui%2Fqa")
    await page.fill("#username", "qa")
    await page.fill("#password", PASSWORDS["qa"])
    await page.click("#login-submit")
    await page.wait_for_url("**/ui/qa")
    await page.fill("#q-caller", "1112233")
    await page.select_option("#q-outcome", "answered")
    await page.click("#q-submit")
    await page.click(f"#results tr[data-call-id='{call_id}']")
    await page.wait_for_selector("#timeline li")
    await page.wait_for_function("document.querySelector('#player').duration > 0")
    duration = await page.evaluate("document.querySelector('#player').duration")
    assert 1.4 < duration < 1.6
    # Seeking works: the API answers byte ranges.
    await page.evaluate("document.querySelector('#player').currentTime = 1.0")
    await page.wait_for_function("document.querySelector('#player').readyState >= 1")
    assert "SP-42" in (await page.text_content("#call-facts") or "")
    assert errors == []


async def test_broken_scenario_shows_its_problems_in_place(
    browser: Any, ui_api: Api, console_errors: Callable[[Any], list[str]]
) -> None:
    page = await browser.new_page()
    errors = console_errors(page)
    await log_in(page, ui_api, "admin", "/ui/admin/scenarios")
    await page.wait_for_url("**/ui/admin/scenarios")
    await page.fill("#scenario-content", BROKEN)
    await page.click("#upload-submit")
    problem = page.locator("#problems li[data-line='7']")
    await problem.wait_for()
    text = await problem.text_content() or ""
    assert text.startswith("строка 7:") and "nowhere" in text
    line7 = page.locator("#source .line.bad[data-line='7']")
    assert "next: nowhere" in (await line7.text_content() or "")
    assert await page.locator("#source .line[data-line='1']:not(.bad)").count() == 1
    assert errors == []


async def test_wallboard_shows_agents_live(
    browser: Any, ui_api: Api, console_errors: Callable[[Any], list[str]]
) -> None:
    ui_api.center.agent_command("a2", "login")
    page = await browser.new_page()
    errors = console_errors(page)
    await log_in(page, ui_api, "sup", "/ui/wallboard")
    await page.wait_for_selector("#agents tr[data-agent='a2'][data-state='available']")
    await page.wait_for_selector("#queues tr[data-queue='hotline']")
    href = await page.get_attribute("#rep-calls", "href") or ""
    assert href.startswith("/api/reports/calls?from=") and "format=xlsx" in href
    ui_api.center.agent_command("a2", "break", "обед")
    await page.wait_for_selector("#agents tr[data-agent='a2'][data-state='break']")
    assert errors == []


async def _seed_calls(api: Api, count: int) -> None:
    """``count`` answered calls on 2026-09-21 (Moscow), topics alternating."""
    day = datetime(2026, 9, 21, 9, 0, tzinfo=UTC)  # 12:00 Moscow
    async with api.sessions() as session, session.begin():
        for n in range(count):
            arrived = day + timedelta(minutes=n)
            session.add(
                Call(
                    id=f"1790100000.{n}",
                    arrived_at=arrived,
                    queued_at=arrived,
                    answered_at=arrived + timedelta(seconds=10),
                    ended_at=arrived + timedelta(seconds=70),
                    caller_number=f"+7916{n:07d}",
                    queue_id="hotline",
                    agent_id="a1",
                    topic="подпись" if n % 3 else "пароль",
                    outcome="answered",
                    wait_seconds=10.0,
                    talk_seconds=60.0,
                )
            )


async def _download(page: Any, link: str, directory: Path) -> Path:
    """Click ``link`` and keep the file the browser downloads."""
    async with page.expect_download() as info:
        await page.click(link)
    download = await info.value
    saved = directory / download.suggested_filename
    await download.save_as(saved)
    return saved


async def test_reports_download_from_the_wallboard(
    browser: Any, ui_api: Api, console_errors: Callable[[Any], list[str]], tmp_path: Path
) -> None:
    await _seed_calls(ui_api, 9)
    page = await browser.new_page()
    errors = console_errors(page)
    await log_in(page, ui_api, "sup", "/ui/wallboard")
    await page.wait_for_selector("#rep-calls[href]")
    await page.fill("#rep-from", "2026-09-21")
    await page.fill("#rep-to", "2026-09-21")
    await page.select_option("#rep-format", "csv")
    await page.dispatch_event("#rep-to", "change")

    saved = await _download(page, "#rep-topics", tmp_path)
    assert saved.suffix == ".csv"
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    counts = {row[0]: row[1] for row in rows[1:] if len(row) >= 2}
    assert counts.get("подпись") == "6" and counts.get("пароль") == "3", rows

    await page.select_option("#rep-format", "xlsx")
    saved = await _download(page, "#rep-calls", tmp_path)
    assert saved.suffix == ".xlsx"
    with zipfile.ZipFile(saved) as book:  # a real workbook, with the day's nine calls
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = (
            book.read("xl/sharedStrings.xml").decode()
            if ("xl/sharedStrings.xml" in book.namelist())
            else ""
        )
    assert "<v>9</v>" in sheet
    assert "Итого" in strings or "Итого" in sheet
    assert errors == []


async def test_qa_search_pages_through_the_calls(
    browser: Any, ui_api: Api, console_errors: Callable[[Any], list[str]]
) -> None:
    await _seed_calls(ui_api, 60)
    page = await browser.new_page()
    errors = console_errors(page)
    await log_in(page, ui_api, "qa", "/ui/qa")
    await page.wait_for_url("**/ui/qa")
    await page.fill("#q-from", "2026-09-21")
    await page.fill("#q-to", "2026-09-21")
    await page.click("#q-submit")
    await page.wait_for_function(
        "document.querySelectorAll('#results tr[data-call-id]').length == 50"
    )
    assert await page.text_content("#page") == "1"
    assert await page.is_disabled("#prev") and await page.is_enabled("#next")
    first_page = set(
        await page.eval_on_selector_all(
            "#results tr[data-call-id]", "rows => rows.map(r => r.dataset.callId)"
        )
    )
    await page.click("#next")
    await page.wait_for_selector("#page:has-text('2')")
    await page.wait_for_function(
        "document.querySelectorAll('#results tr[data-call-id]').length == 10"
    )
    second_page = set(
        await page.eval_on_selector_all(
            "#results tr[data-call-id]", "rows => rows.map(r => r.dataset.callId)"
        )
    )
    assert not first_page & second_page and len(first_page | second_page) == 60
    assert await page.is_disabled("#next")
    await page.click("#prev")
    await page.wait_for_selector("#page:has-text('1')")
    await page.wait_for_function(
        "document.querySelectorAll('#results tr[data-call-id]').length == 50"
    )
    assert errors == []


async def test_scenario_versions_activate_and_roll_back_in_the_page(
    browser: Any, ui_api: Api, console_errors: Callable[[Any], list[str]]
) -> None:
    good = BROKEN.replace("next: nowhere", "next: wait")
    page = await browser.new_page()
    errors = console_errors(page)
    await log_in(page, ui_api, "admin", "/ui/admin/scenarios")
    await page.wait_for_url("**/ui/admin/scenarios")

    await page.fill("#scenario-content", good)
    await page.check("#scenario-activate")
    await page.click("#upload-submit")
    await page.wait_for_selector("#upload-result.ok:has-text('активирована')")
    await page.fill("#scenario-content", good.replace("support/hello", "support/hello-2"))
    await page.uncheck("#scenario-activate")
    await page.click("#upload-submit")
    await page.wait_for_selector("#upload-result.ok:has-text('версия 2')")
    await page.wait_for_selector("#scenarios tr[data-scenario='support']")
    assert "1" in (
        await page.text_content("#scenarios tr[data-scenario='support'] td:nth-child(2)") or ""
    )

    await page.click("#versions tr[data-version='2'] button.activate")  # version 2 goes live
    await page.wait_for_selector("#history-result.ok:has-text('Версия 2 активна')")
    await page.wait_for_selector("#versions tr[data-version='2']:has-text('(активна)')")
    await page.click("#rollback")  # and back to version 1
    await page.wait_for_selector("#history-result.ok:has-text('Откат на версию 1')")
    await page.wait_for_selector("#versions tr[data-version='1']:has-text('(активна)')")
    assert await page.locator("#activations tr").count() == 3  # activate, activate, rollback
    assert "откат" in (await page.text_content("#activations") or "")
    assert errors == []


async def test_wallboard_shows_each_waiting_callers_estimate(
    browser: Any, ui_api: Api, console_errors: Callable[[Any], list[str]]
) -> None:
    center = ui_api.center
    center.agent_command("a1", "login")
    ui_api.queue_call("1790200000.1")
    ui_api.answer("1790200000.1", "a1")  # a1 talks; the next caller waits
    page = await browser.new_page()
    errors = console_errors(page)
    await log_in(page, ui_api, "sup", "/ui/wallboard")
    await page.wait_for_selector("#queues tr[data-queue='hotline']")
    ui_api.queue_call("1790200000.2", caller="+79160000002")
    row = page.locator("#queues tr[data-queue='hotline']")
    await page.wait_for_selector("#queues tr[data-queue='hotline'] td.waiting:has-text('1')")
    estimate = center.estimate("1790200000.2")
    assert estimate is not None and estimate.position == 1
    text = await row.locator("td").nth(5).text_content() or ""
    assert text.startswith("№1: "), text
    assert ("~" in text) == estimate.known
    assert errors == []
