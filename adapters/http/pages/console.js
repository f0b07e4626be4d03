// The console page: the caller, the agent's workspace (tabs, and the focused record
// with its publisher and feed) and the call log, beside the softphone frame.
// The frame comes from another origin (the connector's own); the two talk with
// postMessage, and this page only listens to that exact origin (docs/messages.md).
// The workspace and the publisher live on the server: the page draws each command's
// answer, and redraws what changed elsewhere as the frame forwards each event of the
// agent's stream (docs/console.md).

import { Publisher } from "./publisher.js";
import { RecordPage } from "./record.js";
import { Workspace } from "./workspace.js";

const params = new URLSearchParams(location.search);
const agent = params.get("agent") || "a-17";
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const auth = { Authorization: `Bearer ${token}` };
const softphoneHost = location.hostname === "localhost" ? "127.0.0.1" : "localhost";
const softphoneOrigin = `${location.protocol}//${softphoneHost}:${location.port}`;

const frame = document.getElementById("softphone");
frame.src = `${softphoneOrigin}/pages/softphone.html?agent=${encodeURIComponent(agent)}` +
  `&console=${encodeURIComponent(location.origin)}#token=${encodeURIComponent(token)}`;

const text = (tag, content, className) => {
  const element = document.createElement(tag);
  element.textContent = content;
  if (className) element.className = className;
  return element;
};

function refusal(message, retryable, problem = null) {
  return Object.assign(new Error(message), { retryable, problem });
}

/** One call of the connector's API: its JSON answer, or an Error whose message a person
 * can act on; `retryable` says the outcome is unknown (no answer, or a server fault);
 * `problem` is the problem document, when there was one. */
async function request(method, path, body, options = {}) {
  const headers = body === undefined ? auth : { ...auth, "Content-Type": "application/json" };
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      ...options,
    });
  } catch {
    throw refusal("the connector did not answer; check that it runs, then try again", true);
  }
  const answer = await response.json().catch(() => null);
  if (response.ok) return answer;
  const detail = answer && answer.detail ? answer.detail : `the connector answered ${response.status}`;
  throw refusal(detail, response.status >= 500, answer);
}

const publisher = new Publisher({ agent, request });
const recordPage = new RecordPage({
  agent,
  request,
  dial: (number) => dialButton(number),
  open: (record) => workspace.openRecord(record),
  markUnsaved: (tab, unsaved) => workspace.act(tab, unsaved ? "mark-unsaved" : "mark-saved"),
});
const workspace = new Workspace({
  agent,
  request,
  // A record's view: its details, then its publisher and feed.
  showRecord: (record, container, tab) => {
    if (!record) {
      recordPage.show(null, null, null);
      publisher.show(null, null);
      return;
    }
    const [details, activity] = [text("div", ""), text("div", "")];
    container.replaceChildren(details, activity);
    recordPage.show(record, details, tab);
    publisher.show(record, activity);
  },
  elements: {
    tabs: document.getElementById("tabs"),
    subtabs: document.getElementById("subtabs"),
    questions: document.getElementById("tab-questions"),
    problem: document.getElementById("workspace-problem"),
    view: document.getElementById("view"),
    reopen: document.getElementById("reopen-tab"),
  },
});

function showPresence(state) {
  const agentView = state.agent;
  document.getElementById("presence").textContent =
    `${agentView.name} (${agentView.agent}): ${agentView.state.replace("-", " ")}`;
}

// The caller of the latest call. When the agent answers, the server opens the call's
// record (or the list of what matched) as a tab, and the tab bar follows; here the
// page names the record the call is filed under, lets the agent choose it among what
// the number reached (its log and log's draft go there), and offers a new contact when
// nobody matched. A call the agent's state no longer lists has closed: the panel keeps
// it, and says so.
let shownCall = null;

function showCaller(state) {
  const call = state.calls[state.calls.length - 1];
  if (call) {
    shownCall = call;
  } else if (shownCall && shownCall.state !== "closed") {
    shownCall = { ...shownCall, state: "closed" };
  } else {
    return;
  }
  drawCaller(shownCall);
}

