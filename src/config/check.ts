// The checks that need the files a configuration names: what a worker would otherwise refuse at
// startup, found without binding a port or running plugin code. Certificate and key files must
// exist and make a TLS context; plugin modules must be found (resolved, not imported).
// check-config, serve and reload run them after loading, so a mistake is reported with the
// file's path and line instead of as a worker that failed to start.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { createSecureContext } from 'node:tls';
import { configLocation, ConfigError, formatPath, type ConfigProblem } from './load.ts';
import type { Config } from './types.ts';

/** Returns `config` when every file it names is usable; throws ConfigError naming each that is not. */
export function checkConfig(config: Config): Config {
  const problems: ConfigProblem[] = [];
  const problem = (segments: (string | number)[], message: string) =>
    problems.push({ path: formatPath(segments), ...configLocation(config, segments), message });
  const read = (file: string, segments: (string | number)[]): Buffer | undefined => {
    try {
      return readFileSync(file);
    } catch (err) {
      problem(segments, `cannot read ${file}: ${(err as Error).message}`);
      return undefined;
    }
  };

  config.listeners.forEach((listener, i) =>
    listener.tls?.certificates.forEach((c, j) => {
      const at = ['listeners', i, 'tls', 'certificates', j];
      const cert = read(c.certFile, [...at, 'cert']);
      const key = read(c.keyFile, [...at, 'key']);
      if (cert === undefined || key === undefined) return;
      try {
        createSecureContext({ cert, key });
      } catch (err) {
        problem(at, `${c.certFile} and ${c.keyFile} are not a usable certificate and key: ${(err as Error).message}`);
      }
    }),
  );

  config.plugins.forEach((plugin, i) => {
    const at = ['plugins', i, 'module'];
    if (isAbsolute(plugin.module)) {
      let isFile = false;
      try {
        isFile = statSync(plugin.module).isFile();
      } catch {
        // reported below
      }
      if (!isFile) problem(at, `no such file: ${plugin.module}`);
      return;
    }
    try {
      // Resolved from frontline's own installation, as the worker's import will be.
      import.meta.resolve(plugin.module);
    } catch {
      problem(at, `cannot find the package "${plugin.module}" in frontline's installation`);
    }
  });

  if (problems.length > 0) throw new ConfigError(config.source, problems);
  return config;
}
