// The focused record's details: its fields laid out by the tenant's schema, edited in
// place, and its history. The record lives on the server (ADR/0020): a save sends the
// fields the agent changed from the version the edit started on; an edit made
// elsewhere arrives on the agent's stream and is drawn at once, and a field the agent
// changed that someone else changed meanwhile asks which value stays (ADR/0026).

import { coalesced } from "./coalesce.js";
import { button, element } from "./dom.js";
import { control, hint, rawIn, rawOf, said, same, setRaw, shown, valueOf } from "./fields.js";

const HISTORY_WORDS = { created: "Created", changed: "Changed", deleted: "Deleted", restored: "Restored" };
const CONFLICT = "urn:calldesk:problem:edit-conflict";

const key = (record) => `${record.kind}:${record.record_id}`;

/** Who made a change, as the history and the conflict choice say it. */
function author(by) {
  if (by.kind === "agent") return by.name;
  if (by.kind === "device") {
    const [agent, device] = by.name.split("/");
    return `${agent}'s device ${device}`;
  }
  return `${by.name} (${by.kind})`;
}

export class RecordPage {
  #record = null;
  #tab = null;
  #parts = null;
  #schema = null;
  #view = null;
  #edit = null;
  // Edits left on another tab, kept for when the agent comes back to the record.
  #edits = new Map();
  #generation = 0;
  #refreshOnce = coalesced(() => this.#load(), () => Boolean(this.#schema));
  #historyOpen = false;
  #titles = new Map();

  /** `dial(number)` makes a button that calls it; `open(record)` shows a record in the
   * workspace; `markUnsaved(tab, unsaved)` tells the workspace the tab has changes. */
  constructor({ agent, request, dial, open, markUnsaved }) {
    Object.assign(this, { agent, request, dial, open, markUnsaved });
  }

