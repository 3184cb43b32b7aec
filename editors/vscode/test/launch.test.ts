// Starting the server (flags, failure causes, restart policy) and finding or
// installing it (setting, private venv, PATH, the shipped wheel). Real processes
// and a temp dir; the install steps run through a recording runner.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RestartBudget, ServerProcess, launchArgs } from '../src/protocol/serverProcess';
import type {
  InstallError} from '../src/protocol/serverInstall';
import {
  findOnPath,
  findPython,
  installServer,
  privateVenv,
  privateVenvOutdated,
  processRunner,
  resolveServer,
  shippedWheel,
  wheelStamp,
  type Runner,
} from '../src/protocol/serverInstall';
import { serverCommand } from './server';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'agy-launch-'));
}

function executable(file: string, body = '#!/bin/sh\nexit 0\n'): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body);
  fs.chmodSync(file, 0o755);
  return file;
}

describe('starting agy-lsp', () => {
  it('adds the LSP launch flags after the user args', () => {
    assert.deepEqual(launchArgs(['--log-level', 'info'], 42), ['--log-level', 'info', '--stdio', '--clientProcessId=42']);
  });

  it('the real agy-lsp accepts them and answers initialize', async () => {
    const [command, ...pre] = serverCommand();
    const proc = new ServerProcess(command ?? 'agy-lsp', [...pre, ...launchArgs([])]);
    await proc.spawned();
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: process.pid, rootUri: null, capabilities: {} } });
    const answer = new Promise<string>((resolve) => {
      let out = '';
      proc.child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"id":1') || out.includes('"id": 1')) resolve(out);
      });
    });
    proc.child.stdin?.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    assert.match(await answer, /capabilities/);
    proc.child.stdin?.end(); // stdin EOF: the server exits with 0
    const exit = await proc.exited;
    assert.equal(exit.code, 0, proc.stderrTail(5).join('\n'));
  });

  it('a missing command is reported as "command not found"', async () => {
    const proc = new ServerProcess('/nonexistent/agy-lsp', launchArgs([]));
    await assert.rejects(proc.spawned(), /cannot start "\/nonexistent\/agy-lsp": command not found/);
    await proc.exited;
    assert.match(proc.describe(), /command not found/);
  });

  it('a server that exits at once is reported with its exit code and last stderr line', async () => {
    const dir = tmp();
    const bad = executable(path.join(dir, 'agy-lsp'), '#!/bin/sh\necho "usage: agy-lsp [-h]" >&2\necho "agy-lsp: error: unrecognized arguments: --stdio" >&2\nexit 2\n');
    const proc = new ServerProcess(bad, launchArgs([]));
    await proc.spawned();
    await proc.exited;
    assert.equal(proc.describe(), 'agy-lsp exited with code 2 right after starting: agy-lsp: error: unrecognized arguments: --stdio');
    assert.deepEqual(proc.stderrTail(2), ['usage: agy-lsp [-h]', 'agy-lsp: error: unrecognized arguments: --stdio']);
  });

  it('a killed server names the signal', async () => {
    const proc = new ServerProcess('sleep', ['30']);
    await proc.spawned();
    proc.child.kill('SIGKILL');
    await proc.exited;
    assert.match(proc.describe(), /was killed by SIGKILL/);
  });

  it('restarts a server that ran a while, at most 3 times in 3 minutes; never one that died at start', () => {
    const budget = new RestartBudget(3, 180_000);
    assert.equal(budget.shouldRestart({ code: 2, signal: null, lifetimeMs: 300 }), false);
    assert.equal(budget.shouldRestart(undefined), false);
    const ran = { code: 1, signal: null, lifetimeMs: 60_000 };
    assert.deepEqual([0, 1, 2, 3].map((i) => budget.shouldRestart(ran, 1000 + i)), [true, true, true, false]);
    assert.equal(budget.shouldRestart(ran, 1000 + 200_000), true, 'old crashes age out');
  });
});

