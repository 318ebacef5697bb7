import MarkdownIt from 'markdown-it';

/**
 * Markdown for dataset texts, safe by construction: `html: false` makes markdown-it escape any
 * raw HTML (a record holding `<script>` or `<img onerror>` shows as text), links are kept only
 * for http(s) and are never followed by the webview itself (the host opens them after checking),
 * and images are never loaded: they show as their description and address.
 */
const md = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: true });

md.validateLink = (url: string) => /^https?:\/\//i.test(url.trim());

md.renderer.rules.link_open = (tokens, idx, _options, _env, self) => {
  const token = tokens[idx]!;
  const href = String(token.attrGet('href') ?? '');
  token.attrs = [
    ['href', '#'],
    ['data-href', href],
    ['title', `${href} (opens in your browser)`],
    ['class', 'md-link'],
  ];
  return self.renderToken(tokens, idx, _options);
};

md.renderer.rules.image = (tokens, idx) => {
  const token = tokens[idx]!;
  const alt = md.utils.escapeHtml(token.content || 'image');
  const src = md.utils.escapeHtml(String(token.attrGet('src') ?? ''));
  return `<span class="md-image" title="Images are not loaded">[image: ${alt}]${src ? ` <span class="md-image-src">${src}</span>` : ''}</span>`;
};

export function renderMarkdown(text: string): string {
  return md.render(text);
}

/** Plain text as HTML (for raw JSON and diff views). */
export function escapeHtml(text: string): string {
  return md.utils.escapeHtml(text);
}
