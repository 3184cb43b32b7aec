// The protocol layer against the real agy-lsp on the scripted model.

import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { TokenSource } from '../src/protocol/cancellation';
import type { TurnEvent } from '../src/protocol/chunks';
import { ErrorCode } from '../src/protocol/methods';
import { EDITOR_TOOLS, runEditorTool, type EditorHost } from '../src/protocol/editorTools';
import type { ChatChunk, ConfirmToolCallParams, RunToolParams, Step } from '../src/protocol/types';
import { scripted, startServer, withTimeout, type Server } from './server';

/**
 * The denied run_command call was shown and never ran: one toolCall and one toolResult
 * under the same id, the result with outcome "denied", a reason for a person and no output.
 */
function assertDenied(events: TurnEvent[], commandLine: string): void {
  const calls = events.filter((e) => e.kind === 'toolCall').map((e) => (e.kind === 'toolCall' ? e.toolCall : undefined));
  const results = events.filter((e) => e.kind === 'toolResult').map((e) => (e.kind === 'toolResult' ? e.toolResult : undefined));
  assert.equal(calls.length, 1, JSON.stringify(events));
  assert.equal(results.length, 1, JSON.stringify(events));
  const [call, result] = [calls[0], results[0]];
  assert.equal(call?.name, 'run_command');
  assert.equal(JSON.stringify(call?.args).includes(commandLine), true, JSON.stringify(call?.args));
  assert.equal(result?.id, call?.id, 'one id for the call and its result');
  assert.equal(result?.name, 'run_command');
  assert.equal(result?.outcome, 'denied', 'the tool did not run');
  assert.ok(result?.error && !/pre-tool hook|ask_user|policy rule/i.test(result.error), `a reason for a person: ${result?.error}`);
  assert.equal(result?.result, undefined, 'a call that never ran has no output');
}

/** History records the denial: the step carries the call with outcome "denied", the reason in `error` and no content. */
function assertDeniedInHistory(steps: Step[], commandLine: string): void {
  const step = steps.find((s) => s.toolCalls?.some((c) => c.name === 'run_command' && JSON.stringify(c.args).includes(commandLine)));
  assert.ok(step, `a step with the call: ${JSON.stringify(steps)}`);
  const call = step.toolCalls?.find((c) => c.name === 'run_command');
  assert.equal(call?.outcome, 'denied', 'history records the denial');
  assert.ok(step.error, 'with its reason');
  assert.ok(!step.content, 'and no content');
}

const TOOL_SCRIPT = [
  { text: 'hello world' },
  { toolCalls: [{ name: 'run_command', args: { CommandLine: 'ls' } }] },
  { text: 'done' },
];

