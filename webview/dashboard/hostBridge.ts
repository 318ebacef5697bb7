import type { DashboardToHost, HostToDashboard } from '../../src/protocol/dashboardMessages.ts';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** The webview's side of the protocol: typed sends, and the page state VS Code keeps while it is hidden. */
export class HostBridge {
  private readonly api = acquireVsCodeApi();

  constructor(onMessage: (message: HostToDashboard) => void) {
    window.addEventListener('message', (event: MessageEvent) => {
      const message = event.data as HostToDashboard;
      if (message && typeof message === 'object' && typeof message.type === 'string') onMessage(message);
    });
  }

  send(message: DashboardToHost): void {
    this.api.postMessage(message);
  }

  getState<T>(): T | undefined {
    return this.api.getState() as T | undefined;
  }

  setState(state: unknown): void {
    this.api.setState(state);
  }
}
