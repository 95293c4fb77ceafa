// Macros: `%{TX.anomaly_score}`, `%{MATCHED_VAR}`, `%{REQUEST_HEADERS.host}`, `%{rule.id}` inside
// action values and some operator arguments, expanded per transaction. The text is split once,
// at load time, into literal parts and variable references.

/** Reads one variable (upper-case name) and optional key (lower case) for expansion: its first value, or undefined. */
export type MacroResolver = (variable: string, key: string | undefined) => string | undefined;

export interface Macro {
  /** The text when it holds no macro. */
  readonly constant: string | undefined;
  expand(resolve: MacroResolver): string;
}

export function compileMacro(text: string): Macro {
  if (!text.includes('%{')) return { constant: text, expand: () => text };
  const parts: (string | { variable: string; key: string | undefined })[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('%{', i);
    const close = open === -1 ? -1 : text.indexOf('}', open + 2);
    if (open === -1 || close === -1) {
      parts.push(text.slice(i));
      break;
    }
    if (open > i) parts.push(text.slice(i, open));
    const name = text.slice(open + 2, close).trim();
    const dot = name.search(/[.:]/);
    parts.push(dot === -1 ? { variable: name.toUpperCase(), key: undefined } : { variable: name.slice(0, dot).toUpperCase(), key: name.slice(dot + 1).toLowerCase() });
    i = close + 1;
  }
  return {
    constant: undefined,
    expand(resolve) {
      let out = '';
      for (const part of parts) out += typeof part === 'string' ? part : (resolve(part.variable, part.key) ?? '');
      return out;
    },
  };
}
