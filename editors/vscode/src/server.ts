// The agy-lsp process behind the extension: which command (setting, private
// venv, PATH, or an offer to install it), starting it through
// vscode-languageclient, and telling the person clearly when it cannot start.

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  type StaticFeature,
} from 'vscode-languageclient/node';
import { agyClientCapabilities } from './protocol/methods';
import {
  InstallError,
  installServer,
  privateVenvOutdated,
  processRunner,
  resolveServer,
  shippedWheel,
  type Resolution,
} from './protocol/serverInstall';
import { RestartBudget, ServerProcess, launchArgs } from './protocol/serverProcess';
import { initializationOptions, type AgySettings } from './protocol/settings';

/** Declares capabilities.experimental.agy.confirmToolCall so the server asks us. */
const agyCapabilities: StaticFeature = {
  fillClientCapabilities(capabilities) {
    const existing = (capabilities.experimental ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...existing, ...agyClientCapabilities().experimental };
  },
  initialize() {
    /* nothing to do */
  },
  getState() {
    return { kind: 'static' };
  },
  clear() {
    /* nothing to do */
  },
};

/** Logs the client's errors without its own notifications: we show one, with the cause. */
class AgyLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}

/** An error whose message is fit for a notification, with buttons. */
export class StartError extends Error {
  constructor(
    message: string,
    readonly actions: string[] = ['Show Log'],
  ) {
    super(message);
  }
}

const INSTALL_OFFERED = 'agy.installOffered';

