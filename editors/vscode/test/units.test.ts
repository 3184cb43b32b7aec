// Pure protocol-layer units: chunk assembly, confirmation mapping, settings,
// inline edit text handling, status bar text.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { TurnAssembler, describeToolCall, describeToolResult } from '../src/protocol/chunks';
import { TokenSource, linkedSource } from '../src/protocol/cancellation';
import { confirmChoices, describeConfirmation, fileChangeOf, outcomeFor, outcomeForLabel, visible } from '../src/protocol/confirm';
import { extractReplacement, inlineEditPrompt, spliceText } from '../src/protocol/inlineEdit';
import { isCancellation } from '../src/protocol/methods';
import { createAgentParams, initializationOptions, readSettings, DEFAULT_SETTINGS } from '../src/protocol/settings';
import { ToolItems, parseLink, usageLine } from '../src/protocol/toolItems';
import { estimateTokens, promptFromMessages } from '../src/protocol/lmPrompt';
import { formatTokens, renderHistory, statusView } from '../src/protocol/status';
import { runEditorTool } from '../src/protocol/editorTools';
import type { ChatChunk } from '../src/protocol/types';

const chunk = (seq: number, text: string, turnId = 't'): ChatChunk => ({ agentId: 'a', turnId, seq, kind: 'text', text });

describe('TurnAssembler', () => {
  it('reorders by seq, drops duplicates and other turns', () => {
    const a = new TurnAssembler();
    assert.deepEqual(a.push(chunk(2, 'world')), []);
    assert.deepEqual(
      a.push(chunk(1, 'hello ')).map((e) => (e.kind === 'text' ? e.text : '')),
      ['hello ', 'world'],
    );
    assert.deepEqual(a.push(chunk(2, 'world')), []);
    assert.deepEqual(a.push(chunk(3, '!', 'other')), []);
    assert.equal(a.text, 'hello world');
    assert.equal(a.turnId, 't');
  });

  it('flushes past a gap and collects tool calls/results and thoughts', () => {
    const a = new TurnAssembler();
    a.push({ agentId: 'a', turnId: 't', seq: 1, kind: 'thought', text: 'hmm' });
    a.push({ agentId: 'a', turnId: 't', seq: 3, kind: 'toolResult', toolResult: { name: 'run_command', result: 'ok' } });
    assert.equal(a.toolResults.length, 0);
    const flushed = a.flush();
    assert.deepEqual(flushed.map((e) => e.kind), ['toolResult']);
    a.push({ agentId: 'a', turnId: 't', seq: 4, kind: 'toolCall', toolCall: { name: 'view_file', args: { path: '/x' } } });
    assert.equal(a.thought, 'hmm');
    assert.equal(a.toolCalls[0]?.name, 'view_file');
  });

  it('describes tool calls and results', () => {
    assert.equal(describeToolCall({ name: 'run_command', args: { CommandLine: 'ls' } }), 'Running run_command: ls');
    assert.equal(describeToolCall({ name: 'run_command', args: { command_line: 'pwd' } }), 'Running run_command: pwd');
    assert.equal(describeToolCall({ name: 'x' }), 'Running x');
    assert.ok(describeToolCall({ name: 'x', args: { CommandLine: 'y'.repeat(200) } }).length < 100);
    assert.equal(describeToolResult({ name: 'x', error: 'boom' }), 'x failed: boom');
    assert.equal(describeToolResult({ name: 'x', result: 1 }), 'x finished');
  });
});

describe('cancellation', () => {
  it('TokenSource and linkedSource propagate cancel once', () => {
    const parent = new TokenSource();
    const child = linkedSource(parent.token, undefined);
    let fired = 0;
    child.token.onCancellationRequested(() => fired++);
    parent.cancel();
    parent.cancel();
    assert.equal(child.token.isCancellationRequested, true);
    assert.equal(fired, 1);
    let late = 0;
    child.token.onCancellationRequested(() => late++);
    assert.equal(late, 1, 'late listeners fire at once');
    assert.equal(isCancellation({ code: -32800 }), true);
    assert.equal(isCancellation({ code: -32010 }), true);
    assert.equal(isCancellation(new Error('x')), false);
  });
});

