/**
 * Page object for Cabinet's Teams tab in headless Chromium, signed in through the sandbox picker.
 * @remarks Every selector the tab tests use lives here, so a change to the page touches one file.
 * Chromium launch flags and the loopback-only guard follow reference/offline-client.md.
 * @packageDocumentation
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_PATH, SCREENSHOT_DIR } from './playground-ui';

export { CHROMIUM_PATH, chromiumAvailable } from './playground-ui';

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

const LOOPBACK = /^(https?|wss?):\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\//;
const LOCAL_SCHEMES = /^(data|blob|about):/;

export interface OpenTabOptions {
  /** Prefix for screenshot file names. */
  readonly name: string;
  /** Narrow like a Teams side panel, or wide like a Teams tab on a desktop. */
  readonly viewport?: { readonly width: number; readonly height: number };
  readonly timeoutMs?: number;
}

/** One browser on the tab, as one sandbox person sees it. */
export class TabPage {
  /** Non-loopback URLs the guard refused, for diagnostics. */
  readonly blockedRequests: string[] = [];
  /** Uncaught page errors and console errors: a healthy page has none. */
  readonly pageErrors: string[] = [];

  private constructor(
    readonly page: Page,
    private readonly context: BrowserContext,
    private readonly profileDir: string,
    private readonly name: string,
  ) {}

