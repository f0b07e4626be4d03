// The console page: the caller, the agent's workspace (tabs, and the focused record
// with its publisher and feed) and the call log, beside the softphone frame.
// The frame comes from another origin (the connector's own); the two talk with
// postMessage, and this page only listens to that exact origin (docs/messages.md).
// The workspace and the publisher live on the server: the page draws each command's
// answer, and redraws what changed elsewhere as the frame forwards each event of the
// agent's stream (docs/console.md).

import { Publisher } from "./publisher.js";
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
const workspace = new Workspace({
  agent,
  request,
  showRecord: (record, container) => publisher.show(record, container),
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

function drawCaller(call) {
  const record = document.getElementById("record");
  record.replaceChildren();
  const matches = call.screen_pop || [];
  if (matches.length) describe(call);
  const closed = call.state === "closed";
  const heading = text("p", `${closed ? "Last call" : "Call"} from `);
  heading.append(call.customer_number ? dialButton(call.customer_number) : "an unknown number", ` (${call.state})`);
  record.append(heading);
  if (call.record) {
    const card = text("p", `${call.record.title} (${call.record.kind})`, "state");
    card.id = "popped-record";
    record.append(card);
    const known = description(call, call.record);
    if (known) {
      const about = details(known);
      about.id = "popped-details";
      record.append(about);
    }
  }
  if (matches.length > 1 && !closed) {
    record.append(text("p", call.record ? "File the call under another:" : "Several records match; choose one:"));
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
    record.append(list);
  } else if (!matches.length && !call.record) {
    record.append(text("p", "Nobody known for this number."));
    const form = document.createElement("form");
    const label = text("label", "New contact's number ");
    const number = document.createElement("input");
    number.name = "phone";
    number.value = call.customer_number || "";
    label.append(number);
    form.append(label);
    record.append(form);
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

/** What one event of the agent's stream changed: a snapshot (null) may hide anything. */
function heard(recorded) {
  const topic = recorded ? recorded.topic : "";
  if (!recorded || topic.startsWith("calldesk.workspace.")) workspace.refresh();
  if (!recorded || topic.startsWith("calldesk.publisher.")) {
    publisher.refresh({ feed: !recorded || topic.endsWith(".BatchPublished") });
  }
  // A feed the agent has open changed, maybe by another agent's publish.
  if (topic.startsWith("calldesk.feed.")) publisher.refresh({ feed: true });
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

showCallLog();
workspace.refresh();
