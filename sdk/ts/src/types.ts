/**
 * The configuration types of MXC's SDK 0.x, as cordon reads them. Names and
 * shapes follow MXC's published `.d.ts` files; cordon adds its own Linux
 * backends (`native`) to the containment names.
 *
 * @module
 */

/** Abstract containment intent. On Linux, `process` is cordon's best backend. */
export type ContainmentType = 'process' | 'vm' | 'microvm';

/** Every abstract intent, at run time. */
export const ContainmentTypes: readonly ContainmentType[] = ['process', 'vm', 'microvm'];

/**
 * A concrete backend. MXC's names, plus cordon's `native` (namespaces +
 * Landlock + seccomp, cordon's default on Linux).
 */
export type ContainmentBackend =
  | 'processcontainer'
  | 'windows_sandbox'
  | 'wslc'
  | 'lxc'
  | 'microvm'
  | 'hyperlight'
  | 'seatbelt'
  | 'isolation_session'
  | 'bubblewrap'
  | 'native';

/** Containment values MXC gates behind `--experimental` (cordon has no such gate). */
export const ExperimentalBackends: readonly (ContainmentType | ContainmentBackend)[] = [
  'microvm',
  'windows_sandbox',
  'hyperlight',
  'wslc',
  'isolation_session',
];

/** @deprecated MXC's older name for a containment value. */
export type SandboxingMethod = ContainmentType | ContainmentBackend;

/** Windows isolation tiers (never reported on Linux). */
export type IsolationTier = 'base-container' | 'appcontainer-bfs' | 'appcontainer-dacl';

/** Clipboard access levels. */
export type ClipboardPolicy = 'none' | 'read' | 'write' | 'all';

/** Allow or deny. */
export type NetworkAction = 'allow' | 'deny';
/** Transport protocol selector. */
export type NetworkProtocol = 'tcp' | 'udp' | 'icmp' | 'any';

/** A CIDR peer. */
export interface NetworkPeerConfig {
  cidr: string;
  except?: string[];
}
/** Protocol and destination ports. */
export interface NetworkPortConfig {
  protocol?: NetworkProtocol;
  port?: number;
  endPort?: number;
}
/** One egress rule. */
export interface NetworkRuleConfig {
  to?: NetworkPeerConfig[];
  ports?: NetworkPortConfig[];
}
/** Outbound policy (schema 0.8+). */
export interface NetworkEgressConfig {
  default?: NetworkAction;
  allow?: NetworkRuleConfig[];
  deny?: NetworkRuleConfig[];
}
/** Inbound and host-loopback policy (schema 0.8+). */
export interface NetworkIngressConfig {
  default?: NetworkAction;
  hostLoopback?: NetworkAction;
}
/** Runtime values supplied beside the policy. */
export interface RuntimeConfig {
  networkProxy?: string;
}

/** Filesystem access: what the workload may read, write, or never touch. */
export interface FilesystemConfig {
  readwritePaths?: string[];
  readonlyPaths?: string[];
  deniedPaths?: string[];
  /** MXC: remove the policy after the run (default true); cordon never changes the host's permissions. */
  clearPolicyOnExit?: boolean;
}

/** Security intent, the input of {@link createConfigFromPolicy}. */
export type SandboxPolicy = {
  /** Schema version, e.g. `0.6.0-alpha`, `0.8.0-alpha`, `1.0.0`. Required. */
  version: string;
  filesystem?: FilesystemConfig;
  network?: {
    allowOutbound?: boolean;
    allowLocalNetwork?: boolean;
    allowedHosts?: string[];
    blockedHosts?: string[];
    proxy?: { builtinTestServer: true } | { localhost: number } | { url: string };
    egress?: NetworkEgressConfig;
    ingress?: NetworkIngressConfig;
  };
  runtimeConfig?: RuntimeConfig;
  processContainer?: { network?: { allowedProxyPeer?: string } };
  ui?: { allowWindows?: boolean; clipboard?: ClipboardPolicy; allowInputInjection?: boolean };
  timeoutMs?: number;
};

/** Process settings of a config. */
export interface ProcessConfig {
  commandLine: string;
  cwd?: string;
  /** `KEY=VALUE` strings. */
  env?: string[];
  inheritDefaultEnv?: boolean;
  /** Milliseconds; 0: none. */
  timeout?: number;
}

/** Windows ProcessContainer settings (refused on Linux unless empty). */
export interface ProcessContainerConfig {
  name?: string;
  learningMode?: boolean;
  capabilities?: string[];
  ui?: { isolation: 'desktop' | 'handles' | 'atoms' | 'container'; desktopSystemControl: boolean; systemSettings: string; ime: boolean };
  network?: { allowedProxyPeer?: string };
  [key: string]: unknown;
}

/** Legacy (schema < 0.8) and directional network settings. */
export interface NetworkConfig {
  defaultPolicy?: 'allow' | 'block';
  allowLocalNetwork?: boolean;
  allowedHosts?: string[];
  blockedHosts?: string[];
  proxy?: { builtinTestServer: true } | { localhost: number } | { url: string };
  egress?: NetworkEgressConfig;
  ingress?: NetworkIngressConfig;
  [key: string]: unknown;
}

/** The versioned config cordon runs (MXC's `ContainerConfig`). */
export interface ContainerConfig {
  version: string;
  containerId?: string;
  containment?: ContainmentType | ContainmentBackend;
  lifecycle?: { destroyOnExit?: boolean; preservePolicy?: boolean };
  process?: ProcessConfig;
  processContainer?: ProcessContainerConfig;
  filesystem?: FilesystemConfig;
  network?: NetworkConfig;
  runtimeConfig?: RuntimeConfig;
  ui?: { disable: boolean; clipboard: ClipboardPolicy; injection: boolean };
  [key: string]: unknown;
}

/** Host UI-restriction capabilities (Windows; omitted on Linux). */
export interface UiCapabilitySupport {
  canBlockClipboardRead: boolean;
  canBlockClipboardWrite: boolean;
  canBlockInputInjection: boolean;
  canBlockInputMethodChanges: boolean;
  canBlockExternalUiObjects: boolean;
  canBlockGlobalUiNamespace: boolean;
  canBlockDesktopSwitching: boolean;
  canBlockLogoffOrShutdown: boolean;
  canBlockSystemParameterChanges: boolean;
  canBlockDisplaySettingsChanges: boolean;
}

/** What this host can run, from `cordon probe --json`. */
export interface PlatformSupport {
  /** Whether any backend can run here. */
  isSupported: boolean;
  /** When not supported: exactly what is missing and how to fix it. */
  reason?: string;
  /** Backends that can run here (`process` first when any can). */
  availableMethods: ContainmentBackend[];
  /** Why each unavailable backend cannot run. */
  unavailableReasons?: Partial<Record<ContainmentBackend, string>>;
  isolationTier?: IsolationTier;
  isolationWarnings?: string[];
  uiCapabilities?: UiCapabilitySupport;
  /** Host facts cordon found missing or degraded (no bwrap, no user namespaces, …). */
  missing?: string[];
}
