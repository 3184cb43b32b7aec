// Loads the real entry point with a stub `vscode` module: activate() registers
// every contributed command and the @agy participant without starting the server.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Module from 'node:module';
import { EXTENSION_ROOT } from './server';

describe('activate()', () => {
  it('registers the commands and the chat participant lazily', () => {
    const registered: string[] = [];
    const participants: string[] = [];
    const disposable = { dispose: () => undefined };
    const stub = {
      window: {
        createOutputChannel: () => ({ ...disposable, show: () => undefined, error: () => undefined }),
        setStatusBarMessage: () => disposable,
      },
      workspace: {
        registerTextDocumentContentProvider: () => disposable,
        onDidChangeConfiguration: () => disposable,
        getConfiguration: () => ({ get: () => undefined }),
      },
      commands: { registerCommand: (id: string) => (registered.push(id), disposable) },
      chat: { createChatParticipant: (id: string) => (participants.push(id), { ...disposable, iconPath: undefined }) },
      Uri: { from: () => ({}) },
      ThemeIcon: class {
        constructor(readonly id: string) {}
      },
    };
    // vscode-languageclient subclasses a few API classes at load time; any name the stub lacks is an empty class.
    const known: Record<string | symbol, unknown> = stub;
    const vscodeModule = new Proxy(known, {
      get: (target, prop): unknown => target[prop] ?? class {},
    });
    const mod = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
    const original = mod._load;
    mod._load = (request: string, ...rest: unknown[]) => (request === 'vscode' ? vscodeModule : original(request, ...rest));
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const ext = require(path.join(EXTENSION_ROOT, 'out', 'src', 'extension.js')) as { activate: (c: unknown) => void };
      const subscriptions: unknown[] = [];
      ext.activate({ subscriptions, extensionPath: EXTENSION_ROOT });
      const manifest = JSON.parse(fs.readFileSync(path.join(EXTENSION_ROOT, 'package.json'), 'utf8')) as {
        contributes: { commands: { command: string }[] };
      };
      assert.deepEqual([...registered].sort(), manifest.contributes.commands.map((c) => c.command).sort());
      assert.deepEqual(participants, ['agy.chat']);
      assert.ok(subscriptions.length >= registered.length);
    } finally {
      mod._load = original;
    }
  });
});
