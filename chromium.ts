/**
 * How every browser run of this project starts Chromium: Debian's
 * (`/usr/bin/chromium`, or `CHROMIUM_PATH`), never a downloaded one, with the
 * flags it needs on these machines (no sandbox as root; no background
 * networking, which the closed network would refuse).
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumArgs: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
