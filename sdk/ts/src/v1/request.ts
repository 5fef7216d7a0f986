/**
 * A v1 {@link ContainerRequest} as the exact 1.0.0 config cordon reads: the
 * client-side copying MXC's SDK does, nothing more; cordon checks it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { MxcError } from '../errors.js';
import type { ContainerConfig } from '../types.js';
import type { ContainerRequest } from './types.js';

/** The contract version v1 speaks. */
export const SDK_CONTRACT_VERSION = '1.0.0';

/** `{KEY: value}` as `KEY=value` strings (undefined values left out). */
export function envList(env: { [key: string]: string | undefined } | undefined): string[] | undefined {
  if (env === undefined) return undefined;
  return Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
}

/** The 1.0.0 config of a request. */
export function createConfigFromRequest(request: ContainerRequest): ContainerConfig {
  if (request === null || typeof request !== 'object') {
    throw new MxcError('malformed_request', 'container request must be an object');
  }
  if (typeof request.command !== 'string' || request.command.length === 0) {
    throw new MxcError('malformed_request', 'command: must be a non-empty string');
  }
  const selected = request.containment ?? { type: 'process' };
  const config: ContainerConfig = {
    version: SDK_CONTRACT_VERSION,
    containerId: request.containerName ?? randomBytes(4).toString('hex'),
    containment: selected.type,
    lifecycle: { destroyOnExit: true, preservePolicy: !(request.filesystem?.clearPolicyOnExit ?? true) },
    process: { commandLine: request.command, timeout: request.timeoutMs ?? 0 },
    filesystem: {
      readwritePaths: [...(request.filesystem?.readwritePaths ?? [])],
      readonlyPaths: [...(request.filesystem?.readonlyPaths ?? [])],
      deniedPaths: [...(request.filesystem?.deniedPaths ?? [])],
    },
  };
  const process = config.process!;
  if (request.workingDirectory !== undefined) process.cwd = request.workingDirectory;
  const env = envList(request.environment);
  if (env !== undefined) process.env = env;
  if (request.inheritDefaultEnvironment !== undefined) process.inheritDefaultEnv = request.inheritDefaultEnvironment;
  if (request.ui !== undefined) {
    config.ui = {
      disable: request.ui.disable,
      clipboard: request.ui.clipboard ?? 'none',
      injection: request.ui.allowInputInjection ?? false,
    };
  }
  if (request.network?.egress !== undefined || request.network?.ingress !== undefined) {
    config.network = { egress: request.network.egress, ingress: request.network.ingress };
  }
  if (request.network?.runtimeConfig?.networkProxy !== undefined) {
    config.runtimeConfig = { networkProxy: request.network.runtimeConfig.networkProxy };
  }
  // A backend's own settings go under its key, for cordon to accept or refuse by name.
  if ('config' in selected && selected.config !== undefined) {
    config[selected.type === 'processcontainer' ? 'processContainer' : selected.type] = { ...selected.config };
  }
  return config;
}
