// Configuration files for the origin and the peers, written into the run's temp dir. Every
// setting that could tilt the comparison is here, with the reason for it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const BODIES = {
  tiny: { path: '/', bytes: 6 },
  '1k': { path: '/1k', bytes: 1024 },
  '60k': { path: '/60k', bytes: 60 * 1024 },
} as const;
export type BodyName = keyof typeof BODIES;

/** nginx directives that make it write only under `dir` (it runs as the current user). */
function nginxPaths(dir: string, name: string): string {
  const tmp = join(dir, `${name}-tmp`);
  mkdirSync(tmp, { recursive: true });
  // Started by root, nginx's workers would switch to "nobody" and could not read the temp dir.
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  return `${user}pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}-error.log`)} warn;`;
}

function nginxTempPaths(dir: string, name: string): string {
  const tmp = join(dir, `${name}-tmp`);
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `    ${k}_temp_path ${join(tmp, k)};`)
    .join('\n');
}

/**
 * The origin: nginx serving the three bodies from `dir/www`. `master_process on` with one worker
 * (the worker does the work); no access log; keep-alive with no practical request limit so that
 * no proxy's upstream connections are recycled during a run.
 */
export function writeOriginConfig(dir: string, port: number): string {
  const www = join(dir, 'www');
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'tiny'), 'hello\n');
  writeFileSync(join(www, '1k'), 'x'.repeat(BODIES['1k'].bytes - 1) + '\n');
  writeFileSync(join(www, '60k'), 'y'.repeat(BODIES['60k'].bytes - 1) + '\n');
  const conf = `# origin for bench/proxy (generated)
daemon off;
master_process on;
worker_processes 1;
${nginxPaths(dir, 'origin')}
events { worker_connections 4096; }
http {
    access_log off;
${nginxTempPaths(dir, 'origin')}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 75s;
    keepalive_requests 10000000;
    server {
        listen 127.0.0.1:${port};
        root ${www};
        location = / { try_files /tiny =404; }
        location / { }
    }
}
`;
  const file = join(dir, 'origin.conf');
  writeFileSync(file, conf);
  return file;
}

/**
 * nginx as the proxy peer: one worker (`master_process on`, `worker_processes 1`), an `upstream`
 * block with `keepalive 64`, HTTP/1.1 upstream with `Connection: ""`. The access log is ON, to a
 * file in the temp dir, in the combined format with `buffer=64k flush=1s` (nginx's usual
 * production form; frontline's own access log is also written asynchronously and batched).
 * Proxy buffers hold a 60 KB body in memory (16 × 8k) and never spill to a temp file
 * (`proxy_max_temp_file_size 0`): spilling to disk would be a misconfiguration, not a result.
 */
export function writeNginxProxyConfig(dir: string, port: number, originPort: number, accessLog: boolean): string {
  const log = accessLog ? `access_log ${join(dir, 'nginx-access.log')} combined buffer=64k flush=1s;` : 'access_log off;';
  const conf = `# nginx peer for bench/proxy (generated)
daemon off;
master_process on;
worker_processes 1;
${nginxPaths(dir, 'nginx')}
events { worker_connections 4096; }
http {
    ${log}
${nginxTempPaths(dir, 'nginx')}
    keepalive_timeout 75s;
    keepalive_requests 10000000;
    upstream origin {
        server 127.0.0.1:${originPort};
        keepalive 64;
        keepalive_requests 10000000;
        keepalive_timeout 60s;
    }
    server {
        listen 127.0.0.1:${port};
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffer_size 8k;
            proxy_buffers 16 8k;
            proxy_max_temp_file_size 0;
        }
    }
}
`;
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  return file;
}

/**
 * HAProxy as the proxy peer: one process, one thread, `http-reuse always`. With the access log ON
 * it logs each request (`option httplog`) to stdout, which the harness sends to a file (HAProxy
 * cannot write a log file itself; stdout is its cheapest non-syslog target).
 */
export function writeHaproxyConfig(dir: string, port: number, originPort: number, accessLog: boolean): string {
  const conf = `# haproxy peer for bench/proxy (generated)
global
    nbthread 1
    # maxconn sets the FD limit HAProxy asks for (2 per connection): stay under a 20000 ulimit.
    maxconn 4096
    pidfile ${join(dir, 'haproxy.pid')}
${accessLog ? '    log stdout format raw local0 info\n' : ''}
defaults
    mode http
${accessLog ? '    log global\n    option httplog\n' : ''}    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 75s
    timeout server 60s
    timeout http-keep-alive 75s

frontend fe
    bind 127.0.0.1:${port}
    default_backend origin

backend origin
    server origin 127.0.0.1:${originPort}
`;
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, conf);
  return file;
}

export interface FrontlineOptions {
  name: string;
  workers: number;
  distribution: 'reuseport' | 'round-robin' | 'shared';
  port: number;
  metricsPort: number;
  originPort: number;
}

/** frontline's configuration: every default feature on (access log to a file, metrics). */
export function frontlineConfig(dir: string, o: FrontlineOptions): { file: string; text: string; controlSocket: string; accessLog: string } {
  const controlSocket = join(dir, `${o.name}.sock`);
  const accessLog = join(dir, `${o.name}-access.log`);
  const config = {
    workers: o.workers,
    distribution: o.distribution,
    cpu_affinity: 'none', // the harness pins with taskset instead
    control_socket: controlSocket,
    listeners: [{ address: '127.0.0.1', port: o.port }],
    upstreams: {
      origin: { servers: [{ url: `http://127.0.0.1:${o.originPort}` }], keepalive: { connections: 64 } },
    },
    routes: [{ path: '/', upstream: 'origin' }],
    logging: { access: { enabled: true, path: accessLog } },
    metrics: { enabled: true, address: '127.0.0.1', port: o.metricsPort },
  };
  const text = `# ${o.name} for bench/proxy (generated)\n${stringify(config)}`;
  const file = join(dir, `${o.name}.yaml`);
  writeFileSync(file, text);
  return { file, text, controlSocket, accessLog };
}
