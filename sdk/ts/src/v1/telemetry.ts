/**
 * MXC's telemetry consent calls. cordon collects and sends no telemetry, so
 * consent is not applicable and no prompt is ever shown.
 *
 * @module
 */
export type TelemetryConsentState = 'granted' | 'denied' | 'undetermined' | 'not-applicable';
export type TelemetryPolicyState = 'unrestricted' | 'allowed' | 'blocked' | 'not-applicable';
export type TelemetryConsentDecision = 'yes' | 'no' | 'dismissed';
export type TelemetryConsentResult =
  | 'granted'
  | 'denied'
  | 'dismissed'
  | 'withdrawn'
  | 'alreadyGranted'
  | 'policyBlocked'
  | 'presentationUnavailable'
  | 'notApplicable';
export interface TelemetryConsentMessage {
  id: string;
  text: string;
}
export interface TelemetryConsentPrompt {
  resourceVersion: number;
  locale: string;
  title: TelemetryConsentMessage;
  body: TelemetryConsentMessage;
  affirmativeLabel: TelemetryConsentMessage;
  negativeLabel: TelemetryConsentMessage;
  learnMoreLabel: TelemetryConsentMessage;
  learnMoreUrl: string;
}
export interface TelemetryConsentOutcome {
  action: 'request' | 'withdraw';
  result: TelemetryConsentResult;
  storedState: TelemetryConsentState;
  effectiveState: TelemetryConsentState;
  policy: TelemetryPolicyState;
  needsPrompt: boolean;
}
export type TelemetryConsentPresenter = (
  prompt: TelemetryConsentPrompt,
  signal?: AbortSignal,
) => TelemetryConsentDecision | Promise<TelemetryConsentDecision>;
export interface TelemetryConsentStatus {
  state: TelemetryConsentState;
  storedState: TelemetryConsentState;
  effectiveState: TelemetryConsentState;
  needsPrompt: boolean;
  policy: TelemetryPolicyState;
  error?: string;
}

/** Always not applicable: cordon has no telemetry. */
export async function getTelemetryConsentStatus(): Promise<TelemetryConsentStatus> {
  return { state: 'not-applicable', storedState: 'not-applicable', effectiveState: 'not-applicable', needsPrompt: false, policy: 'not-applicable' };
}

function outcome(action: 'request' | 'withdraw'): TelemetryConsentOutcome {
  return { action, result: 'notApplicable', storedState: 'not-applicable', effectiveState: 'not-applicable', policy: 'not-applicable', needsPrompt: false };
}

/** Never prompts (the presenter is not called): cordon has no telemetry. */
export async function requestTelemetryConsent(_presenter: TelemetryConsentPresenter, _locale?: string): Promise<TelemetryConsentOutcome> {
  return outcome('request');
}

/** Nothing to withdraw: cordon has no telemetry. */
export async function withdrawTelemetryConsent(): Promise<TelemetryConsentOutcome> {
  return outcome('withdraw');
}
