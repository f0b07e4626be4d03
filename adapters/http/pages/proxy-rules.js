// Every rule of the app proxy's postMessage protocol, version 1 (docs/proxy.md), with
// no DOM and no network: the proxy frame (app-proxy.js) wires these to windows, ports
// and fetch, and the browser tests run them alone. Everything is denied unless a rule
// lets it through.

export const PROTOCOL = "calldesk.apps";
export const VERSION = 1;
export const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
export const DEFAULT_TIMEOUT_MS = 10000;
export const MAX_TIMEOUT_MS = 60000;
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_PATH_LENGTH = 2048;
export const MAX_HEADERS = 8;
export const PONG_WITHIN_MS = 1000;

/** Which outcome a refusal of a request is answered with. */
const DENIALS = new Set(["endpoint-not-allowed", "scope-not-granted", "rate-limited", "not-runnable", "session-ended"]);
export const REASONS = [
  "wrong-source", "wrong-origin", "unknown-app", "not-runnable", "bad-key", "malformed",
  "unsupported-version", "channel-not-ready", "duplicate-request-id", "endpoint-not-allowed",
  "bad-path", "bad-header", "too-large", "rate-limited", "scope-not-granted", "session-ended",
];

// The keys of each message the proxy accepts: all required ones, some optional ones,
// nothing else. What the proxy itself sends is built below, never checked.
const SHAPES = {
  hello: { required: ["app", "key", "nonce"], optional: [] },
  request: { required: ["channel", "id", "method", "path"], optional: ["headers", "body", "timeout_ms"] },
  cancel: { required: ["channel", "id"], optional: [] },
  pong: { required: ["channel"], optional: [] },
};
const ENVELOPE = ["protocol", "version", "type"];

const HEX32 = /^[0-9a-f]{32}$/;
const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;
const isString = (value) => typeof value === "string";
const FIELD_CHECKS = {
  app: (value) => isString(value) && value.length >= 1 && value.length <= 64,
  key: (value) => isString(value) && value.length >= 1 && value.length <= 512,
  nonce: (value) => isString(value) && HEX32.test(value),
  channel: (value) => isString(value) && HEX32.test(value),
  id: (value) => isString(value) && REQUEST_ID.test(value),
  method: (value) => isString(value) && METHODS.includes(value),
  path: isString, // its own rules, below, answer `bad-path`
  headers: (value) => isPlainObject(value),
  body: () => true, // its own rules, below
  timeout_ms: (value) => Number.isInteger(value),
};

function isPlainObject(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Whether a message is meant for this protocol at all: anything else is ignored
 * without a word (other scripts of a page post messages too). */
export function isProtocolMessage(data) {
  return isPlainObject(data) && data.protocol === PROTOCOL;
}

/** `{ok: true, message}` for a well formed message of this protocol, else
 * `{ok: false, reason}`; `expected` lists the types the caller takes here. */
export function checkEnvelope(data, expected) {
  if (!isProtocolMessage(data)) return { ok: false, reason: "malformed" };
  if (!Number.isInteger(data.version)) return { ok: false, reason: "malformed" };
  if (data.version !== VERSION) return { ok: false, reason: "unsupported-version" };
  const shape = Object.hasOwn(SHAPES, data.type) ? SHAPES[data.type] : null;
  if (!shape || !expected.includes(data.type)) return { ok: false, reason: "malformed" };
  const keys = Object.keys(data);
  const allowed = new Set([...ENVELOPE, ...shape.required, ...shape.optional]);
  if (keys.some((key) => !allowed.has(key))) return { ok: false, reason: "malformed" };
  for (const key of shape.required) {
    if (!Object.hasOwn(data, key) || !FIELD_CHECKS[key](data[key])) return { ok: false, reason: "malformed" };
  }
  for (const key of shape.optional) {
    if (Object.hasOwn(data, key) && data[key] !== undefined && !FIELD_CHECKS[key](data[key])) {
      return { ok: false, reason: "malformed" };
    }
  }
  return { ok: true, message: data };
}

/** An origin is allowed only when it is one of the registration's, as exact strings. */
export function originAllowed(origin, origins) {
  return isString(origin) && origin !== "null" && Array.isArray(origins) && origins.includes(origin);
}

// A path's characters: RFC 3986's unreserved, sub-delims, ':' and '/', '?' and '%'
// escapes; no '@', '#', '\', space, control or non-ASCII character.
const PATH_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,;=:/?%]*$/;
const ESCAPE = /%([0-9A-Fa-f]{2})/g;
const FORBIDDEN_ESCAPES = new Set(["2e", "2f", "5c", "25"]);