describe('protocol layer against agy-lsp', { timeout: 120_000 }, () => {
  let server: Server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.close();
  });

  it('declares the capability and reports server info', async () => {
    const info = await server.client.serverInfo();
    assert.equal(info.name, 'agy-lsp');
    assert.equal(info.defaultBackend, 'scripted');
  });

  it('streams text chunks in order and returns the turn result', async () => {
    // Deltas 40 ms apart: the harness merges deltas that arrive together, so a loaded machine would otherwise see one.
    const reply = { text: 'hello streaming world', chunks: 3, chunkDelayMs: 40 };
    const { agentId } = await server.client.createAgent({ backend: scripted([reply]) });
    const raw: ChatChunk[] = [];
    const sub = server.client.onChunk(agentId, (c) => raw.push(c));
    const events: TurnEvent[] = [];
    const result = await server.client.chat(agentId, 'hi', { onEvent: (e) => events.push(e) });
    sub.dispose();
    assert.equal(result.text, 'hello streaming world');
    assert.equal(result.streamedText, 'hello streaming world');
    assert.ok(events.filter((e) => e.kind === 'text').length >= 2, 'text arrives in several chunks');
    assert.deepEqual(
      raw.map((c) => c.seq),
      raw.map((_, i) => i + 1),
    );
    assert.ok(raw.every((c) => c.turnId === result.turnId && c.agentId === agentId));
    assert.equal(typeof result.stopReason, 'string');
  });

  it('asks for confirmation with options, runs the tool on allow_once, and streams tool progress', async () => {
    const asked: ConfirmToolCallParams[] = [];
    server.client.setConfirmHandler(async (p) => {
      asked.push(p);
      return 'allow_once';
    });
    const { agentId } = await server.client.createAgent({ backend: scripted(TOOL_SCRIPT) });
    const first = await server.client.chat(agentId, 'say hello');
    assert.equal(first.text, 'hello world');
    const events: TurnEvent[] = [];
    const second = await server.client.chat(agentId, 'list files', { onEvent: (e) => events.push(e) });
    assert.equal(second.text, 'done');
    assert.equal(asked.length, 1);
    const params = asked[0];
    assert.equal(params.agentId, agentId);
    assert.equal(params.turnId, second.turnId);
    assert.equal(params.toolCall.name, 'run_command');
    assert.equal(params.toolCall.args?.CommandLine, 'ls');
    assert.deepEqual(
      params.options.map((o) => o.kind),
      ['allow_once', 'allow_always', 'reject_once', 'reject_always'],
    );
    const call = events.find((e) => e.kind === 'toolCall');
    assert.ok(call && call.kind === 'toolCall' && call.toolCall.name === 'run_command');
    const res = events.find((e) => e.kind === 'toolResult');
    assert.ok(res && res.kind === 'toolResult' && !res.toolResult.error, `tool ran: ${JSON.stringify(res)}`);
    const usage = await server.client.usage(agentId);
    assert.ok((usage.totalUsage.totalTokens ?? 0) >= (usage.lastTurnUsage?.totalTokens ?? 0));
  });

  it('a rejected tool call does not run; allow_always is remembered until resetPermissions', async () => {
    let answer = 'reject_once';
    let asked = 0;
    server.client.setConfirmHandler(async () => {
      asked += 1;
      return answer;
    });
    const cmd = (c: string) => ({ toolCalls: [{ name: 'run_command', args: { CommandLine: c } }] });
    const { agentId } = await server.client.createAgent({
      backend: scripted([cmd('echo a'), { text: 'r1' }, cmd('echo b'), { text: 'r2' }, cmd('echo c'), { text: 'r3' }, cmd('echo d'), { text: 'r4' }]),
    });
    const events: TurnEvent[] = [];
    await server.client.chat(agentId, 'one', { onEvent: (e) => events.push(e) });
    assert.equal(asked, 1);
    // Every call the model makes is shown: a denied one streams its toolCall and a toolResult with outcome "denied".
    assertDenied(events, 'echo a');
    const afterReject = await server.client.history(agentId);
    assertDeniedInHistory(afterReject.steps, 'echo a');

    answer = 'allow_always';
    await server.client.chat(agentId, 'two');
    assert.equal(asked, 2);
    let status = await server.client.status(agentId);
    assert.deepEqual(status.permissions, [{ tool: 'run_command', decision: 'allow' }]);
    await server.client.chat(agentId, 'three');
    assert.equal(asked, 2, 'remembered: not asked again');

    await server.client.resetPermissions(agentId);
    status = await server.client.status(agentId);
    assert.deepEqual(status.permissions, []);
    answer = 'allow_once';
    await server.client.chat(agentId, 'four');
    assert.equal(asked, 3, 'asked again after reset');
    const history = await server.client.history(agentId);
    assert.ok(history.total > 0 && history.steps.length > 0);
  });

  it('cancelling the chat request answers -32800', async () => {
    const { agentId } = await server.client.createAgent({ backend: scripted([{ text: 'slow', delayMs: 5000 }]) });
    const source = new TokenSource();
    const pending = server.client.chat(agentId, 'wait', { token: source.token });
    setTimeout(() => source.cancel(), 300);
    await assert.rejects(withTimeout(pending, 10_000), (e: { code?: number }) => e.code === ErrorCode.requestCancelled);
    const status = await server.client.status(agentId);
    assert.notEqual(status.state, 'busy');
  });

  it('serves editor tools over agy/runTool', async () => {
    const host: EditorHost = {
      activeDocument: () => ({ uri: 'file:///w/a.ts', languageId: 'typescript', text: 'const a = 1;\n' }),
      selection: () => ({ uri: 'file:///w/a.ts', text: 'a = 1', start: { line: 0, character: 6 }, end: { line: 0, character: 11 } }),
      diagnostics: () => [],
    };
    const calls: RunToolParams[] = [];
    server.client.setToolHandler(async (p) => {
      calls.push(p);
      return runEditorTool(host, p);
    });
    server.client.setConfirmHandler(async () => 'allow_once');
    const { agentId, tools } = await server.client.createAgent({
      backend: scripted([{ toolCalls: [{ name: 'editor_selection', args: {} }] }, { text: 'got it' }]),
      tools: EDITOR_TOOLS,
      policies: 'allowAll',
    });
    for (const t of EDITOR_TOOLS) assert.ok(tools.includes(t.name), `${t.name} registered`);
    const events: TurnEvent[] = [];
    const result = await server.client.chat(agentId, 'what did I select?', { onEvent: (e) => events.push(e) });
    assert.equal(result.text, 'got it');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.toolCall.name, 'editor_selection');
    assert.equal(calls[0]?.agentId, agentId);
    const res = events.find((e) => e.kind === 'toolResult');
    assert.ok(res && res.kind === 'toolResult');
    assert.match(JSON.stringify(res.toolResult.result), /a = 1/);
  });

  it('applies workspace/didChangeConfiguration', async () => {
    await server.client.changeConfiguration({ backend: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm' } });
    assert.equal((await server.client.serverInfo()).defaultBackend, 'openai');
    await server.client.changeConfiguration({ backend: null, chatTimeoutSecs: 30 });
    assert.equal((await server.client.serverInfo()).defaultBackend, 'scripted');
  });
});

describe('without the confirm capability', { timeout: 60_000 }, () => {
  it('the server fails closed and never asks', async () => {
    const server = await startServer({ confirm: false });
    try {
      let asked = false;
      server.client.setConfirmHandler(async () => {
        asked = true;
        return 'allow_once';
      });
      const { agentId } = await server.client.createAgent({ backend: scripted(TOOL_SCRIPT.slice(1)) });
      const events: TurnEvent[] = [];
      const result = await server.client.chat(agentId, 'list', { onEvent: (e) => events.push(e) });
      assert.equal(result.text, 'done');
      assert.equal(asked, false);
      assertDenied(events, 'ls');
      const history = await server.client.history(agentId);
      assertDeniedInHistory(history.steps, 'ls');
    } finally {
      await server.close();
    }
  });
});
