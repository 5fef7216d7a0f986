/**
 * MXC 1.0's request and result types (`@microsoft/mxc-sdk/v1`), as cordon
 * reads them; cordon adds its `native` backend to the containment choices.
 *
 * @module
 */
import type {
  ClipboardPolicy,
  FilesystemConfig,
  NetworkEgressConfig,
  NetworkIngressConfig,
} from '../types.js';

export type {
  ClipboardPolicy,
  FilesystemConfig,
  NetworkAction,
  NetworkProtocol,
  NetworkPeerConfig,
  NetworkPortConfig,
  NetworkRuleConfig,
  NetworkEgressConfig,
  NetworkIngressConfig,
  ProcessContainerConfig,
  ContainmentBackend,
  IsolationTier,
  PlatformSupport,
  UiCapabilitySupport,
} from '../types.js';

/** Directional network policy. */
export interface DirectionalNetworkConfig {
  egress?: NetworkEgressConfig;
  ingress?: NetworkIngressConfig;
}
/** Runtime values supplied beside the policy. */
export interface NetworkRuntimeConfig {
  networkProxy?: string;
}
/** Network settings of a request. */
export interface NetworkPolicy extends DirectionalNetworkConfig {
  runtimeConfig?: NetworkRuntimeConfig;
}
/** Filesystem restrictions of a request. */
export type FilesystemPolicy = FilesystemConfig;
/** UI restrictions (no display server is reachable from a cordon sandbox). */
export interface UiPolicy {
  disable: boolean;
  clipboard?: ClipboardPolicy;
  allowInputInjection?: boolean;
}
/** Windows-only UI settings (refused by cordon unless absent). */
export interface BaseProcessUiConfig {
  isolation: 'desktop' | 'handles' | 'atoms' | 'container';
  desktopSystemControl: boolean;
  systemSettings: string;
  ime: boolean;
}
/** LXC settings (cordon reports lxc unavailable). */
export interface LxcConfig {
  containerName?: string;
  distribution?: string;
  release?: string;
  destroyOnExit?: boolean;
}
/** macOS settings (cordon refuses seatbelt). */
export interface SeatbeltConfig {
  profileOverride?: string;
  guiAccess?: boolean;
  nestedPty?: boolean;
  keychainAccess?: boolean;
  extraMachLookups?: string[];
}
/** WSLC settings (cordon refuses wslc). */
export interface WslcConfig {
  image?: string;
  [key: string]: unknown;
}
/** Per-invocation telemetry opt-in (cordon collects no telemetry). */
export interface TelemetryConfig {
  enabled?: boolean;
}

/** The backend a request asks for; default `{ type: 'process' }` (cordon's best here). */
export declare namespace Containment {
  interface Process {
    type: 'process';
  }
  /** cordon's own backend (namespaces + Landlock + seccomp). */
  interface Native {
    type: 'native';
  }
  interface Bubblewrap {
    type: 'bubblewrap';
  }
  interface ProcessContainer {
    type: 'processcontainer';
    config?: Record<string, unknown>;
  }
  interface Wslc {
    type: 'wslc';
    config?: WslcConfig;
  }
  interface Lxc {
    type: 'lxc';
    config?: LxcConfig;
  }
  interface Seatbelt {
    type: 'seatbelt';
    config?: SeatbeltConfig;
  }
  interface IsolationSession {
    type: 'isolation_session';
  }
}
export type Containment =
  | Containment.Process
  | Containment.Native
  | Containment.Bubblewrap
  | Containment.ProcessContainer
  | Containment.Wslc
  | Containment.Lxc
  | Containment.Seatbelt
  | Containment.IsolationSession;

/** One request: a command and the boundary it runs in. */
export interface ContainerRequest {
  command: string;
  filesystem?: FilesystemPolicy;
  network?: NetworkPolicy;
  ui?: UiPolicy;
  timeoutMs?: number;
  containment?: Containment;
  containerName?: string;
  workingDirectory?: string;
  environment?: { [key: string]: string | undefined };
  inheritDefaultEnvironment?: boolean;
}

/** Denial capture results (Windows; cordon reports denials in its audit log). */
export interface CaptureDenialsResult {
  type: 'captureDenials';
  outputPath: string;
  exitCode: number;
  totalDenials: number;
  deniedResourcesTruncated: boolean;
  etlPath?: string;
}
/** Denial capture failure (Windows). */
export interface CaptureDenialsError {
  message: string;
  etlPath: string;
}
/** Structured outputs of optional features. */
export interface ExecutionMetadata {
  captureDenials?: CaptureDenialsResult;
  captureDenialsError?: CaptureDenialsError;
}
/** A finished workload: captured output and how it ended. */
export interface ExecutionResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  timedOut: boolean;
  warnings: string[];
  outputMetadata?: ExecutionMetadata;
}
