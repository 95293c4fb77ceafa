// Loading plugin modules and compiling, per route, one array of functions per phase, so the
// request path runs only the hooks that exist for its route and never looks a plugin up.
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import type { PluginConfig, RouteConfig } from '../config/types.ts';
import type { Plugin, PluginFactory } from './plugin.ts';

export interface PhaseHooks {
  request: NonNullable<Plugin['request']>[];
  access: NonNullable<Plugin['access']>[];
  upstream: NonNullable<Plugin['upstream']>[];
  responseHeaders: NonNullable<Plugin['responseHeaders']>[];
  responseBody: NonNullable<Plugin['responseBody']>[];
  log: NonNullable<Plugin['log']>[];
}

interface LoadedModule {
  /** The module name as written in the config: the key routes use to switch it off or override it. */
  name: string;
  factory: PluginFactory;
  options: Record<string, unknown>;
  instance: Plugin;
}

export class PluginSet {
  readonly #instances: Plugin[];
  readonly #byRoute: Map<RouteConfig, PhaseHooks>;

  private constructor(instances: Plugin[], byRoute: Map<RouteConfig, PhaseHooks>) {
    this.#instances = instances;
    this.#byRoute = byRoute;
  }

  /**
   * Imports each configured module, builds its plugin with the configured options, and gives
   * each route its hooks: a route may switch a plugin off (false) or give it other options (a
   * separate instance for that route). `builtins` run before configured plugins.
   */
  static async load(
    configured: readonly PluginConfig[],
    routes: readonly RouteConfig[],
    builtins: readonly Plugin[] = [],
  ): Promise<PluginSet> {
    const loaded: LoadedModule[] = [];
    const instances: Plugin[] = [...builtins];
    for (const { name, module, options } of configured) {
      const factory = await importFactory(module);
      const instance = await buildPlugin(factory, options, name);
      loaded.push({ name, factory, options, instance });
      instances.push(instance);
    }
    const byRoute = new Map<RouteConfig, PhaseHooks>();
    for (const route of routes) {
      // A route switches a built-in feature off by its name too (`plugins: { waf: false }`).
      const plugins: Plugin[] = builtins.filter((b) => route.plugins[b.name] !== false);
      for (const m of loaded) {
        const setting = route.plugins[m.name];
        if (setting === false) continue;
        if (setting === undefined || setting === true) plugins.push(m.instance);
        else {
          const own = await buildPlugin(m.factory, { ...m.options, ...setting }, m.name);
          instances.push(own);
          plugins.push(own);
        }
      }
      byRoute.set(route, phaseHooks(plugins));
    }
    return new PluginSet(instances, byRoute);
  }

  hooksFor(route: RouteConfig): PhaseHooks {
    const hooks = this.#byRoute.get(route);
    if (!hooks) throw new Error('route is not part of this plugin set');
    return hooks;
  }

  async close(): Promise<void> {
    for (const p of this.#instances) await p.close?.();
  }
}

async function importFactory(module: string): Promise<PluginFactory> {
  const specifier = isAbsolute(module) ? pathToFileURL(module).href : module;
  let imported: { default?: unknown };
  try {
    imported = (await import(specifier)) as { default?: unknown };
  } catch (err) {
    throw new Error(`plugin ${module}: cannot load the module: ${(err as Error).message}`);
  }
  if (typeof imported.default !== 'function') {
    throw new Error(`plugin ${module}: the module must export a default function (options) => Plugin`);
  }
  return imported.default as PluginFactory;
}

async function buildPlugin(factory: PluginFactory, options: Record<string, unknown>, module: string): Promise<Plugin> {
  const plugin = await factory(options);
  if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string') {
    throw new Error(`plugin ${module}: the factory must return an object with a name and hook methods`);
  }
  return plugin;
}

function phaseHooks(plugins: readonly Plugin[]): PhaseHooks {
  const hooks: PhaseHooks = { request: [], access: [], upstream: [], responseHeaders: [], responseBody: [], log: [] };
  for (const p of plugins) {
    if (p.request) hooks.request.push(p.request.bind(p));
    if (p.access) hooks.access.push(p.access.bind(p));
    if (p.upstream) hooks.upstream.push(p.upstream.bind(p));
    if (p.responseHeaders) hooks.responseHeaders.push(p.responseHeaders.bind(p));
    if (p.responseBody) hooks.responseBody.push(p.responseBody.bind(p));
    if (p.log) hooks.log.push(p.log.bind(p));
  }
  return hooks;
}
