// A feature's `expression`: a Wirefilter / Cloudflare Rules expression over the same request
// fields as the firewall (features/firewall/fields.ts), compiled once and evaluated in the
// request phase. The configuration was checked when it was loaded (config/html.ts).
import type { RequestContext } from '../../proxy/context.ts';
import { compile, type Filter } from '../../rules/compile.ts';
import { ExecutionContext, type ListMatchers } from '../../rules/context.ts';
import { httpScheme } from '../../rules/http-scheme.ts';
import { parse } from '../../rules/parser.ts';
import { fieldExtractors } from '../firewall/fields.ts';

export class RequestCondition {
  readonly #filter: Filter;
  readonly #fields: ExecutionContext;
  readonly #source: (field: { index: number }) => ReturnType<ExecutionContext['get']>;
  /** The request being evaluated: evaluation is synchronous, so one context serves every request in turn. */
  #request: RequestContext | undefined = undefined;

  constructor(expression: string, lists: ListMatchers) {
    this.#filter = compile(parse(httpScheme, expression), httpScheme);
    const extractors = fieldExtractors(httpScheme);
    this.#source = (field) => extractors[field.index](this.#request!);
    this.#fields = new ExecutionContext(httpScheme, { source: this.#source, lists });
  }

  matches(ctx: RequestContext): boolean {
    this.#request = ctx;
    this.#fields.reset(this.#source);
    try {
      return this.#filter.execute(this.#fields);
    } finally {
      this.#request = undefined;
    }
  }
}
