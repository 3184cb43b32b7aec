// Plan mode (docs/protocol.md, "Planning"): `/plan` prompts, the plan a `plan` chunk
// carries, and how it reads as Markdown; compaction notes. No `vscode` import here.

import type { Plan, PlanEntry } from './types';

/** What "Go ahead" sends: the person's go-ahead is simply the next prompt. */
export const GO_AHEAD = 'Go ahead with the plan.';

/** True for a prompt that asks for a plan first (`/plan …`). */
export function isPlanPrompt(prompt: unknown): boolean {
  return typeof prompt === 'string' && /^\s*\/plan(\s|$)/.test(prompt);
}

/** `/plan <request>` (a request that already starts with /plan is left alone). */
export function planPrompt(request: string): string {
  return isPlanPrompt(request) ? request.trim() : `/plan ${request.trim()}`;
}

export const STATUS_GLYPH: Record<PlanEntry['status'], string> = { completed: '✔', in_progress: '◐', pending: '○' };

const MARKS: Record<string, PlanEntry['status']> = { ' ': 'pending', '/': 'in_progress', x: 'completed', X: 'completed' };

/** A checklist line's status and text (`- [ ] a`, `* [x] b`, `- [/] c`), else undefined. */
export function taskMarker(text: string): { status: PlanEntry['status']; rest: string } | undefined {
  const m = /^\[([ xX/])\]\s+([\s\S]*)$/.exec(text);
  if (!m) return undefined;
  const status = MARKS[m[1] ?? ' '] ?? 'pending';
  return { status, rest: m[2] ?? '' };
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

/** "implementation_plan.md · 1/3 done" */
export function planSummary(plan: Plan): string {
  const name = baseName(plan.path || 'plan');
  const entries = plan.entries ?? [];
  if (!entries.length) return name;
  const done = entries.filter((e) => e.status === 'completed').length;
  return `${name} · ${done}/${entries.length} done`;
}

/**
 * The plan as Markdown for a chat response: a header, then the plan with its
 * headings made smaller and its checklist items shown with their status.
 */
export function planMarkdown(plan: Plan): string {
  const body = (plan.markdown ?? '')
    .replace(/\s+$/, '')
    .split('\n')
    .map((line) => {
      const heading = /^(#{1,6})\s+(.*)$/.exec(line);
      if (heading) return `#### ${heading[2] ?? ''}`;
      const item = /^(\s*)[-*+]\s+(\[[ xX/]\]\s+.*)$/.exec(line);
      const task = item ? taskMarker(item[2] ?? '') : undefined;
      return item && task ? `${item[1] ?? ''}- ${STATUS_GLYPH[task.status]} ${task.rest}` : line;
    })
    .join('\n');
  return `**▤ Plan** · ${planSummary(plan)}\n\n${body}\n`;
}

/** The note for a `compaction` chunk (its text is the harness's own note, maybe long). */
export function compactionText(text: string | undefined): string {
  const t = (text ?? '').replace(/\s+/g, ' ').trim();
  if (!t) return 'older history was summarised';
  return `history compacted: ${t.length > 120 ? `${t.slice(0, 119)}…` : t}`;
}
