import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/**
 * The pair editor's page. The content security policy allows only this extension's own script
 * (by nonce) and stylesheet, images from the extension or inline data, and nothing remote: a
 * dataset record is rendered as Markdown, and no record may load or run anything.
 */
export function pairEditorHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
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
<link rel="stylesheet" href="${asset('editor.css')}">
<title>Pair editor</title>
</head>
<body>
<div id="app" data-state="loading"><p class="loading" role="status">Loading records…</p></div>
<script type="module" nonce="${nonce}" src="${asset('editor.js')}"></script>
</body>
</html>`;
}
