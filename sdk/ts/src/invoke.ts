/**
 * One cordon process: the request goes in on descriptor 3 (never on the
 * command line, where other users could read it, nor on disk), the outcome
 * comes back on descriptor 4 (never mixed with the workload's bytes), and
 * stdin, stdout and stderr are the workload's own.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { cordonBinary } from './binary.js';
import { MxcError, mxcErrorFromEnvelope, type WireError } from './errors.js';

/** cordon's outcome document (`--outcome-fd`), the fields the SDK reads. */
export interface Outcome {
  exitCode: number;
  timedOut: boolean;
  signal?: string | null;
  backend?: string;
  denials?: unknown[];
  limitsHit?: string[];
  /** A passing `--dry-run`: the config is valid and nothing ran. */
  dryRun?: boolean;
  [key: string]: unknown;
}

/** A started cordon process and what it will report. */
export interface Invocation {
  /** cordon itself: killing it (SIGTERM) tears the whole sandbox down. */
  readonly child: ChildProcess;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The outcome; rejects with {@link MxcError} when cordon refused or failed. */
  readonly outcome: Promise<Outcome>;
}

/** How to start cordon. */
export interface InvokeOptions {
  /** The cordon binary; default {@link cordonBinary}. */
  executablePath?: string;
  /** Cancels: cordon is told to stop and kills every process of the sandbox. */
  signal?: AbortSignal;
}

/** The outcome text parsed, or the error it carries. */
export function parseOutcome(text: string, exitCode: number | null, signal: string | null): Outcome {
  const line = text.trim().split('\n').filter((l) => l !== '').pop();
  if (line === undefined) {
    const how = signal !== null ? `was killed by ${signal}` : `exited with ${exitCode}`;
    throw new MxcError({
      code: 'backend_error',
      message: `cordon ${how} without an outcome (its stderr says why)`,
    });
  }
  let doc: { error?: WireError } & Partial<Outcome>;
  try {
    doc = JSON.parse(line);
  } catch {
    throw new MxcError({ code: 'backend_error', message: `cordon's outcome is not JSON: ${line}` });
  }
  if (doc.error !== undefined) throw mxcErrorFromEnvelope(doc.error);
  if (typeof doc.exitCode !== 'number') {
    throw new MxcError({ code: 'backend_error', message: `cordon's outcome has no exit code: ${line}` });
  }
  return { ...doc, exitCode: doc.exitCode, timedOut: doc.timedOut === true };
}

/** Start `cordon ARGS --config-fd 3 --outcome-fd 4` with `request` on fd 3. */
export function invoke(args: readonly string[], request: unknown, options: InvokeOptions = {}): Invocation {
  const bin = cordonBinary(options.executablePath);
  options.signal?.throwIfAborted();
  const child = spawn(bin, [...args, '--config-fd', '3', '--outcome-fd', '4'], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
  });
  const config = child.stdio[3] as Writable;
  const report = child.stdio[4] as Readable;
  // cordon may refuse before reading the whole request: not an error here.
  config.on('error', () => {});
  config.end(JSON.stringify(request));
  let text = '';
  report.setEncoding('utf8');
  report.on('data', (chunk: string) => {
    text += chunk;
  });
  const onAbort = () => {
    child.kill('SIGTERM');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const outcome = new Promise<Outcome>((resolve, reject) => {
    child.on('error', (e) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(new MxcError({ code: 'backend_unavailable', message: `starting ${bin}: ${e.message}` }));
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) {
        reject(options.signal.reason);
        return;
      }
      try {
        resolve(parseOutcome(text, code, signal));
      } catch (e) {
        reject(e);
      }
    });
  });
  // A caller who only streams must not see an unhandled rejection.
  outcome.catch(() => {});
  return {
    child,
    stdin: child.stdin as Writable,
    stdout: child.stdout as Readable,
    stderr: child.stderr as Readable,
    outcome,
  };
}

/** Captured output and outcome of a run to completion. */
export interface Captured {
  stdout: string;
  stderr: string;
  outcome: Outcome;
}

/** Run to completion, capturing stdout and stderr; stdin is closed. */
export async function capture(
  args: readonly string[],
  request: unknown,
  options: InvokeOptions = {},
): Promise<Captured> {
  const inv = invoke(args, request, options);
  inv.stdin.on('error', () => {});
  inv.stdin.end();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  inv.stdout.on('data', (b: Buffer) => out.push(b));
  inv.stderr.on('data', (b: Buffer) => err.push(b));
  const outcome = await inv.outcome;
  return {
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    outcome,
  };
}

/**
 * A request cordon only checks (`--dry-run`): resolves when it would run,
 * rejects with the {@link MxcError} of the refusal otherwise.
 */
export async function check(request: unknown, options: InvokeOptions = {}): Promise<void> {
  const inv = invoke(['--dry-run'], request, options);
  inv.stdin.end();
  inv.stdout.resume();
  inv.stderr.resume();
  const outcome = await inv.outcome;
  if (outcome.dryRun !== true) {
    throw new MxcError({
      code: 'backend_error',
      message: `cordon did not report a dry run (is ${inv.child.spawnfile} cordon?): ${JSON.stringify(outcome)}`,
    });
  }
}
