// The vscode-facing glue, driven through a fake VS Code API (and, where it
// talks to the server, the real agy-lsp on the scripted model).

import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { confirmToolCall } from '../src/glue/confirmUi';
import { AgentController } from '../src/glue/controller';
import { vsEditorHost } from '../src/glue/editorHost';
import { inlineEdit } from '../src/glue/inlineEdit';
import { ProposedContent } from '../src/glue/vs';
import { chatPanelHandler, chatPanelHtml, type ToWebview } from '../src/glue/chatPanel';
import { openLink } from '../src/glue/links';
import { toolProgress } from '../src/glue/controller';
import { TokenSource } from '../src/protocol/cancellation';
import { DEFAULT_SETTINGS, type AgySettings } from '../src/protocol/settings';
import type { ConfirmToolCallParams, PermissionOption } from '../src/protocol/types';
import { FakeDocument, FakeUri, fakeVscode, selection, type Fake } from './fakeVscode';
import { scripted, startServer, type Server } from './server';

const OPTIONS: PermissionOption[] = [
  { optionId: 'allow_once', kind: 'allow_once', name: 'Allow once' },
  { optionId: 'allow_always', kind: 'allow_always', name: 'Always allow' },
  { optionId: 'reject_once', kind: 'reject_once', name: 'Reject' },
  { optionId: 'reject_always', kind: 'reject_always', name: 'Always reject' },
];

function confirmParams(name: string, args: Record<string, unknown>): ConfirmToolCallParams {
  return { agentId: 'a1', turnId: 't1', toolCall: { id: 'c1', name, args }, options: OPTIONS };
}

interface PickItem {
  label: string;
  detail?: string;
  choice: { kind: string };
}

