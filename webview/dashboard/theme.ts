/**
 * Colours from the VS Code theme (the --vscode-* variables VS Code sets on the page), so the
 * charts follow light, dark and high-contrast themes and change with them.
 */

export type ChartColor = 'blue' | 'orange' | 'green' | 'red' | 'purple' | 'yellow' | 'foreground';

const FALLBACK: Record<ChartColor, string> = {
  blue: '#3794ff',
  orange: '#d18616',
  green: '#89d185',
  red: '#f14c4c',
  purple: '#b180d7',
  yellow: '#cca700',
  foreground: '#cccccc',
};

export interface Theme {
  color(name: ChartColor): string;
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  font: string;
  fontFamily: string;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

export function readTheme(): Theme {
  const style = getComputedStyle(document.documentElement);
  const body = getComputedStyle(document.body);
  const fontFamily = body.fontFamily || 'sans-serif';
  const foreground = cssVar(style, '--vscode-foreground', '#cccccc');
  return {
    color: (name) => cssVar(style, `--vscode-charts-${name}`, FALLBACK[name]),
    foreground,
    muted: cssVar(style, '--vscode-descriptionForeground', foreground),
    grid: withAlpha(cssVar(style, '--vscode-charts-lines', foreground), 0.25),
    background: cssVar(style, '--vscode-editor-background', '#1e1e1e'),
    font: `11px ${fontFamily}`,
    fontFamily,
  };
}

let probe: CanvasRenderingContext2D | null | undefined;

/** Any CSS colour with the given opacity (the canvas parses the colour for us). */
export function withAlpha(color: string, alpha: number): string {
  probe ??= document.createElement('canvas').getContext('2d');
  if (!probe) return color;
  probe.fillStyle = '#000000';
  probe.fillStyle = color;
  const normal = String(probe.fillStyle);
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(normal);
  if (hex) return `rgba(${parseInt(hex[1]!, 16)}, ${parseInt(hex[2]!, 16)}, ${parseInt(hex[3]!, 16)}, ${alpha})`;
  const rgba = /^rgba?\(([^,]+),([^,]+),([^,)]+)(?:,([^)]+))?\)$/.exec(normal.replace(/\s/g, ''));
  if (rgba) return `rgba(${rgba[1]}, ${rgba[2]}, ${rgba[3]}, ${alpha * (rgba[4] === undefined ? 1 : Number(rgba[4]))})`;
  return color;
}

/** Calls `onChange` when VS Code switches theme (it changes the body's class and the page's variables). */
export function watchTheme(onChange: () => void): void {
  let pending = false;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      onChange();
    });
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
}
