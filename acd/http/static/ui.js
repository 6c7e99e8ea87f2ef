/* Shared helpers of the pages: API calls with the session cookie, DOM building, formats. */
"use strict";

const ACD = (() => {
  const STATE_LABELS = {
    logged_out: "Не в системе",
    available: "Готов",
    ringing: "Вызов",
    on_call: "Разговор",
    wrap_up: "Поствызывная обработка",
    break: "Перерыв",
  };
  const OUTCOME_LABELS = {
    answered: "Отвечен",
    abandoned: "Потерян",
    short_abandon: "Короткий сброс",
    overflow: "Переполнение",
    voicemail: "Голосовая почта",
    callback: "Обратный звонок",
    transferred: "Переведён",
    out_of_hours: "Нерабочее время",
    hooliganism: "Хулиганство",
    ivr_ended: "Завершён в IVR",
    ivr_abandoned: "Сброшен в IVR",
  };
  const ERROR_LABELS = {
    invalid_credentials: "Неверный логин или пароль",
    too_many_requests: "Слишком много неудачных попыток входа; подождите",
    agent_not_routed: "Оператор не подключён к маршрутизации",
    illegal_transition: "Сейчас это действие недоступно",
    forbidden: "Недостаточно прав",
    unauthorized: "Требуется вход",
    no_call: "Нет текущего или последнего звонка",
    transfer_failed: "Перевести звонок не удалось",
  };

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
    }
    get label() {
      const code = this.body.error;
      const base = ERROR_LABELS[code] || "Ошибка";
      return this.body.message ? `${base}: ${this.body.message}` : base;
    }
  }

  /** A JSON API call with the session cookie; throws ApiError on an error status. */
  async function api(method, path, body) {
    const headers = { "X-Requested-With": "acd-ui", Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = null;
    const text = await response.text();
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = { message: text }; }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  /** el("td", {class: "x"}, "text", child, ...): text is always text, never HTML. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function $(selector) { return document.querySelector(selector); }

  function setText(selector, value) {
    const node = $(selector);
    if (node) node.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(r)}` : `${m}:${pad(r)}`;
  }

  function dateTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString("ru-RU");
  }

  function today() {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }

  function stateBadge(state) {
    return el("span", { class: `state state-${state}`, dataset: { state } }, STATE_LABELS[state] || state);
  }

  function wsUrl(path) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${path}`;
  }

  /**
   * A WebSocket that reconnects (1 s, doubling to 10 s) until the session ends (4401).
   * onMessage(data) for each JSON message; onStatus(text) for the connection state;
   * onSessionEnd() when the server says the session is over.
   */
  function liveSocket(path, { onMessage, onStatus, onSessionEnd }) {
    let delay = 1000;
    let stopped = false;
    let socket = null;
    function connect() {
      socket = new WebSocket(wsUrl(path));
      socket.addEventListener("open", () => { delay = 1000; onStatus && onStatus("на связи", true); });
      socket.addEventListener("message", (event) => {
        let data;
        try { data = JSON.parse(event.data); } catch (_) { return; }
        onMessage(data);
      });
      socket.addEventListener("close", (event) => {
        if (stopped) return;
        if (event.code === 4401) { stopped = true; onStatus && onStatus("сессия завершена", false); onSessionEnd && onSessionEnd(); return; }
        onStatus && onStatus("нет связи, переподключение…", false);
        setTimeout(async () => {
          if (stopped) return;
          try { await api("GET", "/api/me"); } catch (err) {
            if (err.status === 401) { stopped = true; onSessionEnd && onSessionEnd(); return; }
          }
          connect();
        }, delay);
        delay = Math.min(delay * 2, 10000);
      });
    }
    connect();
    return { close() { stopped = true; if (socket) socket.close(); } };
  }

  /** Staff pages: who is logged in (else to the login page). */
  async function requireLogin(roles) {
    let me;
    try {
      me = await api("GET", "/api/me");
    } catch (err) {
      if (err.status === 401) {
        location.replace(`/ui/login?next=${encodeURIComponent(location.pathname)}`);
        return new Promise(() => {});
      }
      throw err;
    }
    setText("#who", `${me.user.username} (${me.user.role})`);
    const logout = $("#logout");
    if (logout) logout.addEventListener("click", async () => {
      try { await api("POST", "/api/logout"); } catch (_) { /* already gone */ }
      location.assign("/ui/login");
    });
    if (roles && !roles.includes(me.user.role)) {
      const main = $("main");
      main.replaceChildren(el("p", { class: "error", id: "forbidden" },
        `Недостаточно прав: страница для ролей ${roles.join(", ")}; вы — ${me.user.role}.`));
      return new Promise(() => {});
    }
    return me;
  }

  return {
    ApiError, api, el, $, setText, duration, dateTime, today, stateBadge, wsUrl, liveSocket,
    requireLogin, STATE_LABELS, OUTCOME_LABELS,
  };
})();
