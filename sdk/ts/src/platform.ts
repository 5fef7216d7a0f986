/**
 * What this host can run, asked of cordon (`cordon probe --json`,
 * `cordon --available-backends`): the binary is the one source of truth.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { cordonBinary } from './binary.js';
import { MxcError } from './errors.js';
import type { ContainmentBackend, PlatformSupport } from './types.js';

interface ProbeBackend {
  name: string;
  available: boolean;
  detail?: string | null;
}
interface ProbeUsable {
  usable: boolean;
  detail?: string | null;
  settings?: string[];
}
/** `cordon probe --json`, the fields read here. */
export interface CordonProbe {
  isSupported: boolean;
  backends: ProbeBackend[];
  features: {
    landlockAbi?: number | null;
    seccomp?: boolean;
    userNamespaces?: ProbeUsable;
    networkRules?: ProbeUsable;
    [key: string]: unknown;
  };
  schemaVersions?: string[];
  [key: string]: unknown;
}

function cordonJson(args: string[], executablePath?: string): unknown {
  const bin = cordonBinary(executablePath);
  let text: string;
  try {
    text = execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim();
    throw new MxcError({
      code: 'backend_error',
      message: `${bin} ${args.join(' ')} failed: ${stderr || (e as Error).message}`,
    });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new MxcError({ code: 'backend_error', message: `${bin} ${args.join(' ')} printed no JSON` });
  }
}

/** The host report cordon makes (`cordon probe --json`). */
export function probeHost(executablePath?: string): CordonProbe {
  return cordonJson(['probe', '--json'], executablePath) as CordonProbe;
}

function usableDetail(what: string, u: ProbeUsable | undefined): string | undefined {
  if (u === undefined || u.usable) return undefined;
  const settings = u.settings?.length ? ` (${u.settings.join(', ')})` : '';
  return `${what}: ${u.detail ?? 'not usable'}${settings}`;
}

/** What the probe says is missing or degraded, one line each. */
export function missingFacts(probe: CordonProbe): string[] {
  const missing: string[] = [];
  const userns = usableDetail('user namespaces', probe.features.userNamespaces);
  if (userns) missing.push(userns);
  if (!probe.features.landlockAbi) missing.push('Landlock: not enabled in this kernel (lsm=landlock)');
  if (probe.features.seccomp === false) missing.push('seccomp: not available in this kernel');
  const rules = usableDetail('network rules', probe.features.networkRules);
  if (rules) missing.push(rules);
  for (const b of probe.backends) {
    if (!b.available && (b.name === 'native' || b.name === 'bubblewrap')) {
      missing.push(`${b.name}: ${b.detail ?? 'unavailable'}`);
    }
  }
  return missing;
}

/** {@link PlatformSupport} from a probe report. */
export function supportFromProbe(probe: CordonProbe): PlatformSupport {
  const available = probe.backends.filter((b) => b.available).map((b) => b.name as ContainmentBackend);
  const unavailableReasons: Partial<Record<ContainmentBackend, string>> = {};
  for (const b of probe.backends) {
    if (!b.available) unavailableReasons[b.name as ContainmentBackend] = b.detail ?? 'unavailable';
  }
  const missing = missingFacts(probe);
  const support: PlatformSupport = {
    isSupported: probe.isSupported && available.length > 0,
    availableMethods: available.length > 0 ? (['process', ...available] as ContainmentBackend[]) : [],
    missing,
  };
  if (Object.keys(unavailableReasons).length > 0) support.unavailableReasons = unavailableReasons;
  if (!support.isSupported) {
    support.reason = missing.length > 0 ? missing.join('; ') : 'no cordon backend can run on this host';
  }
  return support;
}

let cached: PlatformSupport | undefined;

/**
 * Whether cordon can run sandboxes here, which backends, and exactly what
 * is missing when not (no bwrap, no user namespaces, …). Never throws: a
 * missing binary or a non-Linux host is `isSupported: false` with the reason.
 */
export function getPlatformSupport(): PlatformSupport {
  if (cached !== undefined) return cached;
  if (process.platform !== 'linux') {
    cached = { isSupported: false, reason: `cordon runs on Linux; this is ${process.platform}`, availableMethods: [] };
    return cached;
  }
  try {
    cached = supportFromProbe(probeHost());
  } catch (e) {
    const why = e instanceof MxcError ? `${e.message}${e.remediation ? ` (${e.remediation})` : ''}` : String(e);
    return { isSupported: false, reason: why, availableMethods: [] };
  }
  return cached;
}

/** One backend as MXC's discovery lists it (`cordon --available-backends`). */
export interface AvailableBackend {
  backend: ContainmentBackend | 'unknown';
  tier?: string;
  capabilities: string[];
  warnings: string[];
}

/** The backends that can run here, as MXC's discovery JSON. */
export function getAvailableBackends(): AvailableBackend[] {
  const doc = cordonJson(['--available-backends']) as Array<Partial<AvailableBackend>>;
  return doc.map((b) => ({
    backend: (b.backend ?? 'unknown') as AvailableBackend['backend'],
    ...(b.tier !== undefined ? { tier: b.tier } : {}),
    capabilities: b.capabilities ?? [],
    warnings: b.warnings ?? [],
  }));
}
