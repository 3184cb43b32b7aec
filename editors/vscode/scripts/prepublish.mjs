// `vscode:prepublish` (run by `vsce package`): the production bundle, and the
// agy-lsp wheel from this repository in server/ so the extension can install
// its own server. Without a Python that can build it, the .vsix ships no wheel
// and the extension then needs agy-lsp on PATH or agy.server.command.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const here = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
execFileSync(process.execPath, [path.join(here, 'esbuild.mjs'), '--production'], { cwd: here, stdio: 'inherit' });

const repo = path.resolve(here, '..', '..');
const serverDir = path.join(here, 'server');
if (!fs.existsSync(path.join(repo, 'pyproject.toml'))) {
  console.warn('prepublish: no agy-lsp repository around; the .vsix ships no server wheel');
} else {
  const buildDir = path.join(repo, 'build');
  const hadBuild = fs.existsSync(buildDir);
  fs.rmSync(serverDir, { recursive: true, force: true });
  fs.mkdirSync(serverDir);
  const venvPython = path.join(repo, '.venv', 'bin', 'python');
  const python = process.env.AGY_PYTHON ?? (fs.existsSync(venvPython) ? venvPython : 'python3');
  try {
    execFileSync(python, ['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--quiet', '-w', serverDir, repo], { stdio: 'pipe' });
  } catch {
    // Without the venv's setuptools, let pip fetch a build backend.
    execFileSync(python, ['-m', 'pip', 'wheel', '--no-deps', '--quiet', '-w', serverDir, repo], { stdio: 'inherit' });
  }
  // pip wheel leaves a build/ folder in the repository; remove it when it is ours.
  if (!hadBuild) fs.rmSync(buildDir, { recursive: true, force: true });
  const wheels = fs.readdirSync(serverDir).filter((f) => f.endsWith('.whl'));
  console.log(`prepublish: server/${wheels.join(', ')}`);
}
