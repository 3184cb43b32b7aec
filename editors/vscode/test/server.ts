// Test helper: the real agy-lsp as a subprocess, spoken to with vscode-jsonrpc.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection, type MessageConnection } from 'vscode-jsonrpc/node';
import { AgyClient, type RpcConnection } from '../src/protocol/client';
import { agyClientCapabilities } from '../src/protocol/methods';

export const EXTENSION_ROOT = path.resolve(__dirname, '..', '..');

/** AGY_LSP_COMMAND (split on spaces) or ../../.venv/bin/agy-lsp relative to editors/vscode. */
export function serverCommand(): string[] {
  const fromEnv = process.env.AGY_LSP_COMMAND?.trim();
  if (fromEnv) return fromEnv.split(/\s+/);
  return [path.resolve(EXTENSION_ROOT, '..', '..', '.venv', 'bin', 'agy-lsp')];
}

export interface Server {
  connection: MessageConnection;
  client: AgyClient;
  process: ChildProcess;
  stderr: () => string;
  initializeResult: unknown;
  close(): Promise<void>;
}

export interface StartOptions {
  confirm?: boolean;
  initializationOptions?: Record<string, unknown>;
  env?: Record<string, string>;
}

export async function startServer(options: StartOptions = {}): Promise<Server> {
  const [command, ...args] = serverCommand();
  if (!command) throw new Error('no server command');
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agy-vscode-test-'));
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      AGY_STATE_DIR: stateDir,
      AGY_PACING_MS: '0',
      AGY_CONFIRM_TIMEOUT_SECS: '10',
      AGY_BACKEND: '',
      GEMINI_API_KEY: '',
      GOOGLE_API_KEY: '',
      ...options.env,
    },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (!child.stdout || !child.stdin) throw new Error('no stdio');
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const client = new AgyClient(connection as unknown as RpcConnection);
  connection.listen();
  const capabilities = options.confirm === false ? {} : agyClientCapabilities();
  // A server that dies before it answers fails the test with its stderr instead of hanging it.
  const died = exited.then(() => {
    throw new Error(`agy-lsp exited before answering initialize (${child.exitCode ?? child.signalCode}): ${stderr.slice(-2000)}`);
  });
  const initializeResult = await Promise.race([
    connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities,
      initializationOptions: options.initializationOptions ?? {},
    }),
    died,
  ]);
  died.catch(() => undefined);
  await connection.sendNotification('initialized', {});
  return {
    connection,
    client,
    process: child,
    stderr: () => stderr,
    initializeResult,
    async close() {
      try {
        await withTimeout(connection.sendRequest('shutdown'), 15_000);
        await connection.sendNotification('exit');
      } catch {
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      connection.dispose();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms}ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** A scripted backend for createAgent. */
export function scripted(replies: unknown[]): { type: 'scripted'; script: { replies: unknown[] } } {
  return { type: 'scripted', script: { replies } };
}

/** The repository's Python (AGY_PYTHON, else its .venv). */
export function python(): string {
  return process.env.AGY_PYTHON ?? path.resolve(EXTENSION_ROOT, '..', '..', '.venv', 'bin', 'python');
}

/** agy-lsp's scripted model in a process of its own (test/scriptedModel.py): its script can be swapped, and it reports its requests. */
export interface RecordingModel {
  /** OpenAI-compatible base URL (for an `openai` backend). */
  url: string;
  /** For GOOGLE_GEMINI_BASE_URL: a `gemini` backend then talks to this model. */
  geminiBaseUrl: string;
  /** Every request body the model got since the last swap. */
  readonly requests: Record<string, unknown>[];
  /** A new script, from its first reply on. */
  swap(replies: unknown[], fallback?: string): Promise<void>;
  /** Until at least `n` requests were reported (they are reported within 50 ms). */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  stop(): void;
}

export async function startRecordingModel(replies: unknown[] = [], fallback = 'echo'): Promise<RecordingModel> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agy-vscode-model-'));
  const file = path.join(dir, 'script.json');
  fs.writeFileSync(file, JSON.stringify({ replies, fallback }));
  const child = spawn(python(), [path.join(EXTENSION_ROOT, 'test', 'scriptedModel.py'), file], { stdio: ['pipe', 'pipe', 'inherit'] });
  const requests: Record<string, unknown>[] = [];
  let swapped = 0;
  const waiters: (() => void)[] = [];
  let buffer = '';
  const hello = new Promise<{ url: string; gemini: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`scripted model exited with ${code}`)));
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const msg = JSON.parse(line) as { url?: string; gemini?: string; request?: Record<string, unknown>; swapped?: number };
        if (msg.url && msg.gemini) resolve({ url: msg.url, gemini: msg.gemini });
        if (msg.request) requests.push(msg.request);
        if (msg.swapped) {
          swapped = msg.swapped;
          for (const w of waiters.splice(0)) w();
        }
      }
    });
  });
  const { url, gemini } = await withTimeout(hello, 20_000).catch((e: unknown) => {
    child.kill();
    throw e;
  });
  let sent = 0;
  return {
    url,
    geminiBaseUrl: gemini,
    requests,
    async swap(next, fb = 'echo') {
      sent += 1;
      const want = sent;
      child.stdin?.write(`${JSON.stringify({ replies: next, fallback: fb })}\n`);
      await new Promise<void>((resolve) => {
        const check = (): void => void (swapped >= want ? resolve() : waiters.push(check));
        check();
      });
      requests.length = 0;
    },
    async waitForRequests(n, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      while (requests.length < n) {
        if (Date.now() > end) throw new Error(`the model got ${requests.length} requests, not ${n}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop() {
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The index of the first model request a subagent made, or -1. With one scripted model
 * for the agent and its subagent, who gets which reply depends on whose request comes
 * first; the subagent's is the one that carries its prompt (as the harness's system
 * message) and no request of the person's.
 */
export function subagentRequest(requests: Record<string, unknown>[], prompt: string): number {
  return requests.findIndex((r) => {
    const users = JSON.stringify(((r.messages ?? []) as { role?: string; content?: unknown }[]).filter((m) => m.role === 'user').map((m) => m.content));
    return users.includes(prompt) && !users.includes('USER_REQUEST');
  });
}
