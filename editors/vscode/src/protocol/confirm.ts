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

/** The choices to present, allow first. Falls back to the standard three if the server sent none. */
export function confirmChoices(options: PermissionOption[]): ConfirmChoice[] {
  const usable = options.filter((o) => ORDER.includes(o.kind));
  const list: PermissionOption[] = usable.length
    ? usable
    : [
        { optionId: 'allow_once', kind: 'allow_once', name: 'Allow once' },
        { optionId: 'allow_always', kind: 'allow_always', name: 'Always allow' },
        { optionId: 'reject_once', kind: 'reject_once', name: 'Reject' },
      ];
  return [...list]
    .sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind))
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

/** Title and detail text describing the tool call. */
export function describeConfirmation(params: ConfirmToolCallParams): { title: string; detail: string } {
  const call = params.toolCall;
  const title = `agy wants to run ${call.name}`;
  const lines = Object.entries(call.args ?? {}).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (params.reason) lines.push(`reason: ${params.reason}`);
  return { title, detail: lines.join('\n') || '(no arguments)' };
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
