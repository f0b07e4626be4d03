// The agent's server-sent events, read with fetch (which can send the bearer token,
// unlike EventSource), resuming with Last-Event-ID after any break: nothing missed,
// nothing twice (ADR/0010).

/** Hand each event's fields (id, event, data) to onEvent, forever; onBreak after each
 * break, before trying again. */
export async function followEvents(agent, auth, onEvent, onBreak = () => {}, retryMs = 500) {
  let lastId = null;
  for (;;) {
    try {
      const headers = lastId === null ? auth : { ...auth, "Last-Event-ID": lastId };
      const response = await fetch(`/agents/${encodeURIComponent(agent)}/events`, { headers });
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

function parsed(block) {
  return Object.fromEntries(
    block.split("\n").filter((line) => line && !line.startsWith(":"))
      .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
  );
}
