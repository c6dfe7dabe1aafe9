/**
 * Console → Glossary (docs/console.md, docs/glossary.md): the organization's terms in a table with
 * search; add, edit and delete inline; import a CSV/TXT file and read the server's per-line error
 * report; export the terms as CSV (built in the page: no key in a download URL).
 */
import {
  createTerm, deleteTerm, importTerms, listLanguagePairs, listTerms, updateTerm, type GlossaryTerm, type ImportReport,
} from '../api/platform';
import { filterTerms, glossaryCsv } from '../console/format';
import type { Cleanup } from '../router';
import { confirmAction } from '../ui/confirm-dialog';
import { h, replaceChildren } from '../ui/dom';
import { icon } from '../ui/icons';
import type { ConsoleContext } from './console';
import { addTermForm, termRow } from './console-glossary-rows';

/** Mounts the Glossary page into `root`. */
export function mountGlossary(root: HTMLElement, ctx: ConsoleContext): Cleanup {
  let alive = true;
  let terms: GlossaryTerm[] = [];
  const search = h('input', { id: 'glossary-search', type: 'search', 'data-testid': 'glossary-search', placeholder: 'Search terms or pairs', autocomplete: 'off' });
  const count = h('p', { class: 'console-count', 'data-testid': 'glossary-count', 'aria-live': 'polite' });
  const tbody = h('tbody', { 'data-testid': 'glossary-rows' });
  const tableSlot = h('div', { class: 'console-table-wrap' }, h('p', { class: 'console-empty' }, 'Loading the glossary…'));
  const reportSlot = h('div', { class: 'import-report-slot' });
  const pairs = h('datalist', { id: 'glossary-pairs' });

  const render = (): void => {
    const shown = filterTerms(terms, search.value);
    count.textContent = search.value.trim() ? `${shown.length} of ${terms.length} terms` : `${terms.length} ${terms.length === 1 ? 'term' : 'terms'}`;
    if (terms.length === 0) {
      replaceChildren(tableSlot, h('p', { class: 'console-empty', 'data-testid': 'glossary-empty' }, 'No terms yet. Add one above, or import a CSV or TXT file.'));
      return;
    }
    if (shown.length === 0) {
      replaceChildren(tableSlot, h('p', { class: 'console-empty', 'data-testid': 'glossary-no-match' }, `No term matches “${search.value.trim()}”.`));
      return;
    }
    replaceChildren(tbody, ...shown.map((t) => termRow(t, { save: (input) => onSave(t, input), remove: () => onDelete(t) })));
    replaceChildren(tableSlot, glossaryTable(tbody));
  };

  const refresh = (): void => {
    listTerms(ctx.key()).then((loaded) => {
      if (!alive) return;
      terms = loaded;
      render();
    }, (error: unknown) => alive && ctx.fail('Loading the glossary', error, refresh));
  };

  const onSave = async (term: GlossaryTerm, input: { sourceTerm: string; targetTerm: string }): Promise<boolean> => {
    try {
      const updated = await updateTerm(ctx.key(), term.id, input);
      terms = terms.map((t) => (t.id === updated.id ? updated : t));
      ctx.banner.clear();
      render();
      return true;
    } catch (error) {
      ctx.fail('Saving the term', error);
      return false;
    }
  };

  const onDelete = async (term: GlossaryTerm): Promise<void> => {
    if (!(await confirmAction(`Delete “${term.sourceTerm}”?`, `The term ${term.sourceTerm} → ${term.targetTerm} (${term.languagePair}) is removed from the glossary.`, 'Delete'))) return;
    try {
      await deleteTerm(ctx.key(), term.id);
      terms = terms.filter((t) => t.id !== term.id);
      ctx.banner.clear();
      render();
      search.focus();
    } catch (error) {
      ctx.fail('Deleting the term', error);
    }
  };

  const onAdd = async (input: { sourceTerm: string; targetTerm: string; languagePair: string }): Promise<boolean> => {
    try {
      const created = await createTerm(ctx.key(), input);
      terms = [...terms, created].sort((a, b) => a.languagePair.localeCompare(b.languagePair) || a.sourceTerm.localeCompare(b.sourceTerm));
      ctx.banner.clear();
      render();
      return true;
    } catch (error) {
      ctx.fail('Adding the term', error);
      return false;
    }
  };

  const onImport = async (file: File): Promise<void> => {
    replaceChildren(reportSlot, h('p', { class: 'console-empty' }, `Importing ${file.name}…`));
    try {
      const report = await importTerms(ctx.key(), file);
      ctx.banner.clear();
      replaceChildren(reportSlot, importReport(file.name, report));
      refresh();
    } catch (error) {
      reportSlot.replaceChildren();
      ctx.fail('Importing the file', error);
    }
  };

  search.addEventListener('input', render);
  root.append(
    pairs,
    h('section', { class: 'card console-card', 'aria-labelledby': 'add-term-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'add-term-title' }, 'Add a term'),
        h('div', { class: 'card-head-tools' }, importControl(onImport),
          h('button', { type: 'button', class: 'button secondary small', 'data-testid': 'glossary-export', onclick: () => exportCsv(terms) }, icon('download'), 'Export CSV'))),
      addTermForm('glossary-pairs', onAdd),
    ),
    reportSlot,
    h('section', { class: 'card console-card', 'aria-labelledby': 'terms-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'terms-title' }, 'Terms'), count),
      h('div', { class: 'console-search field' }, h('label', { for: 'glossary-search' }, 'Search'), search),
      tableSlot,
    ),
  );
  listLanguagePairs(ctx.key()).then((list) => replaceChildren(pairs, ...list.map((p) => h('option', { value: p }))), () => {});
  refresh();
  return () => {
    alive = false;
  };
}

function glossaryTable(tbody: HTMLTableSectionElement): HTMLTableElement {
  return h('table', { class: 'console-table glossary-table' },
    h('caption', { class: 'visually-hidden' }, 'Glossary terms'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Source term'), h('th', { scope: 'col' }, 'Translation'), h('th', { scope: 'col' }, 'Pair'),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    tbody,
  );
}

/** "Import CSV/TXT": a labelled file input styled as a button. */
function importControl(onFile: (file: File) => void): HTMLElement {
  const input = h('input', { id: 'glossary-import', type: 'file', accept: '.csv,.txt,.tsv,text/csv,text/plain', class: 'visually-hidden', 'data-testid': 'glossary-import' });
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    input.value = '';
    if (file) onFile(file);
  });
  return h('span', { class: 'file-button' }, input, h('label', { for: 'glossary-import', class: 'button secondary small' }, icon('upload'), 'Import CSV/TXT'));
}

