/**
 * Live processes: {@link MxcProcess} (separate stdin, stdout, stderr) and
 * {@link MxcPtyProcess} (one terminal). Both own a cordon process: `kill()`
 * and `dispose()` stop it, and cordon kills every process of the sandbox.
 *
 * @module
 */
import { PassThrough, Writable, type Readable } from 'node:stream';
import type { Invocation, Outcome } from '../invoke.js';
import type { IPty } from '../terminal.js';
import type { ExecutionMetadata } from './types.js';

/** How a process ended. */
export interface WaitResult {
  exitCode: number;
  timedOut: boolean;
}

/** What a live process is built on (a cordon child, or a terminal). */
export interface ProcessDriver {
  readonly id: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly outcome: Promise<Outcome>;
  kill(): void;
}

/** Warnings from cordon's outcome (limits hit, denials), for `warnings`. */
export function outcomeWarnings(outcome: Outcome): string[] {
  const warnings: string[] = [];
  for (const limit of outcome.limitsHit ?? []) warnings.push(`limit hit: ${String(limit)}`);
  const denials = outcome.denials ?? [];
  if (denials.length > 0) warnings.push(`${denials.length} denied operation(s): ${JSON.stringify(denials)}`);
  return warnings;
}

/** A running workload with separate streams. */
export class MxcProcess {
  /** cordon's process id (the sandbox's processes are its descendants). */
  readonly id: number;
  private readonly driver: ProcessDriver;
  private inputTaken = false;
  private outputTaken = false;
  private errorTaken = false;
  private draining = false;
  private disposed = false;
  private settled = false;
  private warningsValue: string[] = [];
  private readonly waitPromise: Promise<WaitResult>;

  /** @internal */
  constructor(driver: ProcessDriver) {
    this.driver = driver;
    this.id = driver.id;
    this.waitPromise = driver.outcome.then(
      (outcome) => {
        this.settled = true;
        this.warningsValue = outcomeWarnings(outcome);
        return { exitCode: outcome.exitCode, timedOut: outcome.timedOut };
      },
      (e) => {
        this.settled = true;
        throw e;
      },
    );
    this.waitPromise.catch(() => {});
  }

  /** stdin; closing it is the caller's job once taken. */
  get standardInput(): Writable | null {
    this.inputTaken = true;
    return this.driver.stdin;
  }

  /** stdout, unless {@link wait} already drained it. */
  get standardOutput(): Readable | null {
    if (this.draining && !this.outputTaken) throw new Error('standardOutput: wait() already drained it; take it before waiting');
    this.outputTaken = true;
    return this.driver.stdout;
  }

  /** stderr, unless {@link wait} already drained it. */
  get standardError(): Readable | null {
    if (this.draining && !this.errorTaken) throw new Error('standardError: wait() already drained it; take it before waiting');
    this.errorTaken = true;
    return this.driver.stderr;
  }

  /** Warnings from cordon (limits hit, denied operations), after the end. */
  get warnings(): readonly string[] {
    return this.warningsValue;
  }

  /** Windows denial capture only; always undefined on cordon. */
  get outputMetadata(): ExecutionMetadata | undefined {
    return undefined;
  }

  /**
   * Wait for the end. Untaken stdin is closed and untaken output drained.
   * Rejects with {@link MxcError} when cordon refused the request.
   */
  wait(): Promise<WaitResult> {
    if (!this.draining) {
      this.draining = true;
      if (!this.inputTaken) this.driver.stdin?.end();
      if (!this.outputTaken) this.driver.stdout?.resume();
      if (!this.errorTaken) this.driver.stderr?.resume();
    }
    return this.waitPromise;
  }

  /** Stop the workload: cordon kills every process of the sandbox. */
  kill(): void {
    if (!this.settled) this.driver.kill();
  }

  /** Kill if still running and release the streams. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.kill();
    this.driver.stdin?.destroy();
    this.driver.stdout?.resume();
    this.driver.stderr?.resume();
  }
}

/** A live process over one cordon invocation (killing cordon ends the sandbox). */
export function processOf(inv: Invocation): MxcProcess {
  return new MxcProcess({
    id: inv.child.pid ?? 0,
    stdin: inv.stdin,
    stdout: inv.stdout,
    stderr: inv.stderr,
    outcome: inv.outcome,
    kill: () => inv.child.kill('SIGTERM'),
  });
}

/** Terminal dimensions. */
export interface MxcPtySize {
  rows: number;
  columns: number;
}

/** A driver over a node-pty terminal: one merged output, one input. */
export function terminalDriver(pty: IPty, outcome: Promise<Outcome>): ProcessDriver & { resize(size: MxcPtySize): void } {
  const output = new PassThrough();
  pty.onData((data) => output.write(data));
  pty.onExit(() => output.end());
  const input = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      try {
        pty.write(chunk.toString());
        done();
      } catch (e) {
        done(e as Error);
      }
    },
  });
  return {
    id: pty.pid,
    stdin: input,
    stdout: output,
    stderr: null,
    outcome,
    kill: () => pty.kill('SIGTERM'),
    resize: (size) => pty.resize(size.columns, size.rows),
  };
}

/** A workload on a terminal of its own inside the sandbox. */
export class MxcPtyProcess extends MxcProcess {
  private readonly resizePty: (size: MxcPtySize) => void;
  private readonly terminalInput: Writable;
  private readonly terminalOutput: Readable;

  /** @internal */
  constructor(driver: ProcessDriver & { resize(size: MxcPtySize): void }) {
    super(driver);
    this.resizePty = driver.resize;
    this.terminalInput = driver.stdin as Writable;
    this.terminalOutput = driver.stdout as Readable;
  }

  /** Terminal input (keys, control characters). */
  get input(): Writable {
    return this.standardInput ?? this.terminalInput;
  }

  /** Terminal output (stdout and stderr merged, as a terminal shows them). */
  get output(): Readable {
    return this.standardOutput ?? this.terminalOutput;
  }

  /** Resize the workload's terminal. */
  resize(size: MxcPtySize): void {
    this.resizePty(size);
  }
}