describe('confirmation mapping', () => {
  it('orders choices allow-first and maps picks, labels and dismissal', () => {
    const choices = confirmChoices([
      { optionId: 'r', kind: 'reject_once', name: 'Reject' },
      { optionId: 'a', kind: 'allow_once', name: 'Allow once' },
      { optionId: 'aa', kind: 'allow_always', name: 'Always allow' },
    ]);
    assert.deepEqual(choices.map((c) => c.outcome), ['a', 'aa', 'r']);
    assert.equal(outcomeFor(choices[1]), 'aa');
    assert.equal(outcomeFor(undefined), 'cancelled');
    assert.equal(outcomeForLabel(choices, 'Reject'), 'r');
    assert.equal(outcomeForLabel(choices, undefined), 'cancelled');
    assert.deepEqual(confirmChoices([]).map((c) => c.kind), ['allow_once', 'allow_always', 'reject_once']);
  });

  it('describes the call and detects file changes', () => {
    const d = describeConfirmation({ agentId: 'a', turnId: 't', toolCall: { name: 'run_command', args: { CommandLine: 'ls', Cwd: '/w' } }, options: [], reason: 'needs a shell' });
    assert.equal(d.title, 'agy wants to run run_command');
    assert.equal(d.detail, 'CommandLine: ls  ·  Cwd: /w  ·  reason: needs a shell');
    assert.equal(d.whole, 'CommandLine: ls\nCwd: /w\nreason: needs a shell');
    assert.equal(d.long, false);
    assert.equal(visible('a\x1b[2Kb\rc\u202e\td\ne'), 'a\\x1b[2Kb\\rc\\u202e\td\ne', 'controls escaped, tab and newline kept');
    assert.equal(fileChangeOf({ name: 'run_command', args: { CommandLine: 'ls' } }), undefined);
    assert.equal(fileChangeOf({ name: 'view_file', args: { path: '/a' } }), undefined);
    const create = fileChangeOf({ name: 'write_to_file', args: { TargetFile: 'file:///w/a%20b.txt', CodeContent: 'hi', Overwrite: true, Description: 'd' } });
    assert.equal(create?.path, '/w/a b.txt');
    assert.equal(create?.newText('old'), 'hi');
    const append = fileChangeOf({ name: 'write_to_file', args: { TargetFile: '/w/log', CodeContent: 'b\n', Append: true, Overwrite: false } });
    assert.equal(append?.newText('a\n'), 'a\nb\n', 'Append adds to the file');
    const edit = fileChangeOf({ name: 'replace_file_content', args: { TargetFile: '/w/a', TargetContent: 'x', ReplacementContent: '$&y', StartLine: 1, EndLine: 1, AllowMultiple: false } });
    assert.equal(edit?.newText('axb'), 'a$&yb', 'replacement is literal');
    const ranged = { TargetFile: '/w/a', TargetContent: 'x', ReplacementContent: 'X', StartLine: 2, EndLine: 2, AllowMultiple: false };
    assert.equal(fileChangeOf({ name: 'replace_file_content', args: ranged })?.newText('x\nx\nx\n'), 'x\nX\nx\n', 'within StartLine..EndLine');
    const all = { ...ranged, AllowMultiple: true };
    assert.equal(fileChangeOf({ name: 'replace_file_content', args: all })?.newText('x\nx\n'), 'X\nX\n', 'AllowMultiple replaces every one');
    const missing = { ...ranged, TargetContent: 'zzz' };
    assert.equal(fileChangeOf({ name: 'replace_file_content', args: missing })?.newText('abc'), 'abc', 'nothing to replace: unchanged');
  });
});

