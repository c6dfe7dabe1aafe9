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
  const view = new GlossaryView(ctx);
  root.append(...view.elements());
  listLanguagePairs(ctx.key()).then((list) => replaceChildren(view.pairs, ...list.map((p) => h('option', { value: p }))), () => {});
  view.refresh();
  return () => {
    view.alive = false;
  };
}

/** The page's state (the terms as last listed) and what each control does with the server. */
class GlossaryView {
  alive = true;
  private terms: GlossaryTerm[] = [];
  readonly pairs = h('datalist', { id: 'glossary-pairs' });
  private readonly search = h('input', { id: 'glossary-search', type: 'search', 'data-testid': 'glossary-search', placeholder: 'Search terms or pairs', autocomplete: 'off' });
  private readonly count = h('p', { class: 'console-count', 'data-testid': 'glossary-count', 'aria-live': 'polite' });
  private readonly tbody = h('tbody', { 'data-testid': 'glossary-rows' });
  private readonly tableSlot = h('div', { class: 'console-table-wrap' }, h('p', { class: 'console-empty', 'data-loading': true }, 'Loading the glossary…'));
  private readonly reportSlot = h('div', { class: 'import-report-slot' });

  constructor(private readonly ctx: ConsoleContext) {
    this.search.addEventListener('input', () => this.render());
  }

  /** The page's sections, in order. */
  elements(): HTMLElement[] {
    return [
      this.pairs,
      h('section', { class: 'card console-card', 'aria-labelledby': 'add-term-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'add-term-title' }, 'Add a term'),
          h('div', { class: 'card-head-tools' }, importControl((file) => void this.importFile(file)),
            h('button', { type: 'button', class: 'button secondary small', 'data-testid': 'glossary-export', onclick: () => exportCsv(this.terms) }, icon('download'), 'Export CSV'))),
        addTermForm('glossary-pairs', (input) => this.add(input)),
      ),
      this.reportSlot,
      h('section', { class: 'card console-card', 'aria-labelledby': 'terms-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'terms-title' }, 'Terms'), this.count),
        h('div', { class: 'console-search field' }, h('label', { for: 'glossary-search' }, 'Search'), this.search),
        this.tableSlot,
      ),
    ];
  }

  /** Lists the terms again (`GET /api/glossary`). */
  refresh(): void {
    listTerms(this.ctx.key()).then((loaded) => {
      if (!this.alive) return;
      this.terms = loaded;
      this.render();
    }, (error: unknown) => this.alive && this.ctx.fail('Loading the glossary', error, () => this.refresh()));
  }

  private render(): void {
    const query = this.search.value.trim();
    const shown = filterTerms(this.terms, query);
    const total = this.terms.length;
    this.count.textContent = query ? `${shown.length} of ${total} terms` : `${total} ${total === 1 ? 'term' : 'terms'}`;
    if (total === 0) {
      replaceChildren(this.tableSlot, h('p', { class: 'console-empty', 'data-testid': 'glossary-empty' }, 'No terms yet. Add one above, or import a CSV or TXT file.'));
    } else if (shown.length === 0) {
      replaceChildren(this.tableSlot, h('p', { class: 'console-empty', 'data-testid': 'glossary-no-match' }, `No term matches “${query}”.`));
    } else {
      replaceChildren(this.tbody, ...shown.map((t) => termRow(t, { save: (input) => this.save(t, input), remove: () => void this.remove(t) })));
      replaceChildren(this.tableSlot, glossaryTable(this.tbody));
    }
  }

  /** Runs `call`; on success clears the banner and shows the terms, on failure explains `action`. @returns whether it succeeded. */
  private async attempt(action: string, call: () => Promise<void>): Promise<boolean> {
    try {
      await call();
      this.ctx.banner.clear();
      this.render();
      return true;
    } catch (error) {
      this.ctx.fail(action, error);
      return false;
    }
  }

  private save(term: GlossaryTerm, input: { sourceTerm: string; targetTerm: string }): Promise<boolean> {
    return this.attempt('Saving the term', async () => {
      const updated = await updateTerm(this.ctx.key(), term.id, input);
      this.terms = this.terms.map((t) => (t.id === updated.id ? updated : t));
    });
  }

  private async remove(term: GlossaryTerm): Promise<void> {
    const detail = `The term ${term.sourceTerm} → ${term.targetTerm} (${term.languagePair}) is removed from the glossary.`;
    if (!(await confirmAction(`Delete “${term.sourceTerm}”?`, detail, 'Delete'))) return;
    const deleted = await this.attempt('Deleting the term', async () => {
      await deleteTerm(this.ctx.key(), term.id);
      this.terms = this.terms.filter((t) => t.id !== term.id);
    });
    if (deleted) this.search.focus();
  }

  private add(input: { sourceTerm: string; targetTerm: string; languagePair: string }): Promise<boolean> {
    return this.attempt('Adding the term', async () => {
      const created = await createTerm(this.ctx.key(), input);
      this.terms = [...this.terms, created].sort((a, b) => a.languagePair.localeCompare(b.languagePair) || a.sourceTerm.localeCompare(b.sourceTerm));
    });
  }

  private async importFile(file: File): Promise<void> {
    replaceChildren(this.reportSlot, h('p', { class: 'console-empty' }, `Importing ${file.name}…`));
    try {
      const report = await importTerms(this.ctx.key(), file);
      this.ctx.banner.clear();
      replaceChildren(this.reportSlot, importReport(file.name, report));
      this.refresh();
    } catch (error) {
      this.reportSlot.replaceChildren();
      this.ctx.fail('Importing the file', error);
    }
  }
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
