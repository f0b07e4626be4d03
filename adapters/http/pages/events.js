// The agent's server-sent events, read with fetch (which can send the bearer token,
// unlike EventSource), resuming with Last-Event-ID after any break: nothing missed,
// nothing twice (ADR/0010). A token the connector no longer takes (a 401 or 403, or
// the stream's `session-ended` once it is revoked or expires) ends it for good: trying
// it again is no use (ADR/0030).

/** Hand each event's fields (id, event, data) to onEvent until the session ends;
 * onBreak after each break, before trying again; onEnded with the connector's reason,
 * once. */
export async function followEvents(agent, auth, onEvent, onBreak = () => {}, onEnded = () => {}, retryMs = 500) {
  let lastId = null;
  for (;;) {
    try {
      const headers = lastId === null ? auth : { ...auth, "Last-Event-ID": lastId };
      const response = await fetch(`/agents/${encodeURIComponent(agent)}/events`, { headers });
      if (response.status === 401 || response.status === 403) {
        onEnded(await refusal(response));
        return;
      }
      if (!response.ok) throw new Error(`the event stream answered ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replaceAll("\r\n", "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const fields = parsed(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (fields.event === "session-ended") {
            reader.cancel();
            onEnded(detailOf(fields.data));
            return;
          }
          if (fields.id) lastId = fields.id;
          onEvent(fields);
        }
      }
    } catch {
      onBreak();
    }
    await new Promise((resume) => setTimeout(resume, retryMs));
  }
}

async function refusal(response) {
  try {
    return (await response.json()).detail || `the connector answered ${response.status}`;
  } catch {
    return `the connector answered ${response.status}`;
  }
}

function detailOf(data) {
  try {
    return JSON.parse(data).detail || "the session ended";
  } catch {
    return data || "the session ended";
  }
}

function parsed(block) {
  return Object.fromEntries(
    block.split("\n").filter((line) => line && !line.startsWith(":"))
      .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
  );
}