/** Whether an app's path may be sent to the API: a path under it, not a URL. */
export function pathAllowed(path) {
  if (!isString(path) || path.length < 1 || path.length > MAX_PATH_LENGTH) return false;
  if (!path.startsWith("/") || path.includes("//") || !PATH_CHARACTERS.test(path)) return false;
  if (/%(?![0-9A-Fa-f]{2})/.test(path)) return false; // a stray '%'
  for (const [, hex] of path.matchAll(ESCAPE)) {
    if (FORBIDDEN_ESCAPES.has(hex.toLowerCase())) return false;
  }
  const segments = pathOnly(path).split("/").slice(1);
  return !segments.some((segment) => segment === "." || segment === "..");
}

const pathOnly = (path) => path.split("?", 1)[0];

/** Whether a pattern like `/records/contact/{id}` matches a (checked) path: a `{name}`
 * stands for one non-empty segment, every other segment for itself. */
export function patternMatches(pattern, path) {
  const want = pattern.split("/");
  const have = pathOnly(path).split("/");
  if (want.length !== have.length) return false;
  return want.every((segment, at) =>
    /^\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(segment) ? have[at].length > 0 : segment === have[at]);
}

/** The registration's endpoint for this method and path, or null. */
export function endpointFor(endpoints, method, path) {
  return (endpoints || []).find((e) => e.method === method && patternMatches(e.path, path)) || null;
}

/** The headers to send, lowercased, or null when any is refused: only `accept` and
 * `content-type`, each `application/json`. */
export function headersAllowed(headers) {
  if (headers === undefined) return {};
  if (!isPlainObject(headers)) return null;
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) return null;
  const kept = {};
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (lower !== "accept" && lower !== "content-type") return null;
    if (value !== "application/json" || Object.hasOwn(kept, lower)) return null;
    kept[lower] = value;
  }
  return kept;
}

const MAX_DEPTH = 64;

/** Whether a value is plain JSON (what structured cloning carries may not be: dates,
 * maps, cycles, NaN, holes) of at most a body's size: "ok", "too-large" or "malformed".
 * Every string and array is charged its whole length before it is looked into, so a
 * huge one is refused at once, never serialized (it would stall this frame's process,
 * the softphone's too). */
function jsonVerdict(value) {
  let budget = MAX_BODY_BYTES; // each character serialized takes at least one byte
  let tooLarge = false;
  const spend = (size) => {
    budget -= size;
    tooLarge = budget < 0;
    return !tooLarge;
  };
  const walk = (node, depth) => {
    if (depth > MAX_DEPTH) return false;
    if (node === null || typeof node === "boolean") return spend(4);
    if (typeof node === "string") return spend(node.length + 2);
    if (typeof node === "number") return Number.isFinite(node) && spend(1);
    if (Array.isArray(node)) {
      if (!spend(node.length + 1)) return false; // a comma or a bracket each
      for (let at = 0; at < node.length; at += 1) {
        if (!walk(node[at], depth + 1)) return false; // a hole is undefined: not JSON
      }
      return true;
    }
    if (!isPlainObject(node)) return false;
    const keys = Object.keys(node);
    if (!spend(keys.length * 4 + 1)) return false; // quotes, a colon and a comma each
    return keys.every((key) => spend(key.length) && walk(node[key], depth + 1));
  };
  const plain = walk(value, 0);
  if (tooLarge) return "too-large";
  return plain ? "ok" : "malformed";
}

/** The body serialized, or `{reason}` when it cannot go: not JSON or too deep
 * (`malformed`), or over 64 KiB (`too-large`). */
export function serializedBody(method, body) {
  if (body === undefined) return { text: undefined };
  if (method === "GET" || method === "DELETE") return { reason: "malformed" };
  const verdict = jsonVerdict(body);
  if (verdict !== "ok") return { reason: verdict };
  const text = JSON.stringify(body); // at most 64 Ki characters, as charged above
  if (new TextEncoder().encode(text).length > MAX_BODY_BYTES) return { reason: "too-large" };
  return { text };
}

/** The request as the proxy will send it, or `{reason}` for the rule it breaks, in the
 * order an app can act on: the form of the request, then what it may call. */
