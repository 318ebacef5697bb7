import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/files/atomicWrite.ts';
import { makeDirs } from '../core/files/makeDirs.ts';
import { SCORES_DIR } from '../core/review/scoresFile.ts';
import { TRL_RUNNER_MODULE } from '../core/training/engineContract.ts';
import { referenceFolder, type ScoringEngine } from '../trainer/review/scoringEngine.ts';
import type { ScoredCheckpoint, ScoredRun } from '../core/review/scoredRun.ts';
import { choosePython, inspectPython, runnerEnv } from './pythonEnvironment.ts';

/**
 * The TRL engine as a scorer: the checkpoint loaded by transformers and PEFT as TRL trained it
 * (what only it can load: a quantized base on a GPU, an architecture tfjs does not know), the
 * pairs tokenized here, the log-probability sums computed by `python -m dpo_studio_trl score`.
 */
export async function trlScoringEngine(run: ScoredRun, checkpoint: ScoredCheckpoint, options: { cwd: string; batchSize: number; padTokenId: number; log: (line: string) => void }): Promise<ScoringEngine> {
  const report = await inspectPython(choosePython(run.config.training.python, options.cwd));
  const { config } = run;
  const referenceDir = await referenceFolder(run, options.cwd, options.log);
  const adapterOff = referenceDir !== undefined && checkpoint.adapter && config.dpo.reference_model === undefined;
  const referenceKind = referenceDir === undefined ? 'none' : adapterOff ? 'adapter-off' : 'model';
  return {
    name: 'trl',
    reference: referenceDir === undefined ? 'none: the loss is reference-free' : adapterOff ? `${run.modelPath} (the policy with its LoRA adapter switched off, PEFT's disable_adapter)` : referenceDir,
    referenceDir,
    async score(pairs, wanted, onProgress) {
      if (pairs.length === 0) return { policy: { chosen: [], rejected: [] }, reference: { chosen: [], rejected: [] } };
      const workRoot = join(run.dir, SCORES_DIR);
      makeDirs(workRoot);
      const work = mkdtempSync(join(workRoot, '.trl-'));
      try {
        const records = join(work, 'records.jsonl');
        writeFileAtomic(records, pairs.map((p) => JSON.stringify({ prompt_ids: p.promptIds, chosen_ids: p.chosenIds, rejected_ids: p.rejectedIds })).join('\n') + '\n');
        const out = join(work, 'logps.jsonl');
        const spec = {
          model_path: run.modelPath,
          checkpoint: checkpoint.dir,
          adapter: checkpoint.adapter,
          reference: referenceKind,
          reference_path: referenceDir ?? null,
          quantization_bits: config.quantization.use_quantization && checkpoint.adapter ? config.quantization.bits : null,
          reference_mask: pairs.map((_, i) => referenceKind !== 'none' && wanted[i] === true),
          records,
          out,
          pad_token_id: options.padTokenId,
          batch_size: options.batchSize,
        };
        const specPath = join(work, 'spec.json');
        writeFileAtomic(specPath, JSON.stringify(spec));
        let stderr = '';
        // What the progress callback threw (a stop): the scorer is ended and the error passed on.
        let stopped: unknown;
        const code = await new Promise<number | null>((resolve, reject) => {
          const child = spawn(report.executable, ['-m', TRL_RUNNER_MODULE, 'score', specPath], { cwd: options.cwd, env: runnerEnv({ HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' }), stdio: ['ignore', 'ignore', 'pipe'] });
          child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
            stderr = (stderr + chunk).slice(-20_000);
            try {
              for (const match of chunk.matchAll(/scored (\d+)\/(\d+) pairs/g)) onProgress?.(Number(match[1]), Number(match[2]));
            } catch (error) {
              stopped ??= error;
              child.kill('SIGTERM');
            }
          });
          child.on('error', reject);
          child.on('close', resolve);
        });
        if (stopped !== undefined) throw stopped;
        if (code !== 0) throw new Error(`engine trl: scoring failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
        const rows = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Array<number | null>);
        const column = (k: number) => rows.map((r) => r[k] ?? Number.NaN);
        return { policy: { chosen: column(0), rejected: column(1) }, reference: { chosen: column(2), rejected: column(3) } };
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    dispose() {},
  };
}
