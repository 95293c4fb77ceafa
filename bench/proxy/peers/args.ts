// Command-line arguments shared by the Node peers: `--port N --origin http://127.0.0.1:M`.
export interface PeerArgs {
  port: number;
  origin: string;
  connections: number;
}

export function peerArgs(argv: string[] = process.argv.slice(2)): PeerArgs {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const port = Number(get('port'));
  const origin = get('origin');
  if (!Number.isInteger(port) || port <= 0 || !origin) {
    console.error('usage: peer.ts --port N --origin http://HOST:PORT [--connections 64]');
    process.exit(2);
  }
  return { port, origin, connections: Number(get('connections') ?? 64) };
}

/** Tells the harness the peer is up (it also polls the port), and stops cleanly on TERM/INT. */
export function announce(name: string, port: number, close: () => void): void {
  console.log(`${name} listening on 127.0.0.1:${port} (pid ${process.pid})`);
  const stop = () => {
    close();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // bench/proxy/cost.ts asks for a full garbage collection before a window (node --expose-gc).
  process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
}
