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

const PATH_KEYS = ['TargetFile', 'target_file', 'path', 'file_path', 'AbsolutePath'];

function fileUriToPath(p: string): string {
  return p.startsWith('file://') ? decodeURIComponent(p.replace(/^file:\/\//, '')) : p;
}

/**
 * When a tool call would change a file, how: full new content (create/write)
 * or a target -> replacement edit. undefined for calls that change no file.
 */
export function fileChangeOf(call: ToolCall): FileChange | undefined {
  const args = call.args ?? {};
  const rawPath = PATH_KEYS.map((k) => args[k]).find((v): v is string => typeof v === 'string');
  if (!rawPath) return undefined;
  const path = fileUriToPath(rawPath);
  const full = args.CodeContent ?? args.code_content ?? args.FileContent ?? args.file_content ?? args.content;
  if (typeof full === 'string') {
    return { path, newText: () => full };
  }
  if (typeof args.TargetContent === 'string' && typeof args.ReplacementContent === 'string') {
    const target = args.TargetContent;
    const replacement = args.ReplacementContent;
    return { path, newText: (current) => (current.includes(target) ? current.replace(target, () => replacement) : current) };
  }
  const chunks = args.ReplacementChunks;
  if (Array.isArray(chunks)) {
    return {
      path,
      newText: (current) =>
        chunks.reduce<string>((text, c: unknown) => {
          const chunk = c as { TargetContent?: unknown; ReplacementContent?: unknown };
          return typeof chunk.TargetContent === 'string' && typeof chunk.ReplacementContent === 'string'
            ? text.replace(chunk.TargetContent, () => chunk.ReplacementContent as string)
            : text;
        }, current),
    };
  }
  return undefined;
}
