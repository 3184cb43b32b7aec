// Starts agy-lsp the way LSP clients do (`--stdio --clientProcessId=N`) and
// remembers why it died, so the person sees the cause rather than
// "Pending response rejected since connection got disposed". No `vscode` import.

import { spawn, type ChildProcess } from 'node:child_process';

/** The launch flags vscode-languageclient's stdio transport implies, plus our pid so the server dies with us. */
export function launchArgs(userArgs: string[], clientPid: number = process.pid): string[] {
  return [...userArgs, '--stdio', `--clientProcessId=${clientPid}`];
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds the process lived. */
  lifetimeMs: number;
}

/** One server process: its stderr tail, spawn error and exit status. */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly started = Date.now();
  spawnError: NodeJS.ErrnoException | undefined;
  exit: ExitInfo | undefined;
  private tail: string[] = [];
  private partial = '';
  readonly exited: Promise<ExitInfo>;

  constructor(
    readonly command: string,
    readonly args: string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string; onStderr?: (text: string) => void } = {},
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env, cwd: options.cwd });
    this.child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      options.onStderr?.(text);
      this.remember(text);
    });
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.exit ??= { code, signal, lifetimeMs: Date.now() - this.started };
        resolve(this.exit);
      };
      this.child.once('error', (e: NodeJS.ErrnoException) => {
        this.spawnError = e;
        // An ENOENT child never emits 'exit'.
        if (this.child.pid === undefined) done(null, null);
      });
      this.child.once('exit', done);
    });
  }

  /** Resolves once the process runs; rejects with the cause when it cannot be spawned. */
  spawned(): Promise<void> {
    if (this.child.pid !== undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.child.once('spawn', () => resolve());
      this.child.once('error', () => reject(new Error(this.describe())));
    });
  }

  private remember(text: string): void {
    const lines = (this.partial + text).split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) this.tail.push(l);
    if (this.tail.length > 20) this.tail = this.tail.slice(-20);
  }

  /** The last non-empty stderr lines (at most `n`). */
  stderrTail(n = 3): string[] {
    const all = this.partial.trim() ? [...this.tail, this.partial] : this.tail;
    return all.slice(-n);
  }

  /** One sentence for a notification: what happened and the server's own last words. */
  describe(): string {
    const cmd = this.command;
    if (this.spawnError) {
      if (this.spawnError.code === 'ENOENT') return `cannot start "${cmd}": command not found. Set agy.server.command or install agy-lsp.`;
      if (this.spawnError.code === 'EACCES') return `cannot start "${cmd}": permission denied (not executable).`;
      return `cannot start "${cmd}": ${this.spawnError.message}`;
    }
    const last = this.stderrTail(1)[0];
    const how = this.exit
      ? this.exit.signal
        ? `was killed by ${this.exit.signal}`
        : `exited with code ${this.exit.code ?? '?'}`
      : 'closed the connection';
    const quick = this.exit && this.exit.lifetimeMs < 5000 ? ' right after starting' : '';
    return `agy-lsp ${how}${quick}${last ? `: ${last.trim()}` : ''}`;
  }
}

/**
 * Restart policy: a server that dies right after starting (bad flag, missing module)
 * is not restarted; one that ran a while is, up to `max` times in `windowMs`.
 */
export class RestartBudget {
  private readonly crashes: number[] = [];
  constructor(
    private readonly max = 3,
    private readonly windowMs = 3 * 60_000,
  ) {}

  shouldRestart(exit: ExitInfo | undefined, now = Date.now()): boolean {
    if (!exit || exit.lifetimeMs < 5000) return false;
    this.crashes.push(now);
    while (this.crashes.length && now - (this.crashes[0] ?? now) > this.windowMs) this.crashes.shift();
    return this.crashes.length <= this.max;
  }
}
