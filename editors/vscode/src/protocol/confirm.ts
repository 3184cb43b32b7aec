// Confirmation mapping: agy/confirmToolCall params -> choices to show, and the
// person's pick -> the outcome the server expects. No `vscode` import here.

import type { ConfirmToolCallParams, PermissionKind, PermissionOption, ToolCall } from './types';

export interface ConfirmChoice {
  label: string;
  description: string;
  outcome: string; // an optionId
  kind: PermissionKind;
}

const ORDER: PermissionKind[] = ['allow_once', 'allow_always', 'reject_once', 'reject_always'];
const LABELS: Record<PermissionKind, { label: string; description: string }> = {
  allow_once: { label: '$(check) Allow once', description: 'run this call' },
  allow_always: { label: '$(check-all) Allow always', description: 'for this tool, in this agent' },
  reject_once: { label: '$(close) Reject', description: 'do not run this call' },
  reject_always: { label: '$(circle-slash) Reject always', description: 'for this tool, in this agent' },
};

/** The choices to present, allow first; Reject first (the default) when `rejectFirst`. Falls back to the standard three if the server sent none. */
export function confirmChoices(options: PermissionOption[], rejectFirst = false): ConfirmChoice[] {
  const usable = options.filter((o) => ORDER.includes(o.kind));
  const list: PermissionOption[] = usable.length
    ? usable
    : [
        { optionId: 'allow_once', kind: 'allow_once', name: 'Allow once' },
        { optionId: 'allow_always', kind: 'allow_always', name: 'Always allow' },
        { optionId: 'reject_once', kind: 'reject_once', name: 'Reject' },
      ];
  const order = rejectFirst ? ['reject_once', ...ORDER.filter((k) => k !== 'reject_once')] : ORDER;
  return [...list]
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind))
    .map((o) => ({ ...LABELS[o.kind], outcome: o.optionId, kind: o.kind }));
}

/** The outcome for a pick: its optionId, or "cancelled" when dismissed. */
export function outcomeFor(choice: ConfirmChoice | undefined): string {
  return choice ? choice.outcome : 'cancelled';
}

/** Map a modal's button label back to its outcome. */
export function outcomeForLabel(choices: ConfirmChoice[], label: string | undefined): string {
  return outcomeFor(choices.find((c) => plainLabel(c.label) === label));
}

/** A label without codicons, for modal buttons. */
export function plainLabel(label: string): string {
  return label.replace(/\$\([a-z-]+\)\s*/g, '');
}

/** Characters that could hide or rewrite text: C0/C1 controls but newline and tab, DEL, bidi overrides, zero-width marks. */
function hidden(code: number): boolean {
  return (
    (code < 0x20 && code !== 0x0a && code !== 0x09) ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x206f) ||
    code === 0xfeff
  );
}

/** `text` with every such character written as an escape (`\x1b`, `\r`, `\u202e`). */
export function visible(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (!hidden(code)) out += ch;
    else if (ch === '\r') out += '\\r';
    else out += code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out;
}

/** The last line of the whole call as a modal shows it: read down to it, or Reject. */
export const END_OF_CALL = '(end of the call)';
/** Past this a QuickPick item's one-line detail cannot hold the call. */
const INLINE_CHARS = 120;

export interface Confirmation {
  title: string;
  /** One line for a QuickPick item: the call itself when it fits, else where it is. */
  detail: string;
  /** The whole call, every argument in full, control characters escaped. */
  whole: string;
  /** The whole call does not fit on the question's one line: it is opened beside and Reject is the default. */
  long: boolean;
  lineCount: number;
}

