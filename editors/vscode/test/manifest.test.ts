// package.json contributions: commands, settings, chat participant, entry point.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SETTINGS, PRESETS, THINKING_LEVELS, readSettings } from '../src/protocol/settings';
import { EXTENSION_ROOT } from './server';

interface Manifest {
  main: string;
  engines: { vscode: string };
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    configuration: { properties: Record<string, { type: string; default: unknown; enum?: string[] }> };
    chatParticipants: { id: string; name: string; fullName?: string; commands?: { name: string; description: string }[] }[];
    languageModelChatProviders: { vendor: string; displayName: string }[];
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(EXTENSION_ROOT, 'package.json'), 'utf8')) as Manifest;
const source = fs.readFileSync(path.join(EXTENSION_ROOT, 'src', 'extension.ts'), 'utf8');

describe('package.json contributions', () => {
  it('contributes the commands, and the extension registers each of them', () => {
    const titles = Object.fromEntries(manifest.contributes.commands.map((c) => [c.command, c.title]));
    assert.equal(titles['agy.newAgent'], 'New Agent');
    assert.equal(titles['agy.cancel'], 'Cancel');
    assert.equal(titles['agy.showHistory'], 'Show History');
    assert.equal(titles['agy.resetPermissions'], 'Reset Permissions');
    assert.equal(titles['agy.plan'], 'Plan First…');
    assert.equal(titles['agy.goAhead'], 'Go Ahead with the Plan');
    assert.equal(titles['agy.setThinkingLevel'], 'Set Thinking Level…');
    assert.equal(titles['agy.setPolicy'], 'Set Tool Policy…');
    for (const c of manifest.contributes.commands) {
      assert.equal(c.category, 'agy');
      assert.match(source, new RegExp(`registerCommand\\(\\s*'${c.command.replace('.', '\\.')}'`), `${c.command} is registered in extension.ts`);
    }
  });

  it('contributes agy.* settings whose defaults match the code', () => {
    const props = manifest.contributes.configuration.properties;
    const keys = ['agy.backend', 'agy.model', 'agy.baseUrl', 'agy.policies.preset', 'agy.chatTimeoutSecs', 'agy.server.command'];
    for (const key of [...keys, 'agy.thinkingLevel', 'agy.serviceTier', 'agy.maxOutputTokens', 'agy.agentBehavior']) {
      assert.ok(props[key], `${key} contributed`);
    }
    assert.deepEqual(props['agy.backend']?.enum, ['auto', 'gemini', 'vertex', 'openai', 'scripted']);
    assert.deepEqual(props['agy.policies.preset']?.enum, ['safeDefaults', 'confirmRunCommand', 'allowAll', 'denyAll', 'workspaceOnly', 'auto']);
    assert.deepEqual(props['agy.policies.preset']?.enum, [...PRESETS], 'the presets agy: Set Tool Policy offers');
    assert.deepEqual(props['agy.thinkingLevel']?.enum, ['', ...THINKING_LEVELS]);
    assert.deepEqual(props['agy.agentBehavior']?.enum, ['autonomous', 'interactive', 'minimal']);
    const fromDefaults = readSettings((k) => props[`agy.${k}`]?.default);
    assert.deepEqual(fromDefaults, DEFAULT_SETTINGS);
  });

  it('contributes the @agy chat participant, registered under the same id', () => {
    const [participant] = manifest.contributes.chatParticipants;
    assert.equal(participant?.name, 'agy');
    assert.deepEqual(participant?.commands?.map((c) => c.name), ['plan'], '@agy /plan');
    assert.equal(participant?.id, 'agy.chat');
    assert.ok(source.includes(`createChatParticipant('${participant.id}'`));
  });

  it('points main at the bundle, built by vscode:prepublish, and contributes agy as a language model vendor', () => {
    assert.equal(manifest.main, './dist/extension.js');
    assert.ok(fs.existsSync(path.join(EXTENSION_ROOT, manifest.main)), 'bundle exists');
    assert.ok(manifest.dependencies['vscode-languageclient']);
    assert.match(manifest.scripts['vscode:prepublish'] ?? '', /prepublish/);
    // The Language Model Chat Provider API is final from 1.104 on.
    assert.match(manifest.engines.vscode, /^\^1\.(10[4-9]|1[1-9]\d)\./);
    assert.deepEqual(manifest.contributes.languageModelChatProviders, [{ vendor: 'agy', displayName: 'Antigravity (agy-lsp)' }]);
  });

  it('ships only the bundle, the stylesheet and the wheel (.vscodeignore)', () => {
    const ignore = fs.readFileSync(path.join(EXTENSION_ROOT, '.vscodeignore'), 'utf8');
    for (const pattern of ['node_modules/**', 'src/**', 'test/**', 'out/**', '.cache/**', '**/*.map']) {
      assert.ok(ignore.split('\n').includes(pattern), `${pattern} is ignored`);
    }
  });

  it('keeps the protocol layer free of vscode imports', () => {
    const dir = path.join(EXTENSION_ROOT, 'src', 'protocol');
    for (const f of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      assert.doesNotMatch(text, /from 'vscode'|require\('vscode'\)/, `${f} imports vscode`);
    }
    const glue = path.join(EXTENSION_ROOT, 'src', 'glue');
    for (const f of fs.readdirSync(glue)) {
      const text = fs.readFileSync(path.join(glue, f), 'utf8');
      assert.doesNotMatch(text, /^import (?!type)[^;]*from 'vscode'/m, `${f} imports vscode at runtime`);
    }
  });
});
