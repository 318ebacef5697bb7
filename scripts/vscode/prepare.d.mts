// Types for prepare.mjs, so TypeScript callers can import it.
export const CODE_SERVER_VERSION: string;
export const NODE24_VERSION: string;
export const CHROMIUM_PATH: string;
export const APT_HINT: string;
export const repoRoot: string;
export const cacheDir: string;
export const node24Home: string;
export const node24Bin: string;
export const codeServerHome: string;
export const codeServerEntry: string;
export function log(message: string): void;
export function ensureNode24(options?: { force?: boolean }): Promise<string>;
export function node24Env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export function ensureCodeServer(options?: { force?: boolean }): Promise<string>;
export function checkChromium(): string;
export function prepare(options?: { browser?: boolean; force?: boolean }): Promise<{
  node: string;
  codeServerEntry: string;
  chromium: string | null;
  cacheDir: string;
}>;
export function codeServerEnv(dir: string, base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export interface MissingPackage {
  what: string;
  apt: string;
}
export function missingBuildPackages(probe?: { exists: (path: string) => boolean; command: (name: string) => boolean }): MissingPackage[];
export function aptCommand(missing: MissingPackage[], uid?: number): string;
export function codeServerInstalled(): boolean;