// What tells each call's matches apart (their account, numbers, a contact's open
// cases), read once per call from the directory: a screen pop does not change.
const described = new Map();

async function describe(call) {
  if (described.has(call.call)) return;
  described.set(call.call, null); // asked once, even while the answer is on its way
  try {
    const matches = await request("GET", `/calls/${encodeURIComponent(call.call)}/matches`);
    described.set(call.call, new Map(matches.map((m) => [`${m.ref.kind}:${m.ref.record_id}`, m])));
  } catch {
    described.delete(call.call); // asked again at the next redraw
    return;
  }
  if (shownCall && shownCall.call === call.call) drawCaller(shownCall);
}

/** What the directory tells of a record, for this call, when it has said. */
function description(call, record) {
  const known = described.get(call.call);
  return known ? known.get(`${record.kind}:${record.record_id}`) : undefined;
}

/** The account, the open cases and the numbers (each a button that calls it) of a
 * record, as a line beside it. */
function details(known) {
  const line = text("span", "", "details");
  const cases = known.open_cases.length
    ? `${known.open_cases.length} open case${known.open_cases.length > 1 ? "s" : ""}: ${known.open_cases.map((c) => c.title).join(", ")}`
    : known.ref.kind === "contact" ? "no open case" : "";
  const said = [known.account, known.status, cases].filter(Boolean).join(" · ");
  if (said) line.append(said);
  for (const number of known.numbers) {
    line.append(" ", dialButton(number.e164, number.extension));
  }
  return line;
}

// The new contact form of the call nobody matched: kept across the panel's redraws (one
// per event of the agent's stream), so what the agent types and the focus stay.
let newContact = null;

function drawCaller(call) {
  const record = document.getElementById("record");
  const matches = call.screen_pop || [];
  const unknown = !matches.length && !call.record;
  if (!unknown || newContact?.call !== call.call) newContact = null;
  const kept = newContact?.form ?? null;
  for (const child of [...record.children]) if (child !== kept) child.remove();
  const add = (...parts) => parts.forEach((part) => record.insertBefore(part, kept));
  if (matches.length) describe(call);
  const closed = call.state === "closed";
  const heading = text("p", `${closed ? "Last call" : "Call"} from `);
  heading.append(call.customer_number ? dialButton(call.customer_number) : "an unknown number", ` (${call.state})`);
  add(heading);
  if (call.record) {
    const card = text("p", `${call.record.title} (${call.record.kind})`, "state");
    card.id = "popped-record";
    add(card);
    const known = description(call, call.record);
    if (known) {
      const about = details(known);
      about.id = "popped-details";
      add(about);
    }
  }
  if (matches.length > 1 && !closed) {
    add(text("p", call.record ? "File the call under another:" : "Several records match; choose one:"));
    const list = document.createElement("ul");
    list.className = "matches";
    for (const match of matches) {
      const item = document.createElement("li");
      const choose = text("button", `${match.title} (${match.kind})`);
      choose.type = "button";
      const chosen = call.record && call.record.kind === match.kind && call.record.record_id === match.record_id;
      choose.setAttribute("aria-pressed", chosen ? "true" : "false");
      choose.addEventListener("click", () => chooseRecord(call, match));
      item.append(choose);
      const known = description(call, match);
      if (known) item.append(" ", details(known));
      list.append(item);
    }
    add(list);
  } else if (unknown) {
    add(text("p", "Nobody known for this number."));
    if (!newContact) {
      newContact = { call: call.call, form: newContactForm(call) };
      record.append(newContact.form);
    }
  }
}

