import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The sha256 of files' bytes one after the other, streamed: a big file is never held whole. */
export async function sha256OfFiles(paths: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const path of paths) for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
