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
  const initializeResult = await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: null,
    capabilities,
    initializationOptions: options.initializationOptions ?? {},
  });
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