/** The whole call, nothing cut: the question may not hide anything (issue #26). */
export function describeConfirmation(params: ConfirmToolCallParams): Confirmation {
  const call = params.toolCall;
  const name = visible(call.name);
  const args = Object.entries(call.args ?? {}).map(([k, v]) => [visible(k), visible(typeof v === 'string' ? v : JSON.stringify(v, null, 2))] as const);
  const lines: string[] = [];
  for (const [k, v] of args) {
    const parts = v.split('\n');
    if (parts.length === 1) lines.push(`${k}: ${v}`);
    else lines.push(`${k}: (${parts.length} lines)`, ...parts.map((p) => `    ${p}`));
  }
  if (!args.length) lines.push('(no arguments)');
  if (params.reason) lines.push(...`reason: ${visible(params.reason)}`.split('\n'));
  const inline = lines.join('  ·  ');
  const long = args.some(([, v]) => v.includes('\n')) || inline.length > INLINE_CHARS;
  const whole = lines.join('\n');
  const lineCount = lines.length;
  if (!long) return { title: `agy wants to run ${name}`, detail: inline, whole, long, lineCount };
  return {
    title: `agy wants to run ${name}: the whole call (${lineCount} lines) is open beside; Reject is the default`,
    detail: `Read the whole call (${lineCount} lines, ${whole.length} characters) in the editor beside before you answer`,
    whole,
    long,
    lineCount,
  };
}

export interface FileChange {
  path: string;
  /** The proposed full content, computed from the current text. */
  newText: (current: string) => string;
}

const PATH_KEYS = ['TargetFile', 'target_file', 'file_path', 'path', 'AbsolutePath'];

function fileUriToPath(p: string): string {
  return p.startsWith('file://') ? decodeURIComponent(p.replace(/^file:\/\//, '')) : p;
}

/** The offsets where line `start` begins and line `end` ends (1-based, inclusive) in `text`; the whole text when out of range. */
function lineSpan(text: string, start: number, end: number): [number, number] {
  const lines = text.split('\n');
  if (start > lines.length) return [0, text.length];
  let from = 0;
  for (let i = 0; i < start - 1; i++) from += (lines[i]?.length ?? 0) + 1;
  let to = from;
  for (let i = start - 1; i < Math.min(end, lines.length); i++) to += (lines[i]?.length ?? 0) + 1;
  return [from, Math.min(to, text.length)];
}

/** `replace_file_content`: TargetContent -> ReplacementContent (literal), within StartLine..EndLine when they hold it, every occurrence with AllowMultiple. */
function replaceContent(current: string, args: Record<string, unknown>): string {
  const target = args.TargetContent as string;
  const replacement = args.ReplacementContent as string;
  if (!target) return current;
  if (args.AllowMultiple === true) return current.split(target).join(replacement);
  const start = Number(args.StartLine);
  const end = Number(args.EndLine);
  if (Number.isInteger(start) && Number.isInteger(end) && start >= 1 && end >= start) {
    const [from, to] = lineSpan(current, start, end);
    const at = current.indexOf(target, from);
    if (at >= 0 && at + target.length <= to) return current.slice(0, at) + replacement + current.slice(at + target.length);
  }
  const at = current.indexOf(target);
  return at < 0 ? current : current.slice(0, at) + replacement + current.slice(at + target.length);
}

/**
 * When a tool call would change a file, how (with the model's argument names, as
 * agy/confirmToolCall carries them): `write_to_file` (TargetFile, CodeContent,
 * Append) writes or appends the whole content, `replace_file_content` (TargetFile,
 * TargetContent, ReplacementContent, StartLine, EndLine, AllowMultiple) replaces a
 * piece. undefined for calls that change no file.
 */
export function fileChangeOf(call: ToolCall): FileChange | undefined {
  const args = call.args ?? {};
  const rawPath = PATH_KEYS.map((k) => args[k]).find((v): v is string => typeof v === 'string');
  if (!rawPath) return undefined;
  const path = fileUriToPath(rawPath);
  const full = args.CodeContent ?? args.code_content;
  if (typeof full === 'string') {
    return { path, newText: args.Append === true ? (current) => current + full : () => full };
  }
  if (typeof args.TargetContent === 'string' && typeof args.ReplacementContent === 'string') {
    return { path, newText: (current) => replaceContent(current, args) };
  }
  return undefined;
}
