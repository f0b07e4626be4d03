// The console page: the caller's record and the call log, beside the softphone frame.
// The frame comes from another origin (the connector's own); the two talk with
// postMessage, and this page only listens to that exact origin (docs/messages.md).

const params = new URLSearchParams(location.search);
const agent = params.get("agent") || "a-17";
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
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

function showPresence(state) {
  const agentView = state.agent;
  document.getElementById("presence").textContent =
    `${agentView.name} (${agentView.agent}): ${agentView.state.replace("-", " ")}`;
}

function showRecord(state) {
  const call = state.calls[state.calls.length - 1];
  if (!call) return;
  const record = document.getElementById("record");
  record.replaceChildren();
  const matches = call.screen_pop || [];
  const people = matches.filter((m) => m.kind === "contact" || m.kind === "lead");
  const accounts = matches.filter((m) => m.kind === "account");
  const single = people.length === 1 ? people[0] : (people.length === 0 && accounts.length === 1 ? accounts[0] : null);
  record.append(text("p", `Call from ${call.customer_number || "an unknown number"} (${call.state})`));
  if (single) {
    const card = text("p", `${single.title} (${single.kind})`, "state");
    card.id = "popped-record";
    record.append(card);
  } else if (matches.length) {
    record.append(text("p", "Several records match; choose one:"));
    const list = document.createElement("ul");
    for (const match of matches) {
      const item = document.createElement("li");
      const choose = text("button", `${match.title} (${match.kind})`);
      choose.type = "button";
      choose.addEventListener("click", () => record.replaceChildren(text("p", `${match.title} (${match.kind})`, "state")));
      item.append(choose);
      list.append(item);
    }
    record.append(list);
  } else {
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

let latestLogRequest = 0;

async function showCallLog() {
  const request = ++latestLogRequest;
  const response = await fetch(`/agents/${encodeURIComponent(agent)}/call-log`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  // Answers can come back out of order: only the newest request may draw.
  if (!response.ok || request !== latestLogRequest) return;
  const entries = await response.json();
  if (request !== latestLogRequest) return;
  const rows = entries.map((entry) => {
    const row = document.createElement("tr");
    row.append(
      text("td", new Date(entry.started_at).toLocaleTimeString()),
      text("td", entry.customer_number || ""),
      text("td", entry.record ? entry.record.title : ""),
      text("td", entry.outcome || ""),
      text("td", entry.disposition || ""),
    );
    return row;
  });
  document.getElementById("call-log").replaceChildren(...rows);
}

window.addEventListener("message", (event) => {
  if (event.origin !== softphoneOrigin) return; // only our own softphone frame
  const message = event.data;
  if (!message || message.type !== "calldesk.state") return;
  showPresence(message.state);
  showRecord(message.state);
  showCallLog();
});

showCallLog();
