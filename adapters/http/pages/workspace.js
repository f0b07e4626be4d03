// The agent's console tabs, drawn from the workspace as the server keeps it: the
// navigation tab, the primary tabs, the focused tab's subtabs, the questions a close
// asks, and the focused view below them. The page keeps no tab state of its own: it
// draws GET /agents/{agent}/workspace and every command's answer, so a reload or a
// second machine shows the same tabs (docs/console.md).

import { button, element } from "./dom.js";

const KINDS = ["contact", "account", "lead", "case"];

/** The primary tab holding a view (a tab id), and the subtab when it is a subtab's. */
function holding(view, tabId) {
  for (const primary of view.tabs) {
    if (primary.tab_id === tabId) return { primary, subtab: null };
    const subtab = primary.subtabs.find((s) => s.tab_id === tabId);
    if (subtab) return { primary, subtab };
  }
  return null;
}

const unsavedIn = (primary) => primary.unsaved || primary.subtabs.some((s) => s.unsaved);

export class Workspace {
  #issued = 0;
  #drawn = 0;
  #refreshing = false;
  #again = false;
  #loadFailed = false;
  #shown = null;
  #head = null;

  /** `showRecord(record, container, tab)` draws a record (its details, publisher and
   * feed) in the container as the view of that tab, or lets the last record go when
   * record is null. */
  constructor({ agent, request, showRecord, elements }) {
    this.path = `/agents/${encodeURIComponent(agent)}/workspace`;
    this.request = request;
    this.showRecord = showRecord;
    this.elements = elements;
    elements.reopen.addEventListener("click", () => this.#command("POST", "/reopen"));
  }

  /** Draw the workspace as the server has it; calls while one runs coalesce into one. */
  async refresh() {
    if (this.#refreshing) {
      this.#again = true;
      return;
    }
    this.#refreshing = true;
    try {
      do {
        this.#again = false;
        await this.#command("GET", "");
      } while (this.#again);
    } finally {
      this.#refreshing = false;
    }
  }

  /** Show a record: its tab when it is open, else a new one. The server names the tab
   * after the record directory's title; the body still needs one, so the id stands in
   * when the page knows no better. */
  openRecord(record) {
    const body = { kind: record.kind, record_id: record.record_id, title: record.title || record.record_id };
    return this.#command("POST", "/records", { record: body });
  }

  act(tabId, action) {
    return this.#command("POST", `/tabs/${encodeURIComponent(tabId)}/actions`, { action });
  }

  async #close(tabId) {
    await this.act(tabId, "close");
    // A tab with unsaved changes asks first: the answer's buttons take the keyboard.
    this.elements.questions.querySelector(`[data-control="keep:${tabId}"]`)?.focus();
  }

  async #command(method, suffix, body) {
    const issued = ++this.#issued;
    const problem = this.elements.problem;
    try {
      const view = await this.request(method, this.path + suffix, body);
      if (method !== "GET" || this.#loadFailed) problem.textContent = "";
      this.#loadFailed = false;
      // Answers can come back out of order: an older one never draws over a newer.
      if (issued > this.#drawn) {
        this.#drawn = issued;
        this.#draw(view);
      }
    } catch (error) {
      this.#loadFailed = method === "GET";
      problem.textContent = error.message;
    }
  }

  #draw(view) {
    // Redrawing replaces the buttons: the one the keyboard was on takes focus again.
    const control = document.activeElement?.dataset?.control;
    const holder = view.focused === null ? null : holding(view, view.focused);
    this.#drawTabs(view, holder);
    this.#drawSubtabs(view, holder);
    this.#drawQuestions(view);
    this.elements.reopen.disabled = view.closed_tabs === 0;
    this.#drawView(view, holder);
    if (control) {
      const again = document.querySelector(`[data-control="${CSS.escape(control)}"]`);
      (again || this.elements.tabs.querySelector("[aria-current=true]"))?.focus();
    }
  }

  #tab(tab, { current, unsaved, onShow, closable }) {
    const item = element("li", "", "tab");
    item.classList.toggle("current", current);
    item.classList.toggle("highlighted", tab.highlighted);
    item.dataset.tab = tab.tab_id;
    const show = button("", onShow, "tab-show");
    show.dataset.control = `show:${tab.tab_id}`;
    show.title = tab.label;
    show.append(element("span", tab.label, "tab-label"));
    if (tab.pinned) show.append(element("span", "pinned", "badge"));
    if (tab.highlighted) show.append(element("span", "needs attention", "badge badge-alert"));
    if (unsaved) show.append(element("span", "unsaved", "badge badge-warn"));
    if (current) show.setAttribute("aria-current", "true");
    item.append(show);
    if (closable) {
      const close = button("×", () => this.#close(tab.tab_id), "tab-close");
      close.dataset.control = `close:${tab.tab_id}`;
      close.setAttribute("aria-label", `Close ${tab.label}`);
      close.title = `Close ${tab.label}`;
      item.append(close);
    }
    return item;
  }

