import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { LockedError } from '../core/files/fileLock.ts';
import { CandidatesFileError, CandidatesWriter } from '../core/generation/candidatesFile.ts';
import { readPromptFile, readPromptTable, type PromptFile } from '../core/generation/promptFile.ts';
import { columnsFlag, DATASET_FLAGS, DATASET_FLAGS_HELP, isTableSource, resolveDatasetArg } from './datasetArgs.ts';
import { describeProviderSpec, parseProviderSpec, type ProviderSpec } from '../core/generation/providerSpec.ts';
import { OpenAICompatibleProvider } from '../core/generation/providers/openaiCompatible.ts';
import { formatDuration, runGeneration, type GenerationProgress, type GenerationSource } from '../core/generation/runner.ts';
import { parseTemperatureSpread, type TemperatureSpread } from '../core/generation/temperatures.ts';
import type { CandidateProvider } from '../core/generation/types.ts';
import { choiceFlag, numberFlag, parseCommandArgs, wholeNumberFlag } from './cliArgs.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';

const HELP = `Usage: dpo-studio generate --prompts <file> --out <file.jsonl> [options]

Answers every prompt N times and writes one candidates record per prompt, to label in the
pair editor (pick the best and the worst, or rank them) and turn into preference pairs:
{"prompt", "candidates": [{"text", "meta": {provider, model, temperature, top_p, max_tokens,
finish_reason, prompt_tokens, completion_tokens, latency_ms, generated_at}}]}.

Input: records with a "prompt" (text, {"instruction", "input"} or chat messages) in .jsonl,
.json or .parquet, a Hugging Face Hub dataset by name (org/name, with --split), any preference or
candidates file (its prompts), or plain text, one prompt per line. --columns maps other names
(prompt=question).
Output: appended and flushed record by record. Running the same command again resumes: prompts
already in --out are skipped (a crash loses only the prompts in flight). Identical answers to a
prompt are kept once. Ctrl-C stops and keeps everything written (twice: stop at once).

Providers:
  --provider local           a model folder (--model <dir>, optional --adapter <dir>), run here
  --provider openai          any OpenAI-compatible server: vLLM, Ollama, llama.cpp, OpenAI
                             (--base-url URL --model <name>); the default when --base-url is given

Options:
  --n <N>                    answers per prompt (per model with --compare; default 4)
  --model <dir|name>         model folder (local) or model name (openai)
  --adapter <dir>            LoRA adapter folder (PEFT layout) on the local model
${DATASET_FLAGS_HELP}
  --base-url <URL>           e.g. http://127.0.0.1:8000/v1 (vLLM), http://localhost:11434/v1 (Ollama)
  --api-key-env <VAR>        environment variable holding the API key (default OPENAI_API_KEY).
                             There is no flag for the key itself: it would stay in your shell
                             history. Run e.g.  read -s OPENAI_API_KEY && export OPENAI_API_KEY
  --api chat|completions     endpoint: /chat/completions (default) or /completions (raw text)
  --temperature <T>          sampling temperature (default 0.8; 0 = greedy)
  --temperature-spread <a,b> spread each prompt's answers evenly from temperature a to b
  --top-p <P>                nucleus sampling (default: the provider's)
  --max-tokens <N>           longest answer in tokens (default 256)
  --system <TEXT>            system prompt, where the provider has one
  --concurrency <N>          requests in flight at once (default 4; 1 for a local model)
  --compare <spec>           also answer with a second model, into the same records, to compare a
                             trained adapter with its reference (iterative DPO). key=value list;
                             what it leaves out comes from the first provider:
                               --compare adapter=runs/round1/final
                               --compare provider=openai,base-url=URL,model=NAME,api-key-env=VAR
  --seed <S>                 seed of local sampling; sent to servers as "seed" when given
  --timeout <S>              seconds before a request is abandoned and retried (default 120)
  --retries <N>              retries of a request after 429, 5xx or a timeout (default 5)
  --backend <B>              local model backend (default auto)
  --overwrite                start --out afresh instead of resuming it

Exit status: 0 every prompt answered; 1 some prompts failed (rerun to retry them); 2 usage, input
or provider error (a refused API key, an unknown model or endpoint); 130 stopped by Ctrl-C.

Internal: --worker serves generate requests as JSON lines on stdin/stdout (used by the VS Code
extension to keep the model out of the editor's process).
`;

function readPromptsText(promptsPath: string): string {
  const stat = statSync(promptsPath, { throwIfNoEntry: false });
  if (stat === undefined) throw new Error(`${promptsPath}: no such file`);
  if (stat.isDirectory()) throw new Error(`${promptsPath} is a folder: --prompts takes a file of prompts (.jsonl, .json, .parquet or .txt)`);
  if (!stat.isFile()) throw new Error(`${promptsPath} is not a regular file: --prompts takes a file of prompts (.jsonl, .json, .parquet or .txt)`);
  return readFileSync(promptsPath, 'utf8');
}

