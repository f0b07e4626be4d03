// The softphone frame: follows the agent's event stream (events.js) and sends the
// agent's commands; it tells the console page the state with postMessage, to the
// console's exact origin only (docs/messages.md). What it offers (not-ready reasons,
// dispositions, quick connects) is the tenant's own, read once at start.

import { followEvents } from "./events.js";

const params = new URLSearchParams(location.search);
const agent = params.get("agent") || "a-17";
const consoleOrigin = params.get("console") || "";
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const auth = { Authorization: `Bearer ${token}` };
const settings = await readSettings();
let current = null;

// What the agent has under way in a call's controls, kept across redraws (every event
// redraws): an open keypad, a disposition and notes being typed.
const keypadOpen = new Set();
const wrapUpDrafts = new Map();

async function readSettings() {
  const response = await fetch(`/agents/${encodeURIComponent(agent)}/desk-settings`, { headers: auth });
  const none = { not_ready_reasons: [], dispositions: [], quick_connects: [], wrap_up_policy: {} };
  return response.ok ? response.json() : none;
}

const text = (tag, content, className) => {
  const element = document.createElement(tag);
  element.textContent = content;
  if (className) element.className = className;
  return element;
};

function button(label, onClick, className, shortcut) {
  const element = text("button", label, className);
  element.type = "button";
  element.addEventListener("click", onClick);
  if (shortcut) {
    element.setAttribute("aria-keyshortcuts", shortcut);
    element.title = `${label} (${shortcut})`;
  }
  return element;
}

function labelled(labelText, control) {
  const label = text("label", `${labelText} `);
  label.append(control);
  return label;
}

async function send(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const problem = document.getElementById("problem");
  problem.textContent = response.ok ? "" : (await response.json()).detail;
  return response.ok;
}

const presence = (action, body) => () => send(`/agents/${agent}/${action}`, body);
const command = (call, kind, argument) => () =>
  send(`/calls/${call.call}/commands`, { kind, command_id: crypto.randomUUID(), argument });
const dial = (number) => send(`/agents/${agent}/dial`, { number, command_id: crypto.randomUUID() });

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
    const held = call.on_hold && call.held_since ? `on hold ${clock(since(call.held_since))} · ` : "";
    return `${held}${talk}${call.muted ? " · muted" : ""}`;
  }
  return `${call.state} ${clock(since(call.started_at))}`;
}

/** What the agent's status line says now: the state, how long in it, what comes next. */
function agentStatusOf(view) {
  const reason = view.not_ready_reason ? ` (${view.not_ready_reason.label})` : "";
  const next = view.next_pick ? ` · next: ${pickLabel(view.next_pick)}` : "";
  return `${view.state.replace("-", " ")}${reason} ${clock(since(view.since))}${next}`;
}

function pickLabel(pick) {
  if (pick.presence === "available") return "Available";
  if (pick.presence === "logged-out") return "Log out";
  return `Not ready: ${pick.reason ? pick.reason.label : ""}`;
}

/** The presence menu: available, each of the tenant's not-ready reasons, log out; the
 * agent's own pick is the one selected (during a call, the pick comes next). */
function presenceMenu(view) {
  const select = document.createElement("select");
  select.id = "presence-menu";
  const options = [
    ["available", "Available"],
    ...settings.not_ready_reasons.map((r) => [`not-ready:${r.code}`, `Not ready: ${r.label}`]),
    ["logout", "Log out"],
  ];
  for (const [value, label] of options) select.append(new Option(label, value));
  const pick = view.next_pick || { presence: view.presence, reason: view.not_ready_reason };
  select.value = pick.presence === "not-ready" && pick.reason ? `not-ready:${pick.reason.code}` : pick.presence;
  select.addEventListener("change", () => {
    const [choice, reason] = select.value.split(":");
    if (choice === "available") presence("ready")();
    else if (choice === "logout") presence("logout")();
    else presence("not-ready", { reason })();
  });
  return labelled("Status", select);
}

