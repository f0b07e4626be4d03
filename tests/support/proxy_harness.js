// Drives the real proxy-rules.js by hand for browser tests: time, timers and the fake
// upstream's answers are the test's, each step one page.evaluate.

import * as rules from "./proxy-rules.js";

export const CHANNEL = "c".repeat(32);

// What JSON cannot carry from Python: values structured cloning lets a hostile app
// send, named by a marker.
const HOSTILE = {
  date: () => new Date(0),
  nan: () => NaN,
  map: () => new Map([["a", 1]]),
  cycle: () => { const a = { x: 1 }; a.self = a; return a; },
  deep: () => { let v = 1; for (let i = 0; i < 200; i++) v = [v]; return v; },
  undefined: () => undefined,
  bigint: () => 10n,
};

function revived(message) {
  if (message && typeof message.body === "object" && message.body && typeof message.body.$hostile === "string") {
    return { ...message, body: HOSTILE[message.body.$hostile]() };
  }
  return message;
}

/** A channel with its log: what it posted, refused, and asked the upstream. */
export function channel(view, { ready = true } = {}) {
  let now = 0;
  let nextTimer = 0;
  const timers = new Map();
  const log = { posted: [], refused: [], upstream: [], signals: [] };
  const waiting = [];
  const core = new rules.ProxyCore({
    channel: CHANNEL,
    view,
    post: (message) => log.posted.push(message),
    refuse: (reason) => log.refused.push(reason),
    now: () => now,
    timers: {
      set: (fn, ms) => { timers.set(++nextTimer, { at: now + ms, fn }); return nextTimer; },
      clear: (handle) => timers.delete(handle),
    },
    upstream: (request, signal) => {
      log.upstream.push(request);
      log.signals.push(signal);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
  });
  if (ready) core.ready();
  const settle = () => new Promise((resume) => setTimeout(resume, 0));
  return {
    core,
    log,
    async receive(message) { core.receive(revived(message)); await settle(); },
    /** The n-th upstream call answers (or fails, with status null). */
    async answer(n, status, body) {
      const call = waiting[n];
      if (!call) return;
      if (status === null) call.reject(new TypeError("network"));
      else call.resolve({ status, headers: { "content-type": "application/json", "set-cookie": "s=1", "x-internal": "1" }, body });
      await settle();
    },
    /** Time moves on: every timer due by then fires, in order. */
    async advance(ms) {
      now += ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= now).sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
        if (!due.length) break;
        const [handle, timer] = due[0];
        timers.delete(handle);
        timer.fn();
      }
      await settle();
    },
    pending: () => waiting.length,
  };
}

window.rules = rules;
window.harness = { channel, CHANNEL };
window.harnessReady = true;
