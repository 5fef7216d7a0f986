/**
 * cordon-sandbox: MXC's SDK API on cordon. The root export carries MXC's
 * 0.x names (`createConfigFromPolicy`, `spawnSandboxFromConfig`,
 * `provisionSandbox`, …); `cordon-sandbox/v1` carries MXC 1.0's (`run`,
 * `spawn`, `provisionContainer`, …). Switching from `@microsoft/mxc-sdk`
 * is one import.
 *
 * @example
 * ```typescript
 * import { createConfigFromPolicy, spawnSandboxFromConfig } from 'cordon-sandbox';
 * const config = createConfigFromPolicy({ version: '0.6.0-alpha', network: { allowOutbound: false } });
 * config.process!.commandLine = 'echo hello';
 * spawnSandboxFromConfig(config, { usePty: false }).stdout!.pipe(process.stdout);
 * ```
 *
 * @packageDocumentation
 */
export type {
  SandboxPolicy,
  SandboxingMethod,
  IsolationTier,
  ContainmentType,
  ContainmentBackend,
  ContainerConfig,
  FilesystemConfig,
  ProcessConfig,
  ProcessContainerConfig,
  NetworkConfig,
  NetworkAction,
  NetworkProtocol,
  NetworkPeerConfig,
  NetworkPortConfig,
  NetworkRuleConfig,
  NetworkEgressConfig,
  NetworkIngressConfig,
  RuntimeConfig,
  ClipboardPolicy,
  PlatformSupport,
  UiCapabilitySupport,
} from './types.js';
export { ContainmentTypes, ExperimentalBackends } from './types.js';
export { getPlatformSupport } from './platform.js';
export {
  createConfigFromPolicy,
  spawnSandbox,
  spawnSandboxAsync,
  spawnSandboxFromConfig,
  buildSandboxPayload,
} from './sandbox.js';
export type { SandboxSpawnOptions } from './sandbox.js';
export type { IPty, PtyForkOptions } from './terminal.js';
export { getAvailableToolsPolicy, getUserProfilePolicy, getTemporaryFilesPolicy } from './policy.js';
export type { Env, FilesystemPolicyResult, ToolsPolicyOptions } from './policy.js';
export { MxcError, mxcErrorFromCode, mxcErrorFromEnvelope, ERROR_CODES } from './errors.js';
export type { ErrorCode, MxcErrorFields, WireError } from './errors.js';
export {
  provisionSandbox,
  startSandbox,
  execInSandbox,
  execInSandboxAsync,
  stopSandbox,
  deprovisionSandbox,
} from './state-aware.js';
export type {
  Phase,
  StateAwareContainmentBackend,
  SandboxId,
  ProvisionConfig,
  ExecConfig,
  PhaseConfig,
  ProvisionResult,
  StartResult,
  StopResult,
  DeprovisionResult,
  ExecResult,
} from './state-aware.js';
export { cordonBinary } from './binary.js';
