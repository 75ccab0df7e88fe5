// gpuq panel: live updates on top of server-rendered pages (which work without this file).
// - [data-live=MS]: every MS milliseconds, fetch this page again and swap the element with
//   the same id (paused while the tab is hidden or a form field in it has focus).
// - pre#log-text[data-follow=1]: follow the run's log through the JSON API
//   (GET /api/v1/runs/ID/log?offset=N, the session cookie authenticates it).
// - [data-check-all=NAME]: ticks every checkbox named NAME; [data-confirm]: asks first.
"use strict";

function refreshLive(el, ms) {
  const tick = async () => {
    const busy = document.activeElement && el.contains(document.activeElement) &&
      document.activeElement.matches("input, textarea, select");
    const checked = el.querySelector("input[type=checkbox]:checked");
    if (!document.hidden && !busy && !checked) {
      try {
        const r = await fetch(location.href, { credentials: "same-origin", headers: { "X-Requested-With": "gpuq-panel" } });
        if (r.ok && !r.redirected) {
          const doc = new DOMParser().parseFromString(await r.text(), "text/html");
          const fresh = doc.getElementById(el.id);
          if (fresh) { el.replaceWith(fresh); el = fresh; }
        }
      } catch (e) { /* the master may be restarting: try again next tick */ }
    }
    setTimeout(tick, ms);
  };
  setTimeout(tick, ms);
}

function followLog(pre) {
  let offset = Number(pre.dataset.offset || 0);
  const run = pre.dataset.run;
  const decoder = new TextDecoder();  // streaming: a character split across reads stays whole
  const tick = async () => {
    let live = true;
    try {
      const r = await fetch(`/api/v1/runs/${run}/log?offset=${offset}`, { credentials: "same-origin" });
      if (r.ok) {
        const bytes = await r.arrayBuffer();
        const text = decoder.decode(bytes, { stream: true });
        const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        offset += bytes.byteLength;
        if (text.length) {
          pre.append(document.createTextNode(text));
          if (atBottom) pre.scrollTop = pre.scrollHeight;
        }
        const status = r.headers.get("X-Run-Status") || "";
        live = status === "starting" || status === "running" || bytes.byteLength > 0;
        const size = document.getElementById("log-size");
        if (size) size.textContent = `${offset} bytes`;
      }
    } catch (e) { /* retry */ }
    if (live) setTimeout(tick, 1000);
    else pre.dataset.follow = "0";
  };
  pre.scrollTop = pre.scrollHeight;
  setTimeout(tick, 500);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach((el) => {
    if (el.id) refreshLive(el, Math.max(1000, Number(el.dataset.live) || 3000));
  });
  const log = document.querySelector("pre#log-text[data-follow='1']");
  if (log) followLog(log);
  document.addEventListener("click", (ev) => {
    const all = ev.target.closest("[data-check-all]");
    if (all) {
      document.querySelectorAll(`input[type=checkbox][name='${all.dataset.checkAll}']`)
        .forEach((c) => { c.checked = all.checked; });
    }
    const confirmer = ev.target.closest("[data-confirm]");
    if (confirmer && !window.confirm(confirmer.dataset.confirm)) ev.preventDefault();
  });
});
