import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseWorkerLine, type WorkerReady, type WorkerReply, type WorkerRequest } from '../core/generation/localWorkerProtocol.ts';
import { ProviderError, type CandidateProvider, type GeneratedText, type GenerationRequest, type ProviderIdentity } from '../core/generation/types.ts';

/**
 * A local model answering from its own process (`dpo-studio generate --worker`), for the
 * extension: the extension host never loads TensorFlow.js, and cancel ends the process, which
 * stops a batch mid-token where nothing in-process could. Imports nothing of the trainer.
 */

export interface LocalProcessOptions {
  /** The Node executable (in VS Code: process.execPath, run with ELECTRON_RUN_AS_NODE=1). */
  command: string;
  /** Arguments before the worker's own: e.g. [".../dist/cli.cjs"]. */
  cliArgs: string[];
  modelDir: string;
  adapterDir?: string;
  /** How model and adapter are named in the candidates' meta. */
  modelLabel: string;
  adapterLabel?: string;
  backend?: string;
  cwd?: string;
  /** The worker's stderr, line by line (backend choice, loading, warnings). */
  onLog?: (line: string) => void;
  /** Added to the worker's environment (HF_TOKEN for a model named by its Hub id). */
  env?: Record<string, string>;
}

export class LocalProcessProvider implements CandidateProvider {
  readonly identity: ProviderIdentity;
  readonly supportsSampling = true;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (answers: GeneratedText[]) => void; reject: (error: unknown) => void }>();
  private exited: string | undefined;
  /** Ended on purpose (cancel), so its exit is no error worth explaining. */
  private stopped = false;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly ready: WorkerReady,
    options: LocalProcessOptions,
  ) {
    this.identity = { provider: 'local', model: options.modelLabel, ...(options.adapterDir ? { adapter: options.adapterLabel ?? options.adapterDir } : {}) };
  }

  get supportsSystemPrompt(): boolean {
    return this.ready.chatTemplate;
  }

  maxAnswersPerCall(): number {
    return this.ready.maxAnswersPerCall;
  }

  /** Starts the worker and waits until the model is loaded; a model that cannot load rejects with the worker's reason. */
  static start(options: LocalProcessOptions, signal?: AbortSignal): Promise<LocalProcessProvider> {
    const args = [...options.cliArgs, 'generate', '--worker', '--model', options.modelDir, '--model-label', options.modelLabel];
    if (options.adapterDir) args.push('--adapter', options.adapterDir, '--adapter-label', options.adapterLabel ?? options.adapterDir);
    if (options.backend) args.push('--backend', options.backend);
    const child = spawn(options.command, args, { cwd: options.cwd, env: { ...process.env, ...options.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    // Writing to a process that just ended fails with EPIPE; its exit is reported instead.
    child.stdin.on('error', () => undefined);
    const stderrTail: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      options.onLog?.(line);
    });
    return new Promise((resolve, reject) => {
      let provider: LocalProcessProvider | undefined;
      const fail = (message: string) => {
        signal?.removeEventListener('abort', onAbort);
        child.kill();
        reject(new ProviderError(message, true));
      };
      const onAbort = () => {
        child.kill();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (error) => fail(`cannot start the local model process (${options.command}): ${error.message}`));
      child.on('exit', (code, sig) => {
        const why = `the local model process ended (${sig ?? `exit code ${code}`})${stderrTail.length ? `: ${stderrTail.slice(-3).join(' | ')}` : ''}`;
        if (!provider) fail(why);
        else provider.onExit(why);
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        const reply = parseWorkerLine<WorkerReply>(line);
        if (!reply) return;
        if (provider) {
          provider.onReply(reply);
          return;
        }
        if (reply.type === 'ready') {
          signal?.removeEventListener('abort', onAbort);
          provider = new LocalProcessProvider(child, reply, options);
          resolve(provider);
        } else if (reply.type === 'fatal') fail(reply.message);
      });
    });
  }

  complete(request: GenerationRequest, signal: AbortSignal): Promise<GeneratedText[]> {
    // Once stopped, the process may take a moment to exit: nothing more is sent to it.
    if (this.stopped) return Promise.reject(new ProviderError('the local model process was stopped', true));
    if (this.exited) return Promise.reject(new ProviderError(this.exited, true));
    signal.throwIfAborted();
    const id = this.nextId++;
    return new Promise<GeneratedText[]>((resolve, reject) => {
      const onAbort = () => {
        // The batch cannot be stopped midway inside the worker; ending the process can.
        this.waiting.delete(id);
        this.stopped = true;
        this.child.kill();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(id, {
        resolve: (answers) => {
          signal.removeEventListener('abort', onAbort);
          resolve(answers);
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      const message: WorkerRequest = { type: 'generate', id, request };
      this.child.stdin.write(`${JSON.stringify(message)}\n`);
    });
  }

  private onReply(reply: WorkerReply): void {
    if (reply.type !== 'result' && reply.type !== 'error') return;
    const waiter = this.waiting.get(reply.id);
    if (!waiter) return;
    this.waiting.delete(reply.id);
    if (reply.type === 'result') waiter.resolve(reply.answers);
    else waiter.reject(new ProviderError(reply.message, false));
  }

  private onExit(why: string): void {
    this.exited = this.stopped ? 'the local model process was stopped' : why;
    for (const waiter of this.waiting.values()) waiter.reject(new ProviderError(this.exited, true));
    this.waiting.clear();
  }

  /** Ends the worker: closing stdin lets it finish and unload; a worker that lingers is killed. */
  async dispose(): Promise<void> {
    if (this.exited) return;
    const ended = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill(), 3000);
    await ended;
    clearTimeout(timer);
  }
}
