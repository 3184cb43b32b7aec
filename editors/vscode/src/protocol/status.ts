// Status bar text and history rendering. No `vscode` import here.

import type { AgentState, HistoryResult, Usage } from './types';

const ICONS: Record<AgentState, string> = {
  starting: '$(loading~spin)',
  idle: '$(hubot)',
  busy: '$(sync~spin)',
  restarting: '$(loading~spin)',
  failed: '$(error)',
  closed: '$(circle-slash)',
  hibernated: '$(debug-pause)',
};

export function formatTokens(n: number | undefined): string {
  const v = n ?? 0;
  if (v >= 1_000_000) return `${(v / 1_000_000).toFixed(1)}M`;
  if (v >= 10_000) return `${Math.round(v / 1000)}k`;
  if (v >= 1_000) return `${(v / 1000).toFixed(1)}k`;
  return String(v);
}

export interface StatusView {
  text: string;
  tooltip: string;
}

export function statusView(
  state: AgentState | 'none' | 'stopped',
  last: Usage | null | undefined,
  total: Usage | undefined,
  agent: string[] = [],
): StatusView {
  if (state === 'none') return { text: '$(hubot) agy', tooltip: 'agy: no agent yet. Click to start one.' };
  if (state === 'stopped') return { text: '$(debug-disconnect) agy: server stopped', tooltip: 'agy-lsp is not running' };
  const tokens = `${formatTokens(last?.totalTokens)} / Σ ${formatTokens(total?.totalTokens)} tok`;
  return {
    text: `${ICONS[state]} agy: ${state} · ${tokens}`,
    tooltip: [
      `Agent state: ${state}`,
      `Last turn: ${last?.totalTokens ?? 0} tokens (prompt ${last?.promptTokens ?? 0}, output ${last?.candidatesTokens ?? 0})`,
      `Total: ${total?.totalTokens ?? 0} tokens (prompt ${total?.promptTokens ?? 0}, output ${total?.candidatesTokens ?? 0})`,
      ...agent,
    ].join('\n'),
  };
}

export function renderHistory(agentId: string, history: HistoryResult): string {
  const out = [`# agy history: ${agentId}`, '', `${history.total} steps`, ''];
  for (const step of history.steps) {
    out.push(`## ${step.index ?? ''} ${step.type ?? ''} ${step.source ? `(${step.source})` : ''}`.trimEnd());
    if (step.thinking) out.push('', `> ${step.thinking.replace(/\n/g, '\n> ')}`);
    if (step.content) out.push('', step.content);
    for (const call of step.toolCalls ?? []) {
      const outcome = call.outcome ? ` — ${call.outcome}` : '';
      out.push('', `- tool \`${call.name}\` ${JSON.stringify(call.args ?? {})}${outcome}`);
    }
    // A call that never ran (denied, cancelled) has its reason in the step's error.
    const never = (step.toolCalls ?? []).find((c) => c.outcome === 'denied' || c.outcome === 'cancelled');
    if (step.error) out.push('', never ? `**${never.outcome}:** ${step.error}` : `**error:** ${step.error}`);
    out.push('');
  }
  return out.join('\n');
}