/** A contact for the caller nobody matched: the number filled in, a name typed. */
function newContactForm(call) {
  const form = text("form", "", "new-contact");
  form.noValidate = true; // the server's refusal, at its field, is the one that counts
  form.setAttribute("aria-labelledby", "new-contact-title");
  const title = text("h3", "New contact");
  title.id = "new-contact-title";
  form.append(title);
  const inputs = {};
  const problems = {};
  for (const [name, caption, type] of [["first_name", "First name", "text"],
    ["last_name", "Last name (required)", "text"], ["phone", "Phone", "tel"]]) {
    const label = text("label", `${caption} `);
    const input = Object.assign(document.createElement("input"), { name, type, autocomplete: "off" });
    input.id = `new-contact-${name}`;
    problems[name] = text("span", "", "field-problem");
    problems[name].id = `new-contact-${name}-problem`;
    input.setAttribute("aria-describedby", problems[name].id);
    label.append(input);
    form.append(label, problems[name]);
    inputs[name] = input;
  }
  inputs.last_name.setAttribute("aria-required", "true");
  inputs.phone.value = call.customer_number || "";
  const create = text("button", "Create contact", "primary");
  create.type = "submit";
  const problem = text("p", "", "problem");
  problem.setAttribute("role", "alert");
  form.append(create, problem);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    create.disabled = true;
    try {
      await createContact(call, inputs, problems, problem);
    } finally {
      create.disabled = false;
    }
  });
  return form;
}

/** Create the contact (once per call: a retry meets the record it made), file the
 * call under it while the call is open, and open it as a tab. */
async function createContact(call, inputs, problems, problem) {
  const values = Object.fromEntries(
    Object.entries(inputs).map(([name, input]) => [name, input.value.trim()]).filter(([, v]) => v),
  );
  for (const [name, said] of Object.entries(problems)) {
    said.textContent = "";
    inputs[name].setAttribute("aria-invalid", "false");
  }
  problem.textContent = "";
  let made;
  try {
    made = await request("POST", "/records/contact", { operation_id: `new-contact:${call.call}`, values });
  } catch (refused) {
    const errors = (refused.problem && refused.problem.errors) || [];
    for (const error of errors.filter((e) => problems[e.member])) {
      problems[error.member].textContent = error.message;
      inputs[error.member].setAttribute("aria-invalid", "true");
    }
    const first = errors.find((e) => inputs[e.member]);
    problem.textContent = first ? "Not created: check the fields marked." : refused.message;
    if (first) inputs[first.member].focus();
    return;
  }
  const contact = { kind: made.kind, record_id: made.record_id, title: made.title };
  if (shownCall && shownCall.call === call.call && shownCall.state !== "closed") {
    await chooseRecord(call, contact);
  } else {
    await workspace.openRecord(contact);
  }
}

/** File the call under the match (its log goes there), and open the match's tab. */
async function chooseRecord(call, match) {
  const problem = document.getElementById("workspace-problem");
  try {
    const record = { kind: match.kind, record_id: match.record_id, title: match.title };
    shownCall = await request("POST", `/calls/${encodeURIComponent(call.call)}/record`, { record });
    drawCaller(shownCall);
    problem.textContent = "";
  } catch (refused) {
    problem.textContent = refused.message;
    return;
  }
  workspace.openRecord(match);
}

/** A phone number the agent can click to call it, from the softphone frame; an
 * extension is shown beside it (the phone system dials the number). */
function dialButton(number, extension) {
  const dial = text("button", extension ? `${number} ext. ${extension}` : number, "link");
  dial.type = "button";
  dial.setAttribute("aria-label", extension ? `Call ${number} ext. ${extension}` : `Call ${number}`);
  dial.addEventListener("click", () => frame.contentWindow.postMessage({ type: "calldesk.dial", number }, softphoneOrigin));
  return dial;
}

let latestLogRequest = 0;

async function showCallLog() {
  const request = ++latestLogRequest;
  const response = await fetch(`/agents/${encodeURIComponent(agent)}/call-log`, {
    headers: auth,
  });
  // Answers can come back out of order: only the newest request may draw.
  if (!response.ok || request !== latestLogRequest) return;
  const entries = await response.json();
  if (request !== latestLogRequest) return;
  const rows = entries.map((entry) => {
    const row = document.createElement("tr");
    const number = document.createElement("td");
    if (entry.customer_number) number.append(dialButton(entry.customer_number));
    row.append(
      text("td", new Date(entry.started_at).toLocaleTimeString()),
      number,
      text("td", entry.record ? entry.record.title : ""),
      text("td", entry.outcome || ""),
      text("td", entry.disposition || ""),
    );
    return row;
  });
  document.getElementById("call-log").replaceChildren(...rows);
}

