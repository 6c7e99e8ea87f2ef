/* /ui/agent: the agent's desk — shift log-in, presence, the live screen pop, call notes. */
"use strict";

(() => {
  const { api, el, $, setText, duration, dateTime, liveSocket, STATE_LABELS, OUTCOME_LABELS } = ACD;

  let agent = null; // the last AgentStateView
  let agentAt = 0; // performance.now() when it arrived
  let pop = null; // the last screen pop
  let popAt = 0;
  let popEnded = ""; // why the pop's call is no longer ringing/connected
  let socket = null;

  function showLogin(message) {
    if (socket) { socket.close(); socket = null; }
    $("#desk").classList.add("hidden");
    $("#login-section").classList.remove("hidden");
    $("#login-error").textContent = message || "";
    setText("#who", "");
  }

  function showDesk() {
    $("#login-section").classList.add("hidden");
    $("#desk").classList.remove("hidden");
  }

  function renderAgent(view) {
    agent = view;
    agentAt = performance.now();
    setText("#agent-name", view.name || view.agent_id);
    setText("#agent-id-label", `(${view.agent_id})`);
    setText("#who", view.agent_id);
    const badge = $("#agent-state");
    badge.className = `state state-${view.state}`;
    badge.dataset.state = view.state;
    badge.textContent = STATE_LABELS[view.state] || view.state;
    $("#state-reason").textContent = view.state === "break" && view.reason ? `(${view.reason})` : "";
    const pending = [];
    if (view.pending_break) pending.push(`после звонка — перерыв (${view.pending_break})`);
    if (view.pending_logout) pending.push("после звонка — конец смены");
    if (!view.phone_registered) pending.push("телефон не зарегистрирован");
    $("#pending").textContent = pending.join("; ");
    setText("#talk-today", duration(view.talk_today_seconds));
    $("#btn-ready").disabled = !["break", "wrap_up"].includes(view.state);
    $("#btn-break").disabled = view.state === "logged_out" || view.state === "break";
    $("#btn-wrapup-end").disabled = view.state !== "wrap_up";
    renderTransferSkills(view.transfer_skills || []);
    $("#transfer-submit").disabled = view.state !== "on_call";
    tick();
  }

  function renderTransferSkills(skills) {
    const select = $("#transfer-skill");
    const current = Array.from(select.options, (option) => option.value);
    if (current.join("\n") === skills.join("\n")) return;
    const chosen = select.value;
    select.replaceChildren(...skills.map((skill) => {
      const option = document.createElement("option");
      option.value = option.textContent = skill;
      return option;
    }));
    if (skills.includes(chosen)) select.value = chosen;
  }

  function renderPop(message) {
    pop = message;
    popAt = performance.now();
    popEnded = "";
    $("#pop-empty").classList.add("hidden");
    $("#pop-content").classList.remove("hidden");
    $("#pop").classList.toggle("connected", message.stage === "connected");
    $("#pop").dataset.callId = message.call_id;
    $("#pop").dataset.stage = message.stage;
    setText("#pop-stage", message.stage === "connected" ? "— разговор" : "— входящий вызов");
    setText("#pop-caller", message.caller_number);
    setText("#pop-name", message.caller_name);
    setText("#pop-dialled", message.dialled);
    setText("#pop-queue", message.queue_id);
    setText("#pop-language", message.language);
    setText("#pop-call-id", message.call_id);
    const ivr = message.ivr || {};
    setText("#pop-topic", ivr.topic);
    setText("#pop-ivr", (ivr.path || []).join(" → "));
    setText("#pop-category", ivr.category);
    const hints = message.hints || {};
    setText("#hints-title", hints.title || "");
    $("#pop-hints").replaceChildren(...(hints.hints || []).map((line) => el("li", {}, line)));
    $("#history-error").textContent = message.history_error || "";
    const rows = (message.history || []).map((h) =>
      el("tr", {}, el("td", {}, dateTime(h.arrived_at)), el("td", {}, h.topic || "—"),
        el("td", {}, h.ticket || "—"), el("td", {}, OUTCOME_LABELS[h.outcome] || h.outcome || "—"),
        el("td", {}, h.agent_id || "—")));
    $("#pop-history").replaceChildren(...(rows.length ? rows
      : [el("tr", {}, el("td", { colspan: 5, class: "muted" }, "Первое обращение"))]));
    if (message.stage === "connected" || !$("#disp-topic").value) {
      setDispositionCall(message.call_id, ivr.topic);
    }
    tick();
  }

  function setDispositionCall(callId, topic) {
    const form = $("#disposition");
    if (form.dataset.callId !== callId) {
      form.dataset.callId = callId;
      $("#disp-topic").value = topic || "";
      $("#disp-disposition").value = "";
      $("#disp-ticket").value = "";
      $("#disp-notes").value = "";
      $("#disp-result").textContent = "";
    }
    setText("#disp-call", callId ? `(${callId})` : "");
  }

  function endPop(callId, text) {
    if (!pop || pop.call_id !== callId) return;
    popEnded = text;
    $("#pop").dataset.stage = "ended";
    setText("#pop-stage", `— ${text}`);
    tick();
  }

  function tick() {
    if (agent) {
      const seconds = agent.seconds_in_state + (performance.now() - agentAt) / 1000;
      $("#state-timer").textContent = duration(seconds);
    }
    if (pop) {
      const live = pop.stage === "offered" && !popEnded;
      const wait = pop.wait_seconds + (live ? (performance.now() - popAt) / 1000 : 0);
      $("#pop-wait").textContent = duration(wait);
    }
  }

  function onMessage(message) {
    switch (message.type) {
      case "hello":
      case "state":
        renderAgent(message.agent);
        break;
      case "screen_pop":
        renderPop(message);
        break;
      case "offer_ended":
        endPop(message.call_id, "вызов не принят");
        break;
      case "call_ended":
        endPop(message.call_id, "звонок завершён");
        break;
      default:
        break;
    }
  }

  function connect() {
    if (socket) socket.close();
    socket = liveSocket("/api/ws/agent", {
      onMessage,
      onStatus: (text) => { $("#ws-status").textContent = text; },
      onSessionEnd: () => showLogin("Сессия завершена: войдите снова."),
    });
  }

  async function command(path, body) {
    $("#action-error").textContent = "";
    try {
      renderAgent(await api("POST", path, body));
    } catch (err) {
      if (err.status === 401) showLogin("Сессия завершена: войдите снова.");
      else $("#action-error").textContent = err.label || String(err);
    }
  }

  $("#btn-ready").addEventListener("click", () => command("/api/agent/ready"));
  $("#btn-break").addEventListener("click", () =>
    command("/api/agent/break", { reason: $("#break-reason").value }));
  $("#btn-wrapup-end").addEventListener("click", () => command("/api/agent/wrap-up/end"));
  $("#btn-logout").addEventListener("click", async () => {
    $("#action-error").textContent = "";
    try {
      const view = await api("POST", "/api/agent/logout");
      renderAgent(view);
      showLogin(view.pending_logout ? "Смена завершится после текущего звонка." : "Смена завершена.");
    } catch (err) {
      $("#action-error").textContent = err.label || String(err);
    }
  });

  $("#agent-login").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#login-error").textContent = "";
    $("#agent-login-submit").disabled = true;
    try {
      const answer = await api("POST", "/api/agent/login", {
        agent_id: $("#agent-id").value.trim(),
        password: $("#agent-password").value,
      });
      $("#agent-password").value = "";
      showDesk();
      renderAgent(answer.agent);
      connect();
    } catch (err) {
      $("#login-error").textContent = err.label || String(err);
    } finally {
      $("#agent-login-submit").disabled = false;
    }
  });

  $("#disposition").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = $("#disp-result");
    result.className = "";
    result.textContent = "";
    const body = {};
    const callId = $("#disposition").dataset.callId;
    if (callId) body.call_id = callId;
    for (const [key, selector] of [["topic", "#disp-topic"], ["disposition", "#disp-disposition"],
      ["ticket", "#disp-ticket"], ["notes", "#disp-notes"]]) {
      const value = key === "notes" ? $(selector).value : $(selector).value.trim();
      if (value) body[key] = value;
    }
    if (Object.keys(body).filter((k) => k !== "call_id").length === 0) {
      result.className = "error";
      result.textContent = "Заполните хотя бы одно поле.";
      return;
    }
    try {
      const answer = await api("POST", "/api/agent/disposition", body);
      setDispositionCall(answer.call_id, $("#disp-topic").value);
      result.className = "ok";
      result.textContent = `Сохранено для звонка ${answer.call_id}.`;
    } catch (err) {
      result.className = "error";
      result.textContent = err.label || String(err);
    }
  });

  $("#transfer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = $("#transfer-result");
    result.className = "";
    result.textContent = "";
    const body = {
      skill: $("#transfer-skill").value,
      min_level: Number($("#transfer-level").value) || 1,
    };
    const reason = $("#transfer-reason").value.trim();
    if (reason) body.reason = reason;
    try {
      const answer = await api("POST", "/api/agent/transfer", body);
      result.className = "ok";
      result.dataset.status = answer.status;
      result.textContent = `Звонок ${answer.call_id} переведён: ${answer.skill} (уровень ${answer.min_level} и выше).`;
      renderAgent(await api("GET", "/api/agent/state"));
    } catch (err) {
      result.className = "error";
      result.textContent = err.label || String(err);
    }
  });

  setInterval(tick, 1000);

  (async () => {
    try {
      const view = await api("GET", "/api/agent/state");
      showDesk();
      renderAgent(view);
      connect();
    } catch (err) {
      if (err.status === 403) showLogin("Вы вошли не как оператор: войдите с ID оператора.");
      else if (err.status === 409) showLogin(err.label);
      else showLogin("");
    }
  })();
})();
