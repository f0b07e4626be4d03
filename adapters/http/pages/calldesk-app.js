// The SDK a third-party app loads (its own copy, from its own origin) to reach
// calldesk's API through the proxy frame that embeds it: protocol v1 of docs/proxy.md.
// It says hello to its parent only, takes a welcome only from there, and from then on
// talks on the MessagePort the welcome brought. Each request settles exactly once.

const PROTOCOL = "calldesk.apps";
const VERSION = 1;
const SLACK_MS = 1000; // the proxy's own timer goes first; ours only if it never answers

const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const isOurs = (data, type) =>
  data !== null && typeof data === "object" && data.protocol === PROTOCOL && data.version === VERSION && data.type === type;

/** Open a channel to the proxy: resolves to the app once welcomed, rejects when the
 * proxy refuses the hello (`error.reason`) or says nothing within `timeoutMs`. */
export function connect({ app, key, proxyOrigin, timeoutMs = 10000 }) {
  const nonce = hex(crypto.getRandomValues(new Uint8Array(16)));
  return new Promise((resolve, reject) => {
    const done = (settle, value) => {
      clearTimeout(timer);
      window.removeEventListener("message", listen);
      settle(value);
    };
    const listen = (event) => {
      if (event.source !== window.parent || event.origin !== proxyOrigin) return;
      const data = event.data;
      if (isOurs(data, "refused") && data.nonce === nonce) {
        done(reject, Object.assign(new Error(`the proxy refused the app: ${data.reason}`), { reason: data.reason }));
      } else if (isOurs(data, "welcome") && data.nonce === nonce && /^[0-9a-f]{32}$/.test(data.channel) && event.ports.length === 1) {
        done(resolve, new App(event.ports[0], data.channel, data.context));
      }
    };
    const timer = setTimeout(() => done(reject, Object.assign(new Error("the proxy did not answer"), { reason: "timeout" })), timeoutMs);
    window.addEventListener("message", listen);
    window.parent.postMessage({ protocol: PROTOCOL, version: VERSION, type: "hello", app, key, nonce }, proxyOrigin);
  });
}

class App {
  constructor(port, channel, context) {
    this.port = port;
    this.channel = channel;
    this.context = context;
    this.pending = new Map();
    this.closedReason = null;
    this.closedListeners = [];
    port.onmessage = (event) => this.heard(event.data);
  }

  /** The proxy's answer to one API call: `{outcome, status, headers, body, reason}`;
   * it never rejects. `signal` cancels it. */
  request(method, path, { body, headers, timeoutMs = 10000, signal } = {}) {
    const id = crypto.randomUUID();
    return new Promise((resolve) => {
      if (this.closedReason) return resolve(made(id, "cancelled", this.closedReason));
      if (signal?.aborted) return resolve(made(id, "cancelled", null));
      const onAbort = () => {
        if (!this.pending.has(id)) return;
        this.send({ type: "cancel", id });
        this.settle(id, made(id, "cancelled", null));
      };
      const timer = setTimeout(() => this.settle(id, made(id, "timeout", null)), timeoutMs + SLACK_MS);
      this.pending.set(id, { resolve, timer, forget: () => signal?.removeEventListener("abort", onAbort) });
      signal?.addEventListener("abort", onAbort);
      const message = { type: "request", id, method, path, timeout_ms: timeoutMs };
      if (headers !== undefined) message.headers = headers;
      if (body !== undefined) message.body = body;
      this.send(message);
    });
  }

  /** fn(reason) once the channel ends; at once if it has. */
  onClosed(fn) {
    if (this.closedReason) fn(this.closedReason);
    else this.closedListeners.push(fn);
  }

  send(fields) {
    this.port.postMessage({ protocol: PROTOCOL, version: VERSION, channel: this.channel, ...fields });
  }

  settle(id, answer) {
    const pending = this.pending.get(id);
    if (!pending) return; // settled already: a late answer is dropped
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.forget();
    pending.resolve(answer);
  }

  heard(data) {
    if (!data || data.protocol !== PROTOCOL || data.version !== VERSION || data.channel !== this.channel) return;
    if (data.type === "answer") {
      const { id, outcome, status, headers, body, reason } = data;
      this.settle(id, { id, outcome, status, headers, body, reason });
    } else if (data.type === "ping") {
      this.send({ type: "pong" });
    } else if (data.type === "closed") {
      this.closed(String(data.reason));
    }
  }

  closed(reason) {
    if (this.closedReason) return;
    this.closedReason = reason;
    for (const id of [...this.pending.keys()]) this.settle(id, made(id, "cancelled", reason));
    this.port.close();
    for (const fn of this.closedListeners.splice(0)) fn(reason);
  }
}

const made = (id, outcome, reason) => ({ id, outcome, status: null, headers: {}, body: null, reason });
