import { parseArgs } from 'node:util';
import { isHubId } from '../core/hub/hubCache.ts';
import { downloadModel, formatProgress, HubError } from '../core/hub/hubDownload.ts';
import { cachedSnapshot, hubCacheDir, hubOffline } from '../core/hub/hubCache.ts';
import { UsageError, type CliStreams } from './cliTypes.ts';

const HELP = `Usage: dpo-studio download <org/name> [--revision <branch|tag|sha>]

Downloads a model from the Hugging Face Hub into the Hugging Face cache (HF_HUB_CACHE, else
$HF_HOME/hub, else ~/.cache/huggingface/hub), where transformers, TRL and huggingface_hub find it
too: config, generation config, tokenizer files and the safetensors weights (never .bin, .pt,
.onnx or .gguf duplicates). Progress goes to stderr; an interrupted download resumes where it
stopped; each file is checked against the size and sha256 the Hub lists before it is used.
Prints the snapshot folder on stdout. HF_ENDPOINT names a mirror; the token comes from HF_TOKEN
or the file \`huggingface-cli login\` writes.

Exit status: 0 downloaded (or already cached); 2 not found, gated, offline, or the network failed.
`;

export async function downloadCommand(args: string[], io: CliStreams, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { revision: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.out.write(HELP);
    return 0;
  }
  const repo = positionals[0];
  if (!repo || positionals.length > 1) throw new UsageError('download takes one model id, e.g. dpo-studio download Qwen/Qwen3-4B');
  if (!isHubId(repo)) throw new UsageError(`"${repo}" is not a Hugging Face model id (org/name)`);
  const revision = values.revision ?? 'main';
  const cached = cachedSnapshot(repo, revision);
  if (cached && hubOffline()) {
    io.err.write(`${repo}@${revision} is in the cache (HF_HUB_OFFLINE=1: not checked for updates)\n`);
    io.out.write(`${cached}\n`);
    return 0;
  }
  if (hubOffline()) {
    io.err.write(`dpo-studio: ${repo}@${revision} is not in the Hugging Face cache (${hubCacheDir()}) and HF_HUB_OFFLINE=1 forbids downloading it\n`);
    return 2;
  }
  const tty = (process.stderr as { isTTY?: boolean }).isTTY === true && io.err === process.stderr;
  let lastLine = 0;
  try {
    const result = await downloadModel(repo, {
      revision,
      ...(signal ? { signal } : {}),
      onProgress: (p) => {
        const now = Date.now();
        if (tty) io.err.write(`\r${formatProgress(repo, p).padEnd(100).slice(0, 140)}`);
        else if (now - lastLine > 5000 || p.bytes === p.total) {
          lastLine = now;
          io.err.write(`${formatProgress(repo, p)}\n`);
        }
      },
    });
    if (tty) io.err.write('\n');
    io.err.write(result.downloadedBytes > 0 ? `downloaded ${repo}@${revision} (${result.sha}): ${result.files.length} files\n` : `${repo}@${revision} (${result.sha}) was already in the cache\n`);
    io.out.write(`${result.path}\n`);
    return 0;
  } catch (error) {
    if (tty) io.err.write('\n');
    if (error instanceof HubError) {
      io.err.write(`dpo-studio: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
