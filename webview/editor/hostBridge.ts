import { markPhase } from './perf.ts';
import type { ActResponse, HostToWebview, RecordsResponse, SearchResponse, WebviewToHost } from '../../src/protocol/pairEditorMessages.ts';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/**
 * Generous: the host answers in milliseconds, but an edit waits for the ones before it and a
 * search may read every record of a big file.
 */
const REQUEST_TIMEOUT_MS = 30_000;

/** Left by the page's inline script (src/extension/pairEditor/earlyReadyScript.ts), when it ran. */
interface EarlyBridge {
  api: VsCodeApi;
  /** performance.now() when it posted `ready`. */
  readySentAt: number;
  takeHeld(): unknown[];
}

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
  private readonly early = (globalThis as { __dpoEarlyBridge?: EarlyBridge }).__dpoEarlyBridge;
  private readonly api = this.early?.api ?? acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, (response: Response) => void>();

  constructor(private readonly onNotification: (message: HostToWebview) => void) {}

  /**
   * Starts taking the host's messages. When the page's inline script already said `ready`, the
   * messages it held meanwhile are handled first, in order; otherwise `ready` is sent now.
   */
  connect(ready: Extract<WebviewToHost, { type: 'ready' }>): void {
    const held = this.early?.takeHeld();
    window.addEventListener('message', (event: MessageEvent) => this.receive(event.data));
    if (held) {
      markPhase('readySent', this.early!.readySentAt);
      held.forEach((message) => this.receive(message));
    } else {
      this.api.postMessage(ready);
      markPhase('readySent');
    }
  }

  private receive(data: unknown): void {
    const message = data as HostToWebview;
    if (!message || typeof message !== 'object' || typeof message.type !== 'string') return;
    if ('requestId' in message) {
      const resolve = this.pending.get(message.requestId);
      this.pending.delete(message.requestId);
      resolve?.(message);
      return;
    }
    this.onNotification(message);
  }

  send(message: Exclude<WebviewToHost, Request>): void {
    this.api.postMessage(message);
  }

  /**
   * Asks the host; rejects when no answer came within REQUEST_TIMEOUT_MS,
   * so a lost answer leaves a message on screen instead of a request waiting forever.
   */
  request<K extends Request['type']>(message: WithoutId<Extract<Request, { type: K }>>): Promise<ResponseTo[K]> {
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`VS Code did not answer the pair editor's ${message.type} request`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(requestId, (response) => {
        clearTimeout(timer);
        (resolve as (response: Response) => void)(response);
      });
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
