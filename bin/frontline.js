#!/usr/bin/env node
// The `frontline` command. The sources are TypeScript, which Node runs directly from version 24;
// on an older Node this re-runs the same command with the runtime the package pins.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  await import('../src/cli/main.ts');
} else {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  child.once('error', (err) => {
    console.error(`frontline needs Node.js 24 or newer (this is ${process.version}), and the pinned runtime ${pinned} did not start: ${err.message}`);
    process.exit(1);
  });
  // Signals sent to this process (kill -HUP, -QUIT, -TERM) are meant for frontline.
  const forwarded = ['SIGHUP', 'SIGQUIT', 'SIGTERM', 'SIGINT', 'SIGUSR2'];
  for (const signal of forwarded) process.on(signal, () => child.kill(signal));
  child.once('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    // End the way the child ended, so that callers see the same signal.
    for (const s of forwarded) process.removeAllListeners(s);
    process.kill(process.pid, signal);
  });
}
