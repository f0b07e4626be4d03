// The softphone frame: follows the agent's event stream (events.js) and sends the
// agent's commands; it tells the console page the state with postMessage, to the
// console's exact origin only (docs/messages.md).

import { followEvents } from "./events.js";

const params = new URLSearchParams(location.search);
const agent = params.get("agent") || "a-17";
const consoleOrigin = params.get("console") || "";
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const auth = { Authorization: `Bearer ${token}` };
let current = null;

const text = (tag, content, className) => {
  const element = document.createElement(tag);
  element.textContent = content;
  if (className) element.className = className;
  return element;
};

function button(label, onClick, className) {
  const element = text("button", label, className);
  element.type = "button";
  element.addEventListener("click", onClick);
  return element;
}

async function send(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const problem = document.getElementById("problem");
  problem.textContent = response.ok ? "" : (await response.json()).detail;
}

const presence = (action, body) => () => send(`/agents/${agent}/${action}`, body);
const command = (call, kind, argument) => () =>
  send(`/calls/${call.call}/commands`, { kind, command_id: crypto.randomUUID(), argument });

function seconds(since) {
  return Math.max(0, Math.round((Date.now() - new Date(since).getTime()) / 1000));
}

function callButtons(call) {
  if (call.state === "offered") {
    return [button("Answer", command(call, "accept"), "primary"), button("Reject", command(call, "reject"))];
  }
  if (call.state === "connected") {
    return [
      button(call.on_hold ? "Resume" : "Hold", command(call, call.on_hold ? "resume" : "hold")),
      button(call.muted ? "Unmute" : "Mute", command(call, call.muted ? "unmute" : "mute")),
      button("Transfer", () => {
        const target = prompt("Transfer to number");
        if (target) command(call, "blind-transfer", target)();
      }),
      button("Hang up", command(call, "hang-up"), "danger"),
    ];
  }
  if (call.state === "dialing") return [button("Hang up", command(call, "hang-up"), "danger")];
  if (call.state === "wrap-up") {
    const form = document.createElement("form");
    const label = text("label", "Disposition ");
    const input = document.createElement("input");
    input.name = "disposition";
    input.required = true;
    label.append(input);
    form.append(label, text("button", "Submit", "primary"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      send(`/calls/${call.call}/wrap-up`, { disposition: input.value, command_id: crypto.randomUUID() });
    });
    return [form];
  }
  return [];
}

function render(state, recorded) {
  current = state;
  const view = state.agent;
  document.getElementById("agent-state").textContent = view.state.replace("-", " ");
  const presenceButtons = view.presence === "logged-out"
    ? [button("Log in", presence("login"))]
    : [
        button("Ready", presence("ready"), "primary"),
        button("Not ready", presence("not-ready", { reason: "break" })),
        button("Log out", presence("logout")),
      ];
  document.getElementById("presence-buttons").replaceChildren(...presenceButtons);
  const calls = state.calls.map((call) => {
    const box = text("div", "", "call");
    box.dataset.call = call.call;
    box.dataset.state = call.state;
    box.dataset.pending = call.pending.join(" ");
    const who = (call.screen_pop || []).find((m) => m.kind === "contact" || m.kind === "lead");
    box.append(text("div", `${call.customer_number || "unknown"}${who ? ` · ${who.title}` : ""}`));
    const status = text("div", call.state + (call.on_hold ? " (on hold)" : ""), "state");
    status.dataset.since = call.connected_at || call.started_at;
    box.append(status, ...callButtons(call));
    if (call.last_failure) {
      // A command that did not happen (refused, or never confirmed): said until the next.
      const failure = text("div", `${call.last_failure.kind} failed: ${call.last_failure.reason}`, "failure");
      failure.setAttribute("role", "alert");
      box.append(failure);
    }
    return box;
  });
  document.getElementById("calls").replaceChildren(...calls);
  if (consoleOrigin) {
    window.parent.postMessage({ type: "calldesk.state", state, recorded }, consoleOrigin);
  }
}

setInterval(() => {
  for (const status of document.querySelectorAll(".call .state")) {
    const state = status.closest(".call").dataset.state;
    status.textContent = `${state} ${seconds(status.dataset.since)} s`;
  }
}, 1000);

function received(fields) {
  if (fields.id) {
    document.body.dataset.received = `${document.body.dataset.received || ""} ${fields.id}`.trim();
  }
  if (!fields.data) return;
  const body = JSON.parse(fields.data);
  render(body.state, body.recorded ?? null); // null: a snapshot, which may hide anything
}

window.addEventListener("message", (event) => {
  if (event.origin !== consoleOrigin) return; // never act for another origin
  const message = event.data;
  if (message && message.type === "calldesk.dial" && message.number) {
    send(`/agents/${agent}/dial`, { number: message.number, command_id: crypto.randomUUID() });
  }
});

followEvents(agent, auth, received, () => {
  document.getElementById("agent-state").textContent = "reconnecting…";
});
