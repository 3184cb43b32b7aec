// Loads the bundle (dist/extension.js, what the .vsix ships) with a stub `vscode`
// module: activate() registers every contributed command, the @agy participant
// and the language model provider, starts the server at once, and a server that
// cannot start ends in one error notification with the cause and "Show Log".

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Module from 'node:module';
import { EXTENSION_ROOT } from './server';

interface Manifest {
  contributes: { commands: { command: string }[]; languageModelChatProviders: { vendor: string }[] };
}

describe('activate() of the bundle', () => {
  it('registers commands, participant and model, and reports a server that cannot start', async () => {
    const registered: string[] = [];
    const participants: string[] = [];
    const vendors: string[] = [];
    const errors: { message: string; actions: string[] }[] = [];
    const logged: string[] = [];
    const disposable = { dispose: () => undefined };
    const event = () => disposable;
    const channel = {
      ...disposable,
      show: () => undefined,
      append: (t: string) => logged.push(t),
      appendLine: (t: string) => logged.push(t),
      info: (t: string) => logged.push(t),
      warn: (t: string) => logged.push(t),
      error: (t: string) => logged.push(t),
      trace: () => undefined,
      debug: () => undefined,
      replace: () => undefined,
      clear: () => undefined,
      hide: () => undefined,
      onDidChangeLogLevel: event,
    };
    let reported!: () => void;
    const notified = new Promise<void>((r) => (reported = r));
    const stub = {
      window: {
        createOutputChannel: () => channel,
        createStatusBarItem: () => ({ ...disposable, show: () => undefined, hide: () => undefined }),
        showErrorMessage: async (message: string, ...actions: string[]) => {
          errors.push({ message, actions });
          reported();
          return undefined;
        },
        showInformationMessage: async () => undefined,
        setStatusBarMessage: () => disposable,
      },
      workspace: {
        registerTextDocumentContentProvider: () => disposable,
        onDidChangeConfiguration: event,
        onDidChangeWorkspaceFolders: event,
        onDidOpenTextDocument: event,
        onDidChangeTextDocument: event,
        onDidCloseTextDocument: event,
        onDidSaveTextDocument: event,
        onWillSaveTextDocument: event,
        textDocuments: [],
        workspaceFolders: undefined,
        getConfiguration: (section?: string) => ({
          get: (key: string) => (section === 'agy' && key === 'server.command' ? '/nonexistent/agy-lsp' : undefined),
        }),
      },
      commands: { registerCommand: (id: string) => (registered.push(id), disposable), executeCommand: async () => undefined },
      chat: { createChatParticipant: (id: string) => (participants.push(id), { ...disposable, iconPath: undefined }) },
      lm: { registerLanguageModelChatProvider: (vendor: string) => (vendors.push(vendor), disposable), selectChatModels: async () => [] },
      languages: { registerCodeLensProvider: () => disposable },
      version: '1.139.1',
      env: { machineId: 'test', appName: 'test' },
      Uri: { from: () => ({}), joinPath: () => ({}), file: (p: string) => ({ fsPath: p }) },
      StatusBarAlignment: { Left: 1, Right: 2 },
      ThemeIcon: class {
        constructor(readonly id: string) {}
      },
      EventEmitter: class<T> {
        private readonly listeners = new Set<(e: T) => void>();
        event = (l: (e: T) => void) => (this.listeners.add(l), { dispose: () => this.listeners.delete(l) });
        fire(e: T): void {
          for (const l of this.listeners) l(e);
        }
        dispose(): void {
          this.listeners.clear();
        }
      },
    };
    // What the stub lacks (vscode-languageclient touches much of the API) is a do-nothing
    // value that can be called, constructed, subclassed and disposed.
    const inert = (): unknown =>
      new Proxy(function () {}, {
        get: (_target, prop): unknown => (prop === 'prototype' ? {} : prop === 'then' || typeof prop === 'symbol' ? undefined : inert()),
        apply: () => inert(),
        construct: () => inert() as object,
      });
    const fallback = (obj: Record<string | symbol, unknown>): unknown =>
      new Proxy(obj, {
        get: (target, prop): unknown => {
          const v = target[prop];
          if (v !== undefined) return v && typeof v === 'object' && !Array.isArray(v) ? fallback(v as Record<string, unknown>) : v;
          return typeof prop === 'symbol' || prop === 'then' ? undefined : inert();
        },
      });
    const vscodeModule = fallback(stub);
    const mod = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
    const original = mod._load;
    mod._load = (request: string, ...rest: unknown[]) => (request === 'vscode' ? vscodeModule : original(request, ...rest));
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const ext = require(path.join(EXTENSION_ROOT, 'dist', 'extension.js')) as { activate: (c: unknown) => void; deactivate: () => Promise<void> };
      const subscriptions: unknown[] = [];
      const state = new Map<string, unknown>();
      ext.activate({
        subscriptions,
        extensionPath: EXTENSION_ROOT,
        extensionUri: { fsPath: EXTENSION_ROOT },
        globalStorageUri: { fsPath: fs.mkdtempSync(path.join(os.tmpdir(), 'agy-storage-')) },
        globalState: { get: (k: string) => state.get(k), update: async (k: string, v: unknown) => void state.set(k, v) },
        extension: { packageJSON: { version: '0.0.0' } },
      });
      const manifest = JSON.parse(fs.readFileSync(path.join(EXTENSION_ROOT, 'package.json'), 'utf8')) as Manifest;
      assert.deepEqual([...registered].sort(), manifest.contributes.commands.map((c) => c.command).sort());
      assert.deepEqual(participants, ['agy.chat']);
      assert.deepEqual(vendors, manifest.contributes.languageModelChatProviders.map((p) => p.vendor));
      await notified;
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0]?.message, 'agy: cannot start "/nonexistent/agy-lsp": command not found. Set agy.server.command or install agy-lsp.');
      assert.ok(errors[0]?.actions.includes('Show Log'));
      assert.ok(logged.some((l) => /starting \/nonexistent\/agy-lsp --stdio --clientProcessId=\d+ \(setting\)/.test(l)), logged.join('\n'));
      await ext.deactivate();
    } finally {
      mod._load = original;
    }
  });
});