describe('settings', () => {
  const cfg = (values: Record<string, unknown>) => readSettings((k) => values[k]);

  it('reads and validates agy.* values', () => {
    assert.deepEqual(cfg({}), DEFAULT_SETTINGS);
    const s = cfg({ backend: 'openai', model: ' llama3 ', baseUrl: 'http://h/v1', 'policies.preset': 'allowAll', chatTimeoutSecs: 30, 'server.command': '/x/agy-lsp', 'server.args': ['--log', 3], 'confirmation.style': 'modal' });
    assert.equal(s.backend, 'openai');
    assert.equal(s.model, 'llama3');
    assert.equal(s.policyPreset, 'allowAll');
    assert.equal(s.chatTimeoutSecs, 30);
    assert.deepEqual(s.serverArgs, ['--log']);
    assert.equal(s.confirmationStyle, 'modal');
    const bad = cfg({ backend: 'nope', 'policies.preset': 'x', chatTimeoutSecs: -1 });
    assert.equal(bad.backend, 'auto');
    assert.equal(bad.policyPreset, 'safeDefaults');
    assert.equal(bad.chatTimeoutSecs, 120);
  });

  it('maps to initializationOptions in the server Settings shape', () => {
    assert.deepEqual(initializationOptions(DEFAULT_SETTINGS), { backend: null, chatTimeoutSecs: 120 });
    assert.deepEqual(initializationOptions({ ...DEFAULT_SETTINGS, backend: 'openai', model: 'm', baseUrl: 'http://h/v1' }).backend, { type: 'openai', baseUrl: 'http://h/v1', model: 'm' });
    assert.deepEqual(initializationOptions({ ...DEFAULT_SETTINGS, backend: 'gemini', model: 'gemini-2.5-pro' }).backend, { type: 'gemini', model: 'gemini-2.5-pro' });
    assert.deepEqual(initializationOptions({ ...DEFAULT_SETTINGS, backend: 'scripted' }).backend, { type: 'scripted' });
  });

  it('builds createAgent params with policies, timeout and tools', () => {
    const p = createAgentParams({ ...DEFAULT_SETTINGS, policyPreset: 'workspaceOnly' }, ['/w'], [{ name: 't' }], 'n');
    assert.deepEqual(p, { workspaces: ['/w'], chatTimeoutSecs: 120, policies: 'workspaceOnly', tools: [{ name: 't' }], name: 'n' });
    assert.equal(createAgentParams({ ...DEFAULT_SETTINGS, policyPreset: 'workspaceOnly' }, [], []).policies, 'safeDefaults', 'workspaceOnly needs a folder');
  });
});

describe('inline edit text', () => {
  it('builds the prompt and extracts the replacement', () => {
    const prompt = inlineEditPrompt({ instruction: 'rename', code: 'let a', languageId: 'ts', fileName: 'a.ts' });
    assert.match(prompt, /Instruction: rename/);
    assert.match(prompt, /```ts\nlet a\n```/);
    assert.equal(extractReplacement('Sure:\n```ts\nlet b\n```\nbye', 'let a'), 'let b');
    assert.equal(extractReplacement('```\nlet b\n```', 'let a\n'), 'let b\n');
    assert.equal(extractReplacement('  let b\n', 'let a'), 'let b');
    assert.equal(spliceText('abcdef', 2, 4, 'XY'), 'abXYef');
  });
});

