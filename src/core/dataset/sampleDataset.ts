import { MATH_GENERATORS, SAMPLE_ITEMS, promptFraming, type Rng, type SampleDomain, type SampleItem } from './sampleContent.ts';
import type { ChatMessage } from './types.ts';

/**
 * Builds the sample preference dataset ("create sample dataset"): any number of distinct,
 * correct pairs in any of the three prompt formats, the same for the same seed on every platform.
 */

export type SampleFormat = 'standard' | 'conversational' | 'instruction';

export const SAMPLE_FORMATS: readonly SampleFormat[] = ['standard', 'conversational', 'instruction'];

export interface SampleMeta {
  domain: SampleDomain;
}

export interface StandardSampleRecord {
  id: string;
  prompt: string;
  chosen: string;
  rejected: string;
  meta: SampleMeta;
}

export interface InstructionSampleRecord {
  id: string;
  prompt: { instruction: string; input?: string };
  chosen: string;
  rejected: string;
  meta: SampleMeta;
}

/** TRL's conversational preference format: prompt turns, then one assistant turn per answer. */
export interface ConversationalSampleRecord {
  id: string;
  prompt: ChatMessage[];
  chosen: ChatMessage[];
  rejected: ChatMessage[];
  meta: SampleMeta;
}

export type SampleRecord = StandardSampleRecord | InstructionSampleRecord | ConversationalSampleRecord;

/**
 * Share of generated arithmetic items once the bank has been used up. High enough to keep large
 * samples from being mostly reworded bank prompts, low enough to keep every domain well present.
 */
const GENERATED_MATH_SHARE = 0.25;

/** Redraws allowed before giving up on a fresh arithmetic prompt and reusing a bank item instead. */
const MAX_MATH_DRAWS = 20;

/**
 * mulberry32: tiny, fast and good enough for shuffling. Written out rather than using
 * Math.random because the sample must be reproducible from its seed.
 */
function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The first pass through the bank deals one item per domain in turn, so even a small sample
 * (an eval split of 10) covers every domain instead of whatever a plain shuffle lands on.
 */
function firstPassOrder(rng: Rng): SampleItem[] {
  const byDomain = new Map<SampleDomain, SampleItem[]>();
  for (const item of SAMPLE_ITEMS) {
    const group = byDomain.get(item.domain);
    if (group) group.push(item);
    else byDomain.set(item.domain, [item]);
  }
  const groups = shuffled([...byDomain.values()], rng).map((group) => shuffled(group, rng));
  const order: SampleItem[] = [];
  for (let round = 0; order.length < SAMPLE_ITEMS.length; round++) {
    for (const group of groups) {
      const item = group[round];
      if (item) order.push(item);
    }
  }
  return order;
}

/** Two items with the same key would make the same prompt in every format. */
function promptKey(item: SampleItem): string {
  return `${item.instruction}\u0000${item.input ?? ''}`;
}

function assertCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`The number of sample records must be a whole number of at least 0, got ${count}.`);
  }
}

function assertSeed(seed: number): void {
  if (!Number.isFinite(seed)) throw new RangeError(`The seed must be a finite number, got ${seed}.`);
}

/**
 * The sample's items before formatting, in order. Exported for tests and for callers that want
 * the domain or (for math) the expected answer alongside each pair.
 */
export function createSampleItems(count: number, seed = 42): SampleItem[] {
  assertCount(count);
  assertSeed(seed);
  const rng = mulberry32(seed);
  const bankIndex = new Map(SAMPLE_ITEMS.map((item, i) => [item, i]));
  const uses = new Map<SampleItem, number>();
  const seen = new Set<string>();
  const items: SampleItem[] = [];

  const reuse = (base: SampleItem): SampleItem => {
    let use = uses.get(base) ?? 0;
    let item: SampleItem;
    // The loop guards against a framed prompt coinciding with another prompt, however unlikely.
    do {
      item = use === 0 ? base : { ...base, instruction: promptFraming(base.instruction, use, bankIndex.get(base)) + base.instruction };
      use++;
    } while (seen.has(promptKey(item)));
    uses.set(base, use);
    return item;
  };

  const generateMath = (): SampleItem | undefined => {
    for (let draw = 0; draw < MAX_MATH_DRAWS; draw++) {
      const generator = MATH_GENERATORS[Math.floor(rng() * MATH_GENERATORS.length)]!;
      const item = generator(rng);
      if (!seen.has(promptKey(item))) return item;
    }
    return undefined;
  };

  let deck = firstPassOrder(rng);
  let position = 0;
  let firstPass = true;
  while (items.length < count) {
    if (position === deck.length) {
      deck = shuffled(SAMPLE_ITEMS, rng);
      position = 0;
      firstPass = false;
    }
    let item = !firstPass && rng() < GENERATED_MATH_SHARE ? generateMath() : undefined;
    if (!item) item = reuse(deck[position++]!);
    seen.add(promptKey(item));
    items.push(item);
  }
  return items;
}

export function sampleId(index: number): string {
  return `sample-${String(index + 1).padStart(4, '0')}`;
}

function promptText(item: SampleItem): string {
  return item.input !== undefined ? `${item.instruction}\n\n${item.input}` : item.instruction;
}

function toRecord(item: SampleItem, index: number, format: SampleFormat): SampleRecord {
  const id = sampleId(index);
  const meta: SampleMeta = { domain: item.domain };
  switch (format) {
    case 'standard':
      return { id, prompt: promptText(item), chosen: item.chosen, rejected: item.rejected, meta };
    case 'instruction':
      return {
        id,
        prompt: item.input !== undefined ? { instruction: item.instruction, input: item.input } : { instruction: item.instruction },
        chosen: item.chosen,
        rejected: item.rejected,
        meta,
      };
    case 'conversational':
      return {
        id,
        prompt: [
          ...(item.system !== undefined ? [{ role: 'system', content: item.system }] : []),
          { role: 'user', content: promptText(item) },
        ],
        chosen: [{ role: 'assistant', content: item.chosen }],
        rejected: [{ role: 'assistant', content: item.rejected }],
        meta,
      };
  }
}

/**
 * `count` distinct preference records with ids `sample-0001`, `sample-0002`, ... The same
 * count, format and seed always give the same records; the first records are the same whatever
 * the count, so a larger sample extends a smaller one.
 */
export function createSampleRecords(count: number, format: SampleFormat = 'standard', seed = 42): SampleRecord[] {
  // Callers from JSON settings or the CLI are not type-checked.
  if (!SAMPLE_FORMATS.includes(format)) throw new RangeError(`Unknown sample format "${String(format)}".`);
  return createSampleItems(count, seed).map((item, index) => toRecord(item, index, format));
}

/** The sample as JSON Lines: one record per line, each line ending in '\n'. */
export function createSampleJsonl(count: number, format: SampleFormat = 'standard', seed = 42): string {
  return createSampleRecords(count, format, seed)
    .map((record) => `${JSON.stringify(record)}\n`)
    .join('');
}
