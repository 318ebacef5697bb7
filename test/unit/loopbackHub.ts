import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A TEST DOUBLE of the Hugging Face Hub (a true system boundary: HTTP), serving folders on
 * loopback with the Hub's endpoints and headers as huggingface_hub and transformers rely on them:
 *   GET /api/{models|datasets}/{repo}/revision/{rev}[?blobs=true]  repo info: commit sha, siblings with size,
 *                                                      git blob id and, for LFS files, sha256
 *   GET /api/models/{repo}/tree/{rev}                  the file list (huggingface_hub pages through it)
 *   HEAD|GET /{repo}/resolve/{rev}/{file}              ETag, X-Repo-Commit, X-Linked-Etag and
 *                                                      X-Linked-Size (LFS), byte ranges (206)
 * A gated repo answers 401 without the right token; an unknown one 404. `cutOnce` breaks the
 * connection in the middle of a file, once, as a flaky network does.
 */

export interface HubRepoFixture {
  id: string;
  dir: string;
  gated?: boolean;
  /** A dataset repo (/api/datasets/..., /datasets/{id}/resolve/...) rather than a model. */
  type?: 'model' | 'dataset';
  /** Datasets: the files of the Hub's Parquet conversion, served at revision refs/convert/parquet. */
  convertedDir?: string;
}

interface RepoState {
  sha: string;
  gated: boolean;
  type: 'model' | 'dataset';
  files: FileEntry[];
}

/** Every file under `dir`, as repo paths (a/b.parquet), sorted. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, join(prefix, e.name)) : [join(prefix, e.name).split('\\').join('/')]))
    .sort();
}

interface FileEntry {
  name: string;
  bytes: Buffer;
  blobId: string;
  sha256: string;
  lfs: boolean;
}

const TOKEN = 'hf_loopback_test_token';

export class LoopbackHub {
  readonly token = TOKEN;
  readonly requests: string[] = [];
  private server: Server | undefined;
  private readonly repos = new Map<string, RepoState>();
  private cut: { file: string; afterBytes: number } | undefined;

  constructor(private readonly fixtures: HubRepoFixture[]) {}

  /** Reads the fixtures' folders as they are now (start calls it). */
  private load(): void {
    const state = (dir: string, f: HubRepoFixture): RepoState => {
      const files = listFiles(dir).map((name) => {
        const bytes = readFileSync(join(dir, name));
        const blobId = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
        return { name, bytes, blobId, sha256: createHash('sha256').update(bytes).digest('hex'), lfs: /\.(safetensors|bin|gguf|parquet)$/.test(name) };
      });
      const sha = createHash('sha1').update(files.map((x) => `${x.name}:${x.blobId}`).join('\n')).digest('hex');
      return { sha, gated: f.gated ?? false, type: f.type ?? 'model', files };
    };
    for (const f of this.fixtures) {
      this.repos.set(`${f.type ?? 'model'}:${f.id}`, state(f.dir, f));
      if (f.convertedDir) this.repos.set(`${f.type ?? 'model'}:${f.id}@refs/convert/parquet`, state(f.convertedDir, f));
    }
  }

  commit(id: string, type: 'model' | 'dataset' = 'model'): string {
    return this.repos.get(`${type}:${id}`)!.sha;
  }

  /** The next download of `file` stops after `afterBytes` bytes (the socket is destroyed). */
  cutOnce(file: string, afterBytes: number): void {
    this.cut = { file, afterBytes };
  }

  async start(): Promise<string> {
    this.load();
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server!.close(() => done()));
    this.server = undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}`);
    const info = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const tree = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/(datasets\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const type = info || tree ? ((info ?? tree)![1] === 'datasets' ? 'dataset' : 'model') : resolve?.[1] ? 'dataset' : 'model';
    const id = decodeURIComponent((info ?? tree)?.[2] ?? resolve?.[2] ?? '');
    const revision = decodeURIComponent((info ?? tree)?.[3] ?? resolve?.[3] ?? '');
    const main = this.repos.get(`${type}:${id}`);
    if (!main) return this.json(res, 404, { error: 'Repository not found' });
    if (main.gated && req.headers.authorization !== `Bearer ${TOKEN}`) return this.json(res, 401, { error: `Access to ${type} ${id} is restricted. You must have access to it and be authenticated to access it.` });
    const converted = this.repos.get(`${type}:${id}@refs/convert/parquet`);
    const repo = revision === 'main' || revision === main.sha ? main : converted && (revision === 'refs/convert/parquet' || revision === converted.sha) ? converted : undefined;
    if (!repo) return this.json(res, 404, { error: `Revision Not Found for url: ${url.pathname}` });
    if (tree) {
      // The file listing huggingface_hub's snapshot_download pages through.
      return this.json(res, 200, repo.files.map((f) => ({ type: 'file', oid: f.blobId, size: f.bytes.length, path: f.name, ...(f.lfs ? { lfs: { oid: f.sha256, size: f.bytes.length, pointerSize: 134 } } : {}) })));
    }
    if (info) {
      return this.json(res, 200, {
        _id: repo.sha.slice(0, 24),
        id,
        modelId: id,
        sha: repo.sha,
        private: false,
        gated: repo.gated ? 'manual' : false,
        disabled: false,
        tags: [],
        siblings: repo.files.map((f) => ({ rfilename: f.name, size: f.bytes.length, blobId: f.blobId, ...(f.lfs ? { lfs: { sha256: f.sha256, size: f.bytes.length, pointerSize: 134 } } : {}) })),
      });
    }
    const file = repo.files.find((f) => f.name === decodeURIComponent(resolve![4]!));
    if (!file) return this.json(res, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
    const etag = file.lfs ? file.sha256 : file.blobId;
    const headers: Record<string, string> = { 'x-repo-commit': repo.sha, etag: `"${etag}"`, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (file.lfs) Object.assign(headers, { 'x-linked-etag': `"${file.sha256}"`, 'x-linked-size': String(file.bytes.length) });
    let body = file.bytes;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      if (start >= file.bytes.length) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${file.bytes.length}` });
        return void res.end();
      }
      body = file.bytes.subarray(start);
      status = 206;
      headers['content-range'] = `bytes ${start}-${file.bytes.length - 1}/${file.bytes.length}`;
    }
    headers['content-length'] = String(body.length);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return void res.end();
    if (this.cut && this.cut.file === file.name && body.length > this.cut.afterBytes) {
      const { afterBytes } = this.cut;
      this.cut = undefined;
      res.write(body.subarray(0, afterBytes), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  }

  private json(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...extra });
    res.end(body);
  }
}
