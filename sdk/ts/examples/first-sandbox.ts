// The seeds' "Your first sandbox" sample (doc 001), verbatim but for the
// import path and python -> python3. Its paths are Windows paths: on Linux
// they are not absolute, and cordon refuses them by name (exit 125).
import {
  createConfigFromPolicy,
  spawnSandboxFromConfig,
  getPlatformSupport,
} from 'cordon-sandbox';

if (!getPlatformSupport().isSupported) {
  throw new Error('MXC not available on this host');
}

const config = createConfigFromPolicy({
  version: '0.6.0-alpha',
  filesystem: {
    readonlyPaths: ['C:\\agent\\tools'],
    readwritePaths: ['C:\\agent\\scratch'],
  },
  network: { allowOutbound: false },
  timeoutMs: 30_000,
});

config.process!.commandLine =
  'python3 -c "print(\'hello from the sandbox\')"';

const child = spawnSandboxFromConfig(config, { usePty: false });
child.stdout!.on('data', (d) => process.stdout.write(d));
child.on('close', (code) => console.log('exit:', code));
