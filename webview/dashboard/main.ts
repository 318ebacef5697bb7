// The training dashboard's webview (built by scripts/build.mjs to dist/webview/dashboard.js and .css).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import 'uplot/dist/uPlot.min.css';
import './dashboard.css';
import { DashboardApp } from './dashboardApp.ts';

const app = document.getElementById('app');
if (app) new DashboardApp(app);
