// The publisher of the focused record, and the record's feed below it. Drafts live on
// the server (docs/console.md): each one is saved as it is typed, so a reload finds
// them as they were; the page draws every command's answer, and publishes the open
// drafts in the order shown, as one batch under an idempotency key.

import { coalesced } from "./coalesce.js";
import { button, element } from "./dom.js";

const TYPES = [
  { type: "text-post", label: "Text post", plural: "text posts" },
  { type: "email", label: "Email", plural: "emails" },
  { type: "internal-note", label: "Internal note", plural: "internal notes" },
  { type: "call-log", label: "Call log", plural: "call logs" },
  { type: "case-comment", label: "Case comment", plural: "case comments" },
  { type: "status-change", label: "Status change", plural: "status changes" },
  { type: "attachment", label: "Attachment reference", plural: "attachment references" },
];
const LABEL = Object.fromEntries(TYPES.map((t) => [t.type, t.label]));
// An email always reaches the customer and an internal note never does
// (domain/feed_items.py); the agent chooses for the other types.
const FIXED_VISIBILITY = new Set(["email", "internal-note"]);
const AUDIENCE = { internal: "agents only", everyone: "everyone, the customer too" };
const AUDIENCE_CHOICES = [["internal", "Agents only"], ["everyone", "Everyone, the customer too"]];
/** CONTENT_MAX_LENGTH of domain/feed_items.py: longer text is refused, never cut. */
const TEXT_MAX_LENGTH = 10000;
/** ATTACHMENT_MAX_LENGTH of domain/feed_items.py. */
const ATTACHMENT_MAX_LENGTH = 200;
/** Typing pauses this long before the draft is saved; leaving the field saves at once. */
const SAVE_AFTER_MS = 600;

function labelled(caption, control) {
  const label = element("label", `${caption} `);
  label.append(control);
  return label;
}

function select(name, options) {
  const made = document.createElement("select");
  made.name = name;
  made.append(...options.map(([value, caption]) => Object.assign(element("option", caption), { value })));
  return made;
}

const setValue = (field, value) => {
  if (field && field.value !== value) field.value = value;
};

