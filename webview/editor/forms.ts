import { h } from './dom.ts';

export interface FormOptions {
  title: string;
  /** 'text': one line (search, go to); 'multiline': a textarea (note, edit). */
  kind: 'text' | 'multiline';
  value: string;
  submitLabel: string;
  /** A second submit button (search backwards). */
  alternateLabel?: string;
  onSubmit(value: string, alternate: boolean): void;
  onClose(): void;
}

type ValueElement = HTMLElement & { value: string };

/**
 * A small inline form (label, text box, buttons): Enter (Ctrl+Enter in a multi-line box)
 * submits, Shift+Enter submits the alternate action, Escape closes. Focus goes into the box and
 * back to where it was when the form closes.
 */
export function inlineForm(options: FormOptions): HTMLElement {
  const id = `form-${Math.random().toString(36).slice(2)}`;
  const input = h(options.kind === 'multiline' ? 'vscode-textarea' : 'vscode-textfield', {
    id,
    class: 'form-input',
    'aria-label': options.title,
    ...(options.kind === 'multiline' ? { rows: 6, resize: 'vertical' } : {}),
  }) as ValueElement;
  input.value = options.value;
  const submit = (alternate: boolean) => options.onSubmit(input.value, alternate);
  const form = h(
    'div',
    { class: 'inline-form', role: 'group', 'aria-label': options.title },
    h('label', { for: id, class: 'form-title' }, options.title),
    input,
    h('div', { class: 'form-buttons' }),
  );
  const buttons = form.querySelector('.form-buttons')!;
  const button = (label: string, secondary: boolean, onClick: () => void) => {
    const b = h('vscode-button', { ...(secondary ? { secondary: true } : {}) }, label);
    b.addEventListener('click', onClick);
    buttons.append(b);
  };
  button(options.submitLabel, false, () => submit(false));
  if (options.alternateLabel) button(options.alternateLabel, true, () => submit(true));
  button('Cancel', true, options.onClose);
  input.addEventListener('keydown', (event: KeyboardEvent) => {
    event.stopPropagation();
    if (event.key === 'Escape') {
      event.preventDefault();
      options.onClose();
    } else if (event.key === 'Enter' && (options.kind === 'text' || event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit(event.shiftKey);
    }
  });
  queueMicrotask(() => requestAnimationFrame(() => input.focus()));
  return form;
}
