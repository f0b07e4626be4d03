// The device replica's local page (ADR/0028): the records on this device with a status
// badge each, offline create, edit and delete, the replica's status, the conflict inbox
// with base, mine and theirs side by side, the changes the server refused with its
// message, and the notices of what a server delete discarded. Everything is read from
// the replica's tables through its API on loopback; nothing is told by colour alone.

import { button, element } from "./dom.js";
import { control, hint, rawIn, rawOf, said, valueOf } from "./fields.js";

const KEY = "calldesk-replica-key";
const WHOLE_RECORD = "_cd_delete";
const KIND_WORDS = { contact: "Contacts", account: "Accounts", lead: "Leads", case: "Cases" };
const ONE_KIND = { contact: "contact", account: "account", lead: "lead", case: "case" };
const POLL_MS = 1000;

/** The key `calldesk replica serve` printed, taken from the address once and kept for
 * the tab's life, so it is never left in the address bar or the history. */
function pageKey() {
  const given = new URLSearchParams(location.hash.slice(1)).get("key");
  if (given) {
    sessionStorage.setItem(KEY, given);
    history.replaceState(null, "", `${location.pathname}#/`);
  }
  return sessionStorage.getItem(KEY) || "";
}

const key = pageKey();

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const document_ = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error(document_?.detail || `${response.status} ${response.statusText}`);
    error.problem = document_;
    throw error;
  }
  return document_;
}

const path = (...parts) => parts.map((part) => `/${encodeURIComponent(part)}`).join("");
const $ = (id) => document.getElementById(id);

function badge(status) {
  const made = element("span", `${status.symbol} ${status.label}`, "status-badge");
  made.dataset.state = status.state;
  return made;
}

function heading(text) {
  const made = element("h2", text);
  made.id = "view-title";
  return made;
}

/** What the person has typed in this kind's search box, searched for or not, and
 * whether they are typing there: a redraw of the list must not take it away. */
function typedSearch(kind) {
  const box = document.getElementById("search");
  if (!box || box.dataset.kind !== kind) return null;
  const focused = document.activeElement === box;
  return { value: box.value, focused, start: box.selectionStart, end: box.selectionEnd };
}

class ReplicaPage {
  #kinds = new Map(); // kind -> its fields
  #status = null;
  #dirty = false; // a form holds what the person has not saved
  #drawn = ""; // what the view last showed, to redraw only on a change
  #search = new Map(); // kind -> what its list was searched for
  #asked = 0; // the views read so far: only the last one asked is drawn

