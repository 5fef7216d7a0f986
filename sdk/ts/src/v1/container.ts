/**
 * One-shot requests: {@link run} to completion, {@link spawn} streaming,
 * {@link spawnWithPty} on a terminal.
 *
 * @module
 */
import { capture, check, invoke } from '../invoke.js';
import { spawnOnTerminal } from '../terminal.js';
import { MxcProcess, MxcPtyProcess, outcomeWarnings, processOf, terminalDriver, type MxcPtySize } from './process.js';
import { createConfigFromRequest } from './request.js';
import type { ContainerRequest, ExecutionResult, TelemetryConfig } from './types.js';

/** Options of {@link run}. */
export interface RunOptions {
  /** Accepted; cordon collects no telemetry. */
  telemetry?: TelemetryConfig;
  /** cordon extension: cancels the run (every process of the sandbox is killed). */
  signal?: AbortSignal;
  /** cordon extension: the cordon binary (else `CORDON_BIN`, the platform package, PATH). */
  executablePath?: string;
}
/** Options of {@link spawn}. */
export type SpawnOptions = RunOptions;
/** Options of {@link spawnWithPty}. */
export interface SpawnWithPtyOptions extends RunOptions {
  size?: MxcPtySize;
}

/** Run a request to completion and capture its output. */
export async function run(request: ContainerRequest, options: RunOptions = {}): Promise<ExecutionResult> {
  const config = createConfigFromRequest(request);
  const { stdout, stderr, outcome } = await capture([], config, options);
  return { stdout, stderr, exitCode: outcome.exitCode, timedOut: outcome.timedOut, warnings: outcomeWarnings(outcome) };
}

/**
 * Start a request and return its live process. A request cordon refuses
 * rejects here, before anything runs.
 */
export async function spawn(request: ContainerRequest, options: SpawnOptions = {}): Promise<MxcProcess> {
  const config = createConfigFromRequest(request);
  await check(config, options);
  const inv = invoke([], config, options);
  return processOf(inv);
}

/** Start a request on a terminal (node-pty); resize passes through. */
export async function spawnWithPty(request: ContainerRequest, options: SpawnWithPtyOptions = {}): Promise<MxcPtyProcess> {
  const config = createConfigFromRequest(request);
  await check(config, options);
  const term = spawnOnTerminal(config, ['run'], {
    executablePath: options.executablePath,
    ptyOptions: { cols: options.size?.columns ?? 80, rows: options.size?.rows ?? 24 },
  });
  const proc = new MxcPtyProcess(terminalDriver(term.pty, term.outcome));
  options.signal?.addEventListener('abort', () => proc.kill(), { once: true });
  return proc;
}
