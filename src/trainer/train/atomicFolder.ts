import { makeDirs } from '../../core/files/makeDirs.ts';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a folder under a hidden temporary name beside `target` and renames it into place, so
 * readers (a resume, an export, the dashboard) only ever see a complete folder. A folder being
 * replaced is first moved aside, so at every moment one complete version exists; what a killed
 * process leaves behind is a hidden `.name.tmp-<pid>` / `.name.old-<pid>` folder, removed later
 * by removeStaleTemps.
 */
export function writeFolderAtomic(target: string, fill: (dir: string) => void): void {
  const parent = dirname(target);
  const name = basename(target);
  const temp = join(parent, `.${name}.tmp-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  makeDirs(temp);
  try {
    fill(temp);
    if (existsSync(target)) {
      const old = join(parent, `.${name}.old-${process.pid}`);
      rmSync(old, { recursive: true, force: true });
      renameSync(target, old);
      renameSync(temp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(temp, target);
    }
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}

/** The hidden folders and files writeFolderAtomic and the output-dir probe leave when a process is killed. */
export function removeStaleTemps(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) if (/^\.[^/]+\.(tmp|old)-\d+$|^\.write-test-\d+$/.test(name)) rmSync(join(dir, name), { recursive: true, force: true });
}