describe('confirmation UI', () => {
  it('QuickPick shows the tool and args and maps the pick to its optionId', async () => {
    const fake = fakeVscode();
    fake.answers.showQuickPick = [(items: unknown) => (items as PickItem[]).find((i) => i.choice.kind === 'allow_always')];
    const outcome = await confirmToolCall(fake.vs, new ProposedContent(fake.vs), 'quickPick', confirmParams('run_command', { CommandLine: 'ls -la' }), new TokenSource().token);
    assert.equal(outcome, 'allow_always');
    const [items, opts] = fake.callsTo('showQuickPick')[0] as [PickItem[], { title: string }];
    assert.match(opts.title, /run_command/);
    assert.deepEqual(
      items.map((i) => i.choice.kind),
      ['allow_once', 'allow_always', 'reject_once', 'reject_always'],
    );
    assert.match(items[0]?.detail ?? '', /CommandLine: ls -la/);
    assert.equal(fake.callsTo('showTextDocument').length, 0, 'a call that fits on the line is not opened beside');
    assert.equal(fake.callsTo('executeCommand').length, 0, 'no diff for a command');
  });

  it('dismissing the QuickPick answers "cancelled"', async () => {
    const fake = fakeVscode();
    fake.answers.showQuickPick = [undefined];
    const outcome = await confirmToolCall(fake.vs, new ProposedContent(fake.vs), 'quickPick', confirmParams('run_command', {}), new TokenSource().token);
    assert.equal(outcome, 'cancelled');
  });

  it('a server-side cancel ($/cancelRequest) answers "cancelled" even if something was picked', async () => {
    const fake = fakeVscode();
    const source = new TokenSource();
    fake.answers.showQuickPick = [(items: unknown) => {
      source.cancel();
      return (items as PickItem[])[0];
    }];
    const outcome = await confirmToolCall(fake.vs, new ProposedContent(fake.vs), 'quickPick', confirmParams('run_command', {}), source.token);
    assert.equal(outcome, 'cancelled');
  });

  it('modal style uses a modal warning with the args as detail', async () => {
    const fake = fakeVscode();
    fake.answers.showWarningMessage = ['Reject'];
    const outcome = await confirmToolCall(fake.vs, new ProposedContent(fake.vs), 'modal', confirmParams('run_command', { CommandLine: 'rm -rf build' }), new TokenSource().token);
    assert.equal(outcome, 'reject_once');
    const [title, opts, ...buttons] = fake.callsTo('showWarningMessage')[0] as [string, { modal: boolean; detail: string }, ...string[]];
    assert.match(title, /run_command/);
    assert.equal(opts.modal, true);
    assert.match(opts.detail, /rm -rf build/);
    assert.deepEqual(buttons, ['Allow once', 'Allow always', 'Reject', 'Reject always']);
  });

  it('shows a diff of the current file against the proposed content when a file would change', async () => {
    const fake = fakeVscode();
    fake.files.set('/work/project/a.txt', 'one\ntwo\n');
    fake.answers.showQuickPick = [(items: unknown) => (items as PickItem[]).find((i) => i.choice.kind === 'allow_once')];
    const proposed = new ProposedContent(fake.vs);
    const params = confirmParams('replace_file_content', {
      TargetFile: 'file:///work/project/a.txt',
      TargetContent: 'two',
      ReplacementContent: 'TWO',
      StartLine: 2,
      EndLine: 2,
      AllowMultiple: false,
      Instruction: 'upper-case two',
      Description: 'shout',
    });
    assert.equal(await confirmToolCall(fake.vs, proposed, 'quickPick', params, new TokenSource().token), 'allow_once');
    const [cmd, left, right, title] = fake.callsTo('executeCommand')[0] as [string, FakeUri, FakeUri, string];
    assert.equal(cmd, 'vscode.diff');
    assert.equal(left.toString(), 'file:///work/project/a.txt');
    assert.equal(right.scheme, ProposedContent.scheme);
    assert.equal(proposed.provideTextDocumentContent(right as never), 'one\nTWO\n');
    assert.match(title, /a\.txt/);
  });

  it('a new file diffs against an empty document', async () => {
    const fake = fakeVscode();
    fake.answers.showQuickPick = [undefined];
    const proposed = new ProposedContent(fake.vs);
    const write = { TargetFile: '/work/project/new.py', CodeContent: 'print(1)\n', Overwrite: false, Description: 'a script' };
    await confirmToolCall(fake.vs, proposed, 'quickPick', confirmParams('write_to_file', write), new TokenSource().token);
    const [, left, right, title] = fake.callsTo('executeCommand')[0] as [string, FakeUri, FakeUri, string];
    assert.equal(proposed.provideTextDocumentContent(left as never), '');
    assert.equal(proposed.provideTextDocumentContent(right as never), 'print(1)\n');
    assert.match(title, /new\.py: new file ↔ proposed by agy \(write_to_file\)/);
  });
});

// 40 lines, about 2,000 characters, the dangerous part last (issue #26).
const LONG_LINES = Array.from({ length: 39 }, (_, i) => `echo checking the build status now please wait step ${String(i).padStart(2, '0')} of 40 ok`);
const LONG_COMMAND = [...LONG_LINES, 'echo done; touch /tmp/PWNED-xyz'].join('\n');
const LONG_ARGS = { CommandLine: LONG_COMMAND, Cwd: '/tmp', Note: 'a\x1b[2Kb\rc' };
const unindent = (text: string) => text.split('\n').map((l) => l.replace(/^ {4}/, '')).join('\n');

