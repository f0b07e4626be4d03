// "Order lookup", the demo third-party app: served from its own origin, it reaches
// calldesk only through the proxy frame that embeds it (docs/proxy.md), with the SDK.
// It shows the contact of the agent's latest call and posts internal notes on them.

import { connect } from "./calldesk-app.js";
import { config } from "./config.js";

const byId = (id) => document.getElementById(id);
const say = (text) => { byId("said").textContent = text; };
let contact = null;

/** The answer's body, or null with what went wrong said to the agent. */
async function call(app, method, path, body) {
  const answer = await app.request(method, path, body === undefined ? {} : { body });
  if (answer.outcome === "ok") return answer.body;
  const detail = answer.body && answer.body.detail ? `: ${answer.body.detail}` : "";
  say(`${method} ${path}: ${answer.outcome}${answer.reason ? ` (${answer.reason})` : ""}${detail}`);
  return null;
}

/** The contact the latest call is about: the one it is filed under, else its only
 * matching contact. */
function contactOf(latest) {
  if (!latest) return null;
  if (latest.record && latest.record.kind === "contact") return latest.record;
  const contacts = (latest.screen_pop || []).filter((match) => match.kind === "contact");
  return contacts.length === 1 ? contacts[0] : null;
}

async function showContact(app) {
  const calls = await call(app, "GET", `/agents/${encodeURIComponent(app.context.agent)}/calls`);
  if (calls === null) return;
  const ref = contactOf(calls[calls.length - 1]);
  if (!ref) {
    byId("connection").textContent = "Connected: no call with a known contact yet.";
    return;
  }
  const record = await call(app, "GET", `/records/contact/${encodeURIComponent(ref.record_id)}`);
  if (record === null) return;
  contact = record;
  byId("contact-name").textContent = record.title;
  const fields = Object.entries(record.values).flatMap(([name, value]) => {
    const term = document.createElement("dt");
    const description = document.createElement("dd");
    term.textContent = name.replaceAll("_", " ");
    description.textContent = String(value);
    return [term, description];
  });
  byId("contact-fields").replaceChildren(...fields);
  byId("contact").hidden = false;
}

/** An internal note on the contact's feed: a draft of the agent's publisher, its text,
 * then that draft published alone, under a key that makes a retry harmless. */
async function postNote(app, text) {
  const publisher = `/agents/${encodeURIComponent(app.context.agent)}/records/contact/` +
    `${encodeURIComponent(contact.record_id)}/publisher/drafts`;
  const opened = await call(app, "POST", publisher, { item_type: "internal-note" });
  if (opened === null) return false;
  const draft = `${publisher}/${encodeURIComponent(opened.draft)}`;
  if ((await call(app, "PUT", draft, { text })) === null) return false;
  return (await call(app, "POST", `${draft}/publish`, { key: crypto.randomUUID() })) !== null;
}

try {
  const app = await connect({ app: config.app, key: config.key, proxyOrigin: config.proxyOrigin });
  byId("connection").textContent = "Connected.";
  app.onClosed((reason) => {
    byId("connection").textContent = `Disconnected (${reason}).`;
    byId("note").querySelector("button").disabled = true;
  });
  byId("note").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = byId("note-text").value.trim();
    if (!text || !contact) return;
    say("");
    if (await postNote(app, text)) {
      byId("note-text").value = "";
      say("Note posted.");
    }
  });
  await showContact(app);
} catch (refused) {
  byId("connection").textContent = `Not connected: ${refused.message}.`;
}