/** What a draft says, in a line: for the list of drafts kept for later. */
function gist(draft) {
  const change = draft.content.status_change;
  const said = change
    ? `${change.from_status} → ${change.to_status}`
    : (draft.content.attachment || draft.content.text);
  const line = said.trim().replace(/\s+/g, " ");
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

export class Publisher {
  #record = null;
  #path = "";
  #feedPath = "";
  #parts = null;
  #view = null;
  #entries = new Map();
  #generation = 0;
  #issued = 0;
  #drawn = 0;
  #feedWanted = false;
  #refreshOnce = coalesced(() => {
    const withFeed = this.#feedWanted;
    this.#feedWanted = false;
    return Promise.all([this.#load(), withFeed ? this.#loadFeed(false) : null]);
  }, () => Boolean(this.#record));
  #feedIssued = 0;
  #nextAfter = null;
  #lastBatch = null;
  #loadFailed = false;
  #publishing = false;
  #retry = null;
  #results = new Map();

  constructor({ agent, request }) {
    this.agent = agent;
    this.request = request;
  }

  /** Show this record's publisher and feed in the container; null lets it go. */
  show(record, container) {
    const same = record && this.#record && record.kind === this.#record.kind &&
      record.record_id === this.#record.record_id && container === this.#parts?.container;
    if (same) return;
    this.saveAllNow(); // what was typed on the record left behind is still saved
    this.#generation += 1;
    this.#entries = new Map();
    this.#results = new Map();
    this.#retry = null;
    this.#view = null;
    this.#record = record;
    this.#parts = null;
    if (!record) return;
    const agent = encodeURIComponent(this.agent);
    const kind = encodeURIComponent(record.kind);
    const recordId = encodeURIComponent(record.record_id);
    this.#path = `/agents/${agent}/records/${kind}/${recordId}/publisher`;
    this.#feedPath = `/records/${kind}/${recordId}/feed`;
    this.#build(container);
    this.refresh({ feed: true });
  }

  /** Draw the drafts as the server has them (and the feed, when asked); calls while
   * one runs coalesce into one more. */
  async refresh({ feed = false } = {}) {
    if (!this.#record) return;
    this.#feedWanted ||= feed;
    await this.#refreshOnce();
  }

  /** Send every draft typed but not yet saved, now; as the page is left, with
   * keepalive, so the request outlives the page. */
  saveAllNow(options = {}) {
    for (const entry of this.#entries.values()) {
      if (entry.dirty) this.#save(entry, options).catch(() => {});
    }
  }

  async #load() {
    try {
      await this.#send("GET", this.#path);
      if (this.#loadFailed) this.#problem("");
      this.#loadFailed = false;
    } catch (error) {
      this.#loadFailed = true;
      this.#problem(error.message);
    }
  }

  /** A call whose answer is (or holds) the publisher: drawn unless the record changed
   * meanwhile, or a later call's answer was drawn already. */
  async #send(method, path, body, options = {}, generation = this.#generation) {
    const issued = ++this.#issued;
    const answer = await this.request(method, path, body, options);
    const view = "publisher" in answer ? answer.publisher : answer;
    if (generation === this.#generation && issued > this.#drawn) {
      this.#drawn = issued;
      this.#draw(view);
    }
    return answer;
  }

  async #act(work) {
    this.#problem("");
    try {
      await work();
    } catch (error) {
      this.#problem(error.message);
    }
  }

  #problem(message, retry = null) {
    const parts = this.#parts;
    if (!parts) return;
    parts.problemText.textContent = message;
    parts.retry.hidden = !retry;
  }

  // Building and drawing.

  #build(container) {
    const publisher = element("section", "", "publisher");
    publisher.setAttribute("aria-labelledby", "publisher-title");
    const title = element("h3", "Publisher");
    title.id = "publisher-title";
    const status = element("p", "", "muted record-status");
    const opening = element("div", "", "new-drafts");
    opening.setAttribute("role", "group");
    opening.setAttribute("aria-label", "Open a new draft");
    opening.append(...TYPES.map((t) => button(`New ${t.label.toLowerCase()}`, () => this.#open(t.type))));
    const empty = element("p", "No draft open: start one with the buttons above.", "muted");
    const drafts = element("ol", "", "drafts");
    drafts.setAttribute("aria-label", "Drafts, in the order they publish");
    const perItem = document.createElement("input");
    perItem.type = "checkbox";
    perItem.name = "per-item";
    const mode = element("label", "", "per-item");
    mode.append(perItem, " Publish each draft on its own: what is ready goes, the rest stays open");
    const publish = button("Publish", () => this.#publish(), "primary publish");
    const bar = element("div", "", "publish-bar");
    bar.append(publish, mode);
    const outcome = element("p", "", "outcome");
    outcome.setAttribute("role", "status");
    const problem = element("div", "", "problem");
    problem.setAttribute("role", "alert");
    const problemText = element("span", "");
    const retry = button("Retry the same publish", () => this.#publishBatch(this.#retry));
    retry.hidden = true;
    problem.append(problemText, " ", retry);
    const saved = element("section", "", "saved");
    saved.setAttribute("aria-labelledby", "saved-title");
    const savedTitle = element("h4", "Kept for later");
    savedTitle.id = "saved-title";
    const savedList = element("ul", "", "saved-drafts");
    saved.append(savedTitle, savedList);
    publisher.append(title, status, opening, empty, drafts, bar, outcome, problem, saved);

    const feed = element("section", "", "feed");
    feed.setAttribute("aria-labelledby", "feed-title");
    const feedTitle = element("h3", "Feed");
    feedTitle.id = "feed-title";
    const typeFilter = select("item_type", [["", "All types"], ...TYPES.map((t) => [t.type, t.label])]);
    const audienceFilter = select("visibility", [["", "Anyone"], ...AUDIENCE_CHOICES]);
    typeFilter.addEventListener("change", () => this.#loadFeed(false));
    audienceFilter.addEventListener("change", () => this.#loadFeed(false));
    const filters = element("div", "", "filters");
    filters.setAttribute("role", "group");
    filters.setAttribute("aria-label", "Filter the feed");
    filters.append(labelled("Type", typeFilter), labelled("Visible to", audienceFilter));
    const items = element("ol", "", "feed-items");
    items.setAttribute("aria-label", "Published items, newest batch first");
    const nothing = element("p", "Nothing published yet.", "muted");
    const more = button("More", () => this.#loadFeed(true));
    more.hidden = true;
    const feedProblem = element("p", "", "problem");
    feedProblem.setAttribute("role", "alert");
    feed.append(feedTitle, filters, items, nothing, more, feedProblem);

    container.replaceChildren(publisher, feed);
    this.#parts = {
      container, status, opening, empty, drafts, perItem, publish, outcome, problemText, retry,
      saved, savedList, typeFilter, audienceFilter, items, nothing, more, feedProblem,
    };
  }

  #draw(view) {
    const parts = this.#parts;
    this.#view = view;
    parts.status.textContent = view.status ? `Status: ${view.status}` : "";
    const open = new Set(view.drafts.map((d) => d.id));
    for (const [id, entry] of this.#entries) {
      if (open.has(id)) continue;
      clearTimeout(entry.timer);
      entry.element.remove();
      this.#entries.delete(id);
    }
    const active = document.activeElement;
    view.drafts.forEach((draft, index) => {
      const entry = this.#entries.get(draft.id) || this.#entry(draft);
      this.#fill(entry, draft, index, view.drafts.length);
      const there = parts.drafts.children[index];
      if (there !== entry.element) parts.drafts.insertBefore(entry.element, there || null);
    });
    // Moving a draft's box takes the focus out of it: give it back.
    if (active && active.isConnected && active !== document.activeElement && !active.disabled) active.focus();
    parts.empty.hidden = view.drafts.length > 0;
    parts.saved.hidden = view.saved.length === 0;
    parts.savedList.replaceChildren(...view.saved.map((draft) => this.#keptItem(draft)));
    this.#drawPublishButton();
  }

  #drawPublishButton() {
    if (!this.#parts) return;
    const { publish } = this.#parts;
    const view = this.#view;
    const total = view ? view.drafts.length : 0;
    const counts = TYPES.filter((t) => view?.unpublished[t.type]).map((t) => {
      const count = view.unpublished[t.type];
      return `${count} ${count === 1 ? t.label.toLowerCase() : t.plural}`;
    });
    publish.textContent = total
      ? `Publish ${total} draft${total === 1 ? "" : "s"} (${counts.join(", ")})`
      : "Publish";
    publish.disabled = total === 0 || this.#publishing;
  }

  #keptItem(draft) {
    const item = element("li", "", "kept");
    item.dataset.draft = draft.id;
    item.append(element("strong", LABEL[draft.item_type]), ` ${gist(draft)} `);
    const path = `${this.#path}/drafts/${draft.id}/restore`;
    const restore = button("Restore", () => this.#act(() => this.#send("POST", path)));
    restore.setAttribute("aria-label", `Restore ${LABEL[draft.item_type].toLowerCase()}: ${gist(draft)}`);
    item.append(restore);
    return item;
  }

  /** A draft's box: its fields for its type, its buttons, its question and problem. */
  #entry(draft) {
    const type = draft.item_type;
    const item = element("li", "", "draft");
    item.dataset.draft = draft.id;
    item.dataset.type = type;
    const box = document.createElement("fieldset");
    const legend = document.createElement("legend");
    const fields = {};
    const body = element("div", "", "draft-fields");
    if (type === "status-change") {
      fields.from = Object.assign(document.createElement("input"), { name: "from_status" });
      fields.to = Object.assign(document.createElement("input"), { name: "to_status" });
      body.append(labelled("From status", fields.from), labelled("To status", fields.to));
    } else if (type === "attachment") {
      fields.attachment = Object.assign(document.createElement("input"), {
        name: "attachment",
        maxLength: ATTACHMENT_MAX_LENGTH,
      });
      body.append(labelled("File or article reference", fields.attachment));
    } else {
      fields.text = Object.assign(document.createElement("textarea"), {
        name: "text",
        rows: 4,
        maxLength: TEXT_MAX_LENGTH,
      });
      body.append(labelled("Text", fields.text));
    }
    if (!FIXED_VISIBILITY.has(type)) {
      fields.visibility = select("visibility", AUDIENCE_CHOICES);
      body.append(labelled("Visible to", fields.visibility));
    }
    const length = element("span", "", "muted length");
    const state = element("span", "", "muted save-state");
    const tools = element("div", "", "draft-tools");
    const entry = { id: draft.id, path: `${this.#path}/drafts/${draft.id}`, element: item, legend, fields };
    entry.up = button("Move up", () => this.#move(entry, -1));
    entry.down = button("Move down", () => this.#move(entry, 1));
    entry.close = button("Close", () => this.#close(entry));
    tools.append(entry.up, entry.down, entry.close, state);
    const question = element("div", "", "question");
    question.setAttribute("role", "group");
    question.setAttribute("aria-label", "Close this draft?");
    question.append(
      element("p", "This draft has content. Close it anyway?"),
      button("Keep for later", () => this.#answer(entry, "keep-for-later")),
      button("Close and lose it", () => this.#answer(entry, "confirm"), "danger"),
      button("Cancel", () => this.#answer(entry, "cancel")),
    );
    const problem = element("p", "", "problem");
    problem.setAttribute("role", "alert");
    box.append(legend, body, ...(fields.text ? [length] : []), tools, question, problem);
    item.append(box);
    Object.assign(entry, {
      length, state, question, problem,
      failure: "", dirty: false, timer: null, pending: 0, saving: Promise.resolve(), latest: draft,
    });
    for (const field of Object.values(fields)) {
      field.addEventListener("input", () => this.#typed(entry));
      field.addEventListener("change", () => this.#save(entry).catch(() => {}));
      field.addEventListener("blur", () => this.#fillFields(entry));
    }
    this.#entries.set(draft.id, entry);
    return entry;
  }

  #fill(entry, draft, index, count) {
    entry.latest = draft;
    const fixed = FIXED_VISIBILITY.has(draft.item_type) ? `, for ${AUDIENCE[draft.visibility]}` : "";
    const call = draft.content.call ? ", logs a call" : "";
    entry.legend.textContent = `${index + 1}. ${LABEL[draft.item_type]}${fixed}${call}`;
    entry.up.disabled = index === 0;
    entry.down.disabled = index === count - 1;
    entry.question.hidden = !draft.close_asked;
    entry.close.disabled = draft.close_asked;
    entry.problem.textContent = this.#results.get(draft.id) || entry.failure;
    this.#fillFields(entry);
  }

  /** The draft's fields show what the server has, unless the agent is at them: typed
   * text not yet saved, or a field with the keyboard, stays as it is. */
  #fillFields(entry) {
    const { fields, latest } = entry;
    const typing = Object.values(fields).includes(document.activeElement);
    const busy = entry.dirty || entry.timer || entry.pending || typing;
    if (busy) return;
    const content = latest.content;
    setValue(fields.text, content.text);
    setValue(fields.attachment, content.attachment || "");
    const change = content.status_change;
    setValue(fields.from, change ? change.from_status : (this.#view?.status || ""));
    setValue(fields.to, change ? change.to_status : "");
    setValue(fields.visibility, latest.visibility);
    this.#countLength(entry);
  }

  #countLength(entry) {
    if (!entry.fields.text) return;
    const used = entry.fields.text.value.length;
    entry.length.textContent = `${used.toLocaleString()} of ${TEXT_MAX_LENGTH.toLocaleString()} characters`;
  }

  // Saving what is typed.

  #typed(entry) {
    entry.dirty = true;
    entry.state.textContent = "Not saved yet";
    this.#countLength(entry);
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.#save(entry).catch(() => {}), SAVE_AFTER_MS);
  }

  /** What the draft's fields say, as the body of PUT .../drafts/{draft}. */
  #edited(entry) {
    const { text, from, to, attachment, visibility } = entry.fields;
    const body = { text: text ? text.value : entry.latest.content.text };
    if (visibility) body.visibility = visibility.value;
    if (from) {
      const [fromStatus, toStatus] = [from.value.trim(), to.value.trim()];
      body.status_change = fromStatus && toStatus ? { from_status: fromStatus, to_status: toStatus } : null;
    }
    if (attachment) body.attachment = attachment.value.trim() || null;
    return body;
  }

  /** Save the draft if it changed; saves of one draft go one after another. Rejects
   * when the server refused it: the typed text stays, to be corrected and sent again. */
  #save(entry, options = {}) {
    clearTimeout(entry.timer);
    entry.timer = null;
    if (!entry.dirty) return entry.saving;
    entry.dirty = false;
    const body = this.#edited(entry);
    const generation = this.#generation;
    entry.pending += 1;
    entry.saving = entry.saving.catch(() => {}).then(async () => {
      entry.state.textContent = "Saving…";
      try {
        await this.#send("PUT", entry.path, body, options, generation);
        entry.failure = "";
        entry.state.textContent = entry.dirty ? "Not saved yet" : "Saved";
      } catch (error) {
        entry.dirty = true;
        entry.failure = `Not saved: ${error.message}`;
        entry.state.textContent = "";
        throw error;
      } finally {
        entry.pending -= 1;
        entry.problem.textContent = this.#results.get(entry.id) || entry.failure;
        this.#fillFields(entry);
      }
    });
    return entry.saving;
  }

  #saveAll() {
    return Promise.all([...this.#entries.values()].map((entry) => this.#save(entry)));
  }

  // The agent's commands.

  #open(itemType) {
    return this.#act(async () => {
      const opened = await this.#send("POST", `${this.#path}/drafts`, { item_type: itemType });
      const entry = this.#entries.get(opened.draft);
      entry?.element.querySelector("textarea, input, select")?.focus();
    });
  }

  #move(entry, step) {
    return this.#act(async () => {
      const position = this.#view.drafts.findIndex((d) => d.id === entry.id) + step;
      await this.#send("POST", `${entry.path}/move`, { position });
      const [toward, other] = step < 0 ? [entry.up, entry.down] : [entry.down, entry.up];
      (toward.disabled ? other : toward).focus();
    });
  }

  #close(entry) {
    return this.#act(async () => {
      await this.#save(entry); // the server must know what it asks about
      const answer = await this.#send("POST", `${entry.path}/close`);
      if (answer.asked) entry.question.querySelector("button").focus();
      else this.#parts.opening.querySelector("button").focus();
    });
  }

  #answer(entry, answer) {
    return this.#act(async () => {
      await this.#send("POST", `${entry.path}/answer`, { answer });
      (answer === "cancel" ? entry.close : this.#parts.opening.querySelector("button")).focus();
    });
  }

  // Publishing: a fresh idempotency key per click; a retry of that click sends the
  // same batch under the same key, so it publishes at most once.

  async #publish() {
    if (this.#publishing) return;
    this.#results = new Map();
    this.#parts.outcome.textContent = "";
    this.#problem("");
    try {
      this.#publishing = true;
      this.#drawPublishButton();
      await this.#saveAll();
    } catch {
      this.#problem("Some drafts could not be saved, so nothing was published: see each draft's problem.");
      return;
    } finally {
      this.#publishing = false;
      this.#drawPublishButton();
    }
    await this.#publishBatch({
      key: crypto.randomUUID(),
      drafts: this.#view.drafts.map((d) => d.id),
      atomic: !this.#parts.perItem.checked,
    });
  }

  async #publishBatch(batch) {
    if (this.#publishing || !batch) return;
    const generation = this.#generation;
    this.#publishing = true;
    this.#drawPublishButton();
    this.#problem("");
    try {
      const answer = await this.#send("POST", `${this.#path}/publish`, batch);
      if (generation !== this.#generation) return; // the agent has moved to another record
      this.#retry = null;
      this.#published(answer.outcome);
    } catch (error) {
      if (generation !== this.#generation) return;
      if (error.retryable) {
        this.#retry = batch;
        this.#problem(`Not known whether it was published: ${error.message}.`, batch);
      } else {
        this.#problem(`Publish refused: ${error.message}`);
        // Each draft that held an all-or-nothing batch back says why, in its own box.
        const results = (error.problem && error.problem.results) || [];
        this.#results = new Map(
          results.filter((r) => r.problem).map((r) => [r.draft, `Holds the batch back: ${r.problem}`]),
        );
        this.refresh(); // the drafts may have changed elsewhere: show them as they are
      }
    } finally {
      this.#publishing = false;
      this.#drawPublishButton();
    }
  }

  #published(outcome) {
    const done = outcome.results.filter((r) => r.feed_item).length;
    const left = outcome.results.filter((r) => r.problem);
    for (const result of left) this.#results.set(result.draft, `Not published: ${result.problem}`);
    for (const entry of this.#entries.values()) {
      entry.problem.textContent = this.#results.get(entry.id) || entry.failure;
    }
    this.#parts.outcome.textContent = left.length
      ? `Published ${done} of ${outcome.results.length}; the others stay open, each with its problem.`
      : `Published ${done} item${done === 1 ? "" : "s"}.`;
    if (done) this.#loadFeed(false);
  }

  // The feed.

  async #loadFeed(more) {
    const parts = this.#parts;
    if (!parts) return;
    const generation = this.#generation;
    const issued = ++this.#feedIssued;
    const query = new URLSearchParams();
    if (parts.typeFilter.value) query.set("item_type", parts.typeFilter.value);
    if (parts.audienceFilter.value) query.set("visibility", parts.audienceFilter.value);
    if (more && this.#nextAfter) query.set("after", this.#nextAfter);
    try {
      const page = await this.request("GET", `${this.#feedPath}?${query}`);
      // Only the newest request for the record shown may draw.
      if (generation !== this.#generation || issued !== this.#feedIssued) return;
      parts.feedProblem.textContent = "";
      if (!more) {
        parts.items.replaceChildren();
        this.#lastBatch = null;
      }
      parts.items.append(...page.items.map((item) => this.#feedItem(item)));
      this.#nextAfter = page.next_after;
      parts.more.hidden = !page.next_after;
      parts.nothing.hidden = parts.items.children.length > 0;
    } catch (error) {
      parts.feedProblem.textContent = error.message;
    }
  }

  #feedItem(item) {
    const entry = element("li", "", "feed-item");
    entry.dataset.type = item.item_type;
    entry.dataset.batch = item.batch;
    entry.classList.toggle("batch-start", item.batch !== this.#lastBatch);
    this.#lastBatch = item.batch;
    const when = element("time", new Date(item.published_at).toLocaleString());
    when.dateTime = item.published_at;
    const meta = element("p", "", "feed-meta");
    const who = ` · for ${AUDIENCE[item.visibility]} · by ${item.author} · `;
    meta.append(element("strong", LABEL[item.item_type]), who, when);
    entry.append(meta);
    const { status_change: change, attachment, text } = item.content;
    if (change) entry.append(element("p", `Status: ${change.from_status} → ${change.to_status}`));
    if (attachment) entry.append(element("p", `Attached: ${attachment}`));
    if (text) entry.append(element("p", text, "feed-text"));
    return entry;
  }
}