function keypad(call) {
  const pad = document.createElement("div");
  pad.className = "keypad";
  pad.setAttribute("role", "group");
  pad.setAttribute("aria-label", "Keypad");
  for (const key of "123456789*0#") {
    const digit = button(key, command(call, "send-digits", key));
    digit.setAttribute("aria-label", `Send ${key}`);
    pad.append(digit);
  }
  return pad;
}

/** How a number reads in a list: its E.164 form, and its extension when it has one. */
const numberText = (number) => (number.extension ? `${number.e164} ext. ${number.extension}` : number.e164);

/** One record the directory found: its title, kind and account, and a button per
 * number that puts it in the dialog's Number field. */
function directoryEntry(record, pick) {
  const item = document.createElement("li");
  const about = [record.ref.kind, record.account].filter(Boolean).join(", ");
  item.append(text("span", `${record.ref.title} (${about}) `));
  for (const number of record.numbers) {
    const choose = button(numberText(number), () => pick(number.e164));
    choose.setAttribute("aria-label", `${record.ref.title} ${numberText(number)}`);
    item.append(choose);
  }
  return item;
}

/** Ask the directory for the tenant's records with a number that the text names. */
async function searchDirectory(query, results, pick) {
  const said = document.getElementById("directory-said");
  const path = `/agents/${encodeURIComponent(agent)}/directory?q=${encodeURIComponent(query)}`;
  const response = await fetch(path, { headers: auth });
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    results.replaceChildren();
    said.textContent = answer && answer.detail ? answer.detail : `the connector answered ${response.status}`;
    return;
  }
  results.replaceChildren(...answer.map((record) => directoryEntry(record, pick)));
  said.textContent = answer.length ? `${answer.length} found` : "No record with a number matches.";
}

/** The transfer and conference dialog: the tenant's quick connects, a search of the
 * tenant's directory, or any number. To transfer, hand the caller over at once (blind)
 * or talk to the other party first (consult); to conference, call them first, then
 * join everyone with the call's Conference button (as CCP's "Join"). */
function openTransfer(call, purpose = "transfer") {
  const dialog = document.getElementById("transfer");
  const number = dialog.querySelector("input[name=target]");
  const pick = (e164) => { number.value = e164; number.focus(); };
  dialog.querySelector("#transfer-title").textContent =
    purpose === "conference" ? "Add someone to the call" : "Transfer the call";
  const quick = dialog.querySelector("#quick-connects");
  quick.replaceChildren(
    ...settings.quick_connects.map((q) => {
      const item = document.createElement("li");
      item.append(button(`${q.label} ${q.number.e164}`, () => pick(q.number.e164)));
      return item;
    }),
  );
  const search = dialog.querySelector("#directory-search");
  const results = dialog.querySelector("#directory-results");
  search.reset();
  results.replaceChildren();
  dialog.querySelector("#directory-said").textContent = "";
  search.onsubmit = (event) => {
    event.preventDefault();
    const query = search.elements.q.value.trim();
    if (query) searchDirectory(query, results, pick);
  };
  number.value = "";
  const act = (kind) => () => {
    if (!number.value.trim()) return;
    command(call, kind, number.value.trim())();
    dialog.close();
  };
  const actions = purpose === "conference"
    ? [button("Call them", act("consult"), "primary")]
    : [button("Transfer now", act("blind-transfer"), "primary"), button("Consult first", act("consult"))];
  dialog.querySelector("#transfer-actions").replaceChildren(...actions, button("Cancel", () => dialog.close()));
  dialog.showModal();
  number.focus();
}

