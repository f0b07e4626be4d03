// A record's field as the tenant's schema types it: how its value reads, the control
// that edits it, and the value that control means. Values travel as JSON has them
// (ADR/0020): a date is ISO text, a date-time ISO text in UTC, a phone E.164, a
// reference a record's id. A control holds text (its "raw" value); comparing raw text
// with the raw text of the value the edit started from tells what the agent changed,
// so a date-time the browser writes to the minute never reads as an edit.

import { element } from "./dom.js";

const INPUT_TYPES = { email: "email", phone: "tel", number: "number", date: "date", datetime: "datetime-local" };

const blank = (value) => value === null || value === undefined || value === "";

/** Two values of a field are the same (a missing one is null). */
export function same(a, b) {
  return (blank(a) ? null : a) === (blank(b) ? null : b);
}

const pad = (n) => String(n).padStart(2, "0");

/** An instant as a datetime-local control writes it, in the browser's time zone. */
function localDateTime(iso) {
  const at = new Date(iso);
  const day = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  return `${day}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

/** The text a control holds for this value. */
export function rawOf(field, value) {
  if (field.type === "boolean") return value === true ? "true" : "false";
  if (blank(value)) return "";
  if (field.type === "datetime") return localDateTime(value);
  return String(value);
}

/** What the control's text means, as the server takes it; a number that does not read
 * as one is sent as typed, for the server to say what is wrong with it. */
export function valueOf(field, raw) {
  if (field.type === "boolean") return raw === "true";
  if (raw.trim() === "") return null;
  if (field.type === "number") return Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (field.type === "datetime") return new Date(raw).toISOString();
  return field.type === "long-text" ? raw : raw.trim();
}

/** The control's current text. */
export function rawIn(control) {
  return control.type === "checkbox" ? String(control.checked) : control.value;
}

export function setRaw(control, raw) {
  if (control.type === "checkbox") control.checked = raw === "true";
  else if (control.value !== raw) control.value = raw;
}

/** A value as a person reads it, as text (for the history and the conflict choice). */
export function said(field, value) {
  if (field?.type === "boolean") return value === true ? "Yes" : value === false ? "No" : "not set";
  if (blank(value)) return "not set";
  if (field?.type === "date") return new Date(`${value}T00:00:00`).toLocaleDateString();
  if (field?.type === "datetime") return new Date(value).toLocaleString();
  if (field?.type === "number") return Number(value).toLocaleString();
  return String(value);
}

/** A value as the record's details show it: an email to write to, a number to call
 * (`dial`), a reference to open (`open`), a date in the agent's own format. */
export function shown(field, value, { dial, open, titleOf }) {
  if (field.type !== "boolean" && blank(value)) {
    const none = element("span", "", "muted");
    const dash = element("span", "—");
    dash.setAttribute("aria-hidden", "true");
    none.append(dash, element("span", "not set", "visually-hidden"));
    return none;
  }
  if (field.type === "phone") return dial(String(value));
  if (field.type === "email") return Object.assign(element("a", value), { href: `mailto:${value}` });
  if (field.type === "reference") {
    const title = titleOf(field.reference_kind, value);
    const opener = element("button", title || value, "link");
    opener.type = "button";
    opener.setAttribute("aria-label", `Open ${field.reference_kind} ${title || value}`);
    opener.addEventListener("click", () => open({ kind: field.reference_kind, record_id: value, title }));
    return opener;
  }
  if (field.type === "date" || field.type === "datetime") {
    return Object.assign(element("time", said(field, value)), { dateTime: value });
  }
  return element("span", said(field, value), field.type === "long-text" ? "long-text" : "");
}

/** The control that edits the field, named `field-NAME` for its label. A picklist
 * offers a value it no longer lists, when the record still holds one. */
export function control(field, value) {
  let made;
  if (field.type === "long-text") {
    made = Object.assign(document.createElement("textarea"), { rows: 4 });
  } else if (field.type === "picklist") {
    made = document.createElement("select");
    const offered = [...field.picklist];
    if (!blank(value) && !offered.includes(value)) offered.push(value);
    made.append(Object.assign(element("option", "— none —"), { value: "" }));
    for (const choice of offered) {
      const caption = field.picklist.includes(choice) ? choice : `${choice} (no longer offered)`;
      made.append(Object.assign(element("option", caption), { value: choice }));
    }
  } else {
    made = document.createElement("input");
    made.type = field.type === "boolean" ? "checkbox" : INPUT_TYPES[field.type] || "text";
    if (field.type === "number") made.step = "any";
    if (field.type === "datetime") made.step = "1";
    made.autocomplete = "off";
  }
  made.id = `field-${field.name}`;
  made.name = field.name;
  if (field.required) made.setAttribute("aria-required", "true");
  setRaw(made, rawOf(field, value));
  return made;
}

/** What the agent is told about the field's rules, beside its label. */
export function hint(field) {
  const hints = [];
  if (field.type === "reference") hints.push(`the id of a ${field.reference_kind}`);
  if (field.type === "datetime") hints.push("your local time");
  if (field.type === "phone") hints.push("as you would dial it");
  const textual = ["text", "long-text", "email"].includes(field.type);
  if (textual && field.max_length) hints.push(`at most ${field.max_length.toLocaleString()} characters`);
  return hints.join(", ");
}
