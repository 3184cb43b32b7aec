// The SDK features of issue #15 through the glue, against the real agy-lsp on
// scripted models, with a fake VS Code: subagent work nested under the delegating
// call (panel) and quoted (@agy), plan mode with its checklist and "Go ahead",
// the policy and thinking-level commands (agy/configureAgent), the auto preset,
// and model options from the settings.

import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chatPanelHandler, type ToWebview } from '../src/glue/chatPanel';
import { AgentController } from '../src/glue/controller';
import { ProposedContent } from '../src/glue/vs';
import { TokenSource } from '../src/protocol/cancellation';
import { GO_AHEAD } from '../src/protocol/plan';
import { DEFAULT_SETTINGS, type AgySettings } from '../src/protocol/settings';
import type { SubagentBlock } from '../src/protocol/subagents';
import type { ToolItem } from '../src/protocol/toolItems';
import type { Backend, Plan } from '../src/protocol/types';
import { FakeUri, fakeVscode, type Fake } from './fakeVscode';
import { scripted, startRecordingModel, startServer, subagentRequest, type RecordingModel, type Server } from './server';

const DELEGATE = {
  toolCalls: [{ name: 'invoke_subagent', args: { Subagents: [{ TypeName: 'self', Role: 'Helper', Prompt: 'say hi' }], toolSummary: 'Help', toolAction: 'Asking' } }],
};
// The agent delegates; then the agent (after the call) and the subagent each take one of
// the next two replies, whoever asks first; the agent ends with the third.
const REPLIES = ['one two', 'three four', 'five six'];
const SUBAGENT_SCRIPT = [DELEGATE, ...REPLIES.map((text) => ({ text })), { text: 'extra' }];

/** What the subagent said and what the agent said, from the order the model got their requests in. */
async function whoSaidWhat(model: RecordingModel): Promise<{ sub: string; own: string[] }> {
  await model.waitForRequests(4);
  const k = subagentRequest(model.requests, 'say hi');
  assert.ok(k === 1 || k === 2, `the subagent asked second or third (request ${k})`);
  return { sub: REPLIES[k - 1] ?? '', own: REPLIES.filter((_, i) => i !== k - 1) };
}
const PLAN_MD = '# Plan\n\n- [x] read the code\n- [/] write the parser\n- [ ] test it\n';

function planScript(folder: string): unknown[] {
  const write = { TargetFile: path.join(folder, 'implementation_plan.md'), CodeContent: PLAN_MD, Overwrite: true, Description: 'the plan' };
  return [{ toolCalls: [{ name: 'write_to_file', args: write }] }, { text: 'Here is my plan. Shall I go ahead?' }, { text: 'Done: parser built.' }];
}

interface PickItem {
  label: string;
  choice?: { kind: string };
}

const allowOnce = (items: unknown) => (items as PickItem[]).find((i) => i.choice?.kind === 'allow_once');

function controllerOn(server: Server, fake: Fake, backend: Backend, settings: Partial<AgySettings> = {}): AgentController {
  const s = { ...DEFAULT_SETTINGS, ...settings };
  return new AgentController(fake.vs, server.client, () => s, new ProposedContent(fake.vs), { agentDefaults: { backend } });
}

function chatStream() {
  const out = { markdown: '', progress: [] as string[] };
  const stream = { markdown: (t: string) => (out.markdown += t), progress: (t: string) => out.progress.push(t) };
  return { out, stream };
}

function withFolder(fake: Fake): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'agy-vscode-plan-'));
  (fake.vs.workspace as { workspaceFolders: unknown }).workspaceFolders = [{ uri: FakeUri.file(folder), name: 'w', index: 0 }];
  return folder;
}

