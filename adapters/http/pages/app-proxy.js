// The proxy frame of one app (docs/proxy.md): served from the connector's own origin
// inside the console, it loads the app's entry page in a child frame, takes the app's
// hello from that frame only, opens an app session, and from then on sends the app's
// requests to the API itself, with the session's secret, on a MessagePort only that
// document holds. The agent's token stays here; the app sees neither it nor the
// session's secret. Every rule is proxy-rules.js's.

import {
  ProxyCore, RefusalBudget, TokenBucket, checkEnvelope, envelope, isProtocolMessage, notRunnableReason, originAllowed,
} from "./proxy-rules.js";

const params = new URLSearchParams(location.search);
const agent = params.get("agent") || "";
const appId = params.get("app") || "";
const consoleOrigin = params.get("console") || "";
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
// The token leaves the address (a document of this origin could read it there), and
// fetch is kept as it is now (such a document could replace window.fetch later).
history.replaceState(null, "", location.pathname + location.search);
const fetch = window.fetch.bind(window);
const agentAuth = { Authorization: `Bearer ${token}` };
const appPath = `/agents/${encodeURIComponent(agent)}/apps/${encodeURIComponent(appId)}`;

const statusLine = document.getElementById("app-status");
const budget = new RefusalBudget();
const hellosAllowed = new TokenBucket(30, performance.now());
const timers = { set: (fn, ms) => setTimeout(fn, ms), clear: (handle) => clearTimeout(handle) };
let view = null;
let frame = null;
let channel = null; // {core, port, session} of the current channel
let hellos = 0; // the latest hello wins: an older one's session, opened late, is ended
let reads = 0; // likewise the latest read of the app's view
let flushing = null; // the timer that reports refusals held back
let loads = 0; // documents the app's frame has loaded

const randomHex = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");

function show(state) {
  statusLine.textContent = `${view ? view.name : appId}: ${state}`;
  document.body.dataset.state = state;
}

/** The app's view for this agent, or null when it is not installed for them. */
async function readView() {
  const response = await fetch(appPath, { headers: agentAuth, cache: "no-store" });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`the connector answered ${response.status}`);
  return response.json();
}

/** Tell the server of a refusal made here (a few a second at most: the rest are
 * counted into the next one of their kind). */
function report(reason, origin, detail) {
  const admitted = budget.admit({ app: appId, origin: String(origin).slice(0, 300), reason, detail }, performance.now());
  if (admitted) send(admitted);
  else if (!flushing) flushing = setTimeout(flush, 1000);
}

function flush() {
  flushing = null;
  budget.held(performance.now()).forEach(send);
  if (budget.holding) flushing = setTimeout(flush, 1000);
}

function send(refusal) {
  fetch(`/agents/${encodeURIComponent(agent)}/app-refusals`, {
    method: "POST",
    headers: { ...agentAuth, "Content-Type": "application/json" },
    body: JSON.stringify(refusal),
  }).catch(() => {}); // a lost report must not stop the proxy
}

function refuseHello(event, nonce, reason, detail) {
  report(reason, event.origin, detail);
  if (typeof nonce === "string" && /^[0-9a-f]{32}$/.test(nonce)) {
    frame.contentWindow.postMessage(envelope("refused", { nonce, reason }), event.origin);
  }
}

