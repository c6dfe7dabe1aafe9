/**
 * Console → Settings → Developer (docs/console.md): the organization's API keys, masked, with role,
 * mode, created and last used; create (the secret shown once, with Copy), rotate (the new secret
 * shown once) and delete (after a confirmation). Refusals carry the server's role rule
 * (docs/platform.md "Authentication and roles").
 */
import { createKey, deleteKey, listKeys, rotateKey, type IssuedKey, type ListedKey } from '../api/platform';
import { formatWhen, keyHintOf, keyMode, ROLE_RULES } from '../console/format';
import type { Cleanup } from '../router';
import { confirmAction } from '../ui/confirm-dialog';
import { h, replaceChildren } from '../ui/dom';
import { icon } from '../ui/icons';
import type { ConsoleContext } from './console';

/** Mounts the Developer page into `root`. */
export function mountDeveloper(root: HTMLElement, ctx: ConsoleContext): Cleanup {
  let alive = true;
  const secretSlot = h('div', { class: 'secret-slot' });
  const tableSlot = h('div', { class: 'console-table-wrap', 'data-testid': 'key-list', 'aria-busy': 'true' }, h('p', { class: 'console-empty', 'data-loading': true }, 'Loading keys…'));
  // Where the focus goes when what held it is removed (the secret panel, a deleted row): the key list.
  const refreshButton = h('button', { type: 'button', class: 'button ghost small', 'data-testid': 'keys-refresh' }, icon('refresh'), 'Refresh');
  const showSecret = (issued: IssuedKey, what: string): void => {
    replaceChildren(secretSlot, secretPanel(issued, what, () => {
      secretSlot.replaceChildren();
      refreshButton.focus();
    }));
    secretSlot.querySelector('input')?.focus();
  };
  const refresh = (): void => {
    tableSlot.setAttribute('aria-busy', 'true');
    listKeys(ctx.key()).then((keys) => {
      if (!alive) return;
      tableSlot.removeAttribute('aria-busy');
      replaceChildren(tableSlot, keyTable(keys, ctx, keyActions(ctx, showSecret, refresh, () => refreshButton.focus())));
    }, (error: unknown) => alive && ctx.fail('Loading the keys', error, refresh));
  };
  root.append(
    h('section', { class: 'card console-card', 'aria-labelledby': 'create-key-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'create-key-title' }, 'Create an API key')),
      createForm(ctx, (issued) => {
        ctx.banner.clear();
        showSecret(issued, 'created');
        refresh();
      }),
    ),
    secretSlot,
    h('section', { class: 'card console-card', 'aria-labelledby': 'keys-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'keys-title' }, 'API keys'),
        h('div', { class: 'card-head-tools' }, refreshButton)),
      tableSlot,
      h('p', { class: 'console-footnote', 'data-testid': 'role-rules' }, ROLE_RULES, ' Secrets are shown once, when a key is created or rotated; the list shows only their first characters.'),
    ),
  );
  refreshButton.addEventListener('click', refresh);
  refresh();
  return () => {
    alive = false;
  };
}

/** What a key row's buttons do; `own` marks the key the console is signed in with. */
interface KeyActions {
  rotate(key: ListedKey, own: boolean): Promise<void>;
  remove(key: ListedKey, own: boolean): Promise<void>;
}

/**
 * Rotate and delete, each after a confirmation; `showSecret` shows a rotated secret, `refresh` lists
 * the keys again, `focusList` takes the focus of a deleted row.
 */
function keyActions(ctx: ConsoleContext, showSecret: (issued: IssuedKey, what: string) => void, refresh: () => void, focusList: () => void): KeyActions {
  return {
    async rotate(key, own) {
      const detail = own
        ? 'This is the key you signed in with. Its current secret stops working at once; the console switches to the new one.'
        : 'Its current secret stops working at once, and so do the streams and session keys it issued.';
      if (!(await confirmAction(`Rotate key “${key.name}”?`, detail, 'Rotate'))) return;
      try {
        const issued = await rotateKey(ctx.key(), key.id);
        if (own) ctx.replaceKey(issued.key);
        ctx.banner.clear();
        showSecret(issued, 'rotated');
        refresh();
      } catch (error) {
        ctx.fail('Rotating the key', error);
      }
    },
    async remove(key, own) {
      const detail = own ? 'This is the key you signed in with: the console signs out once it is deleted.' : 'Requests with it are refused at once, and its live streams end.';
      if (!(await confirmAction(`Delete key “${key.name}”?`, detail, 'Delete'))) return;
      try {
        await deleteKey(ctx.key(), key.id);
        if (own) return ctx.signOut('You deleted the key you were signed in with.');
        ctx.banner.show('problem', { tone: 'success', title: `Key “${key.name}” deleted`, detail: 'Requests with it are refused from now on.' });
        ctx.banner.element.scrollIntoView({ block: 'nearest' });
        focusList();
        refresh();
      } catch (error) {
        ctx.fail('Deleting the key', error);
      }
    },
  };
}

/** The create form: name, role (default member), and whether it is a test key. */
function createForm(ctx: ConsoleContext, onCreated: (issued: IssuedKey) => void): HTMLFormElement {
  const name = h('input', { id: 'new-key-name', name: 'name', required: true, maxlength: 200, autocomplete: 'off', placeholder: 'e.g. clinic-web', 'data-testid': 'new-key-name' });
  const role = h('select', { id: 'new-key-role', name: 'role', 'data-testid': 'new-key-role' },
    h('option', { value: 'member' }, 'Member'), h('option', { value: 'admin' }, 'Admin'), h('option', { value: 'owner' }, 'Owner'));
  const test = h('input', { id: 'new-key-test', type: 'checkbox', name: 'test', 'data-testid': 'new-key-test', checked: keyMode(ctx.key()) === 'test' });
  const submit = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'create-key' }, icon('plus'), 'Create key');
  const form = h('form', { class: 'console-form create-key-form' },
    h('div', { class: 'field' }, h('label', { for: 'new-key-name' }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: 'new-key-role' }, 'Role'), h('div', { class: 'select-wrap' }, role)),
    h('div', { class: 'field checkbox-field' }, h('label', { for: 'new-key-test' }, test, ' Test key (ip_test_)')),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    const chosen = role.value === 'owner' || role.value === 'admin' ? role.value : 'member';
    createKey(ctx.key(), { name: name.value.trim(), role: chosen, test: test.checked }).then((issued) => {
      form.reset();
      test.checked = keyMode(ctx.key()) === 'test';
      onCreated(issued);
    }, (error: unknown) => ctx.fail('Creating the key', error)).finally(() => {
      submit.disabled = false;
    });
  });
  return form;
}

