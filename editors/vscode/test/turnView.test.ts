// Pure protocol-layer units for what the server's protocol added: tool outcomes,
// subagent marks and nesting, plans, compaction notes, the @agy Markdown of a turn,
// the new settings and the configureAgent error wording.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { TurnAssembler, describeToolResult, subagentMark, type TurnEvent } from '../src/protocol/chunks';
import { explainConfigureError, toolProgress } from '../src/glue/controller';
import { MarkdownTurnWriter } from '../src/protocol/markdownTurn';
import { errorField } from '../src/protocol/methods';
import { GO_AHEAD, compactionText, isPlanPrompt, planMarkdown, planPrompt, planSummary, taskMarker } from '../src/protocol/plan';
import { DEFAULT_SETTINGS, PRESET_HELP, PRESETS, createAgentParams, interactive, modelOptionsFor, policyFor, readSettings } from '../src/protocol/settings';
import { renderHistory, statusView } from '../src/protocol/status';
import { SubagentTracker, subagentLabel } from '../src/protocol/subagents';
import { ToolItems, mainArgument, stateOfResult, subagentUsage, usageLine } from '../src/protocol/toolItems';
import type { ChatChunk, Plan } from '../src/protocol/types';

const base = { agentId: 'a', turnId: 't' };
const SUB = { trajectoryId: 'sub-1', parentTrajectoryId: 'main', depth: 1, parentCallId: 'c1' };
const DELEGATE_ARGS = { Subagents: [{ TypeName: 'self', Role: 'Helper', Prompt: 'say hi' }] };
const PLAN: Plan = {
  path: '/w/implementation_plan.md',
  markdown: '# Plan\n\n- [x] read the code\n- [/] write the parser\n- [ ] test it\n',
  entries: [
    { content: 'read the code', status: 'completed' },
    { content: 'write the parser', status: 'in_progress' },
    { content: 'test it', status: 'pending' },
  ],
};

describe('chunks of the current protocol', () => {
  it('marks a subagent\'s chunks and keeps its text out of the turn\'s text', () => {
    const a = new TurnAssembler();
    const chunks: ChatChunk[] = [
      { ...base, seq: 1, kind: 'toolCall', toolCall: { id: 'c1', name: 'invoke_subagent', args: DELEGATE_ARGS }, stepId: 'main:1' },
      { ...base, seq: 2, kind: 'text', text: 'sub says hi', stepId: 'sub-1:1', ...SUB },
      { ...base, seq: 3, kind: 'text', text: 'waiting', stepId: 'main:2' },
      { ...base, seq: 4, kind: 'compaction', text: 'summarised 12 steps' },
      { ...base, seq: 5, kind: 'plan', text: PLAN.markdown, plan: PLAN },
    ];
    const events = chunks.flatMap((c) => a.push(c));
    assert.deepEqual(events.map((e) => e.kind), ['toolCall', 'text', 'text', 'compaction', 'plan']);
    assert.deepEqual(events[1]?.sub, SUB);
    assert.equal(events[1]?.stepId, 'sub-1:1');
    assert.equal(events[2]?.sub, undefined, 'the agent\'s own text is not marked');
    assert.equal(a.text, 'waiting', 'a subagent\'s text is not the agent\'s answer');
    assert.deepEqual(a.subagents, ['sub-1']);
    assert.deepEqual((events[3] as Extract<TurnEvent, { kind: 'compaction' }>).text, 'summarised 12 steps');
    assert.deepEqual(a.plans, [PLAN]);
    assert.equal(subagentMark({ depth: 0, trajectoryId: 'x' }), undefined);
    assert.deepEqual(subagentMark({ depth: 2 }), { trajectoryId: 'depth-2', depth: 2 });
  });

  it('a retry chunk is an event of its own, not part of the text', () => {
    const a = new TurnAssembler();
    const text = 'model request failed (HTTP 503: overloaded), retrying (attempt 2)';
    const events = a.push({ ...base, seq: 1, kind: 'retry', text, retry: { attempt: 2, reason: 'HTTP 503: overloaded' } });
    assert.deepEqual(events, [{ kind: 'retry', text }]);
    assert.equal(a.text, '');
  });

  it('a plan chunk without its plan object falls back to its text', () => {
    const a = new TurnAssembler();
    const [e] = a.push({ ...base, seq: 1, kind: 'plan', text: '- [ ] a' });
    assert.deepEqual(e?.kind === 'plan' ? e.plan : undefined, { path: 'plan', markdown: '- [ ] a', entries: [] });
  });

  it('describes results by their outcome', () => {
    assert.equal(describeToolResult({ name: 'run_command', outcome: 'denied', error: 'you rejected the tool call' }), 'run_command denied: you rejected the tool call');
    assert.equal(describeToolResult({ name: 'run_command', outcome: 'cancelled' }), 'run_command cancelled');
    assert.equal(describeToolResult({ name: 'view_file', outcome: 'failed', error: 'no such file' }), 'view_file failed: no such file');
    assert.equal(describeToolResult({ name: 'view_file', outcome: 'completed', result: '1: x' }), 'view_file finished');
  });
});