  #drawTabs(view, holder) {
    const home = element("li", "", "tab navigation");
    const showHome = button("", () => this.#command("POST", "/navigation"), "tab-show");
    showHome.dataset.control = "show:home";
    showHome.append(element("span", "Home", "tab-label"));
    if (view.focused === null) {
      showHome.setAttribute("aria-current", "true");
      home.classList.add("current");
    }
    home.append(showHome);
    const tabs = view.tabs.map((primary) =>
      this.#tab(primary, {
        current: holder?.primary.tab_id === primary.tab_id,
        unsaved: unsavedIn(primary),
        onShow: () => this.act(primary.tab_id, "focus"),
        closable: true,
      }),
    );
    this.elements.tabs.replaceChildren(home, ...tabs);
  }

  #drawSubtabs(view, holder) {
    const subtabs = holder ? holder.primary.subtabs : [];
    this.elements.subtabs.replaceChildren(
      ...subtabs.map((subtab, index) =>
        this.#tab(subtab, {
          current: subtab.tab_id === view.focused,
          unsaved: subtab.unsaved,
          onShow: () => this.act(subtab.tab_id, "focus"),
          closable: index > 0, // the record's own detail subtab closes with its tab
        }),
      ),
    );
  }

  #drawQuestions(view) {
    const asking = view.tabs.flatMap((p) => [p, ...p.subtabs]).filter((t) => t.close_requested);
    this.elements.questions.replaceChildren(
      ...asking.map((tab) => {
        const box = element("div", "", "question");
        box.setAttribute("role", "group");
        box.setAttribute("aria-label", `Close ${tab.label}?`);
        const why = tab.close_requested === "call-ended"
          ? `The call that opened “${tab.label}” has ended, and the tab has unsaved changes.`
          : `“${tab.label}” has unsaved changes.`;
        const confirm = () => this.act(tab.tab_id, "confirm-close");
        const lose = button("Close and lose the changes", confirm, "danger");
        lose.dataset.control = `lose:${tab.tab_id}`;
        const keep = button("Keep it open", () => this.act(tab.tab_id, "cancel-close"));
        keep.dataset.control = `keep:${tab.tab_id}`;
        box.append(element("p", `${why} Close it anyway?`), keep, lose);
        return box;
      }),
    );
  }

  // The view below the tabs: redrawn whole only when the focus moves to another view,
  // so a redraw of the tabs never disturbs a draft being typed.
  #drawView(view, holder) {
    const key = view.focused ?? "home";
    const primary = holder?.primary;
    const record = holder ? (holder.subtab ? holder.subtab.record : primary.record) : null;
    const head = element("div", "", "view-head");
    const title = element("h2", primary ? (holder.subtab || primary).label : "Home");
    title.id = "view-title";
    head.append(title);
    if (record) head.append(element("span", `${record.kind} · ${record.record_id}`, "muted"));
    if (primary) {
      const pin = button(primary.pinned ? "Unpin tab" : "Pin tab", () =>
        this.act(primary.tab_id, primary.pinned ? "unpin" : "pin"));
      pin.dataset.control = "pin";
      head.append(pin);
    }
    if (key === this.#shown) {
      this.#head.replaceWith(head); // the body stays, with whatever has focus in it
    } else {
      this.#shown = key;
      const body = element("div", "", "view-body");
      if (record) this.showRecord(record, body, holder.subtab || primary);
      else {
        this.showRecord(null, null, null);
        if (!primary) this.#drawHome(body);
        else if (primary.kind === "page") this.#drawPage(primary, body);
        else this.#drawSearch(primary, body);
      }
      this.elements.view.setAttribute("aria-labelledby", "view-title");
      this.elements.view.replaceChildren(head, body);
    }
    this.#head = head;
  }

  #drawHome(body) {
    const form = element("form", "", "open-record");
    form.setAttribute("aria-label", "Open a record");
    const kindLabel = element("label", "Kind ");
    const kind = document.createElement("select");
    kind.name = "kind";
    kind.append(...KINDS.map((k) => Object.assign(element("option", k), { value: k })));
    kindLabel.append(kind);
    const idLabel = element("label", "Record id ");
    const recordId = document.createElement("input");
    recordId.name = "record_id";
    recordId.required = true;
    idLabel.append(recordId);
    const open = element("button", "Open record", "primary");
    open.type = "submit";
    form.append(kindLabel, idLabel, open);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.openRecord({ kind: kind.value, record_id: recordId.value.trim() });
    });
    const hint = "Open a record by its id, or take a call: its record opens here.";
    body.append(element("p", hint, "muted"), form);
  }

  #drawPage(primary, body) {
    const link = element("a", `Open ${primary.url} in a new window`);
    link.href = primary.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    const line = document.createElement("p");
    line.append(link);
    body.append(line);
  }

  #drawSearch(primary, body) {
    if (!primary.matches.length) {
      body.append(element("p", "Nothing matched.", "muted"));
      return;
    }
    const list = element("ul", "", "matches");
    for (const match of primary.matches) {
      const item = document.createElement("li");
      item.append(button(`Open ${match.title} (${match.kind})`, () => this.openRecord(match)));
      list.append(item);
    }
    body.append(element("p", "Several records match; open the one this is about:"), list);
  }
}
