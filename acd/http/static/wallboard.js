/* /ui/wallboard: the supervisor's live wallboard over /api/ws/supervisor, and report links. */
"use strict";

(async () => {
  const { el, $, setText, duration, liveSocket, stateBadge, today, STATE_LABELS } = ACD;
  await ACD.requireLogin(["admin", "supervisor"]);

  const pct = (value) => (value === null || value === undefined ? "—" : `${value.toFixed(1)} %`);

  function estimateText(queue) {
    const waiting = queue.calls.filter((c) => c.status === "waiting" && c.estimate);
    if (!waiting.length) return "—";
    return waiting.map((c) => {
      const e = c.estimate;
      const mean = e.mean_seconds === null ? "нет операторов" : `~${duration(e.mean_seconds)}`;
      const range = e.low_seconds === null || e.high_seconds === null ? ""
        : ` (${duration(e.low_seconds)}–${duration(e.high_seconds)})`;
      return `№${e.position}: ${mean}${range}`;
    }).join("; ");
  }

  function render(snapshot) {
    setText("#updated", new Date().toLocaleTimeString("ru-RU"));
    $("#queues").replaceChildren(...snapshot.queues.queues.map((q) =>
      el("tr", { dataset: { queue: q.id } }, el("td", {}, q.id), el("td", { class: "waiting" }, q.waiting),
        el("td", {}, q.ringing), el("td", {}, q.connected),
        el("td", {}, duration(q.longest_wait_seconds)), el("td", {}, estimateText(q)))));
    const agents = snapshot.agents;
    $("#agents").replaceChildren(...agents.agents.map((a) =>
      el("tr", { dataset: { agent: a.agent_id, state: a.state } },
        el("td", {}, `${a.name} (${a.agent_id})`), el("td", {}, stateBadge(a.state)),
        el("td", {}, duration(a.seconds_in_state)), el("td", {}, a.reason || a.pending_break || ""),
        el("td", {}, a.call_id || ""), el("td", {}, duration(a.talk_today_seconds)))));
    setText("#by-state", Object.entries(agents.by_state).filter(([, n]) => n)
      .map(([state, n]) => `${STATE_LABELS[state] || state}: ${n}`).join(" · "));
    const sl = snapshot.service_level;
    if (sl) {
      setText("#sl-date", `${sl.date}, ${sl.time_zone}`);
      setText("#sl-overall", pct(sl.overall.service_level_pct));
      setText("#sl-received", sl.overall.received);
      setText("#sl-answered", sl.overall.answered);
      setText("#sl-within", sl.overall.answered_within);
      setText("#sl-lost", sl.overall.lost);
      $("#sl-queues").replaceChildren(...sl.queues.map((q) =>
        el("tr", {}, el("td", {}, q.queue), el("td", {}, duration(q.threshold_seconds)),
          el("td", {}, q.received), el("td", {}, q.answered), el("td", {}, q.lost),
          el("td", {}, pct(q.service_level_pct)))));
    }
  }

  function reportLinks() {
    const from = $("#rep-from").value || today();
    const to = $("#rep-to").value || today();
    const format = $("#rep-format").value;
    for (const name of ["calls", "topics", "detail", "agents"]) {
      const query = new URLSearchParams({ from, to, format });
      $(`#rep-${name}`).href = `/api/reports/${name}?${query}`;
    }
  }
  $("#rep-from").value = today();
  $("#rep-to").value = today();
  for (const id of ["#rep-from", "#rep-to", "#rep-format"]) $(id).addEventListener("change", reportLinks);
  reportLinks();

  liveSocket("/api/ws/supervisor", {
    onMessage: (message) => { if (message.type === "snapshot") render(message); },
    onStatus: (text) => { $("#ws-status").textContent = text; },
    onSessionEnd: () => location.replace("/ui/login?next=/ui/wallboard"),
  });
})();