function wrapUpForm(call) {
  const draft = wrapUpDrafts.get(call.call) || { disposition: "", notes: "" };
  const form = document.createElement("form");
  let disposition;
  if (settings.dispositions.length) {
    disposition = document.createElement("select");
    disposition.append(new Option("Choose…", ""));
    for (const d of settings.dispositions) disposition.append(new Option(d, d));
  } else {
    disposition = document.createElement("input");
  }
  disposition.name = "disposition";
  disposition.required = true;
  disposition.value = draft.disposition;
  const notes = document.createElement("textarea");
  notes.name = "notes";
  notes.rows = 2;
  notes.value = draft.notes;
  const keep = () => wrapUpDrafts.set(call.call, { disposition: disposition.value, notes: notes.value });
  disposition.addEventListener("input", keep);
  notes.addEventListener("input", keep);
  form.append(labelled("Disposition", disposition), labelled("Notes", notes), text("button", "Submit", "primary"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { disposition: disposition.value, notes: notes.value, command_id: crypto.randomUUID() };
    if (await send(`/calls/${call.call}/wrap-up`, body)) wrapUpDrafts.delete(call.call);
  });
  return form;
}

/** The call a shortcut acts on when several are under way (ADR/0022): the first
 * offered, to answer; the one the agent is talking on (connected, not held), else one
 * being dialed, else a held one, to hang up; the one talking, else a held one, to
 * hold or resume and to mute. Only that call's button says the shortcut. */
function shortcutTarget(calls, key) {
  const first = (test) => calls.find(test);
  if (key === "a") return first((c) => c.state === "offered");
  const talking = first((c) => c.state === "connected" && !c.on_hold);
  const held = first((c) => c.state === "connected");
  if (key === "h") return talking || first((c) => c.state === "dialing") || held;
  return talking || held;
}

function callControls(call) {
  // The shortcut, when this call is the one it acts on.
  const key = (letter) => (current && shortcutTarget(current.calls, letter) === call ? `Alt+${letter.toUpperCase()}` : "");
  if (call.state === "offered") {
    return [
      button("Answer", command(call, "accept"), "primary", key("a")),
      button("Reject", command(call, "reject")),
    ];
  }
  if (call.state === "connected") {
    const controls = [
      button(call.on_hold ? "Resume" : "Hold", command(call, call.on_hold ? "resume" : "hold"), "", key("o")),
      button(call.muted ? "Unmute" : "Mute", command(call, call.muted ? "unmute" : "mute"), "", key("m")),
      button(keypadOpen.has(call.call) ? "Hide keypad" : "Keypad", () => {
        if (!keypadOpen.delete(call.call)) keypadOpen.add(call.call);
        draw(current);
      }),
    ];
    if (call.consulting && !call.third_parties.includes(call.consulting)) {
      // Transfer and conference wait for the other party to answer, as the phone does.
      controls.push(text("div", `Calling ${call.consulting}…`, "muted"));
    } else if (call.consulting) {
      controls.push(
        button("Complete transfer", command(call, "complete-transfer"), "primary"),
        button("Conference", command(call, "conference")),
      );
    } else if (call.conference) {
      controls.push(text("div", `In conference with ${call.third_parties.join(", ")}`, "muted"));
    } else {
      controls.push(
        button("Transfer…", () => openTransfer(call)),
        button("Conference…", () => openTransfer(call, "conference")),
      );
    }
    controls.push(button("Hang up", command(call, "hang-up"), "danger", key("h")));
    if (keypadOpen.has(call.call)) controls.push(keypad(call));
    return controls;
  }
  if (call.state === "dialing") return [button("Hang up", command(call, "hang-up"), "danger", key("h"))];
  if (call.state === "wrap-up") return [wrapUpForm(call)];
  return [];
}

function dialForm() {
  const form = document.createElement("form");
  form.className = "dial";
  const number = document.createElement("input");
  number.name = "number";
  number.type = "tel";
  number.required = true;
  form.append(labelled("Number", number), text("button", "Call", "primary"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await dial(number.value)) number.value = "";
  });
  return form;
}

// The status lines drawn last, each with what it shows: their timers tick every
// second, and a redraw from the stream replaces them (a state, a hold, never lost).
let timed = new Map();

