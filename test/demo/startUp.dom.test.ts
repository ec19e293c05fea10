import { afterEach, describe, expect, it, vi } from 'vitest';
import { ensureValidLanguage, isValidLocale } from '../../demo/ui/locale';
import { describeError, startUp } from '../../demo/ui/startUp';

function loadingHost(): HTMLElement {
  const host = document.createElement('div');
  host.innerHTML = '<p>Loading the dashboard…</p>';
  return host;
}

describe('demo start-up', () => {
  afterEach(() => vi.restoreAllMocks());

  describe('startUp', () => {
    it('should resolve true and leave the page to the dashboard when the start-up succeeds', async () => {
      const host = loadingHost();
      const started = await startUp(host, async () => {
        host.replaceChildren(document.createTextNode('dashboard'));
      });
      expect(started).toBe(true);
      expect(host.textContent).toBe('dashboard');
    });

    it('should replace the loading text with an alert naming the error, and log it, when a module throws as it is imported', async () => {
      const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      const host = loadingHost();
      const failure = new RangeError('Incorrect locale information provided');
      const started = await startUp(host, () => Promise.reject(failure));
      expect(started).toBe(false);
      expect(host.textContent).not.toMatch(/Loading the dashboard/);
      const alert = host.querySelector('[role=alert]');
      expect(alert?.querySelector('h2')?.textContent).toBe('The dashboard could not start');
      expect(alert?.querySelector('.startup-error-message')?.textContent).toBe('RangeError: Incorrect locale information provided');
      expect(logged).toHaveBeenCalledWith('The dashboard could not start:', failure);
    });

    it('should show the error when the start-up throws synchronously', async () => {
      vi.spyOn(console, 'error').mockImplementation(() => undefined);
      const host = loadingHost();
      const started = await startUp(host, () => {
        throw new TypeError('app is undefined');
      });
      expect(started).toBe(false);
      expect(host.querySelector('.startup-error-message')?.textContent).toBe('TypeError: app is undefined');
    });

    it('should fail a start-up that waits on a worker when the worker reports an error', async () => {
      const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      const host = loadingHost();
      const workerError = new Error('The cache worker failed: SyntaxError: Unexpected token');
      let failedByControl: boolean | undefined;
      const started = await startUp(host, (control) => {
        // A start-up waiting on a worker that will never answer.
        setTimeout(() => (failedByControl = control.fail(workerError)), 0);
        return new Promise<void>(() => undefined);
      });
      expect(started).toBe(false);
      expect(failedByControl).toBe(true);
      expect(host.querySelector('.startup-error-message')?.textContent).toBe(
        'Error: The cache worker failed: SyntaxError: Unexpected token',
      );
      expect(logged).toHaveBeenCalledWith('The dashboard could not start:', workerError);
    });

    it('should leave a dashboard that is up in place when a failure is reported later, saying it did not fail the start-up', async () => {
      const host = loadingHost();
      let control: Parameters<Parameters<typeof startUp>[1]>[0] | undefined;
      const started = await startUp(host, async (given) => {
        control = given;
        host.replaceChildren(document.createTextNode('dashboard'));
      });
      expect(started).toBe(true);
      expect(control?.fail(new Error('later'))).toBe(false);
      expect(host.textContent).toBe('dashboard');
    });
  });

  describe('describeError', () => {
    it('should name an error by its class and message, and an event by its type and target', () => {
      expect(describeError(new SyntaxError('bad'))).toBe('SyntaxError: bad');
      expect(describeError('plain')).toBe('plain');
      const target = new EventTarget();
      expect(describeError(new Event('error'))).toBe('error event from nowhere');
      let seen: Event | undefined;
      target.addEventListener('error', (event) => (seen = event));
      target.dispatchEvent(new Event('error'));
      expect(describeError(seen)).toBe('error event from EventTarget');
    });
  });

  describe('ensureValidLanguage', () => {
    const navigatorWith = (language: string, languages: string[]) => ({ language, languages }) as unknown as Navigator;

    it('should tell a locale Intl accepts from the C locale WebKit reports', () => {
      expect(isValidLocale('en-US')).toBe(true);
      expect(isValidLocale('C')).toBe(false);
      expect(isValidLocale(undefined)).toBe(false);
    });

    it('should replace a language Intl rejects with the first valid one of navigator.languages, warning', () => {
      const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      const nav = navigatorWith('C', ['C', 'de-DE']);
      expect(ensureValidLanguage(nav)).toBe('de-DE');
      expect(nav.language).toBe('de-DE');
      expect(() => new Intl.NumberFormat(nav.language)).not.toThrow();
      expect(warned).toHaveBeenCalledOnce();
    });

    it('should fall back to en-US when no reported language is valid, and leave a valid one alone', () => {
      vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      expect(ensureValidLanguage(navigatorWith('C', ['C']))).toBe('en-US');
      const valid = navigatorWith('fr-FR', ['fr-FR']);
      expect(ensureValidLanguage(valid)).toBe('fr-FR');
      expect(valid.language).toBe('fr-FR');
    });
  });
});
