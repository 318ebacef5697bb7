import type { OpenAIApi } from './providers/openaiCompatible.ts';

/**
 * Which provider answers, as plain data: what the CLI's flags and `--compare` describe, and
 * what the extension builds from its pickers. It never holds an API key, only the name of the
 * environment variable that does, so a spec can be printed, logged and kept in history.
 */
export type ProviderSpec =
  | { kind: 'local'; model: string; adapter?: string }
  | { kind: 'openai'; baseUrl: string; model: string; api: OpenAIApi; apiKeyEnv?: string };

const KEYS = ['provider', 'model', 'adapter', 'base-url', 'api-key-env', 'api'] as const;
type Key = (typeof KEYS)[number];

/**
 * The second provider of a comparison, `key=value,...` with keys provider, model, adapter,
 * base-url, api-key-env, api. What it does not say it inherits from `base` (the first
 * provider), so `adapter=runs/round1/final` means "the same model with this adapter", the
 * usual comparison of iterative DPO; `adapter=none` means the same model without one. A
 * different `provider` inherits nothing.
 */
export function parseProviderSpec(text: string, base: ProviderSpec): ProviderSpec {
  const given = new Map<Key, string>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`a provider spec is key=value pairs separated by commas (e.g. adapter=runs/r1/final), got "${part}"`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 'api-key' || key === 'key') throw new Error('an API key goes in an environment variable named with api-key-env=VAR, never on the command line (it would stay in your shell history)');
    if (!(KEYS as readonly string[]).includes(key)) throw new Error(`unknown key "${key}" in provider spec "${text}" (known: ${KEYS.join(', ')})`);
    given.set(key as Key, value);
  }
  const kind = given.get('provider') ?? base.kind;
  if (kind !== 'local' && kind !== 'openai') throw new Error(`provider must be local or openai, got "${kind}"`);
  const inherited: Partial<Record<Key, string>> = {};
  if (kind === base.kind) {
    inherited.model = base.model;
    if (base.kind === 'local' && base.adapter) inherited.adapter = base.adapter;
    if (base.kind === 'openai') {
      inherited['base-url'] = base.baseUrl;
      inherited.api = base.api;
      if (base.apiKeyEnv) inherited['api-key-env'] = base.apiKeyEnv;
    }
  }
  const value = (key: Key) => given.get(key) ?? inherited[key];
  const model = value('model');
  if (kind === 'local') {
    if (!model) throw new Error('a local provider needs model=<folder>');
    const adapter = value('adapter');
    return adapter && adapter !== 'none' ? { kind, model, adapter } : { kind, model };
  }
  const baseUrl = value('base-url');
  if (!baseUrl) throw new Error('an openai provider needs base-url=<URL>');
  if (!model) throw new Error('an openai provider needs model=<name>');
  const api = value('api') ?? 'chat';
  if (api !== 'chat' && api !== 'completions') throw new Error(`api must be chat or completions, got "${api}"`);
  const apiKeyEnv = value('api-key-env');
  return { kind, baseUrl, model, api, ...(apiKeyEnv ? { apiKeyEnv } : {}) };
}

/** A spec in words, for progress lines and messages. */
export function describeProviderSpec(spec: ProviderSpec): string {
  return spec.kind === 'local' ? `local model ${spec.model}${spec.adapter ? ` + adapter ${spec.adapter}` : ''}` : `${spec.model} at ${spec.baseUrl}`;
}
