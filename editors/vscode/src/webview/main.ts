// The chat panel's page script (bundled by esbuild for the browser). Renders the
// streamed Markdown with markdown-it (raw HTML off, so model output cannot inject
// markup), code blocks with a Copy button, links that open files in the editor,
// one collapsible item per tool call, a subagent's work nested (collapsible) under
// the call that delegated it, compaction notes, and the agent's plan with its
// checklist and a "Go ahead" button.

import MarkdownIt from 'markdown-it';
import type { FromWebview, ToWebview } from '../protocol/panelMessages';
import { STATUS_GLYPH, planSummary, taskMarker } from '../protocol/plan';
import type { SubagentBlock } from '../protocol/subagents';
import { mainArgument, type ToolItem, type ToolState } from '../protocol/toolItems';
import type { Plan } from '../protocol/types';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const md = new MarkdownIt({ html: false, linkify: true, breaks: false });
const fence = md.renderer.rules.fence;
md.renderer.rules.fence = (tokens, idx, options, env, self) => {
  const inner = fence ? fence(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
  return `<div class="code-block"><button type="button" class="copy" title="Copy code">Copy</button>${inner}</div>`;
};

const log = document.getElementById('log') as HTMLElement;
const form = document.getElementById('ask') as HTMLFormElement;
const prompt = document.getElementById('prompt') as HTMLTextAreaElement;
const send = document.getElementById('send') as HTMLButtonElement;
const stop = document.getElementById('stop') as HTMLButtonElement;

/** Where text goes: the agent's answer, or a subagent's block. Text after anything else starts a new segment. */
interface Container {
  el: HTMLElement;
  segment: { el: HTMLElement; source: string } | undefined;
}

interface ToolEntry {
  /** The call's item and, below it, the subagents it started. */
  wrap: HTMLElement;
  el: HTMLDetailsElement;
  asked: boolean;
  body: HTMLElement;
  /** The subagents this call started: outside the item, so its arguments and result can stay folded. */
  nested: HTMLElement;
}

interface Turn {
  el: HTMLElement;
  answer: Container;
  subagents: Map<string, Container & { block: HTMLDetailsElement }>;
  tools: Map<string, ToolEntry>;
  plans: Map<string, HTMLElement>;
  progress: HTMLElement | undefined;
}
let turn: Turn | undefined;
const dirty = new Set<Container>();
let pending = false;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function scroll(): void {
  log.scrollTop = log.scrollHeight;
}

function setBusy(busy: boolean): void {
  stop.disabled = !busy;
  document.body.classList.toggle('busy', busy);
}

function startTurn(text: string): void {
  log.querySelector('.empty')?.remove();
  // A plan that was waiting for the go-ahead is answered by this message.
  log.querySelectorAll<HTMLButtonElement>('button.go').forEach((b) => (b.disabled = true));
  const t = el('section', 'turn');
  t.append(el('div', 'you', text));
  const answer = el('div', 'answer');
  t.append(answer);
  log.append(t);
  turn = { el: t, answer: { el: answer, segment: undefined }, subagents: new Map(), tools: new Map(), plans: new Map(), progress: undefined };
  setBusy(true);
  scroll();
}

function render(c: Container): void {
  if (c.segment) c.segment.el.innerHTML = md.render(c.segment.source);
}

// Re-render the open Markdown segments at most once a frame while text streams in.
function renderSoon(c: Container): void {
  dirty.add(c);
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    for (const d of dirty) render(d);
    dirty.clear();
    scroll();
  });
}

function containerOf(trajectoryId: string | undefined): Container | undefined {
  if (!turn) return undefined;
  return (trajectoryId && turn.subagents.get(trajectoryId)) || turn.answer;
}

function appendText(text: string, trajectoryId?: string): void {
  const c = containerOf(trajectoryId);
  if (!turn || !c) return;
  if (!trajectoryId) {
    turn.progress?.remove();
    turn.progress = undefined;
  }
  if (!c.segment) {
    const e = el('div', 'markdown');
    c.el.append(e);
    c.segment = { el: e, source: '' };
  }
  c.segment.source += text;
  renderSoon(c);
}

/** Put a block at the end of a container: the text after it starts below it. */
function place(c: Container, e: HTMLElement): void {
  if (c.segment) render(c);
  c.segment = undefined;
  c.el.append(e);
}