describe('tool items and outcomes', () => {
  it('a denied call stays denied when its toolCall chunk comes, and its toolResult brings the reason', () => {
    const items = new ToolItems();
    const call = { id: 'c1', name: 'run_command', args: { CommandLine: 'rm -rf x' } };
    items.asking(call);
    assert.equal(items.answered(call, 'reject_once').state, 'denied');
    const started = items.started({ id: 'c1', name: 'run_command', args: { command_line: 'rm -rf x' } });
    assert.equal(started.state, 'denied', 'a call that was refused never runs');
    assert.deepEqual(started.args, { CommandLine: 'rm -rf x' });
    const ended = items.finished({ id: 'c1', name: 'run_command', outcome: 'denied', error: 'you rejected the tool call' });
    assert.deepEqual([ended.state, ended.outcome, ended.error, ended.result], ['denied', 'denied', 'you rejected the tool call', undefined]);
  });

  it('maps every outcome; a policy denial without a question is denied, not failed', () => {
    assert.equal(stateOfResult({ outcome: 'completed' }), 'done');
    assert.equal(stateOfResult({ outcome: 'failed', error: 'x' }), 'failed');
    assert.equal(stateOfResult({ outcome: 'denied', error: 'a policy denies run_command' }), 'denied');
    assert.equal(stateOfResult({ outcome: 'cancelled', error: 'the turn was cancelled' }), 'cancelled');
    assert.equal(stateOfResult({ error: 'x' }), 'failed', 'without an outcome, an error is a failure');
    const items = new ToolItems();
    items.started({ id: 'p', name: 'run_command' });
    assert.equal(items.finished({ id: 'p', name: 'run_command', outcome: 'denied', error: 'denied by policy' }).state, 'denied');
    items.started({ id: 'q', name: 'write_to_file', args: { file_path: '/w/a' } });
    const done = items.finished({ id: 'q', name: 'write_to_file', outcome: 'completed', result: 'Created file file:///w/a' });
    assert.deepEqual([done.state, done.result], ['done', 'Created file file:///w/a']);
    assert.deepEqual(items.finishAll(), [], 'nothing left running: every call got its result');
  });

  it('a subagent\'s call carries its trajectory, and its progress line is indented', () => {
    const items = new ToolItems();
    const item = items.started({ id: 's1', name: 'run_command', args: { CommandLine: 'ls' } }, SUB);
    assert.equal(item.trajectoryId, 'sub-1');
    assert.equal(item.depth, 1);
    assert.equal(toolProgress(item), '↳ Running run_command: ls');
    assert.equal(toolProgress({ ...item, depth: 2, state: 'done' }), '↳ ↳ run_command finished');
    assert.equal(toolProgress({ id: '1', name: 'run_command', args: {}, state: 'denied', error: 'you rejected the tool call' }), 'run_command denied: you rejected the tool call');
  });

  it('names the main argument in both spellings, and a delegation by its subagents', () => {
    assert.equal(mainArgument({ TargetFile: '/w/a.py', CodeContent: 'x' }), '/w/a.py');
    assert.equal(mainArgument({ file_path: '/w/a.py' }), '/w/a.py');
    assert.equal(mainArgument(DELEGATE_ARGS), 'Helper: say hi');
    assert.equal(mainArgument({}), '');
  });

  it('adds the subagents\' share to the usage line', () => {
    const usage = subagentUsage([{ trajectoryId: 'main', usage: { totalTokens: 500 } }, { trajectoryId: 'sub-1', usage: { totalTokens: 200 } }], ['sub-1']);
    assert.deepEqual(usage, { tokens: 200, count: 1 });
    assert.equal(subagentUsage([{ trajectoryId: 'main', usage: { totalTokens: 1 } }], []), undefined);
    assert.equal(usageLine({ promptTokens: 600, candidatesTokens: 100, totalTokens: 700 }, usage), 'prompt 600 · output 100 · total 700 tokens · 200 by the subagent');
    assert.match(usageLine({ totalTokens: 9 }, { tokens: 5, count: 2 }), /5 by 2 subagents$/);
  });
});