describe('SDK features against agy-lsp', { timeout: 180_000 }, () => {
  let server: Server;
  let model: RecordingModel;
  before(
    async () => {
      [server, model] = await Promise.all([startServer(), startRecordingModel()]);
    },
    { timeout: 60_000 },
  );
  after(
    async () => {
      model?.stop();
      await server?.close();
    },
    { timeout: 60_000 },
  );
  const openai = (): Backend => ({ type: 'openai', baseUrl: model.url, model: 'scripted' });

  it('the chat panel nests a subagent\'s work under the call that delegated it', async () => {
    const fake = fakeVscode();
    await model.swap(SUBAGENT_SCRIPT);
    const controller = controllerOn(server, fake, openai(), { policyPreset: 'allowAll' });
    try {
      const posted: ToWebview[] = [];
      const handle = chatPanelHandler(controller, (m) => posted.push(m));
      await handle({ type: 'prompt', text: 'delegate' });
      const delegation = posted.filter((m): m is { type: 'tool'; item: ToolItem } => m.type === 'tool').map((m) => m.item);
      assert.deepEqual(delegation.map((i) => [i.name, i.state]), [['invoke_subagent', 'running'], ['invoke_subagent', 'done']]);
      assert.equal(delegation[1]?.outcome, 'completed');
      const blocks = posted.filter((m): m is { type: 'subagent'; block: SubagentBlock } => m.type === 'subagent').map((m) => m.block);
      assert.equal(blocks.length, 1, JSON.stringify(posted));
      const block = blocks[0];
      assert.equal(block?.callId, delegation[0]?.id, 'under the delegating call');
      assert.equal(block?.depth, 1);
      assert.equal(block?.label, 'Helper (self): say hi');
      const texts = posted.filter((m): m is { type: 'text'; text: string; trajectoryId?: string } => m.type === 'text');
      const sub = texts.filter((m) => m.trajectoryId === block?.trajectoryId).map((m) => m.text).join('');
      const own = texts.filter((m) => !m.trajectoryId).map((m) => m.text).join('');
      const said = await whoSaidWhat(model);
      assert.equal(sub, said.sub, 'the subagent\'s text, in its block');
      assert.equal(own, said.own.join('\n\n'), 'the agent\'s own answer, without the subagent\'s, a paragraph a step');
      const opened = posted.findIndex((m) => m.type === 'subagent');
      assert.ok(opened >= 0 && opened < posted.findIndex((m) => m.type === 'text' && m.trajectoryId), 'the block opens before its text');
      const done = posted.at(-1) as Extract<ToWebview, { type: 'done' }>;
      assert.match(done.usage ?? '', /total \d+ tokens · \d+ by the subagent$/);
    } finally {
      controller.dispose();
    }
  });

  it('@agy quotes the subagent\'s work under its label, apart from the answer', async () => {
    const fake = fakeVscode();
    await model.swap(SUBAGENT_SCRIPT);
    const controller = controllerOn(server, fake, openai(), { policyPreset: 'allowAll' });
    try {
      const { out, stream } = chatStream();
      const result = await controller.chatHandler()({ prompt: 'delegate' } as never, { history: [] }, stream as never, new TokenSource().token as never);
      assert.ok(result && !result.errorDetails, JSON.stringify(result));
      const said = await whoSaidWhat(model);
      assert.ok(out.markdown.includes(`> **↳ subagent** Helper (self): say hi\n> \n> ${said.sub}\n\n`), out.markdown);
      const outside = out.markdown.replace(/^> .*$/gm, '');
      assert.doesNotMatch(outside, new RegExp(said.sub), 'the subagent\'s text only in its quote');
      for (const text of said.own) assert.ok(outside.includes(text), `${text} in the answer: ${out.markdown}`);
      assert.match(out.markdown, /\d+ by the subagent_$/);
      assert.ok(out.progress.some((p) => /Running invoke_subagent: Helper: say hi/.test(p)), out.progress.join('|'));
    } finally {
      controller.dispose();
    }
  });

  it('plan mode in the panel: /plan makes the agent interactive, the plan streams with its checklist, Go ahead carries it out', async () => {
    const fake = fakeVscode();
    const folder = withFolder(fake);
    // Writing the plan asks first (safeDefaults), with the diff of the new file.
    fake.answers.showQuickPick = [allowOnce];
    const controller = controllerOn(server, fake, scripted(planScript(folder)));
    try {
      await controller.newAgent();
      const agentId = controller.agentId ?? '';
      assert.equal((await server.client.status(agentId)).spec?.capabilities?.agentBehavior, undefined, 'autonomous at first');
      const posted: ToWebview[] = [];
      const handle = chatPanelHandler(controller, (m) => posted.push(m));
      await handle({ type: 'prompt', text: '/plan build a parser' });
      const status = await server.client.status(agentId);
      assert.equal(status.spec?.capabilities?.agentBehavior, 'interactive', 'made interactive for planning');
      assert.equal(controller.agentId, agentId, 'the same agent and conversation');
      const note = posted.find((m) => m.type === 'note');
      assert.match(note?.type === 'note' ? note.text : '', /now interactive/);
      const [cmd, , , title] = fake.callsTo('executeCommand')[0] as [string, unknown, unknown, string];
      assert.equal(cmd, 'vscode.diff');
      assert.match(title, /implementation_plan\.md: new file ↔ proposed by agy \(write_to_file\)/);
      const plans = posted.filter((m): m is { type: 'plan'; plan: Plan } => m.type === 'plan').map((m) => m.plan);
      assert.equal(plans.length, 1);
      assert.equal(plans[0]?.path, path.join(folder, 'implementation_plan.md'));
      assert.deepEqual(plans[0]?.entries.map((e) => e.status), ['completed', 'in_progress', 'pending']);
      const done = posted.at(-1) as Extract<ToWebview, { type: 'done' }>;
      assert.equal(done.awaitingGo, true, 'the plan offers Go ahead');

      posted.length = 0;
      await handle({ type: 'go' });
      assert.deepEqual(posted[0], { type: 'start', prompt: GO_AHEAD });
      assert.equal(posted.filter((m) => m.type === 'text').map((m) => (m as { text: string }).text).join(''), 'Done: parser built.');
      assert.equal((posted.at(-1) as Extract<ToWebview, { type: 'done' }>).awaitingGo, undefined);
    } finally {
      controller.dispose();
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('@agy /plan shows the plan as Markdown and offers Go ahead as a follow-up', async () => {
    const fake = fakeVscode();
    const folder = withFolder(fake);
    const controller = controllerOn(server, fake, scripted(planScript(folder)), { policyPreset: 'allowAll' });
    try {
      const { out, stream } = chatStream();
      const result = await controller.chatHandler()({ prompt: 'build a parser', command: 'plan' } as never, { history: [] }, stream as never, new TokenSource().token as never);
      assert.ok(result && !result.errorDetails, JSON.stringify(result));
      assert.match(out.markdown, /\*\*▤ Plan\*\* · implementation_plan\.md · 1\/3 done\n\n#### Plan\n\n- ✔ read the code\n- ◐ write the parser\n- ○ test it\n/);
      assert.match(out.markdown, /Here is my plan\. Shall I go ahead\?/);
      assert.match(out.markdown, /Review the plan, then \*\*Go ahead\*\*/);
      assert.equal((result.metadata as { awaitingGo?: boolean }).awaitingGo, true);
      assert.deepEqual(controller.followups(result), [{ prompt: GO_AHEAD, label: 'Go ahead' }]);
      assert.deepEqual(controller.followups({ metadata: { awaitingGo: false } }), []);
      const history = await server.client.history(controller.agentId ?? '');
      assert.ok(history.steps.some((s) => s.content?.includes('/plan build a parser')), 'the prompt went as /plan');
    } finally {
      controller.dispose();
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('a compaction of older history shows as a note in the turn', async () => {
    const fake = fakeVscode();
    const talk = { text: 'word '.repeat(4000), chunks: 4 };
    const s = { ...DEFAULT_SETTINGS };
    const controller = new AgentController(fake.vs, server.client, () => s, new ProposedContent(fake.vs), {
      agentDefaults: { backend: scripted([talk, talk, { text: 'the summary' }, { text: 'after' }]), compaction: { tokenThreshold: 20000 } },
    });
    try {
      const posted: ToWebview[] = [];
      const handle = chatPanelHandler(controller, (m) => posted.push(m));
      for (const prompt of ['one', 'two', 'three']) await handle({ type: 'prompt', text: prompt });
      const notes = posted.filter((m): m is Extract<ToWebview, { type: 'note' }> => m.type === 'note');
      assert.equal(notes.length, 1, JSON.stringify(notes));
      assert.equal(notes[0]?.note, 'compaction');
      assert.match(notes[0]?.text ?? '', /^⟲ history compacted: \S/);
      assert.equal(posted.filter((m) => m.type === 'text').map((m) => (m as { text: string }).text).join('').endsWith('after'), true);
    } finally {
      controller.dispose();
    }
  });

  it('agy: Set Tool Policy changes the current agent between turns (auto, then allowAll runs without asking)', async () => {
    const fake = fakeVscode();
    const cmd = (c: string) => ({ toolCalls: [{ name: 'run_command', args: { CommandLine: c, Cwd: os.tmpdir() } }] });
    const controller = controllerOn(server, fake, scripted([{ text: 'hello' }, cmd('echo unasked'), { text: 'ran it' }, { text: 'slow', delayMs: 1500 }]));
    try {
      const notices: string[] = [];
      controller.onNotice((t) => notices.push(t));
      const sink = { markdown: () => undefined, progress: () => undefined };
      await controller.runTurn('hi', sink);
      const agentId = controller.agentId ?? '';
      fake.answers.showQuickPick = [(items: unknown) => (items as PickItem[]).find((i) => i.label === 'auto')];
      assert.equal(await controller.setPolicy(), true);
      const [items, opts] = fake.callsTo('showQuickPick')[0] as [PickItem[] & { description: string }[], { title: string }];
      assert.deepEqual(items.map((i) => i.label), ['safeDefaults', 'confirmRunCommand', 'allowAll', 'denyAll', 'workspaceOnly', 'auto']);
      assert.match(items[0]?.description ?? '', /\(current\)/);
      assert.match(items[5]?.description ?? '', /safety model/);
      assert.match(opts.title, /tool policy/);
      assert.equal((await server.client.status(agentId)).spec?.policies, 'auto');
      assert.deepEqual(notices, ['policy auto (from the next turn)']);
      assert.match(controller.statusItem.tooltip as string, /Policy: auto/);

      assert.equal(await controller.setPolicy('allowAll'), true);
      const progress: string[] = [];
      await controller.runTurn('make it', { markdown: () => undefined, progress: (t) => progress.push(t) });
      assert.equal(fake.callsTo('showQuickPick').length, 1, 'allowAll: run_command was not asked about');
      assert.ok(progress.includes('run_command finished'), progress.join('|'));
      assert.equal(controller.agentId, agentId, 'the same agent');

      // During a turn the agent cannot change: said, not done.
      const running = controller.runTurn('slow one', sink);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await controller.setPolicy('denyAll'), false);
      assert.match(String(fake.callsTo('showWarningMessage').at(-1)?.[0]), /a turn is running/);
      await running;
      assert.equal((await server.client.status(agentId)).spec?.policies, 'allowAll');
      assert.equal(await controller.setPolicy('sometimes'), false);
      assert.match(String(fake.callsTo('showErrorMessage').at(-1)?.[0]), /unknown policy preset "sometimes"/);
    } finally {
      controller.dispose();
    }
  });

  it('a thinking level is refused for an OpenAI-compatible model with the reason; from the settings the agent starts without it, said once', async () => {
    const fake = fakeVscode();
    const controller = controllerOn(server, fake, scripted([{ text: 'one' }, { text: 'two' }]), { thinkingLevel: 'high' });
    try {
      await controller.runTurn('hi', { markdown: () => undefined, progress: () => undefined });
      assert.ok(controller.agentId, 'the agent started');
      assert.equal(controller.config.modelOptions, undefined);
      assert.match(String(fake.callsTo('showWarningMessage')[0]?.[0]), /apply to Gemini and Vertex models only/);
      await controller.newAgent();
      assert.equal(fake.callsTo('showWarningMessage').length, 1, 'said once');
      assert.equal(await controller.setThinkingLevel('low'), false);
      assert.match(String(fake.callsTo('showErrorMessage').at(-1)?.[0]), /thinking level low: the thinking level needs a Gemini or Vertex model/);
      assert.equal(await controller.setThinkingLevel('extreme'), false);
      assert.match(String(fake.callsTo('showErrorMessage').at(-1)?.[0]), /unknown thinking level "extreme"/);
    } finally {
      controller.dispose();
    }
  });
});

describe('the thinking level on a Gemini model', { timeout: 120_000 }, () => {
  let model: RecordingModel;
  let server: Server;
  before(
    async () => {
      model = await startRecordingModel([{ text: 'one' }, { text: 'two' }]);
      server = await startServer({ env: { GOOGLE_GEMINI_BASE_URL: model.geminiBaseUrl, GEMINI_API_KEY: 'scripted-not-a-key' } });
    },
    { timeout: 60_000 },
  );
  after(
    async () => {
      model?.stop();
      await server?.close();
    },
    { timeout: 60_000 },
  );

  it('reaches the model from the settings, and agy: Set Thinking Level changes it for the next turn', async () => {
    const fake = fakeVscode();
    const controller = controllerOn(server, fake, { type: 'gemini', model: 'scripted' }, { backend: 'gemini', thinkingLevel: 'low', maxOutputTokens: 1234 });
    try {
      const sink = { markdown: () => undefined, progress: () => undefined };
      await controller.runTurn('first', sink);
      await model.waitForRequests(1);
      const config = (n: number) => (model.requests[n]?.generationConfig ?? {}) as { thinkingConfig?: { thinkingLevel?: string }; maxOutputTokens?: number };
      assert.equal(config(0).thinkingConfig?.thinkingLevel, 'low', JSON.stringify(model.requests[0]?.generationConfig));
      assert.equal(config(0).maxOutputTokens, 1234);
      fake.answers.showQuickPick = [(items: unknown) => (items as PickItem[]).find((i) => i.label === 'high')];
      assert.equal(await controller.setThinkingLevel(), true);
      const [items] = fake.callsTo('showQuickPick')[0] as [(PickItem & { description: string })[]];
      assert.deepEqual(items.map((i) => i.label), ['minimal', 'low', 'medium', 'high', 'extra_high']);
      assert.equal(items[1]?.description, 'current');
      await controller.runTurn('second', sink);
      await model.waitForRequests(2);
      const last = model.requests.length - 1;
      assert.equal(config(last).thinkingConfig?.thinkingLevel, 'high');
      assert.equal(config(last).maxOutputTokens, 1234, 'the other model options stay');
      const spec = (await server.client.status(controller.agentId ?? '')).spec;
      assert.deepEqual(spec?.modelOptions, { thinkingLevel: 'high', maxOutputTokens: 1234 });
      assert.match(String(fake.callsTo('showInformationMessage').at(-1)?.[0]), /thinking level high \(from the next turn\)/);
    } finally {
      controller.dispose();
    }
  });
});