/** The server's import answer: counts, then one line per error ("Line 3: …"). */
function importReport(fileName: string, report: ImportReport): HTMLElement {
  const summary = `${report.imported} imported, ${report.skipped} skipped as duplicates, ${report.errors.length} ${report.errors.length === 1 ? 'line' : 'lines'} with errors.`;
  return h('section', { class: 'card console-card import-report', 'data-testid': 'import-report', 'data-errors': report.errors.length, role: 'status', 'aria-labelledby': 'import-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'import-title' }, `Imported ${fileName}`)),
    h('p', { class: 'import-summary', 'data-testid': 'import-summary' }, summary),
    report.errors.length > 0
      ? h('ol', { class: 'import-errors', 'data-testid': 'import-errors' },
        ...report.errors.map((e) => h('li', { 'data-testid': 'import-error', 'data-row': e.row }, h('strong', {}, `Line ${e.row}: `), e.message)))
      : null,
    report.errors.length > 0 ? h('p', { class: 'console-footnote' }, 'The other lines were imported. Fix these lines in your file and import it again: lines already imported are skipped.') : null,
  );
}

/** Downloads `terms` as glossary.csv (a Blob URL made in the page). */
function exportCsv(terms: GlossaryTerm[]): void {
  const url = URL.createObjectURL(new Blob([glossaryCsv(terms)], { type: 'text/csv;charset=utf-8' }));
  const link = h('a', { href: url, download: 'glossary.csv', hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