export function checkRequest(message, view) {
  if (!pathAllowed(message.path)) return { reason: "bad-path" };
  const headers = headersAllowed(message.headers);
  if (headers === null) return { reason: "bad-header" };
  const timeout = message.timeout_ms === undefined ? DEFAULT_TIMEOUT_MS : message.timeout_ms;
  if (timeout < 1 || timeout > MAX_TIMEOUT_MS) return { reason: "malformed" };
  const body = serializedBody(message.method, message.body);
  if (body.reason) return { reason: body.reason };
  if (view.status !== "published") return { reason: "not-runnable" };
  const endpoint = endpointFor(view.endpoints, message.method, message.path);
  if (!endpoint) return { reason: "endpoint-not-allowed" };
  if (!(view.scopes || []).includes(endpoint.scope)) return { reason: "scope-not-granted" };
  if (body.text !== undefined) headers["content-type"] = "application/json";
  return { request: { method: message.method, path: message.path, headers, body: body.text, timeoutMs: timeout } };
}

/** Response headers an app may see. */
export function filteredHeaders(headers) {
  const kept = {};
  for (const [name, value] of Object.entries(headers || {})) {
    const lower = name.toLowerCase();
    if ((lower === "content-type" || lower === "retry-after") && isString(value)) kept[lower] = value;
  }
  return kept;
}

/** What an answer of the API means to the app: `{outcome, status, body, reason}`. */
export function outcomeOf(status, body) {
  if (status >= 200 && status < 300) return { outcome: "ok", status, body, reason: null };
  const type = body && isString(body.type) ? body.type : "";
  if (status === 429) return { outcome: "denied", status, body, reason: "rate-limited" };
  if (status === 403 && type.endsWith("app-denied")) {
    const said = body && REASONS.includes(body.reason) ? body.reason : "endpoint-not-allowed";
    return { outcome: "denied", status, body, reason: said };
  }
  if (status === 401) return { outcome: "denied", status, body, reason: "session-ended" };
  return { outcome: "upstream-error", status, body, reason: null };
}

/** Requests a minute, as a bucket that holds a minute's worth and refills evenly; time
 * is given, in milliseconds, so that tests drive it. */
export class TokenBucket {
  constructor(perMinute, now) {
    this.capacity = perMinute;
    this.tokens = perMinute;
    this.perMs = perMinute / 60000;
    this.at = now;
  }

