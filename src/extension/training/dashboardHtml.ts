import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/**
 * The dashboard's page. The content security policy allows only this extension's script (by
 * nonce) and stylesheet, and nothing remote: run labels, model names and error messages come
 * from files in the workspace and are only ever set as text.
 */
export function dashboardHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
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
<link rel="stylesheet" href="${asset('dashboard.css')}">
<title>DPO Training</title>
</head>
<body>
<div id="app" data-state="loading"><p class="loading" role="status">Loading runs…</p></div>
<script type="module" nonce="${nonce}" src="${asset('dashboard.js')}"></script>
</body>
</html>`;
}
