import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

// esbuild warns about `import.meta` in CommonJS output and a bare `require(variable)` is not
// bundlable, so runtime resolution anchors on what exists in both worlds: the bundle's own file
// (CommonJS only), the entry script (a test, bench, src/cli.ts or dist/cli.cjs) and the working
// directory (for the trainer, the user's workspace, where optional packages may be installed).

export function resolutionAnchors(): string[] {
  const anchors: string[] = [];
  if (typeof __filename === 'string') anchors.push(__filename);
  if (process.argv[1]) anchors.push(resolve(process.argv[1]));
  anchors.push(join(process.cwd(), 'noop.js'));
  return anchors;
}

/** Resolves `id` from the first anchor that can, with a require function rooted there. */
export function resolveFromAnchors(id: string, anchors: readonly string[] = resolutionAnchors()): { path: string; require: NodeJS.Require } | undefined {
  for (const anchor of anchors) {
    const req = createRequire(anchor);
    try {
      return { path: req.resolve(id), require: req };
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}
