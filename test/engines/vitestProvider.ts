/**
 * A Vitest browser-mode provider for the engines Playwright cannot drive from Debian's packages (its Firefox
 * and WebKit are patched builds it would download): Firefox ESR and WebKitGTK, through the drivers of
 * `driver.ts`. Each Vitest session gets its own context (its own storage) and one page on the tester URL.
 * The browser suites use no `vitest/browser` commands and no module mocking, so that is all it needs.
 */
import { defineBrowserProvider } from '@vitest/browser';
import type { BrowserProvider, BrowserProviderOption } from 'vitest/node';
import type { Engine } from '../../browsers';
import { launch, type Driver, type DriverContext } from './driver';

class EngineProvider implements BrowserProvider {
  readonly name: string;
  readonly supportsParallelism = true;
  private driver: Promise<Driver> | undefined;
  private readonly contexts = new Map<string, DriverContext>();

  constructor(private readonly engine: Engine) {
    this.name = `engine-${engine}`;
  }

  /** Vitest runs a provider's sessions in parallel only when it has a mocker; module mocking is refused. */
  readonly mocker = {
    register: async () => {
      throw new Error(`Module mocking is not supported in ${this.engine} (test/engines/vitestProvider.ts).`);
    },
    delete: async () => undefined,
    clear: async () => undefined,
  };

  getCommandsContext(): Record<string, unknown> {
    return {};
  }

  async openPage(sessionId: string, url: string): Promise<void> {
    this.driver ??= launch(this.engine);
    const driver = await this.driver;
    await this.contexts.get(sessionId)?.close();
    const context = await driver.newContext();
    this.contexts.set(sessionId, context);
    const page = await context.newPage();
    await page.goto(url);
  }

  async close(): Promise<void> {
    const driver = this.driver;
    this.driver = undefined;
    await Promise.all([...this.contexts.values()].map((context) => context.close().catch(() => undefined)));
    this.contexts.clear();
    await (await driver)?.close();
  }
}

/** The provider for one of the engines Playwright cannot drive here. */
export function engineProvider(engine: Exclude<Engine, 'chromium'>): BrowserProviderOption {
  return defineBrowserProvider({
    name: `engine-${engine}`,
    supportedBrowser: [engine],
    options: {},
    providerFactory: () => new EngineProvider(engine),
  });
}
