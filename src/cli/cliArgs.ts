import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './cliTypes.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util's parseArgs with what every command wants: `--help`/`-h`, and a wrong flag reported
 * as a usage error (exit 2, with the help text) instead of a stack trace.
 */
export function parseCommandArgs<T extends Options>(args: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args, allowPositionals, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } as T & { help: { type: 'boolean'; short: 'h' } } });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A whole-number flag at least `min`; undefined when the flag was not given. */
export function wholeNumberFlag(value: string | undefined, name: string, min = Number.MIN_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    const wanted = min === 1 ? 'a positive whole number' : min === 0 ? 'a whole number, 0 or more' : 'a whole number';
    throw new UsageError(`--${name} must be ${wanted}, got "${value}"`);
  }
  return n;
}

/** A number flag in [min, max]; undefined when the flag was not given. */
export function numberFlag(value: string | undefined, name: string, min: number, max = Number.POSITIVE_INFINITY): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a number${max === Number.POSITIVE_INFINITY ? ` of at least ${min}` : ` from ${min} to ${max}`}, got "${value}"`);
  return n;
}

/** A flag whose value must be one of a few words. */
export function choiceFlag<T extends string>(value: string | undefined, name: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}