// The agent's apps (docs/proxy.md): each opens beside the call in a proxy frame from
// the connector's own origin (the softphone's), which alone talks to the app's frame.
const openApps = new Map(); // app id → its proxy frame

async function showApps() {
  let apps;
  try {
    apps = await request("GET", `/agents/${encodeURIComponent(agent)}/apps`);
  } catch {
    return; // the next change of the agent's apps asks again
  }
  const items = apps.map((app) => {
    const item = text("li", "");
    const runnable = app.status === "published";
    const label = text("span", runnable ? `${app.name} ` : `${app.name} (${app.status}) `);
    const open = text("button", openApps.has(app.app) ? `Close ${app.name}` : `Open ${app.name}`);
    open.type = "button";
    open.disabled = !runnable && !openApps.has(app.app);
    open.addEventListener("click", () => toggleApp(app));
    item.append(label, open);
    return item;
  });
  document.getElementById("apps").replaceChildren(...(items.length ? items : [text("li", "No app yet.", "muted")]));
}

function toggleApp(app) {
  if (openApps.has(app.app)) {
    openApps.get(app.app).remove();
    openApps.delete(app.app);
  } else {
    const proxy = document.createElement("iframe");
    proxy.className = "app-proxy";
    proxy.title = `${app.name} (app)`;
    proxy.dataset.app = app.app;
    proxy.src = `${softphoneOrigin}/pages/app-proxy.html?agent=${encodeURIComponent(agent)}` +
      `&app=${encodeURIComponent(app.app)}&console=${encodeURIComponent(location.origin)}` +
      `#token=${encodeURIComponent(token)}`;
    document.getElementById("app-frames").append(proxy);
    openApps.set(app.app, proxy);
  }
  showApps();
}

/** An app changed for the agent: the list is read again, and each open proxy frame
 * told, at its exact origin, to read its app again (a suspended app stops at once). */
function appsChanged() {
  showApps();
  for (const proxy of openApps.values()) {
    proxy.contentWindow.postMessage({ type: "calldesk.apps-changed" }, softphoneOrigin);
  }
}

/** What one event of the agent's stream changed: a snapshot (null) may hide anything. */
function heard(recorded) {
  const topic = recorded ? recorded.topic : "";
  if (!recorded || topic.startsWith("calldesk.client_app.")) appsChanged();
  if (!recorded || topic.startsWith("calldesk.workspace.")) workspace.refresh();
  if (!recorded || topic.startsWith("calldesk.publisher.")) {
    publisher.refresh({ feed: !recorded || topic.endsWith(".BatchPublished") });
  }
  // A feed the agent has open changed, maybe by another agent's publish.
  if (topic.startsWith("calldesk.feed.")) publisher.refresh({ feed: true });
  // A record the agent has open changed, maybe by another agent or a device.
  if (!recorded || topic.startsWith("calldesk.crm_record.")) recordPage.refresh();
}

window.addEventListener("message", (event) => {
  if (event.origin !== softphoneOrigin) return; // only our own softphone frame
  const message = event.data;
  if (!message || message.type !== "calldesk.state") return;
  showPresence(message.state);
  showCaller(message.state);
  showCallLog();
  heard(message.recorded);
});

// Typed text not yet saved goes out as the page is left (a reload, a closed window).
window.addEventListener("pagehide", () => publisher.saveAllNow({ keepalive: true }));
// A record's edit lives in the page until saved: leaving the page asks first.
window.addEventListener("beforeunload", (event) => {
  if (recordPage.unsaved) event.preventDefault();
});

showCallLog();
showApps();
workspace.refresh();