  /** Launches Chromium (fresh profile) and opens `url`. */
  static async open(url: string, options: OpenTabOptions): Promise<TabPage> {
    const profileDir = mkdtempSync(join(tmpdir(), `cabinet-tab-${options.name}-`));
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profileDir, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: options.viewport ?? { width: 1100, height: 900 },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const sut = new TabPage(page, context, profileDir, options.name);
      await context.route('**/*', (route) => {
        const requestUrl = route.request().url();
        if (LOOPBACK.test(requestUrl) || LOCAL_SCHEMES.test(requestUrl)) return route.continue();
        sut.blockedRequests.push(requestUrl);
        return route.abort('internetdisconnected');
      });
      page.on('pageerror', (error) => sut.pageErrors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') sut.pageErrors.push(message.text());
      });
      page.setDefaultTimeout(options.timeoutMs ?? 20_000);
      await page.goto(url);
      return sut;
    } catch (error) {
      await context?.close();
      rmSync(profileDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Picks a person on the sandbox sign-in page, by the name shown. */
  async signInAs(name: string): Promise<void> {
    await this.page.getByRole('heading', { name: 'Sign in to the Cabinet sandbox' }).waitFor();
    await this.page.getByRole('button', { name: new RegExp(`^${escape(name)}`) }).click();
    await this.page.getByText(`Signed in as ${name}`).waitFor();
  }

  /** The queue's heading, once the list has loaded. */
  async waitForQueue(): Promise<void> {
    await this.page.getByRole('heading', { level: 1, name: 'Requests' }).waitFor();
  }

  /** Client group headings in the queue, in order, without their counts. */
  async queueClients(): Promise<string[]> {
    const names = await this.page.locator('.client-group h2').allInnerTexts();
    return names.map((n) => n.replace(/\s*\(\d+\)\s*$/, ''));
  }

  /** Request ids listed in the queue, in order. */
  async queueRequestIds(): Promise<string[]> {
    return this.page.locator('.request-item .request-id').allInnerTexts();
  }

  /** Chooses a queue filter by its label ("Ready to execute", "All open", …). */
  async filterQueue(label: string): Promise<void> {
    await this.page.getByLabel('Show').selectOption({ label });
    await this.waitForQueue();
  }

  /** Opens a request from the queue and waits for its page. */
  async openRequest(id: string): Promise<void> {
    await this.page.getByRole('link', { name: new RegExp(`^${escape(id)}\\b`) }).click();
    await this.waitForRequest(id);
  }

  async waitForRequest(id: string): Promise<void> {
    await this.page
      .getByRole('heading', { level: 1, name: new RegExp(`^${escape(id)}\\b`) })
      .waitFor();
  }

  /** The request's status as its badge says it. */
  async requestStatus(): Promise<string> {
    return (await this.page.locator('.request-meta .badge').first().innerText()).trim();
  }

  /** Timeline lines ("Approved by Andy Approver → Approved"), oldest first. */
  async timeline(): Promise<string[]> {
    return this.page.locator('.timeline li .timeline-what').allInnerTexts();
  }

  /** The wizard field labelled `label`. */
  field(label: string): Locator {
    return this.page.locator('form.wizard').getByLabel(label, { exact: true });
  }

  /** Presses Preview plan and waits for the plan (or a refusal). */
  async previewPlan(): Promise<void> {
    await this.page.getByRole('button', { name: 'Preview plan' }).click();
    await this.page.locator('.plan, .alert:not([hidden])').first().waitFor();
  }

  /** The plan's step titles in order. */
  async planSteps(): Promise<string[]> {
    return this.page.locator('.plan .steps .step-title').allInnerTexts();
  }

  /** The plan's point-of-no-return marker. */
  pointOfNoReturn(): Locator {
    return this.page.getByRole('note', { name: 'Point of no return' });
  }

  /** The plan's checklist task titles. */
  async planChecklist(): Promise<string[]> {
    return this.page.locator('.plan .checklist li strong').allInnerTexts();
  }

  /** A message the wizard or a run shows in an alert box. */
  alert(): Locator {
    return this.page.locator('.alert:not([hidden])').first();
  }

  executeButton(): Locator {
    return this.page.getByRole('button', { name: 'Execute', exact: true });
  }

  /** Presses Execute and waits for the run panel. */
  async execute(): Promise<void> {
    await this.executeButton().click();
    await this.page.locator('.run').waitFor();
  }

  /** The run shown in the panel: its status word, once it reads `status` (a pattern or text). */
  async waitForRunStatus(status: string | RegExp, timeoutMs = 60_000): Promise<void> {
    await this.page
      .locator('.run [data-testid=run-status]')
      .filter({ hasText: status })
      .waitFor({ timeout: timeoutMs });
  }

  /** The shown run's status word. */
  async runStatus(): Promise<string> {
    return (await this.page.locator('.run [data-testid=run-status]').innerText()).trim();
  }

  /** Each step of the shown run with its status word. */
  async runSteps(): Promise<{ title: string; status: string }[]> {
    const steps = this.page.locator('.run .progress > li');
    const count = await steps.count();
    const out: { title: string; status: string }[] = [];
    for (let i = 0; i < count; i++) {
      const step = steps.nth(i);
      out.push({
        title: (await step.locator('.step-title').innerText()).trim(),
        status: (await step.locator('.badge').first().innerText()).trim(),
      });
    }
    return out;
  }

  /** Ticks off a checklist task of the shown run, with an optional note. */
  async tickChecklistItem(title: string, note?: string): Promise<void> {
    const item = this.page.locator('.run .checklist li').filter({ hasText: title });
    if (note) await item.getByLabel('Note (optional)').fill(note);
    await item.getByRole('button', { name: 'Mark done' }).click();
    await this.page
      .locator('.run .checklist li')
      .filter({ hasText: `✓ ${title}` })
      .waitFor();
  }

  /** Open checklist tasks of the shown run (those with a Mark done button). */
  async openChecklistItems(): Promise<string[]> {
    return this.page.locator('.run .checklist li:has(button) strong').allInnerTexts();
  }

  /** Rolls the shown run back, confirming, and waits for the roll-back run. */
  async rollBack(): Promise<void> {
    await this.page.getByRole('button', { name: 'Roll back…' }).click();
    await this.page.getByRole('button', { name: 'Confirm roll back' }).click();
    await this.page.locator('.run h3', { hasText: 'Roll-back' }).waitFor();
  }

  /** How many pixels the page is wider than the window (0 when nothing scrolls sideways). */
  async horizontalOverflow(): Promise<number> {
    return this.page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
  }

  /** Saves a full-page screenshot as `artifacts/screenshots/<name>-<step>.png` and returns its path. */
  async screenshot(step: string): Promise<string> {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const path = join(SCREENSHOT_DIR, `${this.name}-${step}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  /** Closes the browser and deletes its profile. */
  async close(): Promise<void> {
    try {
      await this.context.close();
    } finally {
      rmSync(this.profileDir, { recursive: true, force: true });
    }
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