const DEFAULTS = { n: 4, temperature: 0.8, maxTokens: 256, concurrency: 4, timeoutS: 120, retries: 5, apiKeyEnv: 'OPENAI_API_KEY' };

export async function generateCommand(args: string[], io: CliStreams): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    {
      prompts: { type: 'string' },
      out: { type: 'string' },
      ...DATASET_FLAGS,
      n: { type: 'string' },
      provider: { type: 'string' },
      model: { type: 'string' },
      adapter: { type: 'string' },
      'base-url': { type: 'string' },
      'api-key-env': { type: 'string' },
      api: { type: 'string' },
      temperature: { type: 'string' },
      'temperature-spread': { type: 'string' },
      'top-p': { type: 'string' },
      'max-tokens': { type: 'string' },
      system: { type: 'string' },
      concurrency: { type: 'string' },
      compare: { type: 'string' },
      seed: { type: 'string' },
      timeout: { type: 'string' },
      retries: { type: 'string' },
      backend: { type: 'string' },
      overwrite: { type: 'boolean' },
      worker: { type: 'boolean' },
      'model-label': { type: 'string' },
      'adapter-label': { type: 'string' },
    },
    false,
  );
  if (values.help) {
    io.out.write(HELP);
    return 0;
  }
  if (values.worker) {
    if (!values.model) throw new UsageError('generate --worker needs --model');
    const { serveLocalWorker } = await import('../generation/localWorker.ts');
    const { resolveModelFolder } = await import('../trainer/train/modelFolderPath.ts');
    const log = (line: string) => io.err.write(`${line}\n`);
    const { isHubId } = await import('../core/hub/hubCache.ts');
    let modelDir = values.model;
    // A Hub id not on disk is resolved (cache or download); a folder goes to the loader as it is, which says what is wrong with it.
    if (!existsSync(values.model) && isHubId(values.model)) {
      try {
        modelDir = await resolveModelFolder(process.cwd(), values.model, '--model', { log });
      } catch (error) {
        log(`dpo-studio: cannot load the local model: ${(error as Error).message}`);
        return 2;
      }
    }
    return serveLocalWorker(
      {
        modelDir,
        ...(values.adapter ? { adapterDir: values.adapter } : {}),
        ...(values['model-label'] ? { modelLabel: values['model-label'] } : {}),
        ...(values['adapter-label'] ? { adapterLabel: values['adapter-label'] } : {}),
        ...(values.backend ? { backend: values.backend as never } : {}),
      },
      { input: process.stdin, output: process.stdout, log: (line) => io.err.write(`${line}\n`) },
    );
  }

  for (const required of ['prompts', 'out'] as const) if (!values[required]) throw new UsageError(`generate needs --${required}`);
  const promptsPath = values.prompts!;
  const outPath = values.out!;
  const n = wholeNumberFlag(values.n, 'n', 1) ?? DEFAULTS.n;
  const temperature = numberFlag(values.temperature, 'temperature', 0) ?? DEFAULTS.temperature;
  const topP = numberFlag(values['top-p'], 'top-p', 0, 1);
  if (topP === 0) throw new UsageError('--top-p must be more than 0');
  const maxTokens = wholeNumberFlag(values['max-tokens'], 'max-tokens', 1) ?? DEFAULTS.maxTokens;
  const seed = wholeNumberFlag(values.seed, 'seed', 0);
  const timeoutS = numberFlag(values.timeout, 'timeout', 0.001) ?? DEFAULTS.timeoutS;
  const retries = wholeNumberFlag(values.retries, 'retries', 0) ?? DEFAULTS.retries;
  let spread: TemperatureSpread | undefined;
  if (values['temperature-spread'] !== undefined) {
    try {
      spread = parseTemperatureSpread(values['temperature-spread']);
    } catch (error) {
      throw new UsageError(`--temperature-spread: ${(error as Error).message}`);
    }
  }
  const first = firstProviderSpec(values);
  let second: ProviderSpec | undefined;
  if (values.compare !== undefined) {
    try {
      second = parseProviderSpec(values.compare, first);
    } catch (error) {
      throw new UsageError(`--compare: ${(error as Error).message}`);
    }
  }
  const specs = second ? [first, second] : [first];
  const allLocal = specs.every((s) => s.kind === 'local');
  const concurrency = wholeNumberFlag(values.concurrency, 'concurrency', 1) ?? (allLocal ? 1 : DEFAULTS.concurrency);
  const warn = (line: string) => io.err.write(`dpo-studio: ${line}\n`);

  let prompts: PromptFile;
  try {
    if (isTableSource(promptsPath)) {
      const resolved = await resolveDatasetArg(promptsPath, '--prompts', values, io.err);
      prompts = await readPromptTable(resolved.files, columnsFlag(values.columns));
    } else prompts = readPromptFile(readPromptsText(promptsPath), promptsPath);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    warn((error as Error).message);
    return 2;
  }
  for (const issue of prompts.issues.slice(0, 10)) io.err.write(`${promptsPath}:${issue.line}: skipped: ${issue.message}\n`);

  if (prompts.issues.length > 10) io.err.write(`(${prompts.issues.length - 10} more lines skipped)\n`);
  if (prompts.duplicates.length > 0) io.err.write(`${promptsPath}: ${prompts.duplicates.length} repeated prompt${prompts.duplicates.length === 1 ? '' : 's'} answered once\n`);
  if (prompts.items.length === 0) {
    warn(`${promptsPath} holds no prompts`);
    return 2;
  }
  if (temperature === 0 && !spread && n > 1) warn('with --temperature 0 (greedy) every answer to a prompt is the same and only one is kept: raise --temperature or use --temperature-spread');

  let opened: ReturnType<typeof CandidatesWriter.open>;
  try {
    opened = CandidatesWriter.open(outPath, { fresh: values.overwrite === true, inputPath: promptsPath });
  } catch (error) {
    warn(error instanceof CandidatesFileError || error instanceof LockedError ? (error as Error).message : `cannot write ${outPath}: ${(error as Error).message}`);
    return 2;
  }
  const { writer, resume } = opened;
  if (resume.cutTail) io.err.write(`${outPath}:${resume.cutTail.line}: removed a half-written last line (${resume.cutTail.bytes} bytes) left by an interrupted run\n`);
  const alreadyDone = prompts.items.filter((item) => resume.doneKeys.has(item.key)).length;
  if (alreadyDone === prompts.items.length) {
    await writer.close();
    io.out.write(`Nothing to do: all ${prompts.items.length} prompts of ${promptsPath} are already answered in ${outPath} (use --overwrite to start again)\n`);
    return 0;
  }
  if (alreadyDone > 0) io.err.write(`resuming ${outPath}: ${alreadyDone} of ${prompts.items.length} prompts already answered\n`);

  const providers: CandidateProvider[] = [];
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    io.err.write('\nstopping: the records written so far are kept (Ctrl-C again to quit at once)\n');
    controller.abort(new Error('stopped by Ctrl-C'));
  };
  process.on('SIGINT', onSigint);
  try {
    for (const spec of specs) providers.push(await buildProvider(spec, { seed, timeoutS, retries, backend: values.backend, log: (line) => io.err.write(`${line}\n`) }));
    for (const provider of providers) {
      if (values.system && !provider.supportsSystemPrompt) warn(`${describeProviderSpec(specs[providers.indexOf(provider)]!)} has no system prompt (no chat template / completions API): --system is left out for it`);
    }
    io.err.write(`generating ${n} answer${n === 1 ? '' : 's'} per prompt for ${prompts.items.length - alreadyDone} prompts with ${specs.map(describeProviderSpec).join(' and ')} (${concurrency} at a time)\n`);
    const sources: GenerationSource[] = providers.map((provider) => ({ provider, n }));
    const report = progressReporter(io);
    const summary = await runGeneration({
      items: prompts.items,
      sources,
      settings: { temperature, maxTokens, ...(topP !== undefined ? { topP } : {}), ...(values.system ? { system: values.system } : {}) },
      ...(spread ? { temperatureSpread: spread } : {}),
      concurrency,
      done: resume.doneKeys,
      seed: seed ?? 0,
      sourceName: basename(promptsPath),
      signal: controller.signal,
      write: (record) => writer.append(record),
      onProgress: report.progress,
      onPromptFailed: (item, message) => report.line(`${promptsPath}:${item.line}: failed: ${message}`),
    });
    report.done();
    const parts = [`${summary.written} record${summary.written === 1 ? '' : 's'} (${summary.candidates} candidates${summary.duplicatesDropped ? `, ${summary.duplicatesDropped} identical dropped` : ''}${summary.emptyAnswers ? `, ${summary.emptyAnswers} empty` : ''})`];
    const tail: string[] = [];
    if (summary.skipped) tail.push(`${summary.skipped} already there`);
    if (summary.failed) tail.push(`${summary.failed} failed, see above: run again to retry them`);
    io.out.write(`Wrote ${parts[0]} to ${outPath} in ${formatDuration(summary.elapsedMs)}${tail.length ? `; ${tail.join('; ')}` : ''}\n`);
    if (summary.fatalError) {
      warn(summary.fatalError);
      return 2;
    }
    if (summary.cancelled) return 130;
    return summary.failed > 0 ? 1 : 0;
  } catch (error) {
    warn((error as Error).message);
    return 2;
  } finally {
    process.off('SIGINT', onSigint);
    await writer.close();
    await Promise.all(providers.map((p) => p.dispose?.()));
  }
}