  take(now) {
    this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, now - this.at) * this.perMs);
    this.at = Math.max(this.at, now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Which refusals are worth reporting to the server: the first of a kind (reason and
 * origin) in a second, at most `perSecond` in all; those held back are counted, and
 * reported as one refusal of their kind once the budget allows (`held`). */
export class RefusalBudget {
  constructor(perSecond = 4) {
    this.perSecond = perSecond;
    this.sentAt = [];
    this.kinds = new Map(); // kind → {at, held, last}
  }

  /** The refusal to send now, or null when it is held back. */
  admit(refusal, now) {
    const kind = `${refusal.reason} ${refusal.origin}`;
    const seen = this.kinds.get(kind) || { at: -Infinity, held: 0, last: null };
    if (now - seen.at < 1000 || !this.spend(now)) {
      this.kinds.set(kind, { ...seen, held: seen.held + 1, last: refusal });
      return null;
    }
    this.kinds.set(kind, { at: now, held: 0, last: null });
    return { ...refusal, detail: refusal.detail.slice(0, 200) };
  }

  /** The refusals held back that may go now: one for each kind, saying how many. */
  held(now) {
    const due = [];
    for (const [kind, seen] of this.kinds) {
      if (!seen.held || now - seen.at < 1000 || !this.spend(now)) continue;
      const detail = `${seen.held} like it in a second, the last: ${seen.last.detail}`;
      due.push({ ...seen.last, detail: detail.slice(0, 200) });
      this.kinds.set(kind, { at: now, held: 0, last: null });
    }
    return due;
  }

  get holding() {
    return [...this.kinds.values()].some((seen) => seen.held > 0);
  }

  spend(now) {
    this.sentAt = this.sentAt.filter((at) => now - at < 1000);
    if (this.sentAt.length >= this.perSecond) return false;
    this.sentAt.push(now);
    return true;
  }
}

/** A message of the proxy to the app. */
export const envelope = (type, fields) => ({ protocol: PROTOCOL, version: VERSION, type, ...fields });

const CLOSED_STATUSES = { suspended: "suspended", revoked: "revoked", registered: "suspended" };

/** Why a channel cannot go on under this view of the app (null: it can). */
export function notRunnableReason(view) {
  if (!view) return "uninstalled";
  return view.status === "published" ? null : CLOSED_STATUSES[view.status] || "suspended";
}

/**
 * One channel between the proxy and an app's document: `opening` until its app
 * session is open, `ready` while requests may go, `closed` for good. Every accepted
 * request (a well formed one, on this channel, with an id not seen on it) gets exactly
 * one answer; everything else is refused through `refuse(reason, detail)` and not
 * answered.
 *
 * upstream(request, signal) → Promise of {status, headers, body}; post(message);
 * now() → ms; timers: {set(fn, ms) → handle, clear(handle)}.
 */
export class ProxyCore {
  constructor({ channel, view, upstream, post, refuse, onClosed = () => {}, now, timers }) {
    Object.assign(this, { channel, view, upstream, post, refuse, onClosed, now, timers });
    this.state = "opening";
    this.pending = new Map();
    this.seen = new Set();
    this.limiter = new TokenBucket(view.rate_limit, now());
    this.pongTimer = null;
  }

  ready() {
    if (this.state === "opening") this.state = "ready";
  }

  /** The app's view read again: the channel goes on under it, or closes. */
  updateView(view) {
    if (this.state === "closed") return;
    const rotated = view && this.view && view.key_generation !== this.view.key_generation;
    const reason = notRunnableReason(view) || (rotated ? "key-rotated" : null);
    if (reason) this.close(reason);
    else this.view = view;
  }

  /** One message from the app's port. */
  receive(data) {
    const checked = checkEnvelope(data, ["request", "cancel", "pong"]);
    if (!checked.ok) return this.refuse(checked.reason, `a ${describe(data)} on the channel`);
    const message = checked.message;
    if (message.channel !== this.channel || this.state !== "ready") {
      return this.refuse("channel-not-ready", `a ${message.type} while the channel is ${this.state}`);
    }
    if (message.type === "pong") return this.pong();
    if (message.type === "cancel") return this.cancel(message.id);
    return this.request(message);
  }

  request(message) {
    if (this.seen.has(message.id)) {
      return this.refuse("duplicate-request-id", `request id ${message.id} again`);
    }
    this.seen.add(message.id);
    let checked;
    try {
      checked = checkRequest(message, this.view);
    } catch {
      checked = { reason: "malformed" }; // whatever the check tripped on, an answer goes
    }
    if (checked.reason) {
      this.refuse(checked.reason, `${message.method} ${String(message.path).slice(0, 200)}`);
      return this.send(message.id, { outcome: DENIALS.has(checked.reason) ? "denied" : "invalid", reason: checked.reason });
    }
    if (!this.limiter.take(this.now())) {
      this.refuse("rate-limited", `${message.method} ${message.path}`);
      return this.send(message.id, { outcome: "denied", reason: "rate-limited" });
    }
    const controller = new AbortController();
    const timer = this.timers.set(() => this.settle(message.id, { outcome: "timeout" }), checked.request.timeoutMs);
    this.pending.set(message.id, { controller, timer });
    this.forward(message.id, checked.request, controller.signal);
  }

  async forward(id, request, signal) {
    let result;
    try {
      const answered = await this.upstream(request, signal);
      result = { ...outcomeOf(answered.status, answered.body), headers: filteredHeaders(answered.headers) };
    } catch {
      result = { outcome: "upstream-error", reason: null };
    }
    this.settle(id, result); // dropped if timed out, cancelled or closed meanwhile; a
    // server's refusal is in its own log already
    if (result.reason === "session-ended") this.close("session-ended");
  }

  cancel(id) {
    this.settle(id, { outcome: "cancelled" });
  }

  /** Answer a pending request, once: whatever comes later for its id is dropped. */
  settle(id, answer) {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    this.timers.clear(pending.timer);
    pending.controller.abort();
    this.send(id, answer);
  }

  send(id, { outcome, status = null, headers = {}, body = null, reason = null }) {
    this.post(envelope("answer", { channel: this.channel, id, outcome, status, headers, body, reason }));
  }

  /** The app's frame loaded a document: its SDK must answer within a second. */
  ping() {
    if (this.state !== "ready" || this.pongTimer !== null) return;
    this.pongTimer = this.timers.set(() => this.close("reloaded"), PONG_WITHIN_MS);
    this.post(envelope("ping", { channel: this.channel }));
  }

  pong() {
    if (this.pongTimer === null) return;
    this.timers.clear(this.pongTimer);
    this.pongTimer = null;
  }

  /** Every pending request is answered `cancelled`, then the app is told; once. */
  close(reason) {
    if (this.state === "closed") return;
    this.state = "closed";
    for (const id of [...this.pending.keys()]) this.settle(id, { outcome: "cancelled" });
    if (this.pongTimer !== null) this.timers.clear(this.pongTimer);
    this.post(envelope("closed", { channel: this.channel, reason }));
    this.onClosed(reason);
  }
}

function describe(data) {
  return isPlainObject(data) && isString(data.type) ? `${data.type.slice(0, 40)} message` : "message";
}