const STATE_LABEL: Record<ToolState, string> = {
  asking: 'waiting for your answer',
  allowed: 'allowed',
  running: 'running…',
  done: 'done',
  failed: 'failed',
  denied: 'denied',
  cancelled: 'cancelled',
};

function shortArg(args: Record<string, unknown>): string {
  const v = mainArgument(args);
  return v.length > 70 ? `${v.slice(0, 67)}…` : v;
}

function pretty(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return text.length > 4000 ? `${text.slice(0, 4000)}\n…` : text;
}

function showTool(item: ToolItem): void {
  if (!turn) return;
  const home = containerOf(item.trajectoryId);
  if (!home) return;
  let entry = turn.tools.get(item.id);
  if (!entry) {
    const wrap = el('div', 'tool-call');
    const details = el('details', 'tool');
    details.dataset.id = item.id;
    const body = el('div', 'tool-body');
    const nested = el('div', 'subagents');
    details.append(el('summary'), body);
    wrap.append(details, nested);
    place(home, wrap);
    entry = { wrap, el: details, asked: false, body, nested };
    turn.tools.set(item.id, entry);
  } else if (item.trajectoryId && entry.wrap.parentElement !== home.el) {
    // A subagent's call asked about before its chunks said whose it is: move it under the subagent.
    place(home, entry.wrap);
  }
  if (item.state === 'asking' || item.state === 'allowed') entry.asked = true;
  const d = entry.el;
  d.dataset.state = item.state;
  if (item.outcome) d.dataset.outcome = item.outcome;
  if (item.depth) d.dataset.depth = String(item.depth);
  const summary = el('summary');
  summary.append(el('span', 'tool-icon'), el('span', 'tool-name', item.name));
  const arg = shortArg(item.args);
  if (arg) summary.append(el('span', 'tool-arg', arg));
  const label =
    entry.asked && item.state !== 'allowed' && item.state !== 'asking' && item.state !== 'denied' && item.state !== 'cancelled'
      ? `allowed · ${STATE_LABEL[item.state]}`
      : STATE_LABEL[item.state];
  summary.append(el('span', `tool-state state-${item.state}`, label));
  d.querySelector(':scope > summary')?.replaceWith(summary);
  entry.body.replaceChildren();
  if (Object.keys(item.args).length) {
    entry.body.append(el('div', 'tool-label', 'Arguments'), el('pre', 'tool-args', pretty(item.args)));
  }
  // A call that never ran shows why; a failed one its error.
  const never = item.state === 'denied' || item.state === 'cancelled';
  if (item.error) entry.body.append(el('div', 'tool-label', never ? 'Reason' : 'Error'), el('pre', never ? 'tool-reason' : 'tool-error', item.error));
  if (item.result !== undefined) entry.body.append(el('div', 'tool-label', 'Result'), el('pre', 'tool-result', pretty(item.result)));
  scroll();
}

function showSubagent(block: SubagentBlock): void {
  if (!turn || turn.subagents.has(block.trajectoryId)) return;
  const details = el('details', 'subagent');
  details.open = true;
  details.dataset.trajectory = block.trajectoryId;
  details.dataset.depth = String(block.depth);
  const summary = el('summary');
  summary.append(el('span', 'subagent-icon', '↳'), el('span', 'subagent-kind', 'subagent'), el('span', 'subagent-label', block.label));
  const body = el('div', 'subagent-body');
  details.append(summary, body);
  const call = block.callId ? turn.tools.get(block.callId) : undefined;
  if (call) {
    // Under the delegating call.
    call.nested.append(details);
  } else {
    const parent = containerOf(block.parentTrajectoryId);
    if (parent) place(parent, details);
  }
  turn.subagents.set(block.trajectoryId, { el: body, segment: undefined, block: details });
  scroll();
}

function showNote(text: string, kind: string, trajectoryId?: string): void {
  const note = el('div', `note ${kind}`, text);
  const c = containerOf(trajectoryId);
  if (turn && c) {
    place(c, note);
  } else {
    // Between turns (e.g. the agent's policy changed).
    log.querySelector('.empty')?.remove();
    log.append(note);
  }
  scroll();
}

