// The `frontline` command: run the proxy (from a file, or a quick one from flags), check a
// configuration, print its JSON Schema, and control a running frontline over its control socket.
import { parseArgs } from 'node:util';
import { checkConfig } from '../config/check.ts';
import { ConfigError, loadConfigFile, validateConfig } from '../config/load.ts';
import { editorSchema } from '../config/schema.ts';
import { controlSocketPath, defaultControlSocket, sendControlRequest } from '../process/control.ts';
import { runPrimary, StartupError } from '../process/primary.ts';
import type { ControlReply, ControlRequest, StatusReport } from '../process/protocol.ts';

const SOCKET_HELP = `The control socket is --socket PATH, else the control_socket of --config FILE, else
${defaultControlSocket()}.`;

interface Command {
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  run(values: Values, positionals: string[]): Promise<number>;
}

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

class UsageError extends Error {}

const socketOptions = {
  socket: { type: 'string' },
  config: { type: 'string', short: 'c' },
} as const;

const COMMANDS: Record<string, Command> = {
  serve: {
    usage: `frontline serve --config FILE

Runs frontline with the configuration in FILE until stopped. Signals: HUP reloads the
configuration, QUIT stops gracefully, TERM and INT stop at once.`,
    options: { config: { type: 'string', short: 'c' } },
    async run(values) {
      const file = requiredString(values, 'config');
      const load = () => checkConfig(loadConfigFile(file));
      await runPrimary({ config: load(), load });
      return 0;
    },
  },

  proxy: {
    usage: `frontline proxy --listen [ADDRESS:]PORT --to URL [--workers N] [--metrics [ADDRESS:]PORT | --no-metrics]

Runs frontline without a configuration file: every request to --listen goes to --to (repeat
--to for several origins, balanced round-robin; repeat --listen for several listeners). A reload
(HUP) restarts the workers with the same settings.

Metrics and status are served on 127.0.0.1:9090: --metrics moves them (e.g. --metrics 9191),
--no-metrics turns them off. frontline does not start while that port is taken.`,
    options: {
      listen: { type: 'string', short: 'l', multiple: true },
      to: { type: 'string', short: 't', multiple: true },
      workers: { type: 'string', short: 'w' },
      metrics: { type: 'string' },
      'no-metrics': { type: 'boolean' },
    },
    async run(values) {
      const listens = requiredList(values, 'listen');
      const origins = requiredList(values, 'to');
      const workers = typeof values.workers === 'string' && /^[0-9]+$/.test(values.workers) ? Number(values.workers) : values.workers;
      if (values.metrics !== undefined && values['no-metrics'] === true) throw new UsageError('--metrics and --no-metrics exclude each other');
      const metrics =
        values['no-metrics'] === true
          ? { enabled: false }
          : typeof values.metrics === 'string'
            ? parseAddressPort('--metrics', values.metrics)
            : undefined;
      const raw = {
        ...(workers === undefined ? {} : { workers }),
        ...(metrics === undefined ? {} : { metrics }),
        listeners: listens.map((spec) => parseAddressPort('--listen', spec)),
        upstreams: { origin: { servers: origins.map((url) => ({ url })) } },
        routes: [{ path: '/', upstream: 'origin' }],
      };
      const build = () => checkConfig(validateConfig(raw, 'command line', process.cwd()));
      await runPrimary({ config: build(), load: build });
      return 0;
    },
  },

  'check-config': {
    usage: `frontline check-config FILE

Validates FILE. Prints "FILE: ok (...)" and exits 0, or prints every problem with its line and
exits 1.`,
    options: {},
    async run(_values, positionals) {
      if (positionals.length !== 1) throw new UsageError('check-config takes one FILE');
      const file = positionals[0];
      try {
        const c = checkConfig(loadConfigFile(file));
        console.log(`${file}: ok (${count(c.listeners.length, 'listener')}, ${count(c.upstreams.size, 'upstream')}, ${count(c.routes.length, 'route')})`);
        return 0;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        console.error(err.message);
        return 1;
      }
    },
  },

  schema: {
    usage: `frontline schema

Prints the configuration file's JSON Schema (for editors: yaml-language-server, VS Code).`,
    options: {},
    async run() {
      console.log(JSON.stringify(editorSchema(), null, 2));
      return 0;
    },
  },

  status: {
    usage: `frontline status [--json] [--socket PATH | --config FILE]

Shows the running frontline's workers: pid, CPU, state, uptime, connections, requests.
${SOCKET_HELP}`,
    options: { ...socketOptions, json: { type: 'boolean' } },
    async run(values) {
      const reply = await control(values, { command: 'status' }, 10_000);
      if (!('status' in reply)) return failed('status', reply);
      console.log(values.json ? JSON.stringify(reply.status, null, 2) : renderStatus(reply.status));
      return 0;
    },
  },

  reload: {
    usage: `frontline reload [--socket PATH | --config FILE]

Re-reads the configuration and replaces the workers one at a time (like kill -HUP). If the new
configuration is invalid, frontline keeps running on the old one and this prints why.
${SOCKET_HELP}`,
    options: socketOptions,
    async run(values) {
      const reply = await control(values, { command: 'reload' }, 0);
      if (!('configVersion' in reply)) return failed('reload', reply);
      for (const w of reply.warnings) console.error(`warning: ${w}`);
      console.log(`reloaded: configuration version ${reply.configVersion}`);
      return 0;
    },
  },

  stop: {
    usage: `frontline stop [--graceful] [--socket PATH | --config FILE]

Stops frontline and waits until it has. --graceful lets requests in flight finish (up to
timeouts.graceful_stop; like kill -QUIT); without it, connections close at once (like kill -TERM).
${SOCKET_HELP}`,
    options: { ...socketOptions, graceful: { type: 'boolean', short: 'g' } },
    async run(values) {
      const reply = await control(values, { command: 'stop', graceful: values.graceful === true }, 0);
      if (!('stopped' in reply)) return failed('stop', reply);
      console.log('stopped');
      return 0;
    },
  },

  demo: {
    usage: `frontline demo [--listen [ADDRESS:]PORT] [--metrics [ADDRESS:]PORT] [--socket PATH]

Starts a demo origin and frontline in front of it, with an embedded configuration: by default on
127.0.0.1:8080, metrics on 127.0.0.1:9090.`,
    options: { listen: { type: 'string', short: 'l' }, metrics: { type: 'string' }, socket: { type: 'string', short: 's' } },
    async run(values) {
      const { startDemo } = await import('../demo/index.ts');
      await startDemo({
        ...(typeof values.listen === 'string' ? { listen: parseAddressPort('--listen', values.listen) } : {}),
        ...(typeof values.metrics === 'string' ? { metrics: parseAddressPort('--metrics', values.metrics) } : {}),
        ...(typeof values.socket === 'string' ? { socket: values.socket } : {}),
      });
      return 0;
    },
  },
};

