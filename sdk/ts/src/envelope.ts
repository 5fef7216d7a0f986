/**
 * MXC's state-aware wire form (`{"phase": ...}` requests): cordon answers
 * provision, start, stop and deprovision with one JSON envelope on stdout,
 * `{"result": {...}}` or `{"error": {...}}`.
 *
 * @module
 */
import { MxcError, mxcErrorFromEnvelope, type WireError } from './errors.js';
import { invoke, type InvokeOptions } from './invoke.js';

/** What a phase answers: the sandbox id and its state. */
export interface PhaseResult {
  sandboxId: string;
  state: string;
  [key: string]: unknown;
}

/** Send one phase request; resolve with its result or reject with its error. */
export async function phase(request: Record<string, unknown>, options: InvokeOptions = {}): Promise<PhaseResult> {
  const inv = invoke([], request, options);
  inv.stdin.end();
  let out = '';
  let err = '';
  inv.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  inv.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  // Phases other than exec write no outcome document; the envelope is the answer.
  await inv.outcome.catch(() => undefined);
  const line = out.trim().split('\n').pop() ?? '';
  let doc: { result?: PhaseResult; error?: WireError };
  try {
    doc = JSON.parse(line);
  } catch {
    throw new MxcError({
      code: 'backend_error',
      message: `cordon answered the ${String(request.phase)} request without an envelope: ${err.trim() || line}`,
    });
  }
  if (doc.error !== undefined) throw mxcErrorFromEnvelope(doc.error);
  if (doc.result === undefined) {
    throw new MxcError({ code: 'backend_error', message: `cordon's envelope has no result: ${line}` });
  }
  return doc.result;
}
