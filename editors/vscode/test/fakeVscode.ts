// A small fake of the VS Code API surface the glue uses (see src/glue/vs.ts).
// It records what the glue did and answers prompts from a queue.

import type { VsApi } from '../src/glue/vs';

export class FakeUri {
  constructor(
    readonly scheme: string,
    readonly path: string,
    readonly query = '',
  ) {}
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}${this.query ? `?${this.query}` : ''}`;
  }
  static file(p: string): FakeUri {
    return new FakeUri('file', p);
  }
  static parse(s: string): FakeUri {
    const m = /^([a-z-]+):\/\/([^?]*)(?:\?(.*))?$/.exec(s);
    return m ? new FakeUri(m[1] ?? 'file', m[2] ?? '', m[3] ?? '') : FakeUri.file(s);
  }
  static from(c: { scheme: string; path?: string; query?: string }): FakeUri {
    return new FakeUri(c.scheme, c.path ?? '', c.query ?? '');
  }
}

export interface Pos {
  line: number;
  character: number;
}

export class FakeDocument {
  version = 1;
  constructor(
    readonly uri: FakeUri,
    public text: string,
    readonly languageId = 'typescript',
  ) {}
  get fileName(): string {
    return this.uri.fsPath;
  }
  offsetAt(p: Pos): number {
    const lines = this.text.split('\n');
    let off = 0;
    for (let i = 0; i < p.line; i++) off += (lines[i]?.length ?? 0) + 1;
    return off + p.character;
  }
  getText(range?: { start: Pos; end: Pos }): string {
    return range ? this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end)) : this.text;
  }
}

export class FakeWorkspaceEdit {
  readonly replacements: { uri: FakeUri; range: { start: Pos; end: Pos }; text: string }[] = [];
  replace(uri: FakeUri, range: { start: Pos; end: Pos }, text: string): void {
    this.replacements.push({ uri, range, text });
  }
}

export class FakePosition {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class FakeRange {
  constructor(
    readonly start: Pos,
    readonly end: Pos,
  ) {}
}

export function selection(start: Pos, end: Pos): { start: Pos; end: Pos; isEmpty: boolean } {
  return { start, end, isEmpty: start.line === end.line && start.character === end.character };
}

type Answer = unknown;

export interface Fake {
  vs: VsApi;
  calls: { method: string; args: unknown[] }[];
  /** Queue answers for showQuickPick / showWarningMessage / showInformationMessage / showInputBox. */
  answers: Record<string, Answer[]>;
  files: Map<string, string>;
  editor: { document: FakeDocument; selection: ReturnType<typeof selection> } | undefined;
  diagnostics: [FakeUri, { message: string; severity: number; source?: string; range: { start: Pos; end: Pos } }[]][];
  statusItems: { text: string; tooltip: string; shown: boolean }[];
  applied: FakeWorkspaceEdit[];
  callsTo(method: string): unknown[][];
}

export function fakeVscode(): Fake {
  const fake: Fake = {
    vs: undefined as unknown as VsApi,
    calls: [],
    answers: {},
    files: new Map(),
    editor: undefined,
    diagnostics: [],
    statusItems: [],
    applied: [],
    callsTo(method) {
      return this.calls.filter((c) => c.method === method).map((c) => c.args);
    },
  };
  const record = (method: string) => async (...args: unknown[]) => {
    fake.calls.push({ method, args });
    const queue = fake.answers[method];
    const next = queue?.shift();
    return typeof next === 'function' ? (next as (...a: unknown[]) => unknown)(...args) : next;
  };
  const vs = {
    Uri: FakeUri,
    WorkspaceEdit: FakeWorkspaceEdit,
    Position: FakePosition,
    Range: FakeRange,
    env: {
      openExternal: async (...args: unknown[]) => (fake.calls.push({ method: 'openExternal', args }), true),
      clipboard: { writeText: record('clipboard.writeText') },
    },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ViewColumn: { Beside: -2 },
    window: {
      get activeTextEditor() {
        return fake.editor;
      },
      showQuickPick: record('showQuickPick'),
      showWarningMessage: record('showWarningMessage'),
      showErrorMessage: record('showErrorMessage'),
      showInformationMessage: record('showInformationMessage'),
      showInputBox: record('showInputBox'),
      showTextDocument: record('showTextDocument'),
      createStatusBarItem() {
        const item = { text: '', tooltip: '', shown: false, command: '', show() { item.shown = true; }, dispose() { item.shown = false; } };
        fake.statusItems.push(item);
        return item;
      },
    },
    workspace: {
      workspaceFolders: [{ uri: FakeUri.file('/work/project'), name: 'project', index: 0 }],
      fs: {
        async stat(uri: FakeUri) {
          if (!fake.files.has(uri.fsPath)) throw new Error(`ENOENT ${uri.fsPath}`);
          return { type: 1 };
        },
        async readFile(uri: FakeUri) {
          const text = fake.files.get(uri.fsPath);
          if (text === undefined) throw new Error(`ENOENT ${uri.fsPath}`);
          return new TextEncoder().encode(text);
        },
      },
      async openTextDocument(opts: { content: string; language: string }) {
        fake.calls.push({ method: 'openTextDocument', args: [opts] });
        return new FakeDocument(new FakeUri('untitled', '/Untitled-1'), opts.content, opts.language);
      },
      async applyEdit(edit: FakeWorkspaceEdit) {
        fake.applied.push(edit);
        for (const r of edit.replacements) {
          const doc = fake.editor?.document;
          if (doc && doc.uri.toString() === r.uri.toString()) {
            doc.text = doc.text.slice(0, doc.offsetAt(r.range.start)) + r.text + doc.text.slice(doc.offsetAt(r.range.end));
            doc.version += 1;
          }
        }
        return true;
      },
    },
    commands: { executeCommand: record('executeCommand') },
    languages: {
      getDiagnostics(uri?: FakeUri) {
        if (uri) return fake.diagnostics.find(([u]) => u.toString() === uri.toString())?.[1] ?? [];
        return fake.diagnostics;
      },
    },
  };
  fake.vs = vs as unknown as VsApi;
  return fake;
}