  async start() {
    $("sync-now").addEventListener("click", () => this.#sync());
    $("mode").addEventListener("change", (event) => this.#setMode(event.target.value));
    window.addEventListener("hashchange", () => this.#route(true));
    window.addEventListener("beforeunload", (event) => {
      if (this.#dirty) event.preventDefault();
    });
    await this.#loadKinds();
    await this.#route(true);
    this.#poll();
  }

  async #loadKinds() {
    const kinds = await api("GET", "/kinds");
    this.#kinds = new Map(kinds.map((each) => [each.kind, each.fields]));
  }

  /** The status now, and the view again when what it shows changed (never over a form
   * the person is filling). */
  async #poll() {
    try {
      const before = JSON.stringify(this.#status);
      await this.#refreshStatus();
      // The view is read again only when the replica moved: a large list is not
      // fetched every second for nothing.
      if (!this.#dirty && JSON.stringify(this.#status) !== before) await this.#route(false);
    } catch (error) {
      this.#said(error);
    }
    setTimeout(() => this.#poll(), POLL_MS);
  }

  async #refreshStatus() {
    const status = await api("GET", "/status");
    this.#status = status;
    const counts = status.counts;
    const parts = [`${status.symbol} ${status.label}`];
    if (status.message) parts.push(status.message);
    parts.push(`${counts.conflicts} in conflict, ${counts.errors} refused, ${counts.pending} waiting to be sent`);
    parts.push(status.last_success ? `last synced ${new Date(status.last_success).toLocaleString()}` : "never synced");
    $("replica-status").textContent = parts.join(" · ");
    $("replica-status").dataset.state = status.state;
    $("sync-now").disabled = status.state === "syncing";
    if ($("mode").value !== status.mode) $("mode").value = status.mode;
    this.#drawPlaces();
  }

  #drawPlaces() {
    const counts = this.#status?.counts || { conflicts: 0, errors: 0 };
    const places = [...this.#kinds.keys()].map((kind) => [`#/${kind}`, KIND_WORDS[kind]]);
    places.push(["#/conflicts", `Conflicts (${counts.conflicts})`]);
    places.push(["#/refused", `Refused (${counts.errors})`]);
    places.push(["#/notices", "Notices"]);
    const here = `#/${location.hash.split("/")[1] || ""}`;
    $("places").replaceChildren(
      ...places.map(([href, words]) => {
        const link = Object.assign(element("a", words), { href });
        if (href === here) link.setAttribute("aria-current", "page");
        return element("li", "").appendChild(link).parentNode;
      }),
    );
  }

  async #route(moved) {
    if (moved) {
      this.#ask(); // what was being read for the place left is not drawn over this one
      this.#dirty = false;
      this.#drawn = "";
      $("problem").textContent = "";
    }
    const [place, id] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    const first = [...this.#kinds.keys()][0];
    if (!place) {
      if (first) location.hash = `#/${first}`;
      else this.#show("nothing", [heading("No records yet"), element("p", "Sync to bring the records to this device.", "muted")]);
      return;
    }
    this.#drawPlaces();
    if (place === "conflicts") return this.#conflicts();
    if (place === "refused") return this.#refused();
    if (place === "notices") return this.#notices();
    if (!this.#kinds.has(place)) {
      await this.#loadKinds();
      if (!this.#kinds.has(place)) return this.#show("unknown", [heading("Not on this device")]);
    }
    if (id === "new") return moved && this.#newRecord(place);
    if (id) return this.#record(place, id, moved);
    return this.#list(place);
  }

  /** A ticket for a view about to be read: its answer is drawn only if no other view
   * was asked for meanwhile (a poll's read that comes back after a search's does not
   * draw the list as it was before the search). */
  #ask() {
    this.#asked += 1;
    const ticket = this.#asked;
    return () => ticket === this.#asked;
  }

  /** The view's parts, unless it already shows exactly this (`seen`). */
  #show(seen, parts) {
    if (seen === this.#drawn) return;
    this.#drawn = seen;
    $("view").replaceChildren(...parts);
  }

  async #list(kind) {
    const query = this.#search.get(kind) || "";
    const latest = this.#ask();
    const found = await api("GET", `${path("records", kind)}?q=${encodeURIComponent(query)}`);
    if (!latest()) return;
    const lines = found.lines;
    const table = element("table", "");
    const head = element("tr", "");
    head.append(element("th", "Status"), element("th", "Name"), element("th", "Id"));
    table.append(head);
    for (const line of lines) {
      const row = element("tr", "");
      const name = element("td", "");
      if (line.values && Object.keys(line.values).length) {
        const link = Object.assign(element("a", line.title, "record-link"), {
          href: `#/${kind}/${encodeURIComponent(line.record_id)}`,
        });
        name.append(link);
      } else {
        name.append(element("span", line.title));
      }
      row.append(element("td", "").appendChild(badge(line.status)).parentNode, name, element("td", line.record_id, "muted"));
      table.append(row);
    }
    const seen = JSON.stringify(["list", kind, query, found]);
    if (seen === this.#drawn) return;
    const create = button(`New ${ONE_KIND[kind]}`, () => (location.hash = `#/${kind}/new`));
    const typing = typedSearch(kind);
    const search = this.#searchBox(kind, typing ? typing.value : query);
    const parts = [heading(KIND_WORDS[kind]), create, search.form];
    const counted = found.total > lines.length ? `Showing ${lines.length} of ${found.total}: search to narrow.` : "";
    parts.push(element("p", counted, "muted"));
    parts.push(lines.length ? table : element("p", query ? "Nothing matches." : "None on this device.", "muted"));
    this.#show(seen, parts);
    if (typing?.focused) {
      search.box.focus();
      search.box.setSelectionRange(typing.start, typing.end);
    }
  }

  /** A search of the list by name or id, holding `text`; the list redrawn as it
   * follows the replica keeps what the person typed and where (`typedSearch`). */
  #searchBox(kind, text) {
    const form = element("form", "", "choice");
    form.setAttribute("role", "search");
    const box = Object.assign(document.createElement("input"), { type: "search", id: "search", value: text });
    box.dataset.kind = kind;
    const label = element("label", "Search by name or id");
    label.htmlFor = box.id;
    const find = element("button", "Search");
    find.type = "submit";
    form.append(label, box, find);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#search.set(kind, box.value.trim());
      this.#list(kind).catch((error) => this.#said(error));
    });
    return { form, box };
  }

  /** A record's page: its fields to edit; online, the server's latest first. */
  async #record(kind, id, moved) {
    const latest = this.#ask();
    const line = await api(moved ? "POST" : "GET", moved ? `${path("records", kind, id)}/edit` : path("records", kind, id));
    if (!latest()) return;
    if (line.record_id !== id) {
      location.replace(`#/${kind}/${encodeURIComponent(line.record_id)}`);
      return;
    }
    const fields = this.#kinds.get(kind);
    const form = element("form", "", "record-form");
    const controls = new Map();
    for (const field of fields) {
      const value = line.values[field.name] ?? null;
      const label = element("label", field.label);
      label.htmlFor = `field-${field.name}`;
      if (field.read_only) {
        const shown = element("output", said(field, value));
        shown.id = `field-${field.name}`;
        form.append(label, shown);
        continue;
      }
      const made = control(field, value);
      made.addEventListener("input", () => (this.#dirty = true));
      made.addEventListener("change", () => (this.#dirty = true));
      controls.set(field.name, [field, made, rawOf(field, value)]);
      form.append(label, made);
      const told = hint(field);
      if (told) form.append(element("span", told, "hint muted"));
    }
    const refused = line.status.state === "error";
    const save = element("button", refused ? "Save and retry" : "Save", "primary");
    save.type = "submit";
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = {};
      for (const [name, [field, made, raw]] of controls) {
        if (rawIn(made) !== raw) values[name] = valueOf(field, rawIn(made));
      }
      await this.#act(async () => {
        await api("PATCH", path("records", kind, id), { values });
        if (refused) await api("POST", `${path("refused", kind, id)}/retry`);
      }, "Saved on this device; the next sync sends it.");
    });
    const tools = element("div", "", "choice");
    tools.append(save);
    if (refused) {
      tools.append(
        button("Send again as it is", () => this.#act(() => api("POST", `${path("refused", kind, id)}/retry`), "It goes out with the next sync.")),
        button("Abandon my change", () => this.#act(() => api("POST", `${path("refused", kind, id)}/abandon`), "Your change is given up.")),
      );
    }
    tools.append(this.#deleteButton(kind, id));
    const parts = [heading(line.title), badge(line.status)];
    if (line.status.message) {
      const message = element("p", `${refused ? "The server said: " : ""}${line.status.message}`, refused ? "server-said" : "muted");
      parts.push(message);
    }
    parts.push(form);
    form.append(tools);
    this.#show(JSON.stringify(["record", line]), parts);
  }

  #deleteButton(kind, id) {
    const remove = button("Delete", () => {
      if (remove.dataset.armed !== "yes") {
        remove.dataset.armed = "yes";
        remove.textContent = "Delete: press again to confirm";
        return;
      }
      this.#act(async () => {
        await api("DELETE", path("records", kind, id));
        this.#dirty = false;
        location.hash = `#/${kind}`;
      }, "Deleted on this device; the next sync deletes it on the server.");
    }, "danger");
    return remove;
  }