/** The first provider from the flags; openai when a base URL is given, else local. */
function firstProviderSpec(values: { provider?: string; model?: string; adapter?: string; 'base-url'?: string; 'api-key-env'?: string; api?: string }): ProviderSpec {
  const kind = choiceFlag(values.provider, 'provider', ['local', 'openai'] as const) ?? (values['base-url'] ? 'openai' : 'local');
  const api = choiceFlag(values.api, 'api', ['chat', 'completions'] as const) ?? 'chat';
  if (!values.model) throw new UsageError(kind === 'local' ? 'generate needs --model <model folder> (or --base-url and --model <name> for a server)' : 'generate needs --model <name> of a model the server serves');
  if (kind === 'local') {
    if (values['base-url']) throw new UsageError('--base-url is for --provider openai');
    return { kind, model: values.model, ...(values.adapter ? { adapter: values.adapter } : {}) };
  }
  if (!values['base-url']) throw new UsageError('--provider openai needs --base-url');
  if (values.adapter) throw new UsageError('--adapter is for a local model; a server loads its adapters itself (e.g. vLLM --lora-modules, then --model <lora name>)');
  return { kind, baseUrl: values['base-url'], model: values.model, api, ...(values['api-key-env'] ? { apiKeyEnv: values['api-key-env'] } : {}) };
}

