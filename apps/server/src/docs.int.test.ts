import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosine, loadMiniLmReference } from '@embedder-rag/test-fixtures';
import type { RunningServer } from './server';
import { call, startTestServer } from './test-helpers';

/** Debian's chromium (.ci/run installs it); CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** No profile, no network beyond the page: the browser must not reach a public host. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The API page at /docs in a real headless Chromium: it loads the document and runs one embedding from the page. */
describe('/docs in a browser', () => {
  let server: RunningServer;
  let context: BrowserContext;
  let profile: string;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
    }
    server = await startTestServer({ apiKey: 'docs-key' });
    profile = mkdtempSync(join(tmpdir(), 'embedder-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await server?.close();
  });

  it('"Try it out" → Execute on POST /embed shows the vector in the response', async () => {
    const page = await context.newPage();
    // Anything not from our server is refused and remembered (Swagger UI must need no CDN, validator or font host).
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(server.url) || url.startsWith('data:')) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    // The page itself opens without the key (a browser cannot send it); the calls carry it after "Authorize".
    const page200 = await page.goto(`${server.url}/docs`);
    expect(page200?.status()).toBe(200);

    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.locator('.modal-ux input[type=text], .modal-ux input[type=password]').first().fill('docs-key');
    await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click();
    await page.locator('.modal-ux .auth-btn-wrapper button.btn-done').click();

    const operation = page.locator('#operations-default-embed');
    await operation.locator('.opblock-summary').first().click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.locator('textarea.body-param__text').fill(JSON.stringify({ inputs: 'hello world' }));
    await operation.getByRole('button', { name: 'Execute' }).click();

    const status = operation.locator('.live-responses-table .response .response-col_status');
    await expect.poll(async () => (await status.count()) > 0 && (await status.first().innerText()).trim(), { timeout: 60_000 }).toBe('200');
    const shown = await operation.locator('.live-responses-table .response-col_description pre').first().innerText();
    const vectors = JSON.parse(shown) as number[][];
    expect(vectors).toHaveLength(1);
    expect(vectors[0]).toHaveLength(384);
    const reference = loadMiniLmReference().find((row) => row.text === 'hello world')!;
    expect(cosine(vectors[0]!, reference.embedding)).toBeGreaterThanOrEqual(0.99999);
    expect(elsewhere).toEqual([]);
  });

  it('EMBEDDER_DOCS=off turns the page off (404), /openapi.json stays', async () => {
    const off = await startTestServer({ docs: 'off' });
    try {
      expect((await call(off.url, 'GET', '/docs')).status).toBe(404);
      expect((await call(off.url, 'GET', '/openapi.json')).status).toBe(200);
    } finally {
      await off.close();
    }
  });
});
