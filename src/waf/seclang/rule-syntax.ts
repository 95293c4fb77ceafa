// The three parts of a SecRule, as text → plain data: targets (`ARGS|!ARGS:foo|&TX:x|
// REQUEST_HEADERS:/^x-/`), the operator (`!@rx ...`, `@rx` when none is named) and the action
// list (`id:1,phase:2,t:none,msg:'...'`). Nothing is compiled here.

export interface TargetSpec {
  /** Upper-case variable name, e.g. `ARGS`. */
  readonly variable: string;
  /** A key (`ARGS:foo`), a regex over keys (`ARGS:/^foo/`), or none. */
  readonly key: string | undefined;
  readonly keyIsRegex: boolean;
  /** `&VAR`: the number of values instead of the values. */
  readonly count: boolean;
  /** `!VAR:key`: removes matching keys from the rule's other targets of VAR. */
  readonly exclude: boolean;
}

export interface OperatorSpec {
  /** Lower-case name without `@`, e.g. `rx`. */
  readonly name: string;
  readonly argument: string;
  readonly negated: boolean;
}

export interface ActionSpec {
  /** Lower-case name, e.g. `setvar`. */
  readonly name: string;
  /** The value after `:`, outer single quotes removed; '' when there is none. */
  readonly value: string;
}

/** Parses a target list; throws Error with the reason. */
export function parseTargets(text: string): TargetSpec[] {
  const targets: TargetSpec[] = [];
  let i = 0;
  while (i < text.length) {
    let exclude = false;
    let count = false;
    if (text[i] === '!') {
      exclude = true;
      i++;
    } else if (text[i] === '&') {
      count = true;
      i++;
    }
    let j = i;
    while (j < text.length && text[j] !== ':' && text[j] !== '|') j++;
    const variable = text.slice(i, j).trim().toUpperCase();
    if (variable.length === 0) throw new Error(`empty variable name in "${text}"`);
    let key: string | undefined;
    let keyIsRegex = false;
    i = j;
    if (text[i] === ':') {
      i++;
      let quoted = false;
      if (text[i] === "'") {
        quoted = true;
        i++;
      }
      if (text[i] === '/' && variable !== 'XML' && variable !== 'JSON') {
        // A regex over keys: up to the next unescaped `/`; `|` inside it does not end the target.
        let k = i + 1;
        let escaped = false;
        for (; k < text.length; k++) {
          const c = text[k];
          if (c === '\\') escaped = !escaped;
          else if (c === '/' && !escaped) break;
          else escaped = false;
        }
        if (k >= text.length) throw new Error(`unterminated key regex in "${text}"`);
        key = text.slice(i + 1, k);
        keyIsRegex = true;
        i = k + 1;
        if (quoted && text[i] === "'") i++;
      } else {
        let k = i;
        while (k < text.length && text[k] !== '|' && !(quoted && text[k] === "'")) k++;
        key = text.slice(i, k);
        i = k;
        if (quoted) {
          if (text[i] !== "'") throw new Error(`unterminated quoted key in "${text}"`);
          i++;
        }
      }
    }
    targets.push({ variable, key, keyIsRegex, count, exclude });
    if (i < text.length) {
      if (text[i] !== '|') throw new Error(`expected "|" after target ${variable} in "${text}"`);
      i++;
    }
  }
  return targets;
}

/** `@name argument`, `!@name argument`, or a bare regex (then `@rx`). */
export function parseOperator(text: string): OperatorSpec {
  let rest = text;
  let negated = false;
  if (rest.startsWith('!')) {
    negated = true;
    rest = rest.slice(1);
  }
  if (!rest.startsWith('@')) return { name: 'rx', argument: rest, negated };
  const space = rest.search(/[ \t]/);
  const name = (space === -1 ? rest.slice(1) : rest.slice(1, space)).toLowerCase();
  const argument = space === -1 ? '' : rest.slice(space + 1).trim();
  return { name, argument, negated };
}

/** Splits on commas outside single quotes; a backslash keeps the next character from ending or quoting anything. */
export function parseActions(text: string): ActionSpec[] {
  const actions: ActionSpec[] = [];
  let start = 0;
  let colon = -1;
  let quoted = false;
  const push = (end: number) => {
    const name = (colon === -1 ? text.slice(start, end) : text.slice(start, colon)).trim().toLowerCase();
    let value = colon === -1 ? '' : text.slice(colon + 1, end).trim();
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    if (name.length > 0) actions.push({ name, value });
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (i > 0 && text[i - 1] === '\\') continue;
    if (c === "'") {
      quoted = !quoted;
      continue;
    }
    if (quoted) continue;
    if (c === ':' && colon === -1) colon = i;
    else if (c === ',') {
      push(i);
      start = i + 1;
      colon = -1;
    }
  }
  if (quoted) throw new Error(`unclosed single quote in actions "${text}"`);
  push(text.length);
  return actions;
}
