import type { ActResponse, HostToWebview, RecordsResponse, SearchResponse, WebviewToHost } from '../../src/protocol/pairEditorMessages.ts';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

type Request = Extract<WebviewToHost, { requestId: number }>;
type Response = Extract<HostToWebview, { requestId: number }>;
interface ResponseTo {
  getRecords: RecordsResponse;
  act: ActResponse;
  search: SearchResponse;
}
/** Distributes Omit over the union, so each request keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'requestId'> : never;

/**
 * The webview's side of the protocol: typed sends, and requests whose answers come back as
 * promises, matched by request id (answers may arrive out of order).
 */
export class HostBridge {
  private readonly api = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, (response: Response) => void>();

  constructor(private readonly onNotification: (message: HostToWebview) => void) {
    window.addEventListener('message', (event: MessageEvent) => {
      const message = event.data as HostToWebview;
      if (!message || typeof message !== 'object' || typeof message.type !== 'string') return;
      if ('requestId' in message) {
        const resolve = this.pending.get(message.requestId);
        this.pending.delete(message.requestId);
        resolve?.(message);
        return;
      }
      this.onNotification(message);
    });
  }

  send(message: Exclude<WebviewToHost, Request>): void {
    this.api.postMessage(message);
  }

  request<K extends Request['type']>(message: WithoutId<Extract<Request, { type: K }>>): Promise<ResponseTo[K]> {
    const requestId = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(requestId, resolve as (response: Response) => void);
      this.api.postMessage({ ...message, requestId });
    });
  }

  getState<T>(): T | undefined {
    return this.api.getState() as T | undefined;
  }

  setState(state: unknown): void {
    this.api.setState(state);
  }
}