/** The plan's Markdown, its checklist items shown with their status. */
function planBody(plan: Plan): HTMLElement {
  const body = el('div', 'plan-body markdown');
  body.innerHTML = md.render(plan.markdown ?? '');
  body.querySelectorAll('li').forEach((li) => {
    const first = li.firstChild?.nodeType === Node.TEXT_NODE ? li.firstChild : li.querySelector(':scope > p')?.firstChild;
    if (!first || first.nodeType !== Node.TEXT_NODE) return;
    const task = taskMarker(first.textContent ?? '');
    if (!task) return;
    first.textContent = task.rest;
    li.classList.add('task');
    li.dataset.status = task.status;
    li.prepend(el('span', 'task-mark', STATUS_GLYPH[task.status]));
  });
  return body;
}

function showPlan(plan: Plan, trajectoryId?: string): void {
  if (!turn) return;
  const c = containerOf(trajectoryId);
  if (!c) return;
  const key = plan.path || 'plan';
  const section = el('section', 'plan');
  section.dataset.path = key;
  const head = el('div', 'plan-head');
  head.append(el('span', 'plan-icon', '▤'), el('span', 'plan-title', 'Plan'), el('span', 'plan-summary', planSummary(plan)));
  if (plan.path) {
    const open = el('a', 'plan-open', 'Open');
    open.href = plan.path;
    open.title = plan.path;
    head.append(open);
  }
  section.append(head, planBody(plan));
  const old = turn.plans.get(key);
  // The same file written again: the plan is updated in place.
  if (old) old.replaceWith(section);
  else place(c, section);
  turn.plans.set(key, section);
  scroll();
}

function showProgress(text: string): void {
  if (!turn) return;
  if (!turn.progress) {
    turn.progress = el('div', 'progress');
    turn.answer.el.append(turn.progress);
  }
  turn.progress.textContent = text;
}

function finish(m: Extract<ToWebview, { type: 'done' }>): void {
  if (!turn) return;
  turn.progress?.remove();
  render(turn.answer);
  for (const sub of turn.subagents.values()) {
    render(sub);
    // The work is done: fold it (a click opens it again).
    sub.block.open = false;
  }
  if (m.awaitingGo) {
    const plans = [...turn.plans.values()];
    const go = el('div', 'plan-go');
    const button = el('button', 'go', 'Go ahead');
    button.type = 'button';
    button.title = 'Let the agent carry out the plan';
    go.append(button, el('span', 'hint', 'or reply with changes'));
    (plans.at(-1) ?? turn.answer.el).append(go);
  }
  if (m.cancelled) turn.answer.el.append(el('div', 'note cancelled', 'Cancelled.'));
  if (m.error) turn.answer.el.append(el('div', 'note error', `Error: ${m.error}`));
  if (m.usage) turn.el.append(el('div', 'usage', m.usage));
  turn = undefined;
  setBusy(false);
  scroll();
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'start':
      startTurn(m.prompt);
      break;
    case 'text':
      appendText(m.text, m.trajectoryId);
      break;
    case 'progress':
      showProgress(m.text);
      break;
    case 'tool':
      showTool(m.item);
      break;
    case 'subagent':
      showSubagent(m.block);
      break;
    case 'note':
      showNote(m.text, m.note, m.trajectoryId);
      break;
    case 'plan':
      showPlan(m.plan, m.trajectoryId);
      break;
    case 'done':
      finish(m);
      break;
    case 'copied':
      document.querySelectorAll('button.copy.copying').forEach((b) => {
        b.textContent = 'Copied';
        b.classList.remove('copying');
        setTimeout(() => (b.textContent = 'Copy'), 1500);
      });
      break;
  }
});

// Copy buttons, Go ahead and links: delegated, so re-rendered Markdown needs no re-binding.
log.addEventListener('click', (e) => {
  const target = e.target as HTMLElement;
  const copy = target.closest('button.copy');
  if (copy) {
    const code = copy.parentElement?.querySelector('code');
    copy.classList.add('copying');
    vscode.postMessage({ type: 'copy', text: code?.textContent ?? '' });
    return;
  }
  const go = target.closest<HTMLButtonElement>('button.go');
  if (go) {
    if (!go.disabled) vscode.postMessage({ type: 'go' });
    go.disabled = true;
    return;
  }
  const link = target.closest('a');
  if (link) {
    e.preventDefault();
    const href = link.getAttribute('href');
    if (href) vscode.postMessage({ type: 'open', href });
  }
});

function submit(): void {
  const text = prompt.value;
  if (!text.trim()) return;
  vscode.postMessage({ type: 'prompt', text });
  prompt.value = '';
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  submit();
});
prompt.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit();
  }
});
stop.addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
send.title = 'Send (Enter)';
vscode.postMessage({ type: 'ready' });
prompt.focus();
