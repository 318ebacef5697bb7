// The pair editor's webview (built by scripts/build.mjs to dist/webview/editor.js and .css).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import './editor.css';
import { PairEditorApp } from './pairEditorApp.ts';
import { markPhase } from './perf.ts';

markPhase('bundleEvaluated');

const app = document.getElementById('app');
if (app) new PairEditorApp(app);
