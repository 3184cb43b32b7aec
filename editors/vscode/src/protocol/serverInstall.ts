// Where the agy-lsp command comes from, and installing it into a private
// virtualenv (in the extension's global storage) from the wheel shipped in the
// .vsix. No `vscode` import: the glue supplies the UI, tests a temp dir.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';

export type Resolution =
  | { kind: 'setting' | 'private' | 'path'; command: string; args: string[] }
  | { kind: 'missing'; wheel: string | undefined };

export interface ResolveInput {
  serverCommand: string;
  serverArgs: string[];
  /** The extension's global storage folder (may not exist yet). */
  storageDir: string;
  extensionPath: string;
  pathEnv?: string | undefined;
  platform?: NodeJS.Platform;
}

const exe = (name: string, platform: NodeJS.Platform): string => (platform === 'win32' ? `${name}.exe` : name);

/** The private venv and its entry points. */
export function privateVenv(storageDir: string, platform: NodeJS.Platform = process.platform) {
  const dir = path.join(storageDir, 'agy-lsp-venv');
  const bin = path.join(dir, platform === 'win32' ? 'Scripts' : 'bin');
  return { dir, python: path.join(bin, exe('python', platform)), server: path.join(bin, exe('agy-lsp', platform)), marker: path.join(dir, 'agy-wheel.txt') };
}

export function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** `name` on PATH, like `which`. */
export function findOnPath(name: string, pathEnv: string | undefined, platform: NodeJS.Platform = process.platform): string | undefined {
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, exe(name, platform));
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The agy-lsp wheel shipped in the extension's `server/` folder, newest name last. */
export function shippedWheel(extensionPath: string): string | undefined {
  const dir = path.join(extensionPath, 'server');
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const wheels = names.filter((n) => /^agy_lsp-.*\.whl$/.test(n)).sort();
  const last = wheels.at(-1);
  return last ? path.join(dir, last) : undefined;
}

/**
 * The setting wins; then the private venv (installed earlier with the person's
 * consent); then `agy-lsp` on PATH; else missing (with the wheel we could install).
 */
export function resolveServer(input: ResolveInput): Resolution {
  const platform = input.platform ?? process.platform;
  if (input.serverCommand) return { kind: 'setting', command: input.serverCommand, args: input.serverArgs };
  const venv = privateVenv(input.storageDir, platform);
  if (isExecutable(venv.server)) return { kind: 'private', command: venv.server, args: input.serverArgs };
  const onPath = findOnPath('agy-lsp', input.pathEnv, platform);
  if (onPath) return { kind: 'path', command: onPath, args: input.serverArgs };
  return { kind: 'missing', wheel: shippedWheel(input.extensionPath) };
}

/** What the marker records: the wheel's content, since a rebuilt wheel keeps its file name. */
export function wheelStamp(wheel: string): string {
  return `${path.basename(wheel)} sha256:${crypto.createHash('sha256').update(fs.readFileSync(wheel)).digest('hex')}`;
}

/** True when the private venv holds another wheel than the one shipped (the extension was updated). */
export function privateVenvOutdated(storageDir: string, wheel: string | undefined): boolean {
  if (!wheel) return false;
  try {
    return fs.readFileSync(privateVenv(storageDir).marker, 'utf8').trim() !== wheelStamp(wheel);
  } catch {
    return true;
  }
}

export interface RunResult {
  code: number | null;
  output: string;
}
export type Runner = (command: string, args: string[]) => Promise<RunResult>;

/** Runs a command, collecting stdout+stderr and passing each piece to `onOutput`. */
export function processRunner(onOutput: (text: string) => void = () => undefined, env: NodeJS.ProcessEnv = process.env): Runner {
  return (command, args) =>
    new Promise((resolve) => {
      let output = '';
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
      const take = (d: Buffer): void => {
        const text = d.toString();
        output += text;
        onOutput(text);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      child.once('error', (e) => resolve({ code: null, output: output + String(e.message) }));
      child.once('close', (code) => resolve({ code, output }));
    });
}

const PY_CHECK = 'import sys; print("%d.%d" % sys.version_info[:2]); sys.exit(0 if sys.version_info >= (3, 10) else 3)';

/** The first Python >= 3.10 among the candidates (python3, python; `py -3` on Windows). */
export async function findPython(run: Runner, platform: NodeJS.Platform = process.platform): Promise<string[] | undefined> {
  const candidates = platform === 'win32' ? [['py', '-3'], ['python']] : [['python3'], ['python']];
  for (const [cmd, ...pre] of candidates) {
    if (!cmd) continue;
    const r = await run(cmd, [...pre, '-c', PY_CHECK]);
    if (r.code === 0) return [cmd, ...pre];
  }
  return undefined;
}

export interface InstallOptions {
  storageDir: string;
  wheel: string;
  run: Runner;
  /** Progress: a short step message and its share of the whole (0..100). */
  report: (message: string, increment: number) => void;
  platform?: NodeJS.Platform;
}

export class InstallError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** python -m venv + pip install <wheel>; returns the agy-lsp path. Leaves no half-made venv behind. */
export async function installServer(opts: InstallOptions): Promise<string> {
  const platform = opts.platform ?? process.platform;
  const venv = privateVenv(opts.storageDir, platform);
  opts.report('looking for Python 3.10 or newer', 5);
  const python = await findPython(opts.run, platform);
  if (!python) throw new InstallError('no Python 3.10 or newer found (python3 on PATH). Install Python, or set agy.server.command.', '');
  const [py, ...pre] = python as [string, ...string[]];
  fs.rmSync(venv.dir, { recursive: true, force: true });
  fs.mkdirSync(opts.storageDir, { recursive: true });
  try {
    opts.report('creating a private virtualenv', 10);
    const made = await opts.run(py, [...pre, '-m', 'venv', venv.dir]);
    if (made.code !== 0) throw new InstallError(`python -m venv failed (exit ${made.code ?? '?'})`, made.output);
    opts.report(`installing ${path.basename(opts.wheel)} and its dependencies (downloads from PyPI)`, 15);
    const pip = await opts.run(venv.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', opts.wheel]);
    if (pip.code !== 0) throw new InstallError(`pip install failed (exit ${pip.code ?? '?'})`, pip.output);
    opts.report('checking the server', 60);
    const version = await opts.run(venv.server, ['--version']);
    if (version.code !== 0) throw new InstallError(`the installed agy-lsp does not run (exit ${version.code ?? '?'})`, version.output);
    fs.writeFileSync(venv.marker, wheelStamp(opts.wheel) + '\n');
    opts.report(version.output.trim(), 10);
    return venv.server;
  } catch (e) {
    fs.rmSync(venv.dir, { recursive: true, force: true });
    throw e;
  }
}
