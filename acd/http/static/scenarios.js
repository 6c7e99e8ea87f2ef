/* /ui/admin/scenarios: upload a scenario version (problems shown in place), activate, history. */
"use strict";

(async () => {
  const { api, el, $, setText, dateTime } = ACD;
  await ACD.requireLogin(["admin"]);

  let current = null; // the scenario whose history is shown

  function showSource(text, problems) {
    const byLine = new Map();
    for (const p of problems) {
      if (p.line) byLine.set(p.line, [...(byLine.get(p.line) || []), p]);
    }
    const lines = text.split("\n");
    const source = $("#source");
    source.replaceChildren(...lines.map((line, index) => {
      const no = index + 1;
      const found = byLine.get(no);
      return el("span", { class: found ? "line bad" : "line", dataset: { line: no }, id: `src-line-${no}` },
        el("span", { class: "no" }, no), line,
        found ? el("span", { class: "msg" }, found.map((p) => p.message).join("; ")) : null);
    }));
    source.classList.toggle("hidden", problems.length === 0);
  }

  function selectLine(line) {
    const area = $("#scenario-content");
    const lines = area.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || "").length);
    const row = $(`#src-line-${line}`);
    if (row) row.scrollIntoView({ block: "nearest" });
  }

  function clearProblems() {
    $("#problems").replaceChildren();
    $("#source").replaceChildren();
    $("#source").classList.add("hidden");
  }

  async function loadList() {
    const list = await api("GET", "/api/admin/scenarios");
    $("#scenarios").replaceChildren(...list.map((s) =>
      el("tr", { class: "clickable", dataset: { scenario: s.name }, onclick: () => loadHistory(s.name) },
        el("td", {}, s.name), el("td", {}, s.active_version ?? "—"), el("td", {}, s.latest_version),
        el("td", {}, dateTime(s.updated_at)))));
    if (!list.length) $("#scenarios").replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "Нет загруженных сценариев")));
  }

  async function activate(name, version) {
    $("#history-result").className = "";
    try {
      const answer = await api("POST", `/api/admin/scenarios/${encodeURIComponent(name)}/versions/${version}/activate`);
      $("#history-result").className = "ok";
      $("#history-result").textContent = `Версия ${answer.version} активна${answer.applied ? "" : " (только в базе)"}.`;
    } catch (err) {
      $("#history-result").className = "error";
      const problems = (err.body && err.body.problems) || [];
      $("#history-result").textContent = [err.label || String(err), ...problems.map((p) => p.message)].join("; ");
    }
    await loadList();
    await loadHistory(name);
  }

  async function loadHistory(name) {
    current = name;
    const history = await api("GET", `/api/admin/scenarios/${encodeURIComponent(name)}/versions`);
    $("#history").classList.remove("hidden");
    setText("#history-name", name);
    $("#versions").replaceChildren(...history.versions.map((v) =>
      el("tr", { dataset: { version: v.version } }, el("td", {}, v.version, v.active ? " (активна)" : ""),
        el("td", {}, v.author || "—"), el("td", {}, dateTime(v.created_at)), el("td", {}, `${v.size} байт`),
        el("td", {}, v.active ? "" : el("button", { type: "button", class: "secondary activate",
          onclick: () => activate(name, v.version) }, "Активировать")))));
    $("#activations").replaceChildren(...history.activations.map((a) =>
      el("tr", {}, el("td", {}, dateTime(a.at)), el("td", {}, a.version), el("td", {}, a.previous_version ?? "—"),
        el("td", {}, a.action === "rollback" ? "откат" : "активация"), el("td", {}, a.by || "—"),
        el("td", {}, a.applied ? "да" : "нет"))));
  }

  $("#rollback").addEventListener("click", async () => {
    if (!current) return;
    try {
      const answer = await api("POST", `/api/admin/scenarios/${encodeURIComponent(current)}/rollback`);
      $("#history-result").className = "ok";
      $("#history-result").textContent = `Откат на версию ${answer.version}.`;
    } catch (err) {
      $("#history-result").className = "error";
      $("#history-result").textContent = err.label || String(err);
    }
    await loadList();
    await loadHistory(current);
  });

  $("#scenario-file").addEventListener("change", async () => {
    const file = $("#scenario-file").files[0];
    if (file) { $("#scenario-content").value = await file.text(); clearProblems(); }
  });

  $("#upload").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = $("#upload-result");
    result.className = "";
    result.textContent = "";
    clearProblems();
    const content = $("#scenario-content").value;
    try {
      const answer = await api("POST", "/api/admin/scenarios", {
        content, activate: $("#scenario-activate").checked,
      });
      const v = answer.version;
      result.className = "ok";
      result.textContent = `Загружена версия ${v.version} сценария ${v.scenario}` +
        (answer.activation ? " и активирована." : ".");
      await loadList();
      await loadHistory(v.scenario);
    } catch (err) {
      result.className = "error";
      const problems = (err.body && err.body.problems) || [];
      if (problems.length) {
        result.textContent = `В сценарии ошибок: ${problems.length}`;
        $("#problems").replaceChildren(...problems.map((p) => el("li",
          { dataset: { line: p.line ?? "" }, onclick: () => p.line && selectLine(p.line) },
          p.line ? `строка ${p.line}${p.column ? `:${p.column}` : ""}: ` : "", p.field ? `${p.field}: ` : "", p.message)));
        showSource(content, problems);
      } else {
        const fields = (err.body && err.body.fields) || [];
        result.textContent = [err.label || String(err), ...fields.map((f) => `${f.field}: ${f.message}`)].join("; ");
      }
    }
  });

  await loadList();
})();