  #newRecord(kind) {
    const fields = this.#kinds.get(kind).filter((field) => !field.read_only);
    const form = element("form", "", "record-form");
    const controls = [];
    for (const field of fields) {
      const label = element("label", field.required ? `${field.label} (required)` : field.label);
      label.htmlFor = `field-${field.name}`;
      const made = control(field, null);
      made.addEventListener("input", () => (this.#dirty = true));
      controls.push([field, made]);
      form.append(label, made);
      const told = hint(field);
      if (told) form.append(element("span", told, "hint muted"));
    }
    const create = element("button", "Create", "primary");
    create.type = "submit";
    form.append(create);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const values = {};
      for (const [field, made] of controls) {
        const value = valueOf(field, rawIn(made));
        if (value !== null && value !== false) values[field.name] = value;
      }
      this.#act(async () => {
        const line = await api("POST", path("records", kind), { values });
        this.#dirty = false;
        location.hash = `#/${kind}/${encodeURIComponent(line.record_id)}`;
      }, "Created on this device; the next sync sends it.");
    });
    this.#show(`new:${kind}`, [heading(`New ${ONE_KIND[kind]}`), form]);
  }

  /** The conflict inbox: per field, the value both sides started from, this device's
   * and the server's, and the three choices. */
  async #conflicts() {
    const latest = this.#ask();
    const conflicts = await api("GET", "/conflicts");
    if (!latest()) return;
    if (!conflicts.length) {
      this.#show("conflicts:none", [heading("Conflicts"), element("p", "No conflicts: nothing to choose.", "muted")]);
      return;
    }
    const parts = [heading("Conflicts")];
    for (const each of conflicts) {
      const fields = this.#kinds.get(each.kind) || [];
      const field = fields.find((one) => one.name === each.field);
      const whole = each.field === WHOLE_RECORD;
      const words = whole ? "The record" : field?.label || each.field;
      const table = element("table", "", "three-way");
      table.setAttribute("aria-label", `${ONE_KIND[each.kind]} ${each.record_id}: ${words}`);
      const head = element("tr", "");
      head.append(element("th", "Field"), element("th", "Base (before either change)"), element("th", "Mine (this device)"), element("th", "Theirs (the server)"));
      const row = element("tr", "");
      const name = element("th", words);
      name.scope = "row";
      const shown = (value) => (whole ? (value ? "deleted" : "kept, changed") : said(field, value));
      row.append(name, element("td", whole ? "kept" : shown(each.base)), element("td", whole ? "deleted here" : shown(each.mine)), element("td", whole ? "changed on the server" : shown(each.theirs)));
      table.append(head, row);
      const choose = element("div", "", "choice");
      const at = `${path("conflicts", each.kind, each.record_id, each.field)}`;
      const decided = (choice, value) => this.#act(() => api("POST", at, { choice, value }), "Chosen; the next sync sends it.");
      choose.append(
        button(whole ? "Delete it anyway" : "Keep mine", () => decided("keep-local", null)),
        button(whole ? "Keep the server's record" : "Keep theirs", () => decided("keep-server", null)),
      );
      if (!whole && field) {
        const made = control(field, each.mine);
        made.id = `new-${each.kind}-${each.record_id}-${each.field}`;
        made.addEventListener("input", () => (this.#dirty = true));
        const label = element("label", "New value");
        label.htmlFor = made.id;
        choose.append(label, made, button("Use the new value", () => decided("new-value", valueOf(field, rawIn(made)))));
      }
      const record = element("article", "");
      const link = Object.assign(element("a", `${ONE_KIND[each.kind]} ${each.record_id}`), { href: `#/${each.kind}/${encodeURIComponent(each.record_id)}` });
      record.append(element("h3", "").appendChild(link).parentNode, table, choose);
      parts.push(record);
    }
    this.#show(JSON.stringify(["conflicts", conflicts]), parts);
  }

  async #refused() {
    const latest = this.#ask();
    const lines = await api("GET", "/refused");
    if (!latest()) return;
    const parts = [heading("Refused by the server")];
    if (!lines.length) parts.push(element("p", "The server refused nothing.", "muted"));
    for (const line of lines) {
      const item = element("article", "");
      const link = Object.assign(element("a", `Edit and retry ${line.title}`), { href: `#/${line.kind}/${encodeURIComponent(line.record_id)}` });
      const at = path("refused", line.kind, line.record_id);
      item.append(
        element("h3", `${ONE_KIND[line.kind]} ${line.title}`),
        element("p", `The server said: ${line.status.message}`, "server-said"),
        element("div", "", "choice"),
      );
      item.lastChild.append(
        link,
        button("Send again as it is", () => this.#act(() => api("POST", `${at}/retry`), "It goes out with the next sync.")),
        button("Abandon my change", () => this.#act(() => api("POST", `${at}/abandon`), "Your change is given up.")),
      );
      parts.push(item);
    }
    this.#show(JSON.stringify(["refused", lines]), parts);
  }

  async #notices() {
    const latest = this.#ask();
    const notices = await api("GET", "/notices");
    if (!latest()) return;
    const parts = [heading("Notices")];
    if (!notices.length) parts.push(element("p", "Nothing to tell.", "muted"));
    for (const notice of notices) {
      const item = element("article", "");
      const values = Object.entries(notice.values).map(([name, value]) => `${name}: ${said(null, value)}`).join(", ");
      item.append(
        element("p", notice.message),
        element("p", values ? `Your values were: ${values}` : "", "muted"),
        button("Dismiss", () => this.#act(() => api("DELETE", path("notices", notice.notice_id)), "Dismissed.")),
      );
      parts.push(item);
    }
    this.#show(JSON.stringify(["notices", notices]), parts);
  }

  /** Do what the person asked; say what happened, or what was wrong, where they look. */
  async #act(work, done) {
    $("problem").textContent = "";
    try {
      await work();
      this.#dirty = false;
      this.#drawn = "";
      $("sync-said").textContent = done;
      await this.#refreshStatus();
      await this.#route(false);
    } catch (error) {
      this.#said(error);
    }
  }

  #said(error) {
    const faults = error.problem?.errors || [];
    const detail = faults.length ? faults.map((fault) => `${fault.member}: ${fault.message}`).join("; ") : error.message;
    $("problem").textContent = detail;
  }

  async #sync() {
    $("sync-now").disabled = true;
    $("sync-said").textContent = "Syncing…";
    $("problem").textContent = "";
    try {
      const report = await api("POST", "/sync");
      $("sync-said").textContent = report.completed
        ? `Synced: ${report.pulled} pulled, ${report.pushed} sent.`
        : `The sync did not complete${report.offline ? " (offline)" : ""}: ${report.error}`;
      await this.#loadKinds();
      this.#drawn = "";
      await this.#refreshStatus();
      if (!this.#dirty) await this.#route(false);
    } catch (error) {
      this.#said(error);
    } finally {
      $("sync-now").disabled = false;
    }
  }

  async #setMode(mode) {
    await this.#act(() => api("PUT", "/mode", { mode }), `Mode: ${mode}.`);
  }
}

new ReplicaPage().start().catch((error) => {
  $("problem").textContent = key
    ? error.message
    : "Open the address `calldesk replica serve` printed: this page needs its key.";
});
