/**
 * Platform discovery of v1: {@link getPlatformSupport},
 * {@link getAvailableBackends}, and {@link probe}.
 *
 * @module
 */
import { MxcError } from '../errors.js';
import type { ContainerRequest } from './types.js';

export { getPlatformSupport, getAvailableBackends } from '../platform.js';
export type { AvailableBackend } from '../platform.js';

/** Capabilities a backend reports. */
export type BackendCapability =
  | 'captureDenials'
  | 'filesystemDeniedPaths'
  | 'filesystemEnumeratePaths'
  | 'ingressHostLoopbackAllow'
  | 'proxyEnforcement'
  | 'identitylessLoopbackProxy'
  | 'unknown';

/** Bubblewrap's network support (MXC's field; cordon enforces rules on every backend). */
export interface BubblewrapNetworkSupport {
  proxyEnforcement: 'supported' | 'unsupported';
  warnings: string[];
}

/** Windows ProcessContainer tier facts (never produced on Linux). */
export interface ProbeFacts {
  [key: string]: unknown;
}
/** A Windows tier probe result (never produced on Linux). */
export interface ProbeOutput {
  tier?: string;
  needsDaclAugmentation?: boolean;
  warnings: string[];
  probes: ProbeFacts;
  error?: string;
}

/**
 * MXC's Windows ProcessContainer tier probe. As with MXC off Windows, it
 * throws: on Linux, {@link getPlatformSupport} says what the host offers.
 */
export function probe(_request?: ContainerRequest): ProbeOutput {
  throw new MxcError({
    code: 'unsupported_containment',
    message: 'probe() reports Windows ProcessContainer tiers; this is Linux',
    remediation: 'use getPlatformSupport() (cordon probe --json) for what this host offers',
  });
}
