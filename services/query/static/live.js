// Following a story as it changes: Server-Sent Events when the service has them
// (GET /v1/stories/<id>/events), otherwise, or when the stream fails before it opens, polling.

export const POLL_MS = 2000;

// changed(): a stream event arrived; poll(): time to re-read; mode(m): "connecting", "stream" or "poll".
export function follow(url, { changed, poll, mode }) {
  let stopped = false, timer = null, source = null;
  const startPolling = () => {
    mode("poll");
    const tick = async () => {
      if (stopped) return;
      if (!document.hidden) await poll();
      if (!stopped) timer = setTimeout(tick, POLL_MS);
    };
    timer = setTimeout(tick, POLL_MS);
  };
  if ("EventSource" in window) {
    source = new EventSource(url);
    let opened = false;
    mode("connecting");
    source.onopen = () => { opened = true; mode("stream"); };
    // `ready` opens every stream: re-read once, so a change between the page's read and the stream's
    // start is not missed (a 304 when there was none); then every change triggers a re-read.
    source.addEventListener("ready", changed);
    for (const name of ["entry_added", "entry_corrected", "entry_retracted"]) source.addEventListener(name, changed);
    source.onmessage = changed;
    source.onerror = () => {
      if (opened && source.readyState !== EventSource.CLOSED) return;  // the browser reconnects by itself
      source.close();
      source = null;
      if (!stopped) startPolling();
    };
  } else {
    startPolling();
  }
  return { stop() { stopped = true; clearTimeout(timer); if (source) source.close(); } };
}
