// The slice of the VS Code API the glue uses. Glue modules only import `vscode`
// for types; the real namespace (extension.ts) or a fake (tests) is passed in.

import type * as vscode from 'vscode';

export type VsApi = Pick<
  typeof vscode,
  'window' | 'workspace' | 'commands' | 'languages' | 'env' | 'Uri' | 'WorkspaceEdit' | 'Range' | 'Position' | 'StatusBarAlignment' | 'ViewColumn'
>;

/** Read-only content for `agy-proposed:` URIs (diff views of proposed changes). */
export class ProposedContent {
  static readonly scheme = 'agy-proposed';
  private readonly docs = new Map<string, string>();
  private counter = 0;
  private readonly changeListeners = new Set<(uri: vscode.Uri) => void>();

  constructor(private readonly vs: Pick<VsApi, 'Uri'>) {}

  /** Store `text` and return a fresh URI that shows it, named after `path`. */
  put(path: string, text: string): vscode.Uri {
    this.counter += 1;
    const name = path.startsWith('/') ? path : `/${path}`;
    const uri = this.vs.Uri.from({ scheme: ProposedContent.scheme, path: name, query: String(this.counter) });
    this.docs.set(uri.toString(), text);
    for (const l of this.changeListeners) l(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? '';
  }

  onDidChange(listener: (uri: vscode.Uri) => void): vscode.Disposable {
    this.changeListeners.add(listener);
    return { dispose: () => this.changeListeners.delete(listener) };
  }
}
