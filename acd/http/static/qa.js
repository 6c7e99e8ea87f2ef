/* /ui/qa: call search, a call's record, timeline with the routing explanation, recording. */
"use strict";

(async () => {
  const { api, el, $, setText, duration, dateTime, OUTCOME_LABELS } = ACD;
  await ACD.requireLogin(null);

  let page = 1;
  const PAGE_SIZE = 50;
  for (const [value, label] of Object.entries(OUTCOME_LABELS)) {
    $("#q-outcome").append(el("option", { value }, label));
  }

  function query() {
    const params = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) });
    const fields = { from: "#q-from", to: "#q-to", agent: "#q-agent", topic: "#q-topic",
      caller: "#q-caller", outcome: "#q-outcome" };
    for (const [name, selector] of Object.entries(fields)) {
      const value = $(selector).value.trim();
      if (value) params.set(name, value);
    }
    return params;
  }

  async function search() {
    $("#search-error").textContent = "";
    try {
      const answer = await api("GET", `/api/calls?${query()}`);
      setText("#total", answer.total);
      setText("#page", answer.page);
      $("#prev").disabled = answer.page <= 1;
      $("#next").disabled = answer.page * answer.page_size >= answer.total;
      $("#results").replaceChildren(...answer.items.map((c) =>
        el("tr", { class: "clickable", dataset: { callId: c.id }, onclick: () => openCall(c.id) },
          el("td", {}, dateTime(c.arrived_at)), el("td", {}, c.id), el("td", {}, c.caller_number || "—"),
          el("td", {}, c.queue_id || "—"), el("td", {}, c.agent_id || "—"), el("td", {}, c.topic || "—"),
          el("td", {}, c.ticket || "—"), el("td", {}, OUTCOME_LABELS[c.outcome] || c.outcome || "—"),
          el("td", {}, duration(c.wait_seconds)), el("td", {}, duration(c.talk_seconds)))));
      if (!answer.items.length) {
        $("#results").replaceChildren(el("tr", {}, el("td", { colspan: 10, class: "muted" }, "Ничего не найдено")));
      }
    } catch (err) {
      const fields = (err.body && err.body.fields) || [];
      $("#search-error").textContent = [err.label || String(err),
        ...fields.map((f) => `${f.field}: ${f.message}`)].join("; ");
    }
  }

  function fact(label, value) {
    return [el("dt", {}, label), el("dd", {}, value === null || value === undefined || value === "" ? "—" : value)];
  }

  async function openCall(callId) {
    $("#call").classList.remove("hidden");
    $("#call-error").textContent = "";
    setText("#call-title", callId);
    for (const row of document.querySelectorAll("#results tr")) {
      row.classList.toggle("selected", row.dataset.callId === callId);
    }
    const player = $("#player");
    const status = $("#recording-status");
    status.textContent = "";
    $("#call-facts").replaceChildren();
    $("#timeline").replaceChildren();
    let detail;
    try {
      detail = await api("GET", `/api/calls/${encodeURIComponent(callId)}`);
    } catch (err) {
      $("#call-error").textContent = err.status === 404 ? "Звонок не найден" : err.label || String(err);
      player.removeAttribute("src");
      player.load();
      return;
    }
    $("#call-facts").replaceChildren(
      ...fact("Поступил", dateTime(detail.arrived_at)), ...fact("Номер", detail.caller_number),
      ...fact("Имя", detail.caller_name), ...fact("Набран", detail.dialled_number),
      ...fact("Очередь", detail.queue_id), ...fact("Навыки", detail.skills),
      ...fact("Язык", detail.language), ...fact("Сценарий", detail.scenario),
      ...fact("Выбор в IVR", (detail.ivr_path || []).join(" → ")),
      ...fact("Оператор", detail.agent_id), ...fact("Итог", OUTCOME_LABELS[detail.outcome] || detail.outcome),
      ...fact("Ожидание", duration(detail.wait_seconds)), ...fact("Разговор", duration(detail.talk_seconds)),
      ...fact("Тема", detail.topic), ...fact("Результат", detail.disposition),
      ...fact("Заявка", detail.ticket), ...fact("Заметки", detail.notes));
    const recording = detail.recording;
    if (recording && recording.deleted_at) {
      status.textContent = `Запись удалена по сроку хранения (${dateTime(recording.deleted_at)}).`;
      player.removeAttribute("src");
      player.load();
    } else {
      // The API streams with Range, so the player can seek; a 404 shows as an error below.
      player.src = (recording && recording.url) || `/api/calls/${encodeURIComponent(callId)}/recording`;
      player.dataset.callId = callId;
    }
    try {
      const timeline = await api("GET", `/api/calls/${encodeURIComponent(callId)}/timeline`);
      $("#timeline").replaceChildren(...timeline.events.map((e) => el("li", { dataset: { kind: e.kind } },
        el("b", {}, e.kind), " ", el("span", { class: "muted" }, dateTime(e.at)),
        e.summary ? el("div", { class: "explanation" }, e.summary) : null,
        el("details", {}, el("summary", {}, "данные"), el("pre", {}, JSON.stringify(e.data, null, 2))))));
      if (!timeline.events.length) $("#timeline").replaceChildren(el("li", { class: "muted" }, "Нет событий"));
    } catch (err) {
      $("#call-error").textContent = err.label || String(err);
    }
  }

  $("#player").addEventListener("error", () => {
    if ($("#player").getAttribute("src")) $("#recording-status").textContent = "Записи нет или она недоступна.";
  });
  $("#player").addEventListener("loadedmetadata", () => {
    $("#recording-status").textContent = `Длительность ${duration($("#player").duration)}`;
  });

  $("#search").addEventListener("submit", (event) => { event.preventDefault(); page = 1; search(); });
  $("#prev").addEventListener("click", () => { page = Math.max(1, page - 1); search(); });
  $("#next").addEventListener("click", () => { page += 1; search(); });
  $("#open-call").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("#call-id-input").value.trim();
    if (id) openCall(id);
  });
  const wanted = new URLSearchParams(location.search).get("call");
  if (wanted) openCall(wanted);
  search();
})();