describe('finding agy-lsp', () => {
  it('setting, then the private venv, then PATH, else missing with the shipped wheel', () => {
    const storage = tmp();
    const ext = tmp();
    const bin = tmp();
    const base = { serverCommand: '', serverArgs: ['-v'], storageDir: storage, extensionPath: ext, pathEnv: bin, platform: 'linux' as const };
    assert.deepEqual(resolveServer({ ...base, serverCommand: '/opt/agy-lsp' }), { kind: 'setting', command: '/opt/agy-lsp', args: ['-v'] });
    assert.deepEqual(resolveServer(base), { kind: 'missing', wheel: undefined });
    fs.mkdirSync(path.join(ext, 'server'));
    fs.writeFileSync(path.join(ext, 'server', 'agy_lsp-0.1.0-py3-none-any.whl'), 'wheel');
    assert.deepEqual(resolveServer(base), { kind: 'missing', wheel: path.join(ext, 'server', 'agy_lsp-0.1.0-py3-none-any.whl') });
    fs.writeFileSync(path.join(bin, 'agy-lsp'), 'not executable');
    assert.equal(resolveServer(base).kind, 'missing', 'a file that is not executable does not count');
    executable(path.join(bin, 'agy-lsp'));
    assert.deepEqual(resolveServer(base), { kind: 'path', command: path.join(bin, 'agy-lsp'), args: ['-v'] });
    executable(privateVenv(storage).server);
    assert.deepEqual(resolveServer(base), { kind: 'private', command: privateVenv(storage).server, args: ['-v'] });
    assert.equal(findOnPath('agy-lsp', `/nonexistent${path.delimiter}${bin}`), path.join(bin, 'agy-lsp'));
    assert.equal(shippedWheel(bin), undefined);
  });

  it('a private venv installed from another wheel is outdated', () => {
    const storage = tmp();
    const wheel = path.join(tmp(), 'agy_lsp-0.1.0-py3-none-any.whl');
    fs.writeFileSync(wheel, 'one');
    assert.equal(privateVenvOutdated(storage, wheel), true, 'no marker');
    fs.mkdirSync(privateVenv(storage).dir, { recursive: true });
    fs.writeFileSync(privateVenv(storage).marker, wheelStamp(wheel) + '\n');
    assert.equal(privateVenvOutdated(storage, wheel), false);
    fs.writeFileSync(wheel, 'rebuilt with the same name');
    assert.equal(privateVenvOutdated(storage, wheel), true);
    assert.equal(privateVenvOutdated(storage, undefined), false);
  });
});

describe('installing agy-lsp', () => {
  /** A runner that records commands and plays python/venv/pip by creating the files they would. */
  function playingRunner(fail?: string): { run: Runner; calls: string[][] } {
    const calls: string[][] = [];
    const run: Runner = async (command, args) => {
      calls.push([command, ...args]);
      if (fail && [command, ...args].join(' ').includes(fail)) return { code: 1, output: `${fail} failed: boom` };
      if (args.includes('venv')) executable(path.join(args.at(-1) ?? '', 'bin', 'python'));
      if (args.includes('pip')) executable(path.join(path.dirname(command), 'agy-lsp'), '#!/bin/sh\necho agy-lsp 0.1.0\n');
      if (args[0] === '--version') return { code: 0, output: 'agy-lsp 0.1.0\n' };
      return { code: 0, output: '' };
    };
    return { run, calls };
  }

  it('finds python, makes the venv, pip installs the wheel, checks the server, records the wheel', async () => {
    const storage = path.join(tmp(), 'globalStorage');
    const wheel = path.join(tmp(), 'agy_lsp-0.1.0-py3-none-any.whl');
    fs.writeFileSync(wheel, 'wheel');
    const { run, calls } = playingRunner();
    const steps: string[] = [];
    const server = await installServer({ storageDir: storage, wheel, run, report: (m) => steps.push(m), platform: 'linux' });
    const venv = privateVenv(storage, 'linux');
    assert.equal(server, venv.server);
    assert.deepEqual(calls.map((c) => c.slice(0, 3)), [
      ['python3', '-c', calls[0]?.[2] ?? ''],
      ['python3', '-m', 'venv'],
      [venv.python, '-m', 'pip'],
      [venv.server, '--version'],
    ]);
    assert.ok(calls[2]?.includes(wheel));
    assert.equal(privateVenvOutdated(storage, wheel), false);
    assert.match(steps.join('|'), /Python.*virtualenv.*installing agy_lsp-0\.1\.0-py3-none-any\.whl.*agy-lsp 0\.1\.0/);
  });

  it('a failed pip install leaves no half-made venv and keeps the output', async () => {
    const storage = tmp();
    const wheel = path.join(tmp(), 'agy_lsp-0.1.0-py3-none-any.whl');
    fs.writeFileSync(wheel, 'wheel');
    const { run } = playingRunner('pip');
    await assert.rejects(installServer({ storageDir: storage, wheel, run, report: () => undefined }), (e: InstallError) => {
      assert.match(e.message, /pip install failed \(exit 1\)/);
      assert.match(e.output, /boom/);
      return true;
    });
    assert.equal(fs.existsSync(privateVenv(storage).dir), false);
  });

  it('without Python 3.10+ it says so', async () => {
    const noPython: Runner = async () => ({ code: 3, output: '3.8' });
    await assert.rejects(
      installServer({ storageDir: tmp(), wheel: 'x.whl', run: noPython, report: () => undefined }),
      /no Python 3\.10 or newer found/,
    );
  });

  it('finds this machine\'s python3 with the real runner', async () => {
    const found = await findPython(processRunner());
    assert.deepEqual(found, ['python3']);
  });
});
