import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { parseWorkerLine, type WorkerReply, type WorkerRequest } from '../core/generation/localWorkerProtocol.ts';
import type { BackendRequest } from '../trainer/backend/index.ts';
import { LocalProvider } from './localProvider.ts';

/**
 * The local-model process behind the extension (`dpo-studio generate --worker`): loads the
 * model once, answers generate requests from stdin one after another, and exits when stdin
 * closes. The extension ends it to cancel, so nothing here needs to stop a batch midway.
 */
export async function serveLocalWorker(
  options: { modelDir: string; adapterDir?: string; modelLabel?: string; adapterLabel?: string; backend?: BackendRequest },
  io: { input: Readable; output: Writable; log: (line: string) => void },
): Promise<number> {
  const send = (reply: WorkerReply) => io.output.write(`${JSON.stringify(reply)}\n`);
  let provider: LocalProvider;
  try {
    provider = await LocalProvider.load({ ...options, log: io.log });
  } catch (error) {
    send({ type: 'fatal', message: (error as Error).message });
    return 2;
  }
  send({ type: 'ready', architecture: provider.model.config.architecture, parameters: provider.parameters, backend: provider.backend, chatTemplate: provider.supportsSystemPrompt, maxAnswersPerCall: provider.maxAnswersPerCall() });
  // The worker is only stopped by ending it, so its own signal never aborts.
  const never = new AbortController().signal;
  const pending: Array<Promise<void>> = [];
  for await (const line of createInterface({ input: io.input, crlfDelay: Infinity })) {
    const message = parseWorkerLine<WorkerRequest>(line);
    if (message?.type !== 'generate') continue;
    pending.push(
      provider.complete(message.request, never).then(
        (answers) => void send({ type: 'result', id: message.id, answers }),
        (error: unknown) => void send({ type: 'error', id: message.id, message: (error as Error).message }),
      ),
    );
  }
  await Promise.all(pending);
  await provider.dispose();
  return 0;
}
