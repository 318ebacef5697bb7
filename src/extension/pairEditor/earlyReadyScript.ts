/**
 * Runs inline in the pair editor's page, before its bundle has even been fetched: it tells the
 * host the webview is ready at once, so the first records travel while the bundle loads, and
 * holds the host's messages until the app takes them (webview/editor/hostBridge.ts reads
 * `__dpoEarlyBridge`). The index is where the webview was when it was last hidden; the host
 * checks it like every other message.
 */
export const EARLY_READY_SCRIPT = `(() => {
  const api = acquireVsCodeApi();
  const held = [];
  const hold = (event) => held.push(event.data);
  window.addEventListener('message', hold);
  const saved = api.getState();
  const index = saved && Number.isInteger(saved.index) && saved.index >= 0 ? saved.index : 0;
  api.postMessage({ type: 'ready', index });
  globalThis.__dpoEarlyBridge = {
    api,
    readySentAt: performance.now(),
    takeHeld() {
      window.removeEventListener('message', hold);
      return held.splice(0);
    },
  };
})();`;
