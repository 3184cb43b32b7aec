// The chat panel's page script (bundled by esbuild for the browser). Renders the
// streamed Markdown with markdown-it (raw HTML off, so model output cannot inject
// markup), code blocks with a Copy button, links that open files in the editor,
// and one collapsible item per tool call.

import MarkdownIt from 'markdown-it';
import type { FromWebview, ToWebview } from '../protocol/panelMessages';
import type { ToolItem, ToolState } from '../protocol/toolItems';

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

interface Turn {
  el: HTMLElement;
  answer: HTMLElement;
  segment: { el: HTMLElement; source: string } | undefined;
  tools: Map<string, { el: HTMLDetailsElement; asked: boolean }>;
  progress: HTMLElement | undefined;
}
let turn: Turn | undefined;
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
  const t = el('section', 'turn');
  t.append(el('div', 'you', text));
  const answer = el('div', 'answer');
  t.append(answer);
  log.append(t);
  turn = { el: t, answer, segment: undefined, tools: new Map(), progress: undefined };
  setBusy(true);
  scroll();
}

// Re-render the open Markdown segment at most once a frame while text streams in.
function renderSoon(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    const seg = turn?.segment;
    if (seg) seg.el.innerHTML = md.render(seg.source);
    scroll();
  });
}

function appendText(text: string): void {
  if (!turn) return;
  turn.progress?.remove();
  turn.progress = undefined;
  if (!turn.segment) {
    const e = el('div', 'markdown');
    turn.answer.append(e);
    turn.segment = { el: e, source: '' };
  }
  turn.segment.source += text;
  renderSoon();
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

function mainArg(args: Record<string, unknown>): string {
  for (const k of ['CommandLine', 'command_line', 'TargetFile', 'target_file', 'AbsolutePath', 'path', 'file_path', 'Query', 'query']) {
    const v = args[k];
    if (typeof v === 'string') return v.length > 70 ? `${v.slice(0, 67)}…` : v;
  }
  return '';
}

function pretty(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return text.length > 4000 ? `${text.slice(0, 4000)}\n…` : text;
}

function showTool(item: ToolItem): void {
  if (!turn) return;
  let entry = turn.tools.get(item.id);
  if (!entry) {
    const details = el('details', 'tool');
    details.dataset.id = item.id;
    turn.answer.append(details);
    entry = { el: details, asked: false };
    turn.tools.set(item.id, entry);
    turn.segment = undefined; // text after a tool call starts a new segment below it
  }
  if (item.state === 'asking' || item.state === 'allowed') entry.asked = true;
  const d = entry.el;
  d.dataset.state = item.state;
  d.replaceChildren();
  const summary = el('summary');
  summary.append(el('span', 'tool-icon'), el('span', 'tool-name', item.name));
  const arg = mainArg(item.args);
  if (arg) summary.append(el('span', 'tool-arg', arg));
  const label = entry.asked && item.state !== 'allowed' && item.state !== 'asking' && item.state !== 'denied' && item.state !== 'cancelled'
    ? `allowed · ${STATE_LABEL[item.state]}`
    : STATE_LABEL[item.state];
  summary.append(el('span', `tool-state state-${item.state}`, label));
  d.append(summary);
  if (Object.keys(item.args).length) {
    d.append(el('div', 'tool-label', 'Arguments'), el('pre', 'tool-args', pretty(item.args)));
  }
  if (item.error) d.append(el('div', 'tool-label', 'Error'), el('pre', 'tool-error', item.error));
  else if (item.result !== undefined) d.append(el('div', 'tool-label', 'Result'), el('pre', 'tool-result', pretty(item.result)));
  scroll();
}

function showProgress(text: string): void {
  if (!turn) return;
  if (!turn.progress) {
    turn.progress = el('div', 'progress');
    turn.answer.append(turn.progress);
  }
  turn.progress.textContent = text;
}

function finish(m: Extract<ToWebview, { type: 'done' }>): void {
  if (!turn) return;
  turn.progress?.remove();
  const seg = turn.segment;
  if (seg) seg.el.innerHTML = md.render(seg.source);
  if (m.cancelled) turn.answer.append(el('div', 'note cancelled', 'Cancelled.'));
  if (m.error) turn.answer.append(el('div', 'note error', `Error: ${m.error}`));
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
      appendText(m.text);
      break;
    case 'progress':
      showProgress(m.text);
      break;
    case 'tool':
      showTool(m.item);
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

// Copy buttons and links: delegated, so re-rendered Markdown needs no re-binding.
log.addEventListener('click', (e) => {
  const target = e.target as HTMLElement;
  const copy = target.closest('button.copy');
  if (copy) {
    const code = copy.parentElement?.querySelector('code');
    copy.classList.add('copying');
    vscode.postMessage({ type: 'copy', text: code?.textContent ?? '' });
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