const USAGE = `frontline: an edge reverse proxy

Usage:
  frontline serve --config FILE           run with a configuration file
  frontline proxy --listen [ADDR:]PORT --to URL [--workers N] [--metrics [ADDR:]PORT | --no-metrics]
                                          run a quick proxy without a file
  frontline check-config FILE             validate a configuration file
  frontline schema                        print the configuration's JSON Schema
  frontline status [--json]               show the running frontline's workers
  frontline reload                        reload the configuration (like kill -HUP)
  frontline stop [--graceful]             stop the running frontline
  frontline demo                          run a demo origin behind frontline
  frontline help [COMMAND]                show this, or a command's usage

"frontline COMMAND --help" shows a command's usage.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    console.log(topic ? `Usage: ${topic.usage}` : USAGE);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`frontline: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...command.options, help: { type: 'boolean', short: 'h' } },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (parsed.values.help) {
      console.log(`Usage: ${command.usage}`);
      return 0;
    }
    if (name !== 'check-config' && parsed.positionals.length > 0) {
      throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
    }
    return await command.run(parsed.values, parsed.positionals);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`frontline ${name}: ${err.message}\n\nUsage: ${command.usage}`);
      return 2;
    }
    if (err instanceof ConfigError) console.error(err.message);
    else if (err instanceof StartupError) console.error(`frontline: cannot start: ${err.message}`);
    else console.error(`frontline: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

function requiredString(values: Values, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

function requiredList(values: Values, name: string): string[] {
  const v = values[name];
  if (!Array.isArray(v) || v.length === 0) throw new UsageError(`--${name} is required`);
  return v.map(String);
}

/** "127.0.0.1:8080", "[::1]:8080", ":8080" or "8080" (address defaults to 127.0.0.1). */
function parseAddressPort(option: string, spec: string): { address?: string; port: number } {
  const m = /^(?:(?:\[([^\]]+)\]|([^:]*)):)?([0-9]+)$/.exec(spec);
  if (!m) throw new UsageError(`${option} ${spec}: expected [ADDRESS:]PORT, e.g. 127.0.0.1:8080`);
  const address = m[1] ?? m[2];
  return { ...(address ? { address } : {}), port: Number(m[3]) };
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function control(values: Values, request: ControlRequest, timeoutMs: number): Promise<ControlReply> {
  let path: string;
  if (typeof values.socket === 'string') path = values.socket;
  else if (typeof values.config === 'string') path = controlSocketPath(loadConfigFile(values.config).controlSocket);
  else path = defaultControlSocket();
  return sendControlRequest(path, request, timeoutMs);
}

function failed(what: string, reply: ControlReply): number {
  console.error(`${what} failed: ${'error' in reply ? reply.error : `unexpected reply ${JSON.stringify(reply)}`}`);
  return 1;
}

function renderStatus(s: StatusReport): string {
  const head = [
    `frontline pid ${s.pid}, up ${duration(s.uptimeMs)}, configuration version ${s.configVersion} (${s.configSource})${s.reloading ? ', reloading' : ''}`,
    `distribution  ${s.distribution}`,
    `listeners     ${s.listeners.join(' ')}`,
    `metrics       ${s.metrics ?? 'off'}`,
    `control       ${s.controlSocket}`,
    '',
  ];
  const dash = (v: number | null) => (v === null ? '-' : String(v));
  const rows = s.workers.map((w) => [
    String(w.id),
    dash(w.pid),
    dash(w.cpu),
    w.state,
    w.pid === null ? '-' : duration(w.uptimeMs),
    w.configVersion === null ? '-' : `v${w.configVersion}`,
    String(w.restarts),
    dash(w.connectionsAccepted),
    dash(w.connectionsOpen),
    dash(w.requests),
    dash(w.requestsActive),
  ]);
  return [...head, ...table(['ID', 'PID', 'CPU', 'STATE', 'UPTIME', 'CONFIG', 'RESTARTS', 'ACCEPTED', 'OPEN', 'REQUESTS', 'ACTIVE'], rows)].join('\n');
}

/** Left-aligned text columns; columns of numbers (or "-") right-aligned. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^(-|[0-9]+)$/.test(r[i])));
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor(s / 60) % 60}m`;
  return `${Math.floor(s / 86400)}d${Math.floor(s / 3600) % 24}h`;
}

process.exitCode = await main(process.argv.slice(2));
