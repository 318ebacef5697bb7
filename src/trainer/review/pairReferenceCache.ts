import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/files/atomicWrite.ts';
import { makeDirs } from '../../core/files/makeDirs.ts';
import type { PairTokens } from '../tokenizer/pairTokens.ts';
import { modelFingerprint, REFERENCE_CACHE_DIR, tokenizerFingerprint } from '../train/referenceCache.ts';

/**
 * The reference's log-probabilities of scored pairs, by pair: `<run>/ref_logps/pairs-<key>.json`,
 * the key naming the reference (its weights' fingerprint, quantization, tokenizer) and the
 * engine that computed them. Training's cache is per file (a changed byte misses it); this one
 * is per pair, so after a labeler fixes a few records only those go through the reference again,
 * and another checkpoint of the same run needs the policy alone.
 */

const FORMAT = 1;
/** Beyond this many pairs the file keeps only the pairs of the latest scoring. */
const MAX_PAIRS = 1_000_000;

export function pairTokensKey(pair: PairTokens): string {
  return createHash('sha256').update(JSON.stringify([pair.promptIds, pair.chosenIds, pair.rejectedIds])).digest('base64url').slice(0, 22);
}

export function pairCacheKey(parts: { engine: string; referenceModel: string; quantizationBits: number | null; tokenizer: string }): string {
  return createHash('sha256').update(JSON.stringify({ format: FORMAT, ...parts })).digest('hex').slice(0, 32);
}

/** What a reference's numbers depend on: the reference model's weights, their quantization, the starting model's tokenizer. */
export function referenceIdentity(referenceDir: string, modelPath: string, quantizationBits: number | null): { referenceModel: string; quantizationBits: number | null; tokenizer: string } {
  return { referenceModel: modelFingerprint(referenceDir), quantizationBits, tokenizer: tokenizerFingerprint(modelPath) };
}

/** The cache of a run's reference as the tfjs engine computes it: `referenceDir` is the reference model's folder, `modelPath` the starting model's. */
export function tfjsPairCache(runDir: string, referenceDir: string, modelPath: string, quantizationBits: number | null): PairReferenceCache {
  return PairReferenceCache.open(runDir, pairCacheKey({ engine: 'tfjs', ...referenceIdentity(referenceDir, modelPath, quantizationBits) }));
}

export class PairReferenceCache {
  private readonly values: Map<string, [number, number]>;
  private readonly used = new Set<string>();
  private changed = false;

  private constructor(
    private readonly path: string,
    private readonly key: string,
    values: Map<string, [number, number]>,
  ) {
    this.values = values;
  }

  static open(runDir: string, key: string): PairReferenceCache {
    const path = join(runDir, REFERENCE_CACHE_DIR, `pairs-${key}.json`);
    const values = new Map<string, [number, number]>();
    if (existsSync(path)) {
      try {
        const file = JSON.parse(readFileSync(path, 'utf8')) as { format: number; key: string; pairs: Record<string, [number, number]> };
        if (file.format === FORMAT && file.key === key) for (const [k, v] of Object.entries(file.pairs)) values.set(k, v);
      } catch {
        // A torn or foreign file: computed again and replaced.
      }
    }
    return new PairReferenceCache(path, key, values);
  }

  get(key: string): [number, number] | undefined {
    const value = this.values.get(key);
    if (value) this.used.add(key);
    return value;
  }

  set(key: string, chosen: number, rejected: number): void {
    if (!Number.isFinite(chosen) || !Number.isFinite(rejected)) return;
    this.values.set(key, [chosen, rejected]);
    this.used.add(key);
    this.changed = true;
  }

  save(): void {
    if (!this.changed) return;
    const kept = this.values.size > MAX_PAIRS ? [...this.used].map((k) => [k, this.values.get(k)!] as const) : [...this.values];
    makeDirs(join(this.path, '..'));
    writeFileAtomic(this.path, JSON.stringify({ format: FORMAT, key: this.key, pairs: Object.fromEntries(kept) }) + '\n');
    this.changed = false;
  }
}