describe('subagent nesting', () => {
  it('opens a block under the call the chunk names, labelled from its arguments, not under the newest delegation', () => {
    const t = new SubagentTracker();
    t.call({ id: 'c0', name: 'invoke_subagent', args: { Subagents: [{ TypeName: 'research', Role: 'Scout', Prompt: 'look' }] } });
    t.call({ id: 'c1', name: 'invoke_subagent', args: DELEGATE_ARGS });
    const first = t.open({ trajectoryId: 'sub-0', parentTrajectoryId: 'main', depth: 1, parentCallId: 'c0' });
    assert.equal(first.isNew, true);
    assert.deepEqual(first.block, { trajectoryId: 'sub-0', depth: 1, callId: 'c0', label: 'Scout (research): look' }, 'no result yet, and c1 is newer');
    assert.equal(t.open(SUB).block.callId, 'c1');
    assert.equal(t.open(SUB).isNew, false);
    assert.equal(t.block('sub-1')?.label, 'Helper (self): say hi');
  });

  it('nests a subagent\'s subagent, and names a subagent without a known call by its id', () => {
    const t = new SubagentTracker();
    t.call({ id: 'c1', name: 'invoke_subagent', args: DELEGATE_ARGS });
    assert.equal(t.open(SUB).block.callId, 'c1');
    t.call({ id: 'c2', name: 'invoke_subagent', args: { Subagents: [{ TypeName: 'self', Role: 'Deeper', Prompt: 'dig' }] } });
    const deep = t.open({ trajectoryId: 'sub-2', parentTrajectoryId: 'sub-1', depth: 2, parentCallId: 'c2' }).block;
    assert.deepEqual(deep, { trajectoryId: 'sub-2', parentTrajectoryId: 'sub-1', depth: 2, callId: 'c2', label: 'Deeper (self): dig' });
    const orphan = t.open({ trajectoryId: 'abcdef123456', depth: 1 }).block;
    assert.deepEqual(orphan, { trajectoryId: 'abcdef123456', depth: 1, label: 'subagent abcdef12' }, 'no parentCallId: no guess');
    assert.equal(subagentLabel({ Subagents: [{ TypeName: 'research' }] }, 0), 'research');
    assert.equal(subagentLabel({}, 0), undefined);
  });
});

describe('plans and compaction', () => {
  it('recognises /plan prompts', () => {
    assert.equal(isPlanPrompt('/plan build a parser'), true);
    assert.equal(isPlanPrompt('  /plan'), true);
    assert.equal(isPlanPrompt('/planet'), false);
    assert.equal(isPlanPrompt('please /plan'), false);
    assert.equal(isPlanPrompt([{ type: 'text', text: '/plan x' }]), false);
    assert.equal(planPrompt('build a parser'), '/plan build a parser');
    assert.equal(planPrompt('/plan x '), '/plan x');
    assert.equal(GO_AHEAD, 'Go ahead with the plan.');
  });

  it('reads checklist items and sums the plan up', () => {
    assert.deepEqual(taskMarker('[x] read the code'), { status: 'completed', rest: 'read the code' });
    assert.deepEqual(taskMarker('[/] write'), { status: 'in_progress', rest: 'write' });
    assert.deepEqual(taskMarker('[ ] test'), { status: 'pending', rest: 'test' });
    assert.equal(taskMarker('plain'), undefined);
    assert.equal(planSummary(PLAN), 'implementation_plan.md · 1/3 done');
    assert.equal(planSummary({ path: '/w/task.md', markdown: '', entries: [] }), 'task.md');
  });

  it('writes the plan as Markdown with each item\'s status', () => {
    assert.equal(
      planMarkdown(PLAN),
      '**▤ Plan** · implementation_plan.md · 1/3 done\n\n#### Plan\n\n- ✔ read the code\n- ◐ write the parser\n- ○ test it\n',
    );
  });

  it('words compaction notes', () => {
    assert.equal(compactionText(''), 'older history was summarised');
    assert.equal(compactionText('  Summarised   12 steps '), 'history compacted: Summarised 12 steps');
    assert.equal(compactionText('x'.repeat(300)).length, 'history compacted: '.length + 120);
  });
});

describe('the @agy Markdown of a turn', () => {
  it('quotes a subagent\'s work under its label and goes back to the answer in a new paragraph', () => {
    let out = '';
    const w = new MarkdownTurnWriter((m) => (out += m));
    const block = { trajectoryId: 'sub-1', depth: 1, callId: 'c1', label: 'Helper (self): say hi' };
    w.text('Let me ask.');
    w.subagentText(block, 'sub says ');
    w.subagentText(block, 'hi\nbye');
    w.text('It said hi.');
    const deep = { trajectoryId: 'sub-2', parentTrajectoryId: 'sub-1', depth: 2, label: 'Deeper' };
    w.subagentText(deep, 'deep');
    w.end('_usage_');
    assert.equal(
      out,
      'Let me ask.\n\n> **↳ subagent** Helper (self): say hi\n> \n> sub says hi\n> bye\n\nIt said hi.\n\n> > **↳ subagent** Deeper\n> > \n> > deep\n\n_usage_',
    );
  });

  it('writes notes and plans as paragraphs of their own', () => {
    let out = '';
    const w = new MarkdownTurnWriter((m) => (out += m));
    w.text('Planning.');
    w.compaction('summarised');
    w.plan(PLAN);
    w.text('Shall I go ahead?');
    assert.equal(out, `Planning.\n\n_⟲ history compacted: summarised_\n\n${planMarkdown(PLAN)}\nShall I go ahead?`);
  });

  it('starts with nothing before the first text', () => {
    let out = '';
    new MarkdownTurnWriter((m) => (out += m)).end('_Cancelled._');
    assert.equal(out, '_Cancelled._');
  });
});