describe('confirmation UI: the whole call (issue #26)', () => {
  it('QuickPick: a long command is opened whole beside, the question says so, and Reject is the default', async () => {
    assert.ok(LONG_COMMAND.length > 2000 && LONG_COMMAND.split('\n').length === 40);
    const fake = fakeVscode();
    const proposed = new ProposedContent(fake.vs);
    fake.answers.showQuickPick = [(items: unknown) => (items as PickItem[])[0]];
    const outcome = await confirmToolCall(fake.vs, proposed, 'quickPick', confirmParams('run_command', LONG_ARGS), new TokenSource().token);
    assert.equal(outcome, 'reject_once', 'the first item, the default, is Reject');
    const [opened, how] = fake.callsTo('showTextDocument')[0] as [FakeUri, { preserveFocus: boolean; viewColumn: number }];
    const whole = proposed.provideTextDocumentContent(opened as never);
    assert.ok(unindent(whole).includes(LONG_COMMAND), 'every line of the command is in the document opened beside');
    assert.ok(whole.includes('Cwd: /tmp') && whole.includes('a\\x1b[2Kb\\rc') && !whole.includes('\x1b'));
    assert.ok(whole.trimEnd().endsWith('(end of the call)'));
    assert.equal(how.preserveFocus, true);
    const [items, opts] = fake.callsTo('showQuickPick')[0] as [PickItem[], { title: string; ignoreFocusOut: boolean }];
    assert.deepEqual(items.map((i) => i.choice.kind), ['reject_once', 'allow_once', 'allow_always', 'reject_always']);
    assert.match(opts.title, /whole call \(\d+ lines\) is open beside; Reject is the default/);
    assert.match(items[0]?.detail ?? '', /Read the whole call/);
    assert.equal(opts.ignoreFocusOut, true, 'the person can scroll the document while asked');
  });

  it('modal: the detail holds every line down to the end mark, says how long it is, and Reject is the default button', async () => {
    const fake = fakeVscode();
    fake.answers.showWarningMessage = ['Reject'];
    const outcome = await confirmToolCall(fake.vs, new ProposedContent(fake.vs), 'modal', confirmParams('run_command', LONG_ARGS), new TokenSource().token);
    assert.equal(outcome, 'reject_once');
    const [, opts, ...buttons] = fake.callsTo('showWarningMessage')[0] as [string, { detail: string }, ...string[]];
    assert.ok(unindent(opts.detail).includes(LONG_COMMAND), 'every line of the command is in the modal');
    assert.ok(opts.detail.indexOf('; touch /tmp/PWNED-xyz') < opts.detail.lastIndexOf('(end of the call)'));
    assert.match(opts.detail, /This call is \d+ lines\. If you cannot read all of it down to "\(end of the call\)", choose Reject/);
    assert.ok(!opts.detail.includes('\x1b') && !opts.detail.includes('\r'));
    assert.deepEqual(buttons, ['Reject', 'Allow once', 'Allow always', 'Reject always'], 'the first button is the default');
  });
});

describe('editor host', () => {
  it('reads the active editor, the selection and diagnostics', () => {
    const fake = fakeVscode();
    const doc = new FakeDocument(FakeUri.file('/w/a.ts'), 'let x = 1;\nlet y = 2;\n');
    fake.editor = { document: doc, selection: selection({ line: 1, character: 4 }, { line: 1, character: 5 }) };
    fake.diagnostics = [[doc.uri, [{ message: 'unused y', severity: 1, source: 'ts', range: { start: { line: 1, character: 4 }, end: { line: 1, character: 5 } } }]]];
    const host = vsEditorHost(fake.vs);
    assert.deepEqual(host.activeDocument(), { uri: 'file:///w/a.ts', languageId: 'typescript', text: doc.text });
    assert.equal(host.selection()?.text, 'y');
    assert.deepEqual(host.selection()?.start, { line: 1, character: 4 });
    const all = host.diagnostics();
    assert.equal(all.length, 1);
    assert.equal(all[0]?.severity, 'warning');
    assert.equal(all[0]?.source, 'ts');
    assert.equal(host.diagnostics('file:///w/a.ts').length, 1);
    assert.equal(host.diagnostics('file:///w/other.ts').length, 0);
    fake.editor = undefined;
    assert.equal(host.activeDocument(), undefined);
  });
});

