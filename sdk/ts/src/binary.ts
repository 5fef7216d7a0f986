/**
 * Where the cordon binary is: `CORDON_BIN`, else the per-platform package
 * that ships it (`cordon-sandbox-linux-x64`, …), else `cordon` on `PATH`.
 *
 * @module
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { MxcError } from './errors.js';

/** The per-platform package name for this host (`cordon-sandbox-linux-x64`). */
export function platformPackage(): string {
  return `cordon-sandbox-${process.platform}-${process.arch}`;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fromPlatformPackage(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve(`${platformPackage()}/package.json`);
    const bin = join(dirname(manifest), 'bin', 'cordon');
    return executable(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

function fromPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'cordon'))) return join(dir, 'cordon');
  }
  return undefined;
}

/**
 * The cordon binary this SDK drives. `explicit` (an option such as
 * `executablePath`) comes first. Throws `backend_unavailable` naming what
 * was tried and how to fix it.
 */
export function cordonBinary(explicit?: string): string {
  const chosen = explicit ?? process.env.CORDON_BIN;
  if (chosen !== undefined && chosen !== '') {
    if (!executable(chosen)) {
      const what = explicit !== undefined ? 'executablePath' : 'CORDON_BIN';
      throw new MxcError({
        code: 'backend_unavailable',
        message: `${what}=${chosen}: not an executable file`,
        remediation: `point ${what} at the cordon binary, or unset it to use the bundled one`,
      });
    }
    return chosen;
  }
  const found = fromPlatformPackage() ?? fromPath();
  if (found === undefined) {
    throw new MxcError({
      code: 'backend_unavailable',
      message:
        `no cordon binary: CORDON_BIN is unset, the package ${platformPackage()} is not ` +
        `installed and there is no cordon on PATH`,
      remediation:
        process.platform === 'linux'
          ? `install ${platformPackage()} (npm installs it with cordon-sandbox unless optional ` +
            `dependencies are omitted), or set CORDON_BIN to a cordon binary`
          : 'cordon runs on Linux only',
    });
  }
  return found;
}
