/**
 * The glossary page's editable pieces: a table row that turns into inputs in place (Enter saves,
 * Escape cancels) and the add-a-term form with the pair picker.
 */
import type { GlossaryTerm } from '../api/platform';
import { h, replaceChildren } from '../ui/dom';
import { icon } from '../ui/icons';

/** What a row asks the page to do; `save` resolves false when the server refused (the row stays in edit). */
export interface RowActions {
  save(input: { sourceTerm: string; targetTerm: string }): Promise<boolean>;
  remove(): void;
}

/** A term's row (`glossary-row`, `data-term-id`), showing the term with Edit and Delete. */
export function termRow(term: GlossaryTerm, actions: RowActions): HTMLTableRowElement {
  const row = h('tr', { 'data-testid': 'glossary-row', 'data-term-id': term.id });
  const show = (): void => {
    const edit = h('button', { type: 'button', class: 'button secondary small', 'data-testid': 'edit-term', 'aria-label': `Edit ${term.sourceTerm}`, onclick: () => editMode() }, icon('pencil'), 'Edit');
    replaceChildren(row,
      h('th', { scope: 'row', 'data-label': 'Source term', 'data-testid': 'term-source' }, term.sourceTerm),
      h('td', { 'data-label': 'Translation', 'data-testid': 'term-target' }, term.targetTerm),
      h('td', { 'data-label': 'Pair', 'data-testid': 'term-pair' }, h('code', {}, term.languagePair)),
      h('td', { class: 'row-actions' }, edit,
        h('button', { type: 'button', class: 'button danger-outline small', 'data-testid': 'delete-term', 'aria-label': `Delete ${term.sourceTerm}`, onclick: () => actions.remove() }, icon('trash'), 'Delete')),
    );
  };
  const editMode = (): void => {
    const id = `term-${term.id}`;
    const source = h('input', { id: `${id}-source`, value: term.sourceTerm, 'data-testid': 'edit-source', maxlength: 200, required: true });
    const target = h('input', { id: `${id}-target`, value: term.targetTerm, 'data-testid': 'edit-target', maxlength: 200, required: true });
    const save = h('button', { type: 'button', class: 'button primary small', 'data-testid': 'save-term' }, icon('check'), 'Save');
    const submit = async (): Promise<void> => {
      save.disabled = true;
      const saved = await actions.save({ sourceTerm: source.value.trim(), targetTerm: target.value.trim() });
      save.disabled = false;
      if (!saved) source.focus();
    };
    save.addEventListener('click', () => void submit());
    for (const input of [source, target]) {
      input.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') void submit();
        if (event.key === 'Escape') {
          show();
          row.querySelector<HTMLButtonElement>('[data-testid="edit-term"]')?.focus();
        }
      });
    }
    replaceChildren(row,
      h('th', { scope: 'row', 'data-label': 'Source term' }, h('label', { class: 'visually-hidden', for: source.id }, 'Source term'), source),
      h('td', { 'data-label': 'Translation' }, h('label', { class: 'visually-hidden', for: target.id }, 'Translation'), target),
      h('td', { 'data-label': 'Pair' }, h('code', {}, term.languagePair)),
      h('td', { class: 'row-actions' }, save,
        h('button', { type: 'button', class: 'button ghost small', 'data-testid': 'cancel-edit', onclick: () => show() }, 'Cancel')),
    );
    source.focus();
  };
  show();
  return row;
}

/** The add form: source, translation, pair (suggested from the datalist `pairsListId`). Resets after a success. */
export function addTermForm(pairsListId: string, add: (input: { sourceTerm: string; targetTerm: string; languagePair: string }) => Promise<boolean>): HTMLFormElement {
  const source = h('input', { id: 'new-term-source', required: true, maxlength: 200, autocomplete: 'off', 'data-testid': 'new-term-source', placeholder: 'heart attack' });
  const target = h('input', { id: 'new-term-target', required: true, maxlength: 200, autocomplete: 'off', 'data-testid': 'new-term-target', placeholder: 'infarto' });
  const pair = h('input', { id: 'new-term-pair', required: true, maxlength: 20, autocomplete: 'off', list: pairsListId, 'data-testid': 'new-term-pair', placeholder: 'en-es', 'aria-describedby': 'new-term-pair-note' });
  const submit = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'add-term' }, icon('plus'), 'Add');
  const form = h('form', { class: 'console-form add-term-form' },
    h('div', { class: 'field' }, h('label', { for: 'new-term-source' }, 'Source term'), source),
    h('div', { class: 'field' }, h('label', { for: 'new-term-target' }, 'Translation'), target),
    h('div', { class: 'field' }, h('label', { for: 'new-term-pair' }, 'Language pair'), pair,
      h('span', { id: 'new-term-pair-note', class: 'visually-hidden' }, 'source-target, for example en-es')),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    void add({ sourceTerm: source.value.trim(), targetTerm: target.value.trim(), languagePair: pair.value.trim() }).then((added) => {
      submit.disabled = false;
      if (!added) return;
      source.value = '';
      target.value = '';
      source.focus();
    });
  });
  return form;
}
