import { formatCount, formatTime, h } from './dom';
import type { Reading } from './types';

/** Called when the user changes a reading's value; resolves once saved, rejects with a message to show. */
export type EditHandler = (reading: Reading, value: number) => Promise<void>;

/**
 * The readings in view as a table (newest first, at most `limit` rows), with
 * an editable value per row. Everything is rendered as text.
 */
export class RecordsTable {
  readonly element: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly caption: HTMLElement;
  private readonly limit: number;
  private readonly onEdit: EditHandler;

  constructor(onEdit: EditHandler, limit = 100) {
    this.onEdit = onEdit;
    this.limit = limit;
    this.body = h('tbody');
    this.caption = h('caption', {}, 'No readings yet');
    this.element = h(
      'section',
      { className: 'panel records', 'aria-labelledby': 'records-title' },
      h('h2', { id: 'records-title' }, 'Readings in view'),
      h(
        'div',
        { className: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Readings table' },
        h(
          'table',
          {},
          this.caption,
          h('thead', {}, h('tr', {}, ...['Id', 'Sensor', 'Time (UTC)', 'Value', 'Note'].map((label) => h('th', { scope: 'col' }, label)))),
          this.body,
        ),
      ),
    );
  }

  /** Shows `readings` (any order). */
  render(readings: readonly Reading[]): void {
    const shown = [...readings].sort((a, b) => b.ts - a.ts || b.id - a.id).slice(0, this.limit);
    this.caption.textContent =
      readings.length > shown.length
        ? `Newest ${formatCount(shown.length)} of ${formatCount(readings.length)} readings`
        : `${formatCount(readings.length)} readings`;
    this.body.replaceChildren(...shown.map((reading) => this.row(reading)));
  }

  private row(reading: Reading): HTMLTableRowElement {
    const input = h('input', {
      type: 'number',
      step: 'any',
      value: String(reading.value),
      'aria-label': `Value of reading ${reading.id}`,
    });
    const status = h('span', { className: 'edit-status', role: 'status' });
    input.addEventListener('change', () => {
      const value = Number(input.value);
      if (input.value.trim() === '' || !Number.isFinite(value)) {
        status.textContent = 'Not a number';
        input.setAttribute('aria-invalid', 'true');
        return;
      }
      input.removeAttribute('aria-invalid');
      input.disabled = true;
      status.textContent = 'Saving…';
      this.onEdit(reading, value).then(
        () => {
          status.textContent = 'Saved';
          input.disabled = false;
        },
        (error: unknown) => {
          status.textContent = error instanceof Error ? error.message : String(error);
          input.disabled = false;
        },
      );
    });
    return h(
      'tr',
      { 'data-id': reading.id },
      h('td', {}, String(reading.id)),
      h('td', {}, reading.sensor),
      h('td', {}, formatTime(reading.ts)),
      h('td', {}, input, status),
      h('td', {}, reading.note ?? ''),
    );
  }
}
