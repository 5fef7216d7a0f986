/**
 * MXC's error model: one error class, discriminated by `code`.
 *
 * Every refusal cordon makes reaches the caller as an {@link MxcError} whose
 * `code` is the one cordon's outcome names; the message is cordon's own and
 * names the field, flag or path at fault.
 *
 * @module
 */

/** The closed set of MXC error codes (snake_case, as on the wire). */
export type ErrorCode =
  | 'malformed_request'
  | 'unsupported_containment'
  | 'unsupported_phase'
  | 'backend_unavailable'
  | 'malformed_id'
  | 'stale_id'
  | 'not_provisioned'
  | 'not_started'
  | 'already_started'
  | 'already_stopped'
  | 'policy_validation'
  | 'backend_error';

/** Every code, for checks at run time. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'malformed_request',
  'unsupported_containment',
  'unsupported_phase',
  'backend_unavailable',
  'malformed_id',
  'stale_id',
  'not_provisioned',
  'not_started',
  'already_started',
  'already_stopped',
  'policy_validation',
  'backend_error',
];

/** The fields an {@link MxcError} carries, flat as in MXC's error envelope. */
export interface MxcErrorFields {
  /** Machine-readable category: branch on this. */
  code: ErrorCode;
  /** What went wrong and, where cordon knows, how to fix it. */
  message: string;
  /** The underlying call that failed, when one was in flight. */
  operation?: string;
  /** The platform status (an errno) when one is known. */
  nativeCode?: string;
  /** How to fix it, when the failure has a known remedy. */
  remediation?: string;
  /** Anything else structured. */
  details?: Record<string, unknown>;
}

/** The `error` arm of an envelope as it arrives: `code` is an open string. */
export interface WireError extends Omit<MxcErrorFields, 'code'> {
  code: string;
}

/** The one error type of the SDK. */
export class MxcError extends Error {
  readonly code: ErrorCode;
  readonly operation?: string;
  readonly nativeCode?: string;
  readonly remediation?: string;
  readonly details?: Record<string, unknown>;

  constructor(fields: MxcErrorFields);
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>);
  constructor(
    first: MxcErrorFields | ErrorCode,
    message?: string,
    details?: Record<string, unknown>,
  ) {
    const fields: MxcErrorFields =
      typeof first === 'string' ? { code: first, message: message ?? first, details } : first;
    super(fields.message);
    this.name = 'MxcError';
    this.code = fields.code;
    if (fields.operation !== undefined) this.operation = fields.operation;
    if (fields.nativeCode !== undefined) this.nativeCode = fields.nativeCode;
    if (fields.remediation !== undefined) this.remediation = fields.remediation;
    if (fields.details !== undefined) this.details = fields.details;
  }
}

/** An {@link MxcError} from a code as received (unknown codes pass through). */
export function mxcErrorFromCode(
  code: string,
  message: string,
  details?: Record<string, unknown>,
): MxcError {
  return new MxcError(code as ErrorCode, message, details);
}

/** An {@link MxcError} from the `error` arm of an envelope. */
export function mxcErrorFromEnvelope(error: WireError): MxcError {
  return new MxcError({ ...error, code: error.code as ErrorCode });
}
