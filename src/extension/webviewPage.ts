import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export interface WebviewPage {
  /** The bundle under dist/webview: `<app>.js` and `<app>.css`. */
  app: 'editor' | 'dashboard';
  title: string;
  /** Shown until the app's script has drawn the page. */
  loadingText: string;
  /**
   * Script run inline (under the same nonce) as the page starts: before the stylesheet, which a
   * script placed after it would wait for, and before the app's bundle.
   */
  inlineScript?: string;
}

/**
 * The one page every DPO Studio webview uses. Its content security policy allows only this
 * extension's own script (by a fresh nonce) and stylesheet, images from the extension or inline
 * data, and nothing remote: what the pages show comes from workspace files (dataset records,
 * run names, error messages), and none of it may load or run anything.
 */
export function webviewPageHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = randomBytes(18).toString('base64');
  const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', name)).toString();
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${page.inlineScript ? `<script nonce="${nonce}">${page.inlineScript}</script>\n` : ''}<link rel="stylesheet" href="${asset(`${page.app}.css`)}">
<title>${page.title}</title>
</head>
<body>
<div id="app" data-state="loading"><p class="loading" role="status">${page.loadingText}</p></div>
<script type="module" nonce="${nonce}" src="${asset(`${page.app}.js`)}"></script>
</body>
</html>`;
}
