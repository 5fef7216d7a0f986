/**
 * cordon-sandbox/v1: MXC 1.0's API (`@microsoft/mxc-sdk/v1`) on cordon.
 *
 * @example
 * ```typescript
 * import { run } from 'cordon-sandbox/v1';
 * const output = await run({ command: 'echo hello', timeoutMs: 30_000 });
 * console.log(output.stdout, output.exitCode);
 * ```
 *
 * @packageDocumentation
 */
export type {
  ContainerRequest,
  DirectionalNetworkConfig,
  NetworkEgressConfig,
  NetworkIngressConfig,
  NetworkPeerConfig,
  NetworkPortConfig,
  NetworkRuleConfig,
  NetworkRuntimeConfig,
  NetworkPolicy,
  FilesystemConfig,
  FilesystemPolicy,
  UiPolicy,
  ClipboardPolicy,
  BaseProcessUiConfig,
  ProcessContainerConfig,
  LxcConfig,
  SeatbeltConfig,
  WslcConfig,
  TelemetryConfig,
  ExecutionResult,
  ExecutionMetadata,
  CaptureDenialsResult,
  CaptureDenialsError,
  Containment,
  ContainmentBackend,
  IsolationTier,
  PlatformSupport,
  UiCapabilitySupport,
} from './types.js';
export type { RunOptions, SpawnOptions, SpawnWithPtyOptions } from './container.js';
export { run, spawn, spawnWithPty } from './container.js';
export { MxcProcess, MxcPtyProcess } from './process.js';
export type { WaitResult, MxcPtySize } from './process.js';
export * as policy from './policy/index.js';
export { SDK_CONTRACT_VERSION, createConfigFromRequest } from './request.js';
export {
  provisionContainer,
  startContainer,
  spawnInContainer,
  spawnInContainerWithPty,
  runInContainer,
  stopContainer,
  deprovisionContainer,
  validateProvision,
  validateStart,
  validateStop,
  validateDeprovision,
  validateProcess,
} from './lifecycle.js';
export type {
  LifecycleContainmentKind,
  ContainerId,
  ExecutionRequest,
  ProvisionRequest,
  ProvisionResult,
  LifecycleResult,
  ValidationResult,
  ProvisionOptions,
  StartOptions,
  StopOptions,
  DeprovisionOptions,
  SpawnInContainerOptions,
  RunInContainerOptions,
  SpawnInContainerWithPtyOptions,
} from './lifecycle.js';
export { getPlatformSupport, getAvailableBackends, probe } from './platform.js';
export type { AvailableBackend, BackendCapability, BubblewrapNetworkSupport, ProbeOutput, ProbeFacts } from './platform.js';
export { MxcError, mxcErrorFromCode, mxcErrorFromEnvelope } from '../errors.js';
export type { ErrorCode, MxcErrorFields } from '../errors.js';
export {
  requestTelemetryConsent,
  getTelemetryConsentStatus,
  withdrawTelemetryConsent,
} from './telemetry.js';
export type {
  TelemetryConsentMessage,
  TelemetryConsentResult,
  TelemetryConsentState,
  TelemetryConsentPrompt,
  TelemetryConsentDecision,
  TelemetryConsentOutcome,
  TelemetryConsentPresenter,
  TelemetryConsentStatus,
  TelemetryPolicyState,
} from './telemetry.js';
