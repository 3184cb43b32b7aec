// A turn written as one Markdown stream (the @agy chat response): the agent's own
// text as it comes, a subagent's work as a quote under a "↳ subagent" line (nested
// quotes for deeper ones), compaction notes and plans as their own paragraphs.
// No `vscode` import here.

import { compactionText, planMarkdown } from './plan';
import type { SubagentBlock } from './subagents';
import type { Plan } from './types';

function escapeInline(s: string): string {
  return s.replace(/([\\`*_[\]<>#|])/g, '\\$1');
}

export class MarkdownTurnWriter {
  /** The trajectory the last text went to; undefined: the agent's own answer. */
  private where: string | undefined;
  private tail = '';
  private wrote = false;

  constructor(private readonly emit: (markdown: string) => void) {}

  private out(s: string): void {
    if (!s) return;
    this.emit(s);
    this.wrote = true;
    this.tail = (this.tail + s).slice(-2);
  }

  /** What starts a new paragraph after what was written. */
  private paragraph(): string {
    if (!this.wrote || this.tail === '\n\n') return '';
    return this.tail.endsWith('\n') ? '\n' : '\n\n';
  }

  /** The agent's own text. */
  text(text: string): void {
    if (!text) return;
    if (this.where !== undefined) {
      this.out(this.paragraph());
      this.where = undefined;
    }
    this.out(text);
  }

  /** A subagent's text, in its block's quote. */
  subagentText(block: SubagentBlock, text: string): void {
    if (!text) return;
    const prefix = '> '.repeat(Math.max(1, block.depth));
    if (this.where !== block.trajectoryId) {
      this.out(this.paragraph());
      this.out(`${prefix}**↳ subagent** ${escapeInline(block.label)}\n${prefix}\n${prefix}`);
      this.where = block.trajectoryId;
    }
    this.out(text.replace(/\n/g, `\n${prefix}`));
  }

  /** A one-line note (compaction, a change of the agent), at the agent's level or in a subagent's quote. */
  note(text: string, block?: SubagentBlock): void {
    const prefix = block ? '> '.repeat(Math.max(1, block.depth)) : '';
    this.out(this.paragraph());
    this.out(`${prefix}_${escapeInline(text)}_\n\n`);
    this.where = undefined;
  }

  compaction(text: string | undefined, block?: SubagentBlock): void {
    this.note(`⟲ ${compactionText(text)}`, block);
  }

  plan(plan: Plan, block?: SubagentBlock): void {
    const prefix = block ? '> '.repeat(Math.max(1, block.depth)) : '';
    this.out(this.paragraph());
    const md = planMarkdown(plan).replace(/\n+$/, '');
    this.out(`${md.split('\n').map((l) => prefix + l).join('\n')}\n\n`);
    this.where = undefined;
  }

  /** Whatever ends the turn's text (usage, Cancelled) starts a paragraph of its own. */
  end(text: string): void {
    this.out(this.paragraph());
    this.out(text);
  }
}