async function buildProvider(spec: ProviderSpec, options: { seed: number | undefined; timeoutS: number; retries: number; backend: string | undefined; log: (line: string) => void }): Promise<CandidateProvider> {
  if (spec.kind === 'local') {
    // Loaded on demand: it brings TensorFlow.js, which a run against a server does not need.
    const { LocalProvider } = await import('../generation/localProvider.ts');
    const started = Date.now();
    const { resolveModelFolder } = await import('../trainer/train/modelFolderPath.ts');
    const modelDir = await resolveModelFolder(process.cwd(), spec.model, '--model', { log: options.log });
    const provider = await LocalProvider.load({ modelDir, modelLabel: spec.model, ...(spec.adapter ? { adapterDir: spec.adapter, adapterLabel: spec.adapter } : {}), ...(options.backend ? { backend: options.backend as never } : {}), log: options.log });
    options.log(`loaded ${describeProviderSpec(spec)} (${provider.parameters.toLocaleString('en-US')} parameters, ${provider.backend}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return provider;
  }
  const keyVar = spec.apiKeyEnv ?? DEFAULTS.apiKeyEnv;
  const apiKey = process.env[keyVar];
  return new OpenAICompatibleProvider({
    baseUrl: spec.baseUrl,
    model: spec.model,
    api: spec.api,
    ...(apiKey ? { apiKey } : {}),
    keyHint: apiKey ? `the key comes from $${keyVar}` : `$${keyVar} is not set: export the key there, or name another variable with --api-key-env`,
    timeoutMs: options.timeoutS * 1000,
    maxRetries: options.retries,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    onRetry: (r) => options.log(`${spec.model}: retry ${r.attempt} in ${(r.delayMs / 1000).toFixed(1)} s after ${r.reason}`),
  });
}

/** Progress on stderr: one rewritten line on a terminal, a line every few seconds in a log. */
function progressReporter(io: CliStreams) {
  const tty = (io.err as { isTTY?: boolean }).isTTY === true;
  let lastPrinted = 0;
  let pendingLine = '';
  const format = (p: GenerationProgress) => {
    const percent = p.total ? Math.floor((p.finished / p.total) * 100) : 100;
    return `[${p.finished}/${p.total}] ${percent}% · ${p.candidates} candidates${p.failed ? ` · ${p.failed} failed` : ''}${p.etaMs !== undefined && p.finished < p.total ? ` · ETA ${formatDuration(p.etaMs)}` : ''}`;
  };
  return {
    progress(p: GenerationProgress) {
      const line = format(p);
      if (tty) {
        io.err.write(`\r${line}\u001b[K`);
        pendingLine = line;
        return;
      }
      const now = Date.now();
      if (p.finished === p.total || now - lastPrinted >= 5000) {
        io.err.write(`${line}\n`);
        lastPrinted = now;
      }
    },
    line(text: string) {
      io.err.write(tty && pendingLine ? `\r\u001b[K${text}\n${pendingLine}` : `${text}\n`);
    },
    done() {
      if (tty && pendingLine) io.err.write('\n');
    },
  };
}
