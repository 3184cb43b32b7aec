// Every agy/* method name (mirrors agy_lsp/protocol/methods.py). No `vscode` import here.

export const Method = {
  createAgent: 'agy/createAgent',
  configureAgent: 'agy/configureAgent',
  chat: 'agy/chat',
  send: 'agy/send',
  cancel: 'agy/cancel',
  waitForIdle: 'agy/waitForIdle',
  status: 'agy/status',
  history: 'agy/history',
  usage: 'agy/usage',
  clearHistory: 'agy/clearHistory',
  listAgents: 'agy/listAgents',
  shutdownAgent: 'agy/shutdownAgent',
  deleteAgent: 'agy/deleteAgent',
  resetPermissions: 'agy/resetPermissions',
  serverInfo: 'agy/serverInfo',
  // server -> client
  chatChunk: 'agy/chatChunk',
  agentState: 'agy/agentState',
  quota: 'agy/quota',
  confirmToolCall: 'agy/confirmToolCall',
  runTool: 'agy/runTool',
} as const;

export const ErrorCode = {
  requestCancelled: -32800,
  agentNotFound: -32001,
  agentClosed: -32002,
  timeout: -32003,
  quotaExceeded: -32004,
  backendError: -32007,
  agentFailed: -32008,
  invalidParams: -32602,
  agentBusy: -32009,
  cancelled: -32010,
  serverShuttingDown: -32011,
  agentLimit: -32012,
} as const;

/** The client capabilities this extension declares at initialize. */
export function agyClientCapabilities(): { experimental: { agy: { confirmToolCall: boolean } } } {
  return { experimental: { agy: { confirmToolCall: true } } };
}

/** True when an error thrown by sendRequest is a cancellation (-32800 or -32010). */
export function isCancellation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === ErrorCode.requestCancelled || code === ErrorCode.cancelled;
}

/** The field an InvalidParams error names (`data.field`), or undefined. */
export function errorField(err: unknown): string | undefined {
  const e = err as { code?: unknown; data?: unknown } | null;
  if (e?.code !== ErrorCode.invalidParams) return undefined;
  const data = (e.data ?? {}) as { field?: unknown };
  if (typeof data.field === 'string') return data.field;
  // Validation errors name the field in their cause, e.g. "modelOptions.thinkingLevel".
  const m = /\b(modelOptions|policies|capabilities|backend)(\.[A-Za-z]+)*/.exec(JSON.stringify(e.data ?? ''));
  return m?.[0];
}

const CAUSE_SHOWN = 300;

/**
 * An error as a person reads it: the message, then the server's `data.cause` (the
 * message alone may say only "the model backend failed") and `data.hint` (the fix),
 * on one line. Anything that is not a JSON-RPC error: its message or its text.
 */
export function errorText(err: unknown): string {
  const e = err as { message?: unknown; data?: unknown } | null;
  let text = typeof e?.message === 'string' ? e.message : String(err);
  const data = (typeof e?.data === 'object' && e.data !== null ? e.data : {}) as { cause?: unknown; hint?: unknown };
  const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ');
  if (typeof data.cause === 'string' && data.cause !== '' && !text.includes(data.cause)) {
    const cause = oneLine(data.cause);
    text += `: ${cause.length > CAUSE_SHOWN ? `${cause.slice(0, CAUSE_SHOWN)}…` : cause}`;
  }
  if (typeof data.hint === 'string' && data.hint !== '') text += ` (hint: ${oneLine(data.hint)})`;
  return text;
}

/** True for an error of a turn that is running (AgentBusy). */
export function isBusy(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === ErrorCode.agentBusy;
}