export class ServerManager implements vscode.Disposable {
  client: LanguageClient | undefined;
  private proc: ServerProcess | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private stopping = false;
  private budget = new RestartBudget();
  private lastNotice = { text: '', at: 0 };
  /** Fired with the running client after every (re)start. */
  onStarted: (client: LanguageClient) => void = () => undefined;
  onStopped: (reason: string) => void = () => undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.LogOutputChannel,
    private readonly settings: () => AgySettings,
  ) {}

  dispose(): void {
    void this.stop();
  }

  /** The running client, starting (and if need be installing) the server first. */
  ensure(): Promise<LanguageClient> {
    if (this.client?.isRunning()) return Promise.resolve(this.client);
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async restart(): Promise<LanguageClient> {
    await this.stop();
    this.budget = new RestartBudget();
    return this.ensure();
  }

  async stop(): Promise<void> {
    const client = this.client;
    const proc = this.proc;
    this.client = undefined;
    this.proc = undefined;
    if (!client) return;
    this.stopping = true;
    try {
      // shutdown + exit: the server closes every agent (and its harness) before it exits.
      await client.stop(10_000);
    } catch (e) {
      this.output.warn(`stopping agy-lsp: ${String(e)}`);
    } finally {
      this.stopping = false;
      if (proc && !proc.exit && proc.child.pid !== undefined) {
        const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5000);
        void proc.exited.then(() => clearTimeout(timer));
      }
    }
  }

  /** Show the failure once (the client reports some twice), with Show Log. */
  async notify(message: string, actions: string[] = ['Show Log']): Promise<void> {
    const now = Date.now();
    if (this.lastNotice.text === message && now - this.lastNotice.at < 15_000) return;
    this.lastNotice = { text: message, at: now };
    this.output.error(message);
    const pick = await vscode.window.showErrorMessage(`agy: ${message}`, ...actions);
    if (pick === 'Show Log') this.output.show(true);
    else if (pick === 'Install Server') await vscode.commands.executeCommand('agy.installServer');
    else if (pick === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'agy.server.command');
    else if (pick === 'Restart Server') await vscode.commands.executeCommand('agy.restartServer');
  }

  private resolve(): Resolution {
    const s = this.settings();
    return resolveServer({
      serverCommand: s.serverCommand,
      serverArgs: s.serverArgs,
      storageDir: this.context.globalStorageUri.fsPath,
      extensionPath: this.context.extensionPath,
      pathEnv: process.env.PATH,
    });
  }

  private async start(): Promise<LanguageClient> {
    let res = this.resolve();
    if (res.kind === 'missing') {
      const installed = await this.offerInstall(res.wheel);
      res = installed ? this.resolve() : res;
      if (res.kind === 'missing') {
        throw new StartError(
          res.wheel
            ? 'agy-lsp is not installed. Run "agy: Install Server", or set agy.server.command to an agy-lsp you have.'
            : 'agy-lsp was not found on PATH. Install it (pip install agy-lsp) or set agy.server.command.',
          res.wheel ? ['Install Server', 'Open Settings'] : ['Open Settings', 'Show Log'],
        );
      }
    } else if (res.kind === 'private') {
      const wheel = shippedWheel(this.context.extensionPath);
      // The extension was updated: bring its private server along (the person agreed to it once).
      if (privateVenvOutdated(this.context.globalStorageUri.fsPath, wheel) && wheel) await this.install(wheel);
    }
    return this.launch(res.command, res.args, res.kind);
  }

  private async launch(command: string, args: string[], kind: string): Promise<LanguageClient> {
    const fullArgs = launchArgs(args);
    this.output.info(`starting ${command} ${fullArgs.join(' ')} (${kind})`);
    const serverOptions: ServerOptions = async () => {
      const proc = new ServerProcess(command, fullArgs, {
        env: process.env,
        cwd: vscode.workspace.workspaceFolders?.[0]?.uri.scheme === 'file' ? vscode.workspace.workspaceFolders[0].uri.fsPath : undefined,
      });
      this.proc = proc;
      await proc.spawned();
      return proc.child;
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [],
      outputChannel: this.output,
      initializationOptions: initializationOptions(this.settings()),
      initializationFailedHandler: () => false,
      errorHandler: {
        error: (_e, _m, count) => ({ action: count && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
        closed: async () => {
          const proc = this.proc;
          const exit = proc ? await Promise.race([proc.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000))]) : undefined;
          if (this.stopping) return { action: CloseAction.DoNotRestart, handled: true };
          const cause = proc?.describe() ?? 'agy-lsp closed the connection';
          if (this.budget.shouldRestart(exit)) {
            this.output.warn(`${cause}; restarting`);
            return { action: CloseAction.Restart, handled: true };
          }
          this.client = undefined;
          this.onStopped(cause);
          void this.notify(cause, ['Show Log', 'Restart Server']);
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    const client = new AgyLanguageClient('agy', 'agy-lsp', serverOptions, clientOptions);
    client.registerFeature(agyCapabilities);
    try {
      await client.start();
    } catch (e) {
      const proc = this.proc;
      if (proc) await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 1500))]);
      const cause = proc && (proc.spawnError || proc.exit) ? proc.describe() : e instanceof Error ? e.message : String(e);
      this.onStopped(cause);
      try {
        await client.dispose(2000);
      } catch {
        // already stopped
      }
      throw new StartError(cause, ['Show Log', 'Open Settings']);
    }
    this.client = client;
    this.onStarted(client);
    return client;
  }

  /** Ask once whether to install the shipped server; later starts point to agy: Install Server. */
  private async offerInstall(wheel: string | undefined): Promise<boolean> {
    if (!wheel || this.context.globalState.get<boolean>(INSTALL_OFFERED)) return false;
    await this.context.globalState.update(INSTALL_OFFERED, true);
    const pick = await vscode.window.showInformationMessage(
      'agy: the agy-lsp server is not installed. Install it into a private Python environment for this extension? ' +
        '(Needs Python 3.10 or newer; its dependencies are downloaded from PyPI.)',
      'Install',
      'Use Existing…',
      'Not Now',
    );
    if (pick === 'Install') return this.install(wheel);
    if (pick === 'Use Existing…') {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, title: 'The agy-lsp executable', openLabel: 'Use this agy-lsp' });
      const file = picked?.[0];
      if (file) {
        await vscode.workspace.getConfiguration('agy').update('server.command', file.fsPath, vscode.ConfigurationTarget.Global);
        return true;
      }
    }
    return false;
  }

  /** agy.installServer: python -m venv + pip install the shipped wheel, with a progress notification. */
  async install(wheel = shippedWheel(this.context.extensionPath)): Promise<boolean> {
    if (!wheel) {
      await this.notify('this build of the extension ships no agy-lsp wheel; install agy-lsp yourself and set agy.server.command.', ['Open Settings']);
      return false;
    }
    this.output.info(`installing ${path.basename(wheel)} into ${this.context.globalStorageUri.fsPath}`);
    try {
      const server = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'agy: installing agy-lsp', cancellable: false },
        (progress) =>
          installServer({
            storageDir: this.context.globalStorageUri.fsPath,
            wheel,
            run: processRunner((text) => this.output.append(text)),
            report: (message, increment) => progress.report({ message, increment }),
          }),
      );
      this.output.info(`installed ${server}`);
      void vscode.window.showInformationMessage('agy: agy-lsp is installed.');
      return true;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof InstallError && e.output) this.output.error(e.output.slice(-4000));
      await this.notify(`installing agy-lsp failed: ${message}`, ['Show Log', 'Open Settings']);
      return false;
    }
  }
}
