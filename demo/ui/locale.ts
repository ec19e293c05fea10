/**
 * Whether `Intl` accepts `language` as a locale. WebKitGTK under the C locale reports `navigator.language` as
 * "C", which `Intl` rejects with a RangeError (issue 18); uPlot formats numbers with `navigator.language` as
 * soon as it is imported.
 */
export function isValidLocale(language: string | undefined): boolean {
  if (!language) return false;
  try {
    new Intl.NumberFormat(language);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes `nav.language` a locale `Intl` accepts: when the browser reports one it rejects, the first valid entry
 * of `nav.languages`, else `fallback`, is shown in its place. Returns the language `nav.language` now reports.
 */
export function ensureValidLanguage(nav: Navigator = navigator, fallback = 'en-US'): string {
  if (isValidLocale(nav.language)) return nav.language;
  const language = (nav.languages ?? []).find(isValidLocale) ?? fallback;
  console.warn(`The browser reports the locale "${nav.language}", which Intl rejects; formatting numbers for "${language}" instead.`);
  Object.defineProperty(nav, 'language', { value: language, configurable: true });
  return language;
}
