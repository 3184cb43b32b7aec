// A minimal CancellationTokenSource that vscode-jsonrpc accepts (it checks for a
// boolean isCancellationRequested and an onCancellationRequested function).
// No `vscode` import here.

import type { CancellationToken, Disposable } from './client';

export class TokenSource implements Disposable {
  private cancelled = false;
  private readonly listeners = new Set<() => void>();
  readonly token: CancellationToken;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.token = {
      get isCancellationRequested() {
        return self.cancelled;
      },
      onCancellationRequested(listener: () => void): Disposable {
        if (self.cancelled) {
          listener();
          return { dispose: () => undefined };
        }
        self.listeners.add(listener);
        return { dispose: () => self.listeners.delete(listener) };
      },
    };
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    for (const l of [...this.listeners]) l();
    this.listeners.clear();
  }

  dispose(): void {
    this.listeners.clear();
  }
}

/** A source cancelled when any of `tokens` is. */
export function linkedSource(...tokens: (CancellationToken | undefined)[]): TokenSource {
  const source = new TokenSource();
  for (const t of tokens) {
    t?.onCancellationRequested(() => source.cancel());
  }
  return source;
}
