// The extension in a real VS Code: the built .vsix installed into code-server
// (VS Code 1.139), driven through headless Chromium, talking to the repository's
// real agy-lsp, SDK and harness; only the model is scripted. Each check has its
// own script (swapped into the shared scripted model, or a model of its own where
// the settings are the point) and a fresh agent, so they do not depend on each
// other's replies, but they share one workbench and run in order (the last one
// closes it).

import { after, afterEach, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import {
  clickNotificationButton,
  notification,
  openWorkbench,
  paths,
  pickQuickPickItem,
  quickPick,
  runCommand,
  runProcesses,
  sleep,
  startScriptedModel,
  textOf,
  waitFor,
  webview,
  type ScriptedModel,
  type Workbench,
} from './workbench';
import { startRecordingModel, subagentRequest, type RecordingModel } from '../server';

const SCREENSHOT = process.env.AGY_SCREENSHOT;
/** A folder for a screenshot after each check (for debugging a failure). */
const ARTIFACTS = process.env.AGY_E2E_ARTIFACTS;
const AGY = /agy-lsp|localharness/;

const cmd = (commandLine: string) => ({ toolCalls: [{ name: 'run_command', args: { CommandLine: commandLine } }] });
/** A folder for screenshots of the plan and a subagent's work (docs/vscode-*.png). */
const SHOTS = process.env.AGY_SCREENSHOT_DIR;
const PLAN_MD = '# Plan\n\nAdd a parser for the calculator.\n\n- [x] read calc.py\n- [/] write the parser\n- [ ] test it\n';
const DELEGATE = {
  toolCalls: [{ name: 'invoke_subagent', args: { Subagents: [{ TypeName: 'self', Role: 'Helper', Prompt: 'say hi' }], toolSummary: 'Help', toolAction: 'Asking' } }],
};

describe('agy in a real VS Code (code-server 4.139, VS Code 1.139)', { timeout: 900_000 }, () => {
  let wb: Workbench;
  let page: Page;
  let panel: FrameLocator;
  const models = new Map<string, ScriptedModel>();
  const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agy-models-'));
  /** The model agy.baseUrl points at, whose script each check swaps. */
  let shared: RecordingModel;

  async function newAgent(): Promise<void> {
    const agents = () => wb.agyLog().split('new agent ').length;
    const before = agents();
    await runCommand(page, 'agy: New Agent');
    await waitFor('the new agent', () => agents() > before, 30_000);
  }

  /** A fresh agent on the shared model, which now follows `replies`. */
  async function useScript(replies: unknown[], fallback = 'echo'): Promise<void> {
    await shared.swap(replies, fallback);
    await newAgent();
  }

  /** A scripted model of its own, reached by changing agy.baseUrl (and `patch`) in the settings, and a fresh agent on it. */
  async function useModel(name: string, replies: unknown[], patch: Record<string, unknown> = {}): Promise<void> {
    const model = await startScriptedModel(modelDir, name, replies, 'echo');
    models.set(name, model);
    await settingsReachServer({ 'agy.baseUrl': model.url, ...patch });
    await newAgent();
  }

  /** Change settings and wait until the server says it applied them (its window/logMessage, in the output channel). */
  async function settingsReachServer(patch: Record<string, unknown>): Promise<void> {
    const count = () => wb.agyLog().split('settings updated; new agents and turns use them').length;
    const before = count();
    await wb.setSettings(patch);
    await waitFor('the server to apply the settings', () => count() > before, 15_000);
  }

  async function statusText(): Promise<string> {
    return (await page.locator('.statusbar-item', { hasText: /agy/ }).allInnerTexts()).join(' | ');
  }

  async function ask(prompt: string): Promise<void> {
    await page.locator('.tabs-container .tab', { hasText: 'agy chat' }).click();
    const turns = await panel.locator('section.turn').count();
    for (let attempt = 0; ; attempt++) {
      await panel.locator('#prompt').fill(prompt);
      await panel.locator('#prompt').press('Enter');
      try {
        // A webview just brought back to the front can drop the first keystrokes.
        await waitFor('the prompt to be sent', async () => (await panel.locator('section.turn').count()) > turns, 5000);
        return;
      } catch (e) {
        if (attempt === 1) throw e;
      }
    }
  }

  function lastTurn() {
    return panel.locator('section.turn').last();
  }

  async function turnDone(): Promise<void> {
    await waitFor('the turn to end', async () => (await panel.locator('#stop').isDisabled()) && (await panel.locator('section.turn').count()) > 0, 60_000);
  }

  before(async () => {
    shared = await startRecordingModel([], 'ready');
    wb = await openWorkbench({
      settings: {
        'agy.server.command': paths.agyLsp,
        'agy.backend': 'openai',
        'agy.model': 'scripted',
        'agy.baseUrl': shared.url,
        'agy.policies.preset': 'safeDefaults',
      },
      files: { 'calc.py': 'def add(a, b):\n    return a - b\n' },
    });
    page = wb.page;
  });

  afterEach(async (t) => {
    if (!ARTIFACTS || page.isClosed()) return;
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `${t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`) }).catch(() => undefined);
  });

  after(async () => {
    await wb?.stop();
    for (const m of models.values()) m.stop();
    shared?.stop();
    fs.rmSync(modelDir, { recursive: true, force: true });
  });

  it('activates and starts agy-lsp with the LSP launch flags', async () => {
    await waitFor('the agy status bar item', async () => /agy/.test(await statusText()), 60_000);
    const servers = await waitFor('an agy-lsp process', () => {
      const found = runProcesses(wb.runId, /agy-lsp/);
      return found.length ? found : undefined;
    });
    assert.equal(servers.length, 1, JSON.stringify(servers));
    assert.match(servers[0]?.cmd ?? '', /agy-lsp --stdio --clientProcessId=\d+$/);
    assert.equal(await notification(page, /agy:/).count(), 0, 'no error notification');
  });

  it('the chat panel streams a Markdown reply with code copy buttons, file links and usage', async () => {
    await useScript([
      {
        text: 'Here is the fix for [calc.py](calc.py#L2):\n\n- use `+`\n- keep the name\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nDone.',
        chunks: 8,
        chunkDelayMs: 250,
      },
    ]);
    await runCommand(page, 'agy: Open Chat Panel');
    panel = await webview(page, 'agy chat');
    await ask('How do I fix add?');
    // Sample the answer while it arrives: a streamed reply is seen growing.
    const seen = new Set<number>();
    await waitFor(
      'the streamed reply',
      async () => {
        const text = await lastTurn().locator('.answer').innerText();
        seen.add(text.length);
        return /Done\./.test(text);
      },
      30_000,
    );
    assert.ok(seen.size >= 4, `the reply grew in steps (lengths seen: ${[...seen].join(', ')})`);
    await turnDone();
    const turn = lastTurn();
    assert.equal(await turn.locator('li').count(), 2, 'a Markdown list');
    assert.equal(await turn.locator('.code-block button.copy').count(), 1, 'a code block with a Copy button');
    assert.match(await turn.locator('.usage').innerText(), /prompt \d+ · output \d+ · total \d+ tokens/);
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT });
    // The copy button puts the code on VS Code's clipboard.
    await turn.locator('.code-block button.copy').click();
    await waitFor('Copied', async () => (await turn.locator('button.copy').innerText()) === 'Copied');
    // A file link opens the file in the editor, at its line.
    await turn.locator('a', { hasText: 'calc.py' }).click();
    await page.locator('.tabs-container .tab', { hasText: 'calc.py' }).waitFor({ state: 'visible' });
    await waitFor('line 2 selected', async () => /Ln 2, Col 1/.test(await page.locator('.statusbar').innerText()));
  });

  it('@agy answers in the Chat view (VS Code has agy as its model, no Copilot)', async () => {
    await useScript([{ text: 'Answer from the agy participant.' }]);
    // Without Copilot, VS Code selects agy's model once the Copilot vendor has resolved to nothing.
    const picker = page.locator('.chat-input-toolbars').first();
    await waitFor('agy in the model picker', async () => /Antigravity agent/.test(await picker.innerText()), 60_000);
    const input = page.locator('.interactive-input-editor').first();
    await input.click();
    // As a person does: "@ag", then pick agy from the suggestions.
    await page.keyboard.type('@ag');
    const suggestion = page.locator('.suggest-widget .monaco-list-row', { hasText: /agy/ }).first();
    await suggestion.waitFor({ state: 'visible' });
    await suggestion.click();
    await page.keyboard.type('what is in calc.py?');
    await page.keyboard.press('Enter');
    const response = page.locator('.interactive-response').last();
    await waitFor('the @agy answer', async () => /Answer from the agy participant\./.test(await response.innerText()), 30_000);
    assert.doesNotMatch(await page.locator('.interactive-session').first().innerText(), /Language model unavailable/);
  });

  it('the tool-call QuickPick allows (the command runs) and rejects (it does not)', async () => {
    await useScript([cmd('touch allowed.txt'), { text: 'ran it' }, cmd('touch rejected.txt'), { text: 'did not run it' }]);
    await page.locator('.tabs-container .tab', { hasText: 'agy chat' }).click();
    await ask('make allowed.txt');
    await quickPick(page).waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await quickPick(page).innerText(), /agy wants to run run_command/);
    assert.match(await quickPick(page).innerText(), /CommandLine: touch allowed\.txt/);
    await pickQuickPickItem(page, 'Allow once');
    await turnDone();
    assert.ok(fs.existsSync(path.join(wb.workspace, 'allowed.txt')), 'the allowed command ran');
    const allowed = lastTurn().locator('details.tool');
    assert.equal(await allowed.getAttribute('data-state'), 'done');
    assert.match(await allowed.locator('summary').innerText(), /run_command\s+touch allowed\.txt\s+allowed · done/);

    await ask('make rejected.txt');
    await quickPick(page).waitFor({ state: 'visible', timeout: 30_000 });
    await pickQuickPickItem(page, 'Reject');
    await turnDone();
    assert.ok(!fs.existsSync(path.join(wb.workspace, 'rejected.txt')), 'the rejected command did not run');
    const rejected = lastTurn().locator('details.tool');
    assert.equal(await rejected.count(), 1, 'one item for the call: asked, refused, and the server\'s outcome');
    assert.equal(await rejected.getAttribute('data-state'), 'denied');
    assert.equal(await rejected.getAttribute('data-outcome'), 'denied', 'the server says it never ran');
    assert.match(await rejected.locator('summary').innerText(), /run_command\s+touch rejected\.txt\s+denied/);
    await rejected.locator('summary').click();
    assert.match(await rejected.innerText(), /Arguments[\s\S]*touch rejected\.txt/, 'the item opens to show its arguments');
    assert.match(await rejected.locator('.tool-reason').innerText(), /reject/i, 'and why it did not run');
    assert.equal(await rejected.locator('.tool-result').count(), 0, 'no output: it never ran');
    assert.match(await lastTurn().locator('.answer').innerText(), /did not run it/);
  });

  it('Stop cancels a turn, and the agent answers the next one', async () => {
    await useScript([{ text: 'too late', delayMs: 20_000 }, { text: 'answering again' }]);
    await ask('take your time');
    await sleep(1500);
    assert.equal(await panel.locator('#stop').isDisabled(), false);
    await panel.locator('#stop').click();
    await waitFor('Cancelled.', async () => /Cancelled\./.test(await lastTurn().innerText()), 15_000);
    await turnDone();
    await ask('still there?');
    await waitFor('the next answer', async () => /answering again/.test(await lastTurn().innerText()), 30_000);
  });

  it('inline edit shows a diff, and Accept changes the file', async () => {
    await useScript([{ text: 'Fixed:\n```python\ndef add(a, b):\n    return a + b\n```' }]);
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'calc.py' }).dblclick();
    await page.locator('.tabs-container .tab.active', { hasText: 'calc.py' }).waitFor();
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+A');
    await runCommand(page, 'agy: Edit Selection with Agent');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'agy: edit selection' }).waitFor({ state: 'visible' });
    await page.keyboard.type('fix the bug in add');
    await page.keyboard.press('Enter');
    await page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await page.locator('.tabs-container .tab.active').innerText(), /agy: fix the bug in add/);
    await waitFor('the proposed code in the diff', async () => /return a \+ b/.test(await textOf(page.locator('.monaco-diff-editor').first())));
    await clickNotificationButton(page, /apply the edit/, 'Accept');
    // The edit lands in the open document (unsaved) first.
    await page.locator('.tabs-container .tab.dirty', { hasText: 'calc.py' }).waitFor({ state: 'visible', timeout: 15_000 });
    await runCommand(page, 'File: Save All Files');
    await waitFor('calc.py saved', () => /return a \+ b/.test(fs.readFileSync(path.join(wb.workspace, 'calc.py'), 'utf8')), 15_000);
  });

  it('a write_to_file confirmation shows the diff before asking, and Allow writes the file', async () => {
    const target = path.join(wb.workspace, 'hello.py');
    const write = { TargetFile: target, Overwrite: false, CodeContent: 'print("hello from agy")\n', Description: 'a greeting', toolSummary: 'create hello.py', toolAction: 'Create' };
    await useScript([{ toolCalls: [{ name: 'write_to_file', args: write }] }, { text: 'created' }]);
    await page.locator('.tabs-container .tab', { hasText: 'agy chat' }).click();
    await ask('create hello.py');
    await quickPick(page).waitFor({ state: 'visible', timeout: 30_000 });
    // The diff is open while the question is asked.
    const diffTab = page.locator('.tabs-container .tab', { hasText: /hello\.py: new file ↔ proposed by agy \(write_to_file\)/ });
    await diffTab.waitFor({ state: 'visible' });
    await waitFor('the proposed file in the diff', async () => /hello from agy/.test(await textOf(page.locator('.monaco-diff-editor').last())));
    assert.ok(!fs.existsSync(target), 'nothing written before the answer');
    await pickQuickPickItem(page, 'Allow once');
    await waitFor('hello.py written', () => fs.existsSync(target) && fs.readFileSync(target, 'utf8').includes('hello from agy'), 30_000);
    await page.locator('.tabs-container .tab', { hasText: 'agy chat' }).click();
    await turnDone();
    const items = lastTurn().locator('details.tool');
    assert.equal(await items.count(), 1, 'one item for the call, under the name the model called');
    assert.match(await items.first().locator('summary').innerText(), /write_to_file\s+.*hello\.py\s+allowed · done/);
    assert.equal(await items.first().getAttribute('data-state'), 'done');
    assert.equal(await items.first().getAttribute('data-outcome'), 'completed', 'ended by the server\'s result, not by the end of the turn');
    await items.first().locator('summary').click();
    assert.match(await items.first().locator('.tool-result').innerText(), /Created file/, 'the tool\'s real output');
  });

  it('agy: Set Thinking Level says why this model has none (an OpenAI-compatible endpoint)', async () => {
    await runCommand(page, 'agy: Set Thinking Level');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'agy: thinking level' }).waitFor({ state: 'visible' });
    assert.match(await quickPick(page).innerText(), /minimal[\s\S]*extra_high/);
    await pickQuickPickItem(page, 'high');
    const toast = notification(page, /thinking level high/);
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await toast.innerText(), /needs a Gemini or Vertex model/);
    await runCommand(page, 'Notifications: Clear All Notifications');
  });

  it('plan mode: agy: Plan First makes the agent interactive, the plan shows its checklist, and Go ahead carries it out', async () => {
    const planFile = path.join(wb.workspace, 'implementation_plan.md');
    const write = { TargetFile: planFile, CodeContent: PLAN_MD, Overwrite: true, Description: 'the plan', toolSummary: 'plan', toolAction: 'Planning' };
    await useScript([{ toolCalls: [{ name: 'write_to_file', args: write }] }, { text: 'Here is my plan. Shall I go ahead?' }, { text: 'Done: the parser is built.' }]);
    // First the current agent's policy (agy/configureAgent): it may write its plan without asking.
    await runCommand(page, 'agy: Set Tool Policy');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'agy: tool policy' }).waitFor({ state: 'visible' });
    assert.match(await quickPick(page).innerText(), /auto[\s\S]*safety model/);
    await pickQuickPickItem(page, 'allowAll');
    await waitFor('the policy note in the panel', async () => /policy allowAll \(from the next turn\)/.test(await panel.locator('#log').innerText()), 15_000);
    await runCommand(page, 'agy: Plan First');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'agy: plan first' }).waitFor({ state: 'visible' });
    await page.keyboard.type('build a parser');
    await page.keyboard.press('Enter');
    await waitFor('the /plan turn', async () => (await lastTurn().locator('.you').innerText()) === '/plan build a parser', 15_000);
    await turnDone();
    // This turn, also once the next one has started.
    const turn = panel.locator('section.turn').nth((await panel.locator('section.turn').count()) - 1);
    assert.match(await turn.locator('.note.info').innerText(), /now interactive: it plans, then waits for your go-ahead/);
    const plan = turn.locator('section.plan');
    assert.equal(await plan.count(), 1);
    assert.match(await plan.locator('.plan-head').innerText(), /Plan\s+implementation_plan\.md · 1\/3 done/);
    const tasks = plan.locator('li.task');
    assert.equal(await tasks.count(), 3);
    const want = [['completed', '✔read calc.py'], ['in_progress', '◐write the parser'], ['pending', '○test it']];
    for (const [i, [status, text]] of want.entries()) {
      assert.equal(await tasks.nth(i).getAttribute('data-status'), status);
      assert.equal((await tasks.nth(i).innerText()).replace(/\s+/g, ''), text?.replace(/\s+/g, ''));
    }
    assert.match(await turn.locator('.answer').innerText(), /Here is my plan\. Shall I go ahead\?/);
    const go = plan.locator('button.go');
    assert.equal(await go.isEnabled(), true, 'Go ahead, under the plan');
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'vscode-plan.png') });
    await go.click();
    await waitFor('the go-ahead turn', async () => (await lastTurn().locator('.you').innerText()) === 'Go ahead with the plan.', 15_000);
    await turnDone();
    assert.match(await lastTurn().locator('.answer').innerText(), /Done: the parser is built\./);
    assert.equal(await go.isDisabled(), true, 'the plan was answered');
    // The plan's file opens from its block.
    await plan.locator('a.plan-open').click();
    await page.locator('.tabs-container .tab', { hasText: 'implementation_plan.md' }).waitFor({ state: 'visible' });
  });

  it("a subagent's work shows nested under the call that delegated it, folded once the turn ends", async () => {
    // After the call, the agent and its subagent each take one of the next two replies, whoever asks first.
    const replies = ['Hello from the helper.', 'A helper is on it. ', 'The helper said hello.'];
    await useScript([DELEGATE, ...replies.map((text) => ({ text })), { text: 'extra' }]);
    await ask('get some help');
    await quickPick(page).waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await quickPick(page).innerText(), /agy wants to run invoke_subagent/);
    await pickQuickPickItem(page, 'Allow once');
    await turnDone();
    const turn = lastTurn();
    const call = turn.locator('details.tool');
    assert.equal(await call.count(), 1);
    assert.match(await call.locator(':scope > summary').innerText(), /invoke_subagent\s+Helper: say hi\s+allowed · done/);
    // The work sits right under the call's line (the call's arguments and result stay folded).
    const sub = turn.locator('.tool-call > .subagents > details.subagent');
    assert.equal(await call.evaluate((d) => (d as unknown as { open: boolean }).open), false);
    assert.equal(await sub.count(), 1, 'nested under the delegating call');
    assert.equal(await sub.getAttribute('data-depth'), '1');
    assert.match(await sub.locator('summary').innerText(), /subagent\s+Helper \(self\): say hi/i);
    assert.equal(await sub.evaluate((d) => (d as unknown as { open: boolean }).open), false, 'folded once the turn ended');
    await shared.waitForRequests(4);
    const k = subagentRequest(shared.requests, 'say hi');
    assert.ok(k === 1 || k === 2, `the subagent's request is the second or third (${k})`);
    const said = (replies[k - 1] ?? '').trim();
    await sub.locator('summary').click();
    await waitFor("the subagent's text", async () => (await sub.locator('.subagent-body').innerText()).trim() === said);
    const own = (await turn.locator('.answer > .markdown').allInnerTexts()).join('\n');
    for (const text of replies.filter((r) => r.trim() !== said)) assert.ok(own.includes(text.trim()), `${text} in the answer: ${own}`);
    assert.ok(!own.includes(said), "the subagent's text is not the agent's answer");
    assert.match(await turn.locator('.usage').innerText(), /total \d+ tokens · \d+ by the subagent$/);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'vscode-subagent.png') });
  });

  it('changed settings reach the server (didChangeConfiguration)', async () => {
    // Only the setting changes: the next agent talks to the model it names.
    await useModel('settings-b', [{ text: 'reply from model B' }]);
    await ask('which model?');
    await waitFor('model B', async () => /reply from model B/.test(await lastTurn().innerText()), 30_000);
    await useModel('settings-c', [{ text: 'reply from model C' }]);
    await ask('and now?');
    await waitFor('model C', async () => /reply from model C/.test(await lastTurn().innerText()), 30_000);
    // The policy preset too: under allowAll the same kind of call is not asked about.
    await useModel('settings-policy', [cmd('touch unasked.txt'), { text: 'ran without asking' }], { 'agy.policies.preset': 'allowAll' });
    assert.match(wb.agyLog().split('new agent ').at(-1) ?? '', /^\w+ \(policies: allowAll\)/);
    await ask('make unasked.txt');
    await waitFor('the command ran unasked', () => fs.existsSync(path.join(wb.workspace, 'unasked.txt')), 30_000);
    assert.equal(await quickPick(page).isVisible(), false);
    await turnDone();
    await wb.setSettings({ 'agy.policies.preset': 'safeDefaults', 'agy.baseUrl': shared.url });
  });

  it('a server that cannot start shows the cause with Show Log', async () => {
    const bad = path.join(modelDir, 'bad-agy-lsp');
    fs.writeFileSync(bad, '#!/bin/sh\necho "agy-lsp: error: unrecognized arguments: --stdio" >&2\nexit 2\n');
    fs.chmodSync(bad, 0o755);
    await wb.setSettings({ 'agy.server.command': bad });
    await clickNotificationButton(page, /restart the server/, 'Restart');
    const toast = notification(page, /exited with code 2/);
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await toast.innerText(), /agy-lsp exited with code 2 right after starting: agy-lsp: error: unrecognized arguments: --stdio/);
    await toast.locator('.monaco-button', { hasText: 'Show Log' }).click();
    await waitFor('the agy-lsp log', async () => /unrecognized arguments: --stdio/.test(await textOf(page.locator('.part.panel'))));
    // Back to the real server.
    await wb.setSettings({ 'agy.server.command': paths.agyLsp });
    await clickNotificationButton(page, /restart the server/, 'Restart');
    await waitFor('the server again', () => runProcesses(wb.runId, /agy-lsp --stdio/).length === 1, 30_000);
  });

  it('with no agy-lsp anywhere it offers to install its own from the .vsix, and that server answers', async () => {
    await wb.setSettings({ 'agy.server.command': '' });
    await clickNotificationButton(page, /restart the server/, 'Restart');
    await clickNotificationButton(page, /agy-lsp server is not installed/, 'Install');
    // A private venv in the extension's storage, the shipped wheel and its dependencies from PyPI (pip's cache when warm).
    await notification(page, /agy-lsp is installed/).waitFor({ state: 'visible', timeout: 300_000 });
    const venvServer = /agy-lsp-venv\/bin\/agy-lsp --stdio/;
    await waitFor('the installed server', () => runProcesses(wb.runId, venvServer).length === 1, 60_000);
    await useScript([{ text: 'Hello from the server the extension installed.' }]);
    await runCommand(page, 'agy: Open Chat Panel');
    panel = await webview(page, 'agy chat');
    await ask('who answers?');
    await waitFor('the answer', async () => /Hello from the server the extension installed\./.test(await lastTurn().innerText()), 30_000);
    assert.equal(runProcesses(wb.runId, /agy-lsp --stdio/).length, 1, 'only the installed server runs');
    assert.match(wb.agyLog(), /installed .*agy-lsp-venv\/bin\/agy-lsp/);
  });

  it('closing the window leaves no agy-lsp or localharness process', async () => {
    // A turn first, so a harness is running.
    await useScript([{ text: 'last words' }]);
    await runCommand(page, 'agy: Open Chat Panel');
    panel = await webview(page, 'agy chat');
    await ask('bye');
    await waitFor('the answer', async () => /last words/.test(await lastTurn().innerText()), 30_000);
    assert.ok(runProcesses(wb.runId, /localharness/).length >= 1, 'a harness runs before closing');
    await wb.closePage();
    const left = await waitFor(
      'agy-lsp and localharness to exit',
      () => {
        const procs = runProcesses(wb.runId, AGY);
        return procs.length === 0 ? [] : undefined;
      },
      60_000,
    ).catch(() => runProcesses(wb.runId, AGY));
    assert.deepEqual(left, [], JSON.stringify(left));
  });
});