describe('controller against agy-lsp', { timeout: 120_000 }, () => {
  let server: Server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.close();
  });

  function controllerWith(fake: Fake, replies: unknown[], settings: Partial<AgySettings> = {}): AgentController {
    const s = { ...DEFAULT_SETTINGS, ...settings };
    return new AgentController(fake.vs, server.client, () => s, new ProposedContent(fake.vs), {
      agentDefaults: { backend: scripted(replies) },
    });
  }

  it('@agy streams text into the response stream, shows tool calls as progress, confirms via QuickPick, updates the status bar', async () => {
    const fake = fakeVscode();
    fake.answers.showQuickPick = [(items: unknown) => (items as PickItem[]).find((i) => i.choice.kind === 'allow_once')];
    const controller = controllerWith(fake, [{ toolCalls: [{ name: 'run_command', args: { CommandLine: 'ls' } }] }, { text: 'all done here' }]);
    try {
      const status = fake.statusItems[0];
      assert.ok(status?.shown);
      assert.match(status.text, /agy/);
      const stream: { markdown: string[]; progress: string[] } = { markdown: [], progress: [] };
      const handler = controller.chatHandler();
      const token = new TokenSource().token;
      const result = await handler(
        { prompt: 'list the files' } as never,
        { history: [] },
        { markdown: (t: string) => stream.markdown.push(t), progress: (t: string) => stream.progress.push(t) } as never,
        token as never,
      );
      assert.match(stream.markdown.join(''), /^all done here\n\n_prompt \d+ · output \d+ · total \d+ tokens_$/, 'the reply, then the usage of the turn');
      assert.ok(stream.progress.some((p) => /run_command: ls/.test(p)), stream.progress.join('|'));
      assert.ok(stream.progress.some((p) => /run_command finished/.test(p)), stream.progress.join('|'));
      assert.equal(fake.callsTo('showQuickPick').length, 1);
      assert.ok(result && typeof (result.metadata as { turnId?: string }).turnId === 'string');
      assert.equal(controller.state, 'idle');
      assert.match(status.text, /idle/);
      assert.match(status.text, /tok/);
      assert.ok((controller.totalUsage?.totalTokens ?? 0) > 0);
      assert.match(status.tooltip, /Last turn: \d+ tokens/);

      const doc = (await controller.showHistory()) as unknown as FakeDocument;
      assert.match(doc.text, /# agy history/);
      assert.match(doc.text, /run_command/);
      assert.equal(fake.callsTo('showTextDocument').length, 1);

      assert.equal(await controller.resetPermissions(), true);
      assert.match(String(fake.callsTo('showInformationMessage').at(-1)?.[0]), /cleared/);
    } finally {
      controller.dispose();
    }
  });

  it('agy.cancel stops a running turn and the participant reports it', async () => {
    const fake = fakeVscode();
    const controller = controllerWith(fake, [{ text: 'too slow', delayMs: 5000 }]);
    try {
      await controller.newAgent();
      const stream: string[] = [];
      const pending = controller.chatHandler()(
        { prompt: 'wait' } as never,
        { history: [] },
        { markdown: (t: string) => stream.push(t), progress: () => undefined } as never,
        new TokenSource().token as never,
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await controller.cancel(), true);
      const result = await pending;
      assert.deepEqual(result?.metadata, { cancelled: true });
      assert.match(stream.join(''), /Cancelled/);
    } finally {
      controller.dispose();
    }
  });

  it('inline edit shows a diff and applies the WorkspaceEdit on Accept', async () => {
    const fake = fakeVscode();
    const doc = new FakeDocument(FakeUri.file('/work/project/a.ts'), 'const a = 1;\nfoo();\n');
    fake.editor = { document: doc, selection: selection({ line: 0, character: 0 }, { line: 0, character: 12 }) };
    fake.answers.showInformationMessage = ['Accept'];
    const proposed = new ProposedContent(fake.vs);
    const controller = controllerWith(fake, [{ text: 'Here:\n```ts\nconst b = 2;\n```' }]);
    try {
      assert.equal(await inlineEdit(fake.vs, controller, proposed, 'rename a to b'), 'applied');
      const [cmd, left, right] = fake.callsTo('executeCommand')[0] as [string, FakeUri, FakeUri];
      assert.equal(cmd, 'vscode.diff');
      assert.equal(left.toString(), doc.uri.toString());
      assert.equal(proposed.provideTextDocumentContent(right as never), 'const b = 2;\nfoo();\n');
      assert.equal(fake.applied.length, 1);
      assert.equal(fake.applied[0]?.replacements[0]?.text, 'const b = 2;');
      assert.equal(doc.text, 'const b = 2;\nfoo();\n');
    } finally {
      controller.dispose();
    }
  });

  it('inline edit leaves the document alone on Reject, and needs a selection', async () => {
    const fake = fakeVscode();
    const doc = new FakeDocument(FakeUri.file('/work/project/a.ts'), 'const a = 1;\n');
    fake.editor = { document: doc, selection: selection({ line: 0, character: 0 }, { line: 0, character: 0 }) };
    const controller = controllerWith(fake, [{ text: '```\nx\n```' }]);
    try {
      assert.equal(await inlineEdit(fake.vs, controller, new ProposedContent(fake.vs), 'x'), 'no-selection');
      fake.editor.selection = selection({ line: 0, character: 0 }, { line: 0, character: 5 });
      fake.answers.showInformationMessage = ['Reject'];
      assert.equal(await inlineEdit(fake.vs, controller, new ProposedContent(fake.vs), 'x'), 'rejected');
      assert.equal(fake.applied.length, 0);
      assert.equal(doc.text, 'const a = 1;\n');
    } finally {
      controller.dispose();
    }
  });

  it('the chat panel streams the turn, shows tool calls as items with their outcome, and the usage', async () => {
    const fake = fakeVscode();
    let answer = 'reject_once';
    fake.answers.showQuickPick = [
      (items: unknown) => (items as PickItem[]).find((i) => i.choice.kind === answer),
      (items: unknown) => (items as PickItem[]).find((i) => i.choice.kind === 'allow_once'),
    ];
    const cmd = (c: string) => ({ toolCalls: [{ name: 'run_command', args: { CommandLine: c } }] });
    const controller = controllerWith(fake, [{ text: 'panel **reply**', chunks: 2, chunkDelayMs: 30 }, cmd('rm -rf x'), { text: 'ok, not removed' }, cmd('echo hi'), { text: 'ran it' }]);
    try {
      const posted: ToWebview[] = [];
      const copied: string[] = [];
      const opened: string[] = [];
      const handle = chatPanelHandler(controller, (m) => posted.push(m), {
        copy: async (t) => void copied.push(t),
        open: async (h) => void opened.push(h),
      });
      await handle({ type: 'prompt', text: 'hello panel' });
      assert.deepEqual(posted[0], { type: 'start', prompt: 'hello panel' });
      assert.equal(posted.filter((m) => m.type === 'text').map((m) => (m as { text: string }).text).join(''), 'panel **reply**');
      const done = posted.at(-1) as Extract<ToWebview, { type: 'done' }>;
      assert.equal(done.type, 'done');
      assert.equal(done.cancelled, false);
      assert.match(done.usage ?? '', /prompt \d+ · output \d+ · total \d+ tokens/);

      posted.length = 0;
      await handle({ type: 'prompt', text: 'remove x' });
      const denied = posted.filter((m) => m.type === 'tool').map((m) => (m).item);
      // Asked, answered "no", then the server's toolResult (outcome denied) adds the reason: never running, never failed.
      assert.deepEqual(denied.map((i) => i.state), ['asking', 'denied', 'denied']);
      assert.equal(denied[0]?.name, 'run_command');
      assert.equal(denied[0]?.args.CommandLine, 'rm -rf x');
      assert.ok(denied.every((i) => i.id === denied[0]?.id), 'one id across confirm and chunks');
      assert.equal(denied[2]?.outcome, 'denied');
      assert.match(denied[2]?.error ?? '', /reject/i, 'the reason, for a person');
      assert.equal(denied[2]?.result, undefined);

      posted.length = 0;
      answer = 'allow_once';
      await handle({ type: 'prompt', text: 'say hi' });
      const allowed = posted.filter((m) => m.type === 'tool').map((m) => (m).item);
      assert.deepEqual(allowed.map((i) => i.state), ['asking', 'allowed', 'running', 'done']);
      assert.ok(allowed.every((i) => i.id === allowed[0]?.id), 'one id across confirm and chunks');
      assert.equal(allowed[2]?.args.CommandLine, 'echo hi', 'keeps the arguments the person saw');
      assert.match(JSON.stringify(allowed[3]?.result), /hi/);
      assert.equal(allowed[3]?.outcome, 'completed');

      await handle({ type: 'copy', text: 'npm test' });
      assert.deepEqual(copied, ['npm test']);
      assert.deepEqual(posted.at(-1), { type: 'copied' });
      await handle({ type: 'open', href: 'src/a.ts#L3' });
      assert.deepEqual(opened, ['src/a.ts#L3']);
    } finally {
      controller.dispose();
    }
  });

  it('Stop in the chat panel cancels the turn and marks running tools cancelled', async () => {
    const fake = fakeVscode();
    const controller = controllerWith(fake, [{ text: 'never finished', delayMs: 5000 }]);
    try {
      const posted: ToWebview[] = [];
      const handle = chatPanelHandler(controller, (m) => posted.push(m));
      const turn = handle({ type: 'prompt', text: 'slow' });
      await new Promise((r) => setTimeout(r, 300));
      await handle({ type: 'cancel' });
      await turn;
      assert.deepEqual(posted.at(-1), { type: 'done', cancelled: true });
    } finally {
      controller.dispose();
    }
  });
});