describe('settings and commands for the SDK\'s options', () => {
  const cfg = (values: Record<string, unknown>) => readSettings((k) => values[k]);

  it('reads the thinking level, model options and behaviour, and the auto preset', () => {
    const s = cfg({ thinkingLevel: 'high', serviceTier: 'flex', maxOutputTokens: 2048, agentBehavior: 'interactive', 'policies.preset': 'auto' });
    assert.deepEqual([s.thinkingLevel, s.serviceTier, s.maxOutputTokens, s.agentBehavior, s.policyPreset], ['high', 'flex', 2048, 'interactive', 'auto']);
    const bad = cfg({ thinkingLevel: 'extreme', serviceTier: 'cheap', maxOutputTokens: -5, agentBehavior: 'lazy' });
    assert.deepEqual([bad.thinkingLevel, bad.serviceTier, bad.maxOutputTokens, bad.agentBehavior], ['', '', 0, 'autonomous']);
    assert.deepEqual(modelOptionsFor(s), { thinkingLevel: 'high', serviceTier: 'flex', maxOutputTokens: 2048 });
    assert.equal(modelOptionsFor(DEFAULT_SETTINGS), undefined);
    assert.deepEqual(PRESETS, ['safeDefaults', 'confirmRunCommand', 'allowAll', 'denyAll', 'workspaceOnly', 'auto']);
    assert.match(PRESET_HELP.auto, /safety model/);
  });

  it('sends model options only where the backend may have them, and the behaviour when not the default', () => {
    const s = { ...DEFAULT_SETTINGS, thinkingLevel: 'low' as const, agentBehavior: 'interactive' as const };
    assert.deepEqual(createAgentParams({ ...s, backend: 'gemini' }, [], []).modelOptions, { thinkingLevel: 'low' });
    assert.deepEqual(createAgentParams(s, [], []).modelOptions, { thinkingLevel: 'low' }, 'auto: the server decides (and the controller retries without)');
    assert.equal(createAgentParams({ ...s, backend: 'openai' }, [], []).modelOptions, undefined, 'an OpenAI-compatible endpoint has none');
    assert.equal(createAgentParams({ ...s, backend: 'scripted' }, [], []).modelOptions, undefined);
    assert.deepEqual(createAgentParams(s, [], []).capabilities, { agentBehavior: 'interactive' });
    assert.equal(createAgentParams(DEFAULT_SETTINGS, [], []).capabilities, undefined);
    assert.equal(policyFor('workspaceOnly', []), 'safeDefaults');
    assert.equal(policyFor('auto', []), 'auto');
    assert.deepEqual(interactive({ disabledTools: ['x'] }), { disabledTools: ['x'], agentBehavior: 'interactive' });
  });

  it('explains a refused thinking level and a busy agent; reads the field an error names', () => {
    const refused = { code: -32602, message: 'modelOptions apply to Gemini and Vertex models only', data: { field: 'modelOptions' } };
    assert.equal(errorField(refused), 'modelOptions');
    assert.equal(errorField({ code: -32602, data: { cause: 'bad modelOptions.thinkingLevel: extreme' } }), 'modelOptions.thinkingLevel');
    assert.equal(errorField({ code: -32603, data: { field: 'x' } }), undefined);
    assert.match(explainConfigureError('thinking', refused), /needs a Gemini or Vertex model/);
    assert.match(explainConfigureError('policy', { code: -32009, message: 'busy' }), /a turn is running/);
  });

  it('shows the agent\'s policy, thinking level and behaviour in the status tooltip; history shows a denied call', () => {
    const v = statusView('idle', null, undefined, ['Policy: auto', 'Thinking level: high']);
    assert.match(v.tooltip, /Policy: auto\nThinking level: high$/);
    const md = renderHistory('a1', {
      total: 1,
      steps: [{ index: 1, type: 'TEXT_RESPONSE', source: 'MODEL', toolCalls: [{ id: 'c', name: 'run_command', args: { CommandLine: 'rm' }, outcome: 'denied' }], error: 'you rejected the tool call' }],
    });
    assert.match(md, /tool `run_command` \{"CommandLine":"rm"\} — denied/);
    assert.match(md, /\*\*denied:\*\* you rejected the tool call/);
  });
});
