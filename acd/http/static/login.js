/* /ui/login: staff log in with user name and password, then go to their page. */
"use strict";

(() => {
  const { api, $ } = ACD;
  const HOME = {
    agent: "/ui/agent",
    supervisor: "/ui/wallboard",
    qa: "/ui/qa",
    admin: "/ui/admin/scenarios",
  };

  function nextPage(role) {
    const next = new URLSearchParams(location.search).get("next");
    // Only a page of this server: a path under /ui/, never another origin.
    if (next && /^\/ui\/[A-Za-z0-9/_-]*$/.test(next)) return next;
    return HOME[role] || "/ui/login";
  }

  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#login-error").textContent = "";
    $("#login-submit").disabled = true;
    try {
      const answer = await api("POST", "/api/login", {
        username: $("#username").value.trim(),
        password: $("#password").value,
      });
      location.assign(nextPage(answer.user.role));
    } catch (err) {
      $("#login-error").textContent = err.label || String(err);
    } finally {
      $("#login-submit").disabled = false;
    }
  });
})();
