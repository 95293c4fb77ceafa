// fastify with @fastify/http-proxy (which proxies through @fastify/reply-from and its undici).
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';
import { announce, peerArgs } from './args.ts';

const { port, origin, connections } = peerArgs();
const app = Fastify({ logger: false, keepAliveTimeout: 75_000 });
await app.register(proxy, { upstream: origin, undici: { connections, pipelining: 1 } });
await app.listen({ port, host: '127.0.0.1' });
announce('fastify', port, () => void app.close());
