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

/** m:ss (h:mm:ss past an hour) of a span in seconds, as phones show a call's timer. */
function clock(total) {
  const whole = Math.max(0, Math.floor(total));
  const [h, m, sec] = [Math.floor(whole / 3600), Math.floor(whole / 60) % 60, whole % 60];
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

const since = (instant) => (Date.now() - new Date(instant).getTime()) / 1000;

/** What a call's status line says now: its state, and the timers that matter in it. */
function statusOf(call) {
  if (call.state === "wrap-up") {
    if (call.wrap_up_deadline) {
      // A countdown shows the seconds begun, as phones do: 7.4 s left reads 0:08.
      return `wrap-up, ${clock(Math.ceil(-since(call.wrap_up_deadline)))} left`;
    }
    return `wrap-up ${clock(since(call.ended_at || call.started_at))}`;
  }
  if (call.state === "connected") {
    const talk = `connected ${clock(since(call.connected_at || call.started_at))}`;
    return call.on_hold && call.held_since ? `on hold ${clock(since(call.held_since))} · ${talk}` : talk;
  }
  return `${call.state} ${clock(since(call.started_at))}`;
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
  timed = new Map();
  const calls = state.calls.map((call) => {
    const box = text("div", "", "call");
    box.dataset.call = call.call;
    box.dataset.state = call.state;
    box.dataset.pending = call.pending.join(" ");
    // Named only when the call is filed under one record: several matches name nobody.
    const who = call.record;
    box.append(text("div", `${call.customer_number || "unknown"}${who ? ` · ${who.title}` : ""}`));
    const status = text("div", statusOf(call), "state");
    status.dataset.onHold = String(call.on_hold);
    timed.set(status, call);
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

// The status lines drawn last, each with its call: their timers tick every second,
// and a redraw from the stream replaces them (a state, a hold, never overwritten).
let timed = new Map();
setInterval(() => {
  for (const [status, call] of timed) status.textContent = statusOf(call);
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