/** The one-time display of a secret, with Copy; `what` is "created" or "rotated". */
function secretPanel(issued: IssuedKey, what: string, onDone: () => void): HTMLElement {
  const field = h('input', { id: 'new-secret', readonly: true, value: issued.key, 'data-testid': 'new-secret', class: 'secret-input', spellcheck: 'false', autocomplete: 'off' });
  const label = h('span', {}, 'Copy');
  const copy = h('button', { type: 'button', class: 'button secondary small', 'data-testid': 'copy-secret' }, icon('copy'), label);
  copy.addEventListener('click', () => {
    const done = () => {
      copy.dataset.copied = 'true';
      label.textContent = 'Copied';
    };
    field.select();
    if (navigator.clipboard) navigator.clipboard.writeText(issued.key).then(done, () => document.execCommand('copy') && done());
    else if (document.execCommand('copy')) done();
  });
  return h('section', { class: 'card console-card secret-card', 'data-testid': 'secret-panel', role: 'status', 'aria-labelledby': 'secret-title' },
    h('h2', { id: 'secret-title' }, `Key “${issued.name}” ${what}: copy its secret now`),
    h('p', { class: 'lede' }, 'This is the only time it is shown. Store it in your secret manager; if you lose it, rotate the key.'),
    h('div', { class: 'secret-row' }, h('label', { class: 'visually-hidden', for: 'new-secret' }, 'Secret'), field, copy),
    h('button', { type: 'button', class: 'button ghost small', 'data-testid': 'secret-done', onclick: onDone }, 'Done, hide it'),
  );
}

/** The keys table (cards on a phone: see styles/console.css). The signed-in key is marked "You". */
function keyTable(keys: ListedKey[], ctx: ConsoleContext, actions: KeyActions): HTMLElement {
  if (keys.length === 0) return h('p', { class: 'console-empty', 'data-testid': 'keys-empty' }, 'This organization has no keys.');
  const mine = keyHintOf(ctx.key());
  const rows = keys.map((k) => {
    const own = k.keyHint === mine;
    return h('tr', { 'data-testid': 'key-row', 'data-key-id': k.id, 'data-key-name': k.name },
      h('th', { scope: 'row', 'data-label': 'Name' }, k.name, own ? h('span', { class: 'badge', 'data-testid': 'key-own' }, 'You') : null),
      h('td', { 'data-label': 'Key' }, h('code', { 'data-testid': 'key-hint' }, k.keyHint || k.keyPrefix)),
      h('td', { 'data-label': 'Role', 'data-testid': 'key-role' }, k.role),
      h('td', { 'data-label': 'Mode' }, keyMode(k.keyPrefix)),
      h('td', { 'data-label': 'Created' }, formatWhen(k.createdAt)),
      h('td', { 'data-label': 'Last used', 'data-testid': 'key-last-used' }, formatWhen(k.lastUsedAt)),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', class: 'button secondary small', 'data-testid': 'rotate-key', 'aria-label': `Rotate key ${k.name}`, onclick: () => void actions.rotate(k, own) }, icon('refresh'), 'Rotate'),
        h('button', { type: 'button', class: 'button danger-outline small', 'data-testid': 'delete-key', 'aria-label': `Delete key ${k.name}`, onclick: () => void actions.remove(k, own) }, icon('trash'), 'Delete'),
      ),
    );
  });
  return h('table', { class: 'console-table' },
    h('caption', { class: 'visually-hidden' }, 'API keys of this organization'),
    h('thead', {}, h('tr', {}, ...['Name', 'Key', 'Role', 'Mode', 'Created', 'Last used'].map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    h('tbody', {}, ...rows),
  );
}