describe('chat panel page and links', () => {
  it('has a strict CSP: no inline script or style, the script by nonce', () => {
    const html = chatPanelHtml({ cspSource: 'vscode-resource:' }, 'abc123', 'vscode-resource:/dist/webview.js', 'vscode-resource:/media/chat.css');
    const csp = /content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(html, /<script nonce="abc123" src="vscode-resource:\/dist\/webview.js"><\/script>/);
    assert.doesNotMatch(html, /<style|\sstyle="|\son[a-z]+="/i, 'no inline styles or handlers');
  });

  it('opens file links in the editor at the line, web links outside', async () => {
    const fake = fakeVscode();
    fake.files.set('/work/project/src/a.ts', 'x');
    assert.equal(await openLink(fake.vs, 'src/a.ts#L3'), true);
    const [uri, opts] = fake.callsTo('showTextDocument')[0] as [FakeUri, { selection: { start: { line: number } } }];
    assert.equal(uri.fsPath, '/work/project/src/a.ts');
    assert.equal(opts.selection.start.line, 2);
    assert.equal(await openLink(fake.vs, 'https://example.com/x'), true);
    assert.equal(String(fake.callsTo('openExternal')[0]?.[0]), 'https://example.com/x');
    assert.equal(await openLink(fake.vs, 'missing.ts'), false);
    assert.match(String(fake.callsTo('showWarningMessage').at(-1)?.[0]), /missing\.ts is not in the workspace/);
  });

  it('tool items become progress lines where the sink has no item view', () => {
    assert.equal(toolProgress({ id: '1', name: 'run_command', args: { CommandLine: 'ls' }, state: 'running' }), 'Running run_command: ls');
    assert.equal(toolProgress({ id: '1', name: 'run_command', args: {}, state: 'denied' }), 'run_command denied');
    assert.match(toolProgress({ id: '1', name: 'x', args: {}, state: 'asking' }) ?? '', /Waiting for your answer/);
  });
});