window.addEventListener("message", (event) => {
  const fromConsole = event.source === window.parent && event.origin === consoleOrigin;
  if (fromConsole && event.data && event.data.type === "calldesk.apps-changed") return heardConsole();
  if (!frame || event.source !== frame.contentWindow) {
    if (isProtocolMessage(event.data)) report("wrong-source", event.origin, "a message from a window other than the app's frame");
    return;
  }
  if (!view || !originAllowed(event.origin, view.origins)) {
    if (isProtocolMessage(event.data)) report("wrong-origin", event.origin, "a message from an origin the app is not registered for");
    return; // an unregistered origin hears nothing back
  }
  if (!isProtocolMessage(event.data)) return;
  const nonce = event.data.nonce;
  const checked = checkEnvelope(event.data, ["hello"]);
  if (!checked.ok) {
    const onPortOnly = ["request", "cancel", "pong"].includes(event.data.type);
    const reason = onPortOnly ? "channel-not-ready" : checked.reason;
    return refuseHello(event, nonce, reason, `a ${String(event.data.type).slice(0, 40)} on the window`);
  }
  const hello = checked.message;
  if (hello.app !== appId) return refuseHello(event, nonce, "unknown-app", `a hello for ${hello.app.slice(0, 64)}`);
  if (notRunnableReason(view)) return refuseHello(event, nonce, "not-runnable", `the app is ${view.status}`);
  // Each hello opens a session on the server: a frame that keeps saying hello is slowed.
  if (!hellosAllowed.take(performance.now())) return refuseHello(event, nonce, "rate-limited", "hello after hello");
  openChannel(event.origin, hello, loads);
});

/** An app session for the hello's key, as seen from its origin: the server's answer. */
async function openedSession(key, origin) {
  try {
    const response = await fetch(`${appPath}/sessions`, {
      method: "POST",
      headers: { ...agentAuth, "Content-Type": "application/json" },
      body: JSON.stringify({ key, origin }),
    });
    return { response, answer: await response.json().catch(() => null) };
  } catch {
    return { response: null, answer: null };
  }
}

/** A new channel for a hello: the old one closes first (the app reloaded). */
async function openChannel(origin, hello, loadsAtHello) {
  const mine = ++hellos;
  if (channel) channel.core.close("reloaded");
  show("connecting");
  const { response, answer } = await openedSession(hello.key, origin);
  if (!response || response.status !== 201) {
    const reason = answer && typeof answer.reason === "string" ? answer.reason : "not-runnable";
    if (mine === hellos) show(`refused (${reason})`);
    frame.contentWindow.postMessage(envelope("refused", { nonce: hello.nonce, reason }), origin);
    return; // the server recorded its own refusal
  }
  if (mine !== hellos) return endSession(answer.secret); // a newer hello took over
  const id = randomHex();
  const ports = new MessageChannel();
  // The session the channel's requests go with; renewed when it runs out (an hour at
  // most, or the agent's token), with the key and origin of the hello.
  const session = { secret: answer.secret, key: hello.key, origin, renewing: null };
  const core = new ProxyCore({
    channel: id,
    view,
    upstream: (request, signal) => upstream(session, request, signal),
    post: (message) => ports.port1.postMessage(message),
    refuse: (reason, detail) => report(reason, origin, detail),
    onClosed: (reason) => closed(core, ports.port1, session.secret, reason),
    now: () => performance.now(),
    timers,
  });
  channel = { core, port: ports.port1, session };
  ports.port1.onmessage = (message) => core.receive(message.data);
  core.ready();
  frame.contentWindow.postMessage(
    envelope("welcome", { nonce: hello.nonce, channel: id, context: answer.context }), origin, [ports.port2]);
  show("connected");
  // The frame loaded a document while the session opened: the welcome may have found
  // nobody (a frame gone elsewhere drops it), so the channel must hear a pong.
  if (loads !== loadsAtHello) core.ping();
}

/** Whether the session now holds a secret other than `used`: renewed by this call,
 * or by another that met the same 401 first. */
async function renewed(session, used) {
  if (session.secret !== used) return true;
  session.renewing ??= openedSession(session.key, session.origin).finally(() => {
    session.renewing = null;
  });
  const { response, answer } = await session.renewing;
  if (session.secret === used && response && response.status === 201) session.secret = answer.secret;
  return session.secret !== used;
}

function closed(core, port, secret, reason) {
  port.close();
  endSession(secret);
  if (channel && channel.core === core) {
    channel = null;
    show(reason === "reloaded" ? "disconnected" : reason.replace("-", " "));
  }
}