  /** Show this record's details in the container, the view of workspace tab `tab`
   * (its id and whether it is marked unsaved); null lets the last one go, keeping an
   * edit under way for the agent's return. */
  show(record, container, tab) {
    if (this.#edit) this.#edits.set(key(this.#record), this.#edit);
    this.#generation += 1;
    this.#record = record;
    this.#tab = tab;
    this.#edit = null;
    this.#view = null;
    this.#schema = null;
    this.#historyOpen = false;
    this.#parts = null;
    if (!record) return;
    this.#build(container);
    this.#start(this.#generation);
  }

  /** Read the record again (someone may have changed it) and draw what changed; calls
   * while one runs coalesce into one more. */
  async refresh() {
    if (this.#schema) await this.#refreshOnce();
  }

  get #path() {
    return `/records/${encodeURIComponent(this.#record.kind)}/${encodeURIComponent(this.#record.record_id)}`;
  }

  async #start(generation) {
    try {
      const [schema, view] = await Promise.all([
        this.request("GET", `/schemas/${encodeURIComponent(this.#record.kind)}`),
        this.request("GET", this.#path),
      ]);
      if (generation !== this.#generation) return;
      this.#schema = schema;
      this.#drawn(view);
      const kept = this.#edits.get(key(this.#record));
      this.#edits.delete(key(this.#record));
      if (kept && this.#tab?.unsaved && !view.deleted) {
        this.#beginEdit(kept, false);
        this.#rebase(kept, view);
      } else if (this.#tab?.unsaved) {
        // Typed changes do not outlive the page (or the tab's close): say so.
        this.markUnsaved(this.#tab.tab_id, false);
      }
    } catch (error) {
      if (generation === this.#generation) this.#alert(error.message);
    }
  }

  async #load() {
    const generation = this.#generation;
    try {
      const view = await this.request("GET", this.#path);
      if (generation !== this.#generation || view.version < this.#view.version) return;
      this.#alert("");
      // A save under way answers with its own version: that one ends the edit.
      if (this.#edit && !this.#edit.saving) this.#rebase(this.#edit, view);
      this.#drawn(view);
    } catch (error) {
      if (generation === this.#generation) this.#alert(error.message);
    }
  }

  get #fields() {
    return this.#schema.fields;
  }

  get #editable() {
    return this.#fields.filter((f) => !f.read_only);
  }

  #field(name) {
    return this.#fields.find((f) => f.name === name);
  }

  // Building and drawing.

  #build(container) {
    const section = element("section", "", "record-details");
    section.setAttribute("aria-labelledby", "details-title");
    const head = element("div", "", "details-head");
    const title = element("h3", "Details");
    title.id = "details-title";
    const edit = button("Edit", () => this.#beginEdit(this.#newEdit(), true));
    const history = button("History", () => this.#toggleHistory());
    history.setAttribute("aria-expanded", "false");
    history.setAttribute("aria-controls", "record-history");
    head.append(title, edit, history);
    const status = element("p", "", "muted outcome");
    status.setAttribute("role", "status");
    const problem = element("div", "", "problem");
    problem.setAttribute("role", "alert");
    const deleted = element("div", "", "deleted");
    deleted.hidden = true;
    const body = element("div", "", "details-body");
    const past = element("section", "", "record-history");
    past.id = "record-history";
    past.setAttribute("aria-labelledby", "history-title");
    past.hidden = true;
    const pastTitle = element("h3", "History");
    pastTitle.id = "history-title";
    const entries = element("ol", "", "history-entries");
    entries.setAttribute("aria-label", "Changes, newest first");
    past.append(pastTitle, entries);
    section.append(head, status, problem, deleted, body, past);
    container.replaceChildren(section);
    this.#parts = { edit, history, status, problem, deleted, body, past, entries };
  }

  #alert(message) {
    if (this.#parts) this.#parts.problem.textContent = message;
  }

  /** Draw the record as the server has it; the form of an edit under way stays. */
  #drawn(view) {
    const before = this.#view;
    this.#view = view;
    const parts = this.#parts;
    if (before && view.version > before.version && !this.#mine(view)) {
      const changed = this.#fields.filter((f) => !same(before.values[f.name], view.values[f.name]));
      const what = changed.length ? `: ${changed.map((f) => f.label).join(", ")}` : "";
      parts.status.textContent = `Changed by ${author(view.modified_by)} just now${what}.`;
    }
    parts.deleted.hidden = !view.deleted;
    if (view.deleted) {
      const restore = button("Restore", () => this.#restore());
      parts.deleted.replaceChildren(
        element("p", `This ${view.kind} was deleted by ${author(view.modified_by)}.`),
        restore,
      );
      if (this.#edit) this.#endEdit("");
    }
    parts.edit.hidden = view.deleted || this.#edit !== null;
    if (!this.#edit) this.#drawDetails();
    if (this.#historyOpen && (!before || view.version !== before.version)) this.#loadHistory();
  }

  #mine(view) {
    return view.modified_by.kind === "agent" && view.modified_by.name === this.agent;
  }

  /** The fields as a list of terms and values, in the schema's order. */
  #drawDetails() {
    const focused = document.activeElement?.dataset?.detail;
    const list = element("dl", "", "record-fields");
    for (const field of this.#fields) {
      const item = element("div", "", `record-field field-${field.type}`);
      const value = element("dd", "");
      const shownValue = shown(field, this.#view.values[field.name], {
        dial: this.dial,
        open: this.open,
        titleOf: (kind, id) => this.#titleOf(kind, id),
      });
      shownValue.dataset.detail = field.name;
      value.append(shownValue);
      item.append(element("dt", field.label), value);
      list.append(item);
    }
    this.#parts.body.replaceChildren(list);
    if (focused) list.querySelector(`[data-detail="${CSS.escape(focused)}"]`)?.focus();
  }

  /** A referenced record's title, read once; its id until then. */
  #titleOf(kind, id) {
    const at = `${kind}:${id}`;
    if (this.#titles.has(at)) return this.#titles.get(at);
    this.#titles.set(at, null);
    const generation = this.#generation;
    this.request("GET", `/records/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`)
      .then((record) => {
        this.#titles.set(at, record.title);
        if (generation === this.#generation && !this.#edit && this.#view) this.#drawDetails();
      })
      .catch(() => this.#titles.delete(at));
    return null;
  }

  /** Whether an edit holds changes not yet saved (the page asks before it is left). */
  get unsaved() {
    return this.#edit !== null && Object.keys(this.#changes(this.#edit)).length > 0;
  }

  // Editing.

  #newEdit() {
    const raws = new Map(this.#editable.map((f) => [f.name, rawOf(f, this.#view.values[f.name])]));
    return { base: this.#view, raws, controls: new Map(), parts: new Map(), conflicts: new Map(),
      problems: new Map(), marked: false, saving: false, resend: false, retried: false };
  }

  /** The form: a control per field the agent may change, the server's own fields as
   * text; the keyboard goes to the first control when the agent asked for it. */
  #beginEdit(edit, focus) {
    this.#edit = edit;
    edit.controls = new Map();
    edit.parts = new Map();
    const form = element("form", "", "record-fields editing");
    form.noValidate = true; // the server's refusal, at its field, is the one that counts
    form.setAttribute("aria-label", `Edit ${this.#view.title}`);
    for (const field of this.#fields) form.append(this.#formField(edit, field));
    const save = element("button", "Save", "primary");
    save.type = "submit";
    const cancel = button("Cancel", () => this.#cancel());
    const actions = element("div", "", "form-actions");
    actions.append(save, cancel);
    form.append(actions);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#save();
    });
    this.#parts.edit.hidden = true;
    this.#parts.status.textContent = "";
    this.#parts.body.replaceChildren(form);
    edit.save = save;
    for (const name of edit.parts.keys()) this.#drawField(edit, name);
    if (focus) form.querySelector("input, select, textarea")?.focus();
  }

  #formField(edit, field) {
    const item = element("div", "", `record-field field-${field.type}`);
    if (field.read_only) {
      const term = element("span", field.label, "field-label");
      const value = shown(field, edit.base.values[field.name], { dial: this.dial, open: this.open,
        titleOf: (kind, id) => this.#titleOf(kind, id) });
      item.append(term, value, element("span", "set by calldesk", "muted field-hint"));
      return item;
    }
    const input = control(field, null);
    setRaw(input, edit.raws.get(field.name));
    const label = element("label", field.label, "field-label");
    label.htmlFor = input.id;
    if (field.required) label.append(element("span", " (required)", "muted"));
    const rules = hint(field);
    if (rules) label.append(element("span", ` ${rules}`, "muted field-hint"));
    const problem = element("p", "", "field-problem");
    problem.id = `problem-${field.name}`;
    const choice = element("div", "", "conflict");
    input.setAttribute("aria-describedby", problem.id);
    const typed = () => {
      edit.raws.set(field.name, rawIn(input));
      this.#markChanged(edit);
    };
    input.addEventListener("input", typed);
    input.addEventListener("change", typed);
    const layout = field.type === "boolean" ? [input, label] : [label, input];
    item.append(...layout, problem, choice);
    edit.controls.set(field.name, input);
    edit.parts.set(field.name, { input, problem, choice });
    return item;
  }

  /** A field's problem and its choice, when it changed meanwhile, drawn in place. */
  #drawField(edit, name) {
    const { input, problem, choice } = edit.parts.get(name);
    const field = this.#field(name);
    const message = edit.problems.get(name) || "";
    problem.textContent = message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
    const clash = edit.conflicts.get(name);
    choice.hidden = !clash;
    if (!clash) {
      choice.replaceChildren();
      return;
    }
    choice.setAttribute("role", "group");
    choice.setAttribute("aria-label", `${field.label} was changed meanwhile`);
    const mine = valueOf(field, edit.raws.get(name));
    const line = element("p", `Changed meanwhile by ${author(clash.by)}. `);
    line.append(element("strong", "Theirs: "), said(field, clash.theirs), ". ",
      element("strong", "Yours: "), said(field, mine), ".");
    const keep = button("Keep mine", () => this.#choose(edit, name, false));
    keep.dataset.choice = `keep:${name}`;
    const take = button("Take theirs", () => this.#choose(edit, name, true));
    take.dataset.choice = `take:${name}`;
    choice.replaceChildren(line, keep, take);
  }

  /** The fields the agent changed from the edit's base, as the server takes them. */
  #changes(edit) {
    const values = {};
    for (const field of this.#editable) {
      const raw = edit.raws.get(field.name);
      if (raw !== rawOf(field, edit.base.values[field.name])) values[field.name] = valueOf(field, raw);
    }
    return values;
  }

  #markChanged(edit) {
    const changed = Object.keys(this.#changes(edit)).length > 0;
    if (changed !== edit.marked && this.#tab) {
      edit.marked = changed;
      this.markUnsaved(this.#tab.tab_id, changed);
    }
  }

  /** Move the edit onto a newer version: a field the agent left takes the new value;
   * one the agent changed that was changed meanwhile to something else asks which
   * stays; what the agent keeps is then sent from the new version. */
  #rebase(edit, view) {
    for (const field of this.#editable) {
      const { name } = field;
      const before = edit.base.values[name];
      const theirs = view.values[name];
      if (same(before, theirs)) continue;
      const raw = edit.raws.get(name);
      const mine = raw !== rawOf(field, before);
      if (!mine || same(valueOf(field, raw), theirs)) {
        this.#put(edit, field, rawOf(field, theirs));
        edit.conflicts.delete(name);
      } else {
        edit.conflicts.set(name, { theirs, by: view.modified_by });
      }
      if (edit.parts.has(name)) this.#drawField(edit, name);
    }
    edit.base = view;
    const clashing = [...edit.conflicts.keys()].map((n) => this.#field(n).label);
    if (clashing.length) {
      this.#alert(`Changed meanwhile by ${author(view.modified_by)}: ${clashing.join(", ")}. ` +
        "For each, keep yours or take theirs.");
    }
  }

  #put(edit, field, raw) {
    edit.raws.set(field.name, raw);
    const input = edit.controls.get(field.name);
    if (input) setRaw(input, raw);
  }

  #choose(edit, name, theirs) {
    const field = this.#field(name);
    const clash = edit.conflicts.get(name);
    if (theirs) this.#put(edit, field, rawOf(field, clash.theirs));
    edit.conflicts.delete(name);
    edit.retried = false;
    this.#drawField(edit, name);
    this.#markChanged(edit);
    const next = this.#parts.body.querySelector("[data-choice]");
    if (next) {
      next.focus();
      return;
    }
    this.#alert("");
    edit.controls.get(name)?.focus();
    // A save the server refused for a clash goes again once every clash is decided.
    if (edit.resend) this.#save();
  }

  async #save() {
    const edit = this.#edit;
    if (!edit || edit.saving) return;
    if (edit.conflicts.size) {
      this.#alert("Some fields were changed meanwhile: for each, keep yours or take theirs first.");
      this.#parts.body.querySelector("[data-choice]")?.focus();
      return;
    }
    const values = this.#changes(edit);
    if (!Object.keys(values).length) {
      this.#endEdit(edit.resend ? "Nothing left to save: theirs is kept." : "Nothing changed.");
      return;
    }
    const generation = this.#generation;
    edit.saving = true;
    edit.save.disabled = true;
    this.#alert("");
    let view;
    try {
      view = await this.request("PATCH", this.#path, { base_version: edit.base.version, values });
    } catch (error) {
      edit.saving = false;
      edit.save.disabled = false;
      if (generation === this.#generation) await this.#refused(edit, error);
      return;
    }
    edit.saving = false;
    if (generation !== this.#generation) return;
    this.#endEdit("Saved.");
    if (view.version >= this.#view.version) this.#drawn(view);
  }

  /** A refused save: each broken rule at its field, a clash as a choice per field. */
  async #refused(edit, error) {
    const problem = error.problem || {};
    edit.problems = new Map();
    if (problem.type === CONFLICT) {
      edit.resend = true;
      await this.#load(); // the record as it now is: the edit moves onto it
      if (edit.conflicts.size) {
        this.#parts.body.querySelector("[data-choice]")?.focus();
        return;
      }
      if (!edit.retried) {
        // Nothing clashes with the record as it now is (it changed back): send again,
        // once; a person decides any other time.
        edit.retried = true;
        this.#save();
        return;
      }
    }
    const errors = problem.errors || [];
    const atFields = errors.filter((e) => edit.parts.has(e.member));
    for (const refusal of atFields) edit.problems.set(refusal.member, refusal.message);
    for (const name of edit.parts.keys()) this.#drawField(edit, name);
    const elsewhere = errors.filter((e) => !edit.parts.has(e.member)).map((e) => `${e.member}: ${e.message}`);
    const fields = atFields.map((e) => this.#field(e.member).label);
    const summary = fields.length ? `Not saved: check ${fields.join(", ")}.` : `Not saved: ${error.message}`;
    this.#alert([summary, ...elsewhere].join(" "));
    if (atFields.length) edit.controls.get(atFields[0].member).focus();
  }

  #cancel() {
    this.#endEdit("");
  }

  /** Back to the record's details, as the server last said them. */
  #endEdit(status) {
    const edit = this.#edit;
    this.#edit = null;
    if (edit?.marked && this.#tab) this.markUnsaved(this.#tab.tab_id, false);
    this.#alert("");
    this.#parts.status.textContent = status;
    this.#parts.edit.hidden = this.#view.deleted;
    this.#drawDetails();
    if (!this.#parts.edit.hidden) this.#parts.edit.focus();
  }

  async #restore() {
    try {
      const view = await this.request("POST", `${this.#path}/restore`, {});
      this.#drawn(view);
      this.#parts.status.textContent = "Restored.";
      this.#parts.edit.focus();
    } catch (error) {
      this.#alert(error.message);
    }
  }

  // The history.

  #toggleHistory() {
    this.#historyOpen = !this.#historyOpen;
    this.#parts.history.setAttribute("aria-expanded", String(this.#historyOpen));
    this.#parts.past.hidden = !this.#historyOpen;
    if (this.#historyOpen) this.#loadHistory();
  }

  async #loadHistory() {
    const generation = this.#generation;
    try {
      const entries = await this.request("GET", `${this.#path}/history`);
      if (generation !== this.#generation) return;
      this.#parts.entries.replaceChildren(...entries.slice().reverse().map((e) => this.#historyEntry(e)));
    } catch (error) {
      if (generation === this.#generation) this.#alert(error.message);
    }
  }

  #historyEntry(entry) {
    const item = element("li", "", "history-entry");
    const when = element("time", new Date(entry.at).toLocaleString());
    when.dateTime = entry.at;
    const meta = element("p", "", "feed-meta");
    meta.append(element("strong", HISTORY_WORDS[entry.what] || entry.what), ` by ${author(entry.by)} · `, when);
    item.append(meta);
    if (entry.changes.length) {
      const changes = element("ul", "", "history-changes");
      for (const change of entry.changes) {
        const field = this.#field(change.field);
        const label = field ? field.label : change.field; // a retired field keeps its name
        const line = entry.what === "created"
          ? `${label}: ${said(field, change.new)}`
          : `${label}: ${said(field, change.old)} → ${said(field, change.new)}`;
        changes.append(element("li", line));
      }
      item.append(changes);
    }
    return item;
  }
}
