// Runs the email decoder script the way a browser would, on a document parsed by parse5, with a
// DOM shim that has exactly what the script uses (querySelectorAll with `tag[attr]` and
// `tag[attr^="v"]`, get/setAttribute, replaceChild, removeChild, createTextNode, currentScript,
// DOMContentLoaded), so a test can compare what a visitor with JavaScript sees with the original.
import { runInNewContext } from 'node:vm';
import { defaultTreeAdapter, parse, serialize, type DefaultTreeAdapterMap } from 'parse5';

type Node = DefaultTreeAdapterMap['node'];
type ParentNode = DefaultTreeAdapterMap['parentNode'];
type Element = DefaultTreeAdapterMap['element'];
type ChildNode = DefaultTreeAdapterMap['childNode'];

function* elements(node: Node): Generator<Element> {
  if ('tagName' in node) yield node;
  if ('childNodes' in node) for (const child of [...node.childNodes]) yield* elements(child);
}

const SIMPLE = /^\s*([a-z]+)\[([a-z-]+)(?:\^="([^"]*)")?\]\s*$/;

function matcher(selectors: string): (el: Element) => boolean {
  const parts = selectors.split(',').map((s) => {
    const m = SIMPLE.exec(s);
    if (!m) throw new Error(`the DOM shim does not support the selector ${s}`);
    return { tag: m[1], attr: m[2], prefix: m[3] };
  });
  return (el) =>
    parts.some((p) => {
      const value = el.attrs.find((a) => a.name === p.attr)?.value;
      return el.tagName === p.tag && value !== undefined && (p.prefix === undefined || value.startsWith(p.prefix));
    });
}

class ShimNode {
  readonly node: Node;
  constructor(node: Node) {
    this.node = node;
  }
  get parentNode(): ShimNode | null {
    const parent = (this.node as { parentNode: ParentNode | null }).parentNode;
    return parent ? new ShimNode(parent) : null;
  }
  getAttribute(name: string): string | null {
    return (this.node as Element).attrs.find((a) => a.name === name)?.value ?? null;
  }
  setAttribute(name: string, value: string): void {
    const attr = (this.node as Element).attrs.find((a) => a.name === name);
    if (attr) attr.value = value;
    else (this.node as Element).attrs.push({ name, value });
  }
  replaceChild(replacement: ShimNode, old: ShimNode): void {
    defaultTreeAdapter.insertBefore(this.node as ParentNode, replacement.node as ChildNode, old.node as ChildNode);
    defaultTreeAdapter.detachNode(old.node as ChildNode);
  }
  removeChild(child: ShimNode): void {
    defaultTreeAdapter.detachNode(child.node as ChildNode);
  }
}

/** `html` as parse5 serialises it after the page's decoder scripts ran (and removed themselves). */
export function renderWithScripts(html: string): string {
  const document = parse(html);
  for (const script of [...elements(document)].filter((el) => el.tagName === 'script' && el.attrs.some((a) => a.name === 'data-frontline'))) {
    const source = script.childNodes.map((n) => ('value' in n ? n.value : '')).join('');
    const listeners: (() => void)[] = [];
    const shimDocument = {
      currentScript: new ShimNode(script),
      querySelectorAll: (selectors: string) => [...elements(document)].filter(matcher(selectors)).map((el) => new ShimNode(el)),
      createTextNode: (text: string) => {
        const holder = defaultTreeAdapter.createElement('div', 'http://www.w3.org/1999/xhtml' as never, []);
        defaultTreeAdapter.insertText(holder, text);
        const node = holder.childNodes[0];
        defaultTreeAdapter.detachNode(node);
        return new ShimNode(node);
      },
      addEventListener: (type: string, listener: () => void) => {
        if (type === 'DOMContentLoaded') listeners.push(listener);
      },
    };
    runInNewContext(source, { document: shimDocument, TextDecoder });
    for (const listener of listeners) listener();
  }
  return serialize(document);
}

/** `html` as parse5 parses and serialises it. */
export const render = (html: string): string => serialize(parse(html));
