export { h } from '../shared/dom.ts';

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