function endSession(secret, keepalive = false) {
  fetch("/app-sessions/current", {
    method: "DELETE", headers: { Authorization: `Bearer ${secret}` }, keepalive,
  }).catch(() => {});
}

/** One API call on the app's behalf, built here from checked parts, to this origin.
 * A session the server no longer takes (401: nothing was carried out) is renewed once,
 * and the call sent again; if no new one opens, the app may no longer run here. */
async function upstream(session, request, signal) {
  const url = new URL(request.path, location.origin);
  if (url.origin !== location.origin) throw new Error("a path that leaves the connector");
  const sent = (secret) => fetch(url, {
    method: request.method,
    headers: { ...request.headers, Authorization: `Bearer ${secret}` },
    body: request.body,
    credentials: "omit",
    redirect: "error",
    cache: "no-store",
    referrerPolicy: "no-referrer",
    signal,
  });
  const used = session.secret;
  let response = await sent(used);
  if (response.status === 401 && (await renewed(session, used))) {
    response = await sent(session.secret);
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null; // not JSON: the app gets the status alone
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body };
}

/** The console says the agent's apps changed: the view is read again, and a channel
 * the app may no longer run closes at once; an app runnable again is loaded again. */
async function heardConsole() {
  const before = view;
  const mine = ++reads;
  let read;
  try {
    read = await readView();
  } catch {
    return; // the connector did not answer: the server still checks every request
  }
  if (mine !== reads) return; // a later read was asked for: it decides
  view = read;
  const stopped = notRunnableReason(view);
  if (channel) channel.core.updateView(view);
  if (stopped) {
    show(stopped === "uninstalled" ? "not installed" : stopped);
  } else if (!channel && (!before || notRunnableReason(before))) {
    loadApp();
  }
}

/** The app's frame may hold only documents of the app's registered origins: the app
 * cannot send it to a page of the connector's own origin, which would be this frame's
 * origin and could script it, nor anywhere else (ADR/0031). The policy only tightens,
 * and a registration's origins never change. */
function confineFrameTo(origins) {
  const policy = document.createElement("meta");
  policy.httpEquiv = "Content-Security-Policy";
  policy.content = `frame-src ${origins.join(" ")}`;
  document.head.append(policy);
}

document.addEventListener("securitypolicyviolation", (event) => {
  if (event.effectiveDirective !== "frame-src") return;
  let origin = "?";
  try {
    origin = new URL(event.blockedURI).origin;
  } catch {
    // the browser named no URL: the refusal is recorded without it
  }
  report("wrong-origin", origin, "the app's frame was sent to an origin it is not registered for");
});

/** An app registered for calldesk's own origin, or the console's, would be
 * same-origin with this frame or the page: it is never loaded. */
function servedByCalldesk() {
  return view.origins.some((origin) => origin === location.origin || origin === consoleOrigin);
}

function loadApp() {
  if (servedByCalldesk()) {
    report("wrong-origin", location.origin, "an app registered for calldesk's own origin");
    show("refused (served from calldesk's own origin)");
    return;
  }
  if (!frame) {
    confineFrameTo(view.origins);
    frame = document.createElement("iframe");
    frame.className = "app-frame";
    frame.title = view.name;
    frame.setAttribute("sandbox", "allow-scripts allow-forms allow-same-origin");
    frame.referrerPolicy = "no-referrer";
    // A document loaded in the frame: the SDK of the one holding the port answers ping.
    frame.addEventListener("load", () => {
      loads += 1;
      if (channel) channel.core.ping();
    });
    document.getElementById("app-slot").append(frame);
  }
  show("loading");
  frame.src = view.entry_url;
}

window.addEventListener("pagehide", () => {
  if (channel) endSession(channel.session.secret, true);
});

try {
  view = await readView();
  const stopped = notRunnableReason(view);
  if (stopped) show(stopped === "uninstalled" ? "not installed" : stopped);
  else loadApp();
} catch (error) {
  show(`unavailable (${error.message})`);
}