// A redraw replaces the buttons: one between a press and its release would lose the
// click (the release lands on another element). While a pointer is down, the latest
// state waits, and is drawn once the click that release makes has been dispatched.
let pressing = false;
let waiting = null;
document.addEventListener("pointerdown", () => { pressing = true; }, true);
for (const ended of ["pointerup", "pointercancel"]) {
  document.addEventListener(ended, () => {
    pressing = false;
    setTimeout(() => {
      if (waiting && !pressing) {
        const state = waiting;
        waiting = null;
        draw(state);
      }
    });
  }, true);
}

/** Draw the state, and tell the console page what was recorded. */
function render(state, recorded) {
  if (pressing) waiting = state;
  else draw(state);
  if (consoleOrigin) {
    window.parent.postMessage({ type: "calldesk.state", state, recorded }, consoleOrigin);
  }
}

function draw(state) {
  current = state;
  const view = state.agent;
  const agentStatus = document.getElementById("agent-state");
  agentStatus.textContent = agentStatusOf(view);
  timed = new Map([[agentStatus, () => agentStatusOf(view)]]);
  const presenceControls = view.presence === "logged-out"
    ? [button("Log in", presence("login"), "primary")]
    : [
        ...(view.presence === "available" ? [] : [button("Ready", presence("ready"), "primary", "Alt+R")]),
        presenceMenu(view),
      ];
  document.getElementById("presence-buttons").replaceChildren(...presenceControls);
  const calls = state.calls.map((call) => {
    const box = document.createElement("section");
    box.className = "call";
    box.dataset.call = call.call;
    box.dataset.state = call.state;
    box.dataset.pending = call.pending.join(" ");
    // Named only when the call is filed under one record: several matches name nobody.
    const who = call.record;
    const line = text("div", `${call.customer_number || "unknown"}${who ? ` · ${who.title}` : ""}`);
    line.className = "caller";
    box.setAttribute("aria-label", `Call with ${line.textContent}`);
    const status = text("div", statusOf(call), "state");
    status.dataset.onHold = String(call.on_hold);
    status.dataset.muted = String(call.muted);
    timed.set(status, () => statusOf(call));
    box.append(line, status, ...callControls(call));
    if (call.last_failure) {
      // A command that did not happen (refused, or never confirmed): said until the next.
      const failure = text("div", `${call.last_failure.kind} failed: ${call.last_failure.reason}`, "failure");
      failure.setAttribute("role", "alert");
      box.append(failure);
    }
    return box;
  });
  const idle = view.presence !== "logged-out" && !state.calls.some((c) => c.state !== "wrap-up");
  document.getElementById("calls").replaceChildren(...calls, ...(idle ? [dialForm()] : []));
}

setInterval(() => {
  for (const [line, said] of timed) line.textContent = said();
}, 1000);

const SHORTCUTS = {
  a: (call) => command(call, "accept")(),
  h: (call) => command(call, "hang-up")(),
  o: (call) => command(call, call.on_hold ? "resume" : "hold")(),
  m: (call) => command(call, call.muted ? "unmute" : "mute")(),
};

document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const key = event.key.toLowerCase();
  if (key === "r") {
    event.preventDefault();
    presence("ready")();
    return;
  }
  const call = SHORTCUTS[key] && current ? shortcutTarget(current.calls, key) : undefined;
  if (call) {
    event.preventDefault();
    SHORTCUTS[key](call);
  }
});

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
  if (message && message.type === "calldesk.dial" && message.number) dial(message.number);
});

/** The connector no longer takes the token: nothing here is live or can act any more,
 * so the controls go, and the agent is told why and what to do. */
function signedOut(why) {
  timed = new Map();
  document.getElementById("agent-state").textContent = "signed out";
  document.getElementById("presence-buttons").replaceChildren();
  document.getElementById("calls").replaceChildren();
  document.getElementById("problem").textContent =
    `Signed out: ${why}. Open the console again with a new token.`;
}

followEvents(agent, auth, received, () => {
  document.getElementById("agent-state").textContent = "reconnecting…";
}, signedOut);
