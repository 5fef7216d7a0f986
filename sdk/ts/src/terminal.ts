/**
 * Runs with a terminal, through the optional `node-pty` package: cordon
 * runs on node-pty's terminal with `run --pty`, so the workload gets a
 * terminal of its own inside the sandbox (never the caller's), and a resize
 * of node-pty's terminal reaches it (cordon forwards SIGWINCH).
 *
 * node-pty cannot hand cordon extra descriptors, so the request and the
 * outcome go through two files in a directory only this user can enter,
 * removed when the run ends (and at exit for runs still going).
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cordonBinary } from './binary.js';
import { MxcError } from './errors.js';
import { parseOutcome, type Outcome } from './invoke.js';

/** The part of node-pty's `IPty` this SDK uses and returns. */
export interface IPty {
  readonly pid: number;
  readonly cols: number;
  readonly rows: number;
  onData(listener: (data: string) => void): { dispose(): void };
  onExit(listener: (e: { exitCode: number; signal?: number }) => void): { dispose(): void };
  write(data: string): void;
  resize(columns: number, rows: number): void;
  kill(signal?: string): void;
}

/** node-pty's options this SDK passes through (`ptyOptions`). */
export interface PtyForkOptions {
  name?: string;
  cols?: number;
  rows?: number;
  cwd?: string;
  env?: { [key: string]: string | undefined };
  [key: string]: unknown;
}

interface NodePty {
  spawn(file: string, args: string[], options: PtyForkOptions): IPty;
}

let loaded: NodePty | undefined;

/** node-pty, or `backend_unavailable` saying how to install it. */
export function nodePty(): NodePty {
  if (loaded !== undefined) return loaded;
  try {
    const require = createRequire(import.meta.url);
    loaded = require('node-pty') as NodePty;
    return loaded;
  } catch (e) {
    throw new MxcError({
      code: 'backend_unavailable',
      message: `a terminal needs the optional package node-pty, which did not load: ${(e as Error).message}`,
      remediation: 'npm install node-pty, or run without a terminal (usePty: false, spawn)',
    });
  }
}

const pending = new Set<string>();
process.on('exit', () => {
  for (const dir of pending) rmSync(dir, { recursive: true, force: true });
});

/** A run on a terminal and its outcome. */
export interface TerminalRun {
  readonly pty: IPty;
  /** Settles after the terminal's process has exited. */
  readonly outcome: Promise<Outcome>;
}

/**
 * Start cordon on a node-pty terminal: `cordon ARGS --pty [--config FILE]
 * --outcome-file FILE [-- COMMAND]` (`run` with a request, `exec ID` with a
 * command).
 */
export function spawnOnTerminal(
  request: unknown,
  args: readonly string[],
  options: { executablePath?: string; ptyOptions?: PtyForkOptions; command?: string[] } = {},
): TerminalRun {
  const bin = cordonBinary(options.executablePath);
  const pty = nodePty();
  const dir = mkdtempSync(join(tmpdir(), 'cordon-sdk-'));
  pending.add(dir);
  const configPath = join(dir, 'request.json');
  const outcomePath = join(dir, 'outcome.json');
  const cleanup = () => {
    pending.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  let term: IPty;
  try {
    const config: string[] = [];
    if (request !== undefined) {
      writeFileSync(configPath, JSON.stringify(request), { mode: 0o600 });
      config.push('--config', configPath);
    }
    const command = options.command !== undefined ? ['--', ...options.command] : [];
    const ptyOptions: PtyForkOptions = {
      name: process.env.TERM ?? 'xterm-256color',
      cols: 80,
      rows: 24,
      env: process.env,
      ...options.ptyOptions,
    };
    term = pty.spawn(
      bin,
      [...args, '--pty', ...config, '--outcome-file', outcomePath, ...command],
      ptyOptions,
    );
  } catch (e) {
    cleanup();
    throw e;
  }
  const outcome = new Promise<Outcome>((resolve, reject) => {
    term.onExit(({ exitCode }) => {
      let text = '';
      try {
        text = readFileSync(outcomePath, 'utf8');
      } catch {
        // No outcome: parseOutcome says so.
      }
      cleanup();
      try {
        resolve(parseOutcome(text, exitCode, null));
      } catch (e) {
        reject(e);
      }
    });
  });
  outcome.catch(() => {});
  return { pty: term, outcome };
}