describe('status bar and history text', () => {
  it('shows state and last/total token usage', () => {
    assert.equal(formatTokens(undefined), '0');
    assert.equal(formatTokens(1234), '1.2k');
    assert.equal(formatTokens(45_600), '46k');
    assert.equal(formatTokens(2_500_000), '2.5M');
    const v = statusView('idle', { totalTokens: 1200, promptTokens: 1000, candidatesTokens: 200 }, { totalTokens: 5000 });
    assert.equal(v.text, '$(hubot) agy: idle · 1.2k / Σ 5.0k tok');
    assert.match(v.tooltip, /Last turn: 1200 tokens \(prompt 1000, output 200\)/);
    assert.match(v.tooltip, /Total: 5000 tokens/);
    assert.match(statusView('busy', null, undefined).text, /sync~spin.*busy/);
    assert.match(statusView('none', null, undefined).tooltip, /no agent/);
  });

  it('renders history steps as Markdown', () => {
    const md = renderHistory('a1', { total: 2, steps: [{ index: 0, type: 'TEXT_RESPONSE', source: 'USER', content: 'hi' }, { index: 1, type: 'TOOL', toolCalls: [{ name: 'run_command', args: { CommandLine: 'ls' } }], error: 'denied' }] });
    assert.match(md, /^# agy history: a1/);
    assert.match(md, /## 0 TEXT_RESPONSE \(USER\)\n\nhi/);
    assert.match(md, /tool `run_command` \{"CommandLine":"ls"\}/);
    assert.match(md, /\*\*error:\*\* denied/);
  });
});

describe('editor tool dispatch', () => {
  it('answers errors for unknown tools and a missing editor, and caps diagnostics', () => {
    const none = { activeDocument: () => undefined, selection: () => undefined, diagnostics: () => [] };
    const call = (name: string, args: Record<string, unknown> = {}) => ({ agentId: 'a', turnId: 't', toolCall: { name, args } });
    assert.deepEqual(runEditorTool(none, call('editor_active_text')), { error: 'no active editor' });
    assert.deepEqual(runEditorTool(none, call('nope')), { error: 'unknown editor tool nope' });
    const many = Array.from({ length: 250 }, (_, i) => ({ uri: 'u', severity: 'error' as const, message: String(i), start: { line: i, character: 0 }, end: { line: i, character: 1 } }));
    let asked: string | undefined = 'unset';
    const host = { ...none, diagnostics: (uri?: string) => ((asked = uri), many) };
    const res = runEditorTool(host, call('editor_diagnostics', { uri: 'file:///a' })).content as { diagnostics: unknown[]; total: number; truncated: boolean };
    assert.equal(asked, 'file:///a');
    assert.equal(res.diagnostics.length, 200);
    assert.equal(res.total, 250);
    assert.equal(res.truncated, true);
  });
});

describe('tool items', () => {
  it('merges confirmation and chunks by id into one item with its outcome', () => {
    const items = new ToolItems();
    const call = { id: 'c1', name: 'run_command', args: { CommandLine: 'ls' } };
    assert.equal(items.asking(call).state, 'asking');
    assert.equal(items.answered(call, 'allow_once').state, 'allowed');
    const started = items.started({ id: 'c1', name: 'run_command', args: { command_line: 'ls' } });
    assert.equal(started.state, 'running');
    assert.deepEqual(started.args, { CommandLine: 'ls' }, 'keeps what the person was shown');
    assert.equal(items.finished({ id: 'c1', name: 'run_command', result: 'a.txt' }).state, 'done');
    assert.equal(items.answered({ id: 'c2', name: 'run_command' }, 'reject_once').state, 'denied');
    assert.equal(items.answered({ id: 'c3', name: 'x' }, 'cancelled').state, 'cancelled');
    assert.equal(items.finished({ id: 'c4', name: 'view_file', error: 'no such file' }).state, 'failed');
    items.started({ id: 'c5', name: 'run_command' });
    assert.deepEqual(items.cancelAll().map((i) => i.id), ['c5']);
    assert.deepEqual(items.all().map((i) => i.state), ['done', 'denied', 'cancelled', 'failed', 'cancelled']);
    const ending = new ToolItems();
    ending.answered({ id: 'a', name: 'x' }, 'allow_once');
    ending.started({ id: 'b', name: 'replace_file_content' });
    ending.finished({ id: 'c', name: 'y', error: 'e' });
    assert.deepEqual(ending.finishAll().map((i) => [i.id, i.state]), [['a', 'done'], ['b', 'done']], 'a turn that ended leaves nothing running');
    assert.equal(ending.all()[1]?.outcome, undefined, 'ended with the turn: no outcome from the server');
    const anon = new ToolItems();
    assert.notEqual(anon.started({ name: 'a' }).id, anon.started({ name: 'a' }).id, 'calls without ids stay apart');
  });

  it('formats usage per turn', () => {
    assert.equal(usageLine(null), '');
    assert.equal(usageLine({ promptTokens: 10, candidatesTokens: 5, totalTokens: 15 }), 'prompt 10 · output 5 · total 15 tokens');
    assert.match(usageLine({ promptTokens: 1, candidatesTokens: 1, thoughtsTokens: 3, cachedTokens: 2, totalTokens: 5 }), /thoughts 3 · cached 2/);
  });

  it('classifies links: web, file with line, nothing', () => {
    assert.deepEqual(parseLink('https://x.org/a'), { kind: 'external', url: 'https://x.org/a' });
    assert.deepEqual(parseLink('src/a.ts#L12'), { kind: 'file', path: 'src/a.ts', line: 12 });
    assert.deepEqual(parseLink('src/a.ts#L12C4'), { kind: 'file', path: 'src/a.ts', line: 12, column: 4 });
    assert.deepEqual(parseLink('/w/my%20file.py:3:5'), { kind: 'file', path: '/w/my file.py', line: 3, column: 5 });
    assert.deepEqual(parseLink('file:///w/a.py'), { kind: 'file', path: '/w/a.py' });
    assert.deepEqual(parseLink('#anchor'), { kind: 'none' });
    assert.deepEqual(parseLink('command:workbench.action.quit'), { kind: 'none' }, 'no command links from model output');
    assert.deepEqual(parseLink('javascript:alert(1)'), { kind: 'none' });
  });
});

describe('language model requests', () => {
  it('sends one user message as is, a conversation as a transcript', () => {
    assert.equal(promptFromMessages([{ role: 'user', text: 'hi' }]), 'hi');
    const p = promptFromMessages([
      { role: 'system', text: 'be brief' },
      { role: 'user', text: 'hi' },
      { role: 'assistant', text: 'hello' },
      { role: 'user', text: 'and now?' },
    ]);
    assert.match(p, /^Continue this conversation/);
    assert.match(p, /System: be brief\n\nUser: hi\n\nAssistant: hello\n\nUser: and now\?$/);
    assert.equal(estimateTokens('abcdefgh'), 2);
  });
});
