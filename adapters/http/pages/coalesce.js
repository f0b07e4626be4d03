// A refresh that never runs twice at once: calls made while one runs coalesce into one
// more run, so a burst of pushed events costs two reads, not one per event.

export function coalesced(run, alive) {
  let running = false;
  let again = false;
  return async function refresh() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await run();
      } while (again && alive());
    } finally {
      running = false;
    }
  };
}
