/** A tiny element builder: text always goes in as text (never parsed as HTML). */
type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Attrs, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') el.className = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/** An HTML fragment that was produced safely (markdown-it with html off, or escaped text). */
export function trustedHtml(tag: string, className: string, html: string): HTMLElement {
  const el = document.createElement(tag);
  el.className = className;
  el.innerHTML = html;
  return el;
}

export function chars(n: number): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'character' : 'characters'}`;
}
