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

/**
 * Runs in the page before its scripts: records what live regions (`aria-live`, `role=alert`,
 * `role=status`) say whenever their text changes or they are shown, as a screen reader hears it.
 */
const RECORD_ANNOUNCEMENTS = `(() => {
  const said = (window.cabinetAnnouncements = []);
  const LIVE = '[aria-live], [role=alert], [role=status]';
  new MutationObserver((mutations) => {
    const touched = new Set();
    for (const m of mutations) {
      const node = m.target.nodeType === Node.ELEMENT_NODE ? m.target : m.target.parentElement;
      const region = node && node.closest(LIVE);
      if (region) touched.add(region);
    }
    for (const region of touched) {
      const text = (region.textContent || '').trim();
      if (text && !region.closest('[hidden]')) said.push(text);
    }
  }).observe(document, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ['hidden'],
  });
})();`;

/** Roles of controls a person operates: each needs an accessible name. */
const NAMED_ROLES = new Set([
  'button',
  'checkbox',
  'combobox',
  'link',
  'listbox',
  'radio',
  'searchbox',
  'spinbutton',
  'textbox',
]);

/** DOM checks the accessibility tree does not cover: ids that clash or are pointed at but missing. */
const DOM_PROBLEMS = `(() => {
  const problems = [];
  const seen = new Set();
  for (const el of document.querySelectorAll('[id]')) {
    if (seen.has(el.id)) problems.push('duplicate id ' + el.id);
    seen.add(el.id);
  }
  for (const attr of ['aria-describedby', 'aria-labelledby', 'for']) {
    for (const el of document.querySelectorAll('[' + attr + ']')) {
      for (const id of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) problems.push(attr + ' points at missing id ' + id);
      }
    }
  }
  if (!document.querySelector('[aria-live]')) problems.push('no aria-live region');
  return problems;
})()`;
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
  /** Every tab API answer the page received, as text (to check what never reached the browser). */
  private readonly apiBodies: Promise<string>[] = [];

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
      await context.addInitScript(RECORD_ANNOUNCEMENTS);
      page.on('response', (response) => {
        if (!response.url().includes('/api/tab/')) return;
        sut.apiBodies.push(response.text().catch(() => ''));
      });
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
    const answered = this.page.waitForResponse(
      (r) => r.request().method() === 'POST' && r.url().endsWith('/preview'),
    );
    await this.page.getByRole('button', { name: 'Preview plan' }).click();
    await answered;
    // The button gets its name back once the answer is on screen (a fresh plan or a refusal).
    await this.page
      .getByRole('button', { name: 'Preview plan' })
      .and(this.page.locator(':enabled'))
      .waitFor();
  }

  /** The plan's step titles in order. */
  async planSteps(): Promise<string[]> {
    return this.page.locator('.plan .steps .step-title').allInnerTexts();
  }

  /** The plan's "Things to know" notes. */
  async planNotes(): Promise<string[]> {
    return this.page.getByRole('note', { name: 'Things to know' }).locator('li').allInnerTexts();
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

  /** Waits until the page has read the shown run's progress again (its next poll). */
  async waitForRunPoll(): Promise<void> {
    await this.page.waitForResponse(
      (r) =>
        r.request().method() === 'GET' && /\/api\/tab\/requests\/[^/]+\/runs\/[^/]+$/.test(r.url()),
    );
  }

  /** The note field of a checklist task of the shown run. */
  checklistNote(title: string): Locator {
    return this.page
      .locator('.run .checklist li')
      .filter({ hasText: title })
      .getByLabel('Note (optional)');
  }

  /** Ticks off a checklist task of the shown run, with an optional note. */
  async tickChecklistItem(title: string, note?: string): Promise<void> {
    const item = this.page.locator('.run .checklist li').filter({ hasText: title });
    if (note) await this.checklistNote(title).fill(note);
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

  /** The offboarding wizard's groups to remove, as listed after a preview, and whether each is ticked. */
  async groupChoices(): Promise<{ name: string; remove: boolean }[]> {
    const boxes = this.page.getByRole('group', { name: 'Groups to remove' }).getByRole('checkbox');
    const out: { name: string; remove: boolean }[] = [];
    for (const box of await boxes.all()) {
      const id = await box.getAttribute('id');
      const name = await this.page.locator(`label[for="${id}"]`).innerText();
      out.push({ name: name.trim(), remove: await box.isChecked() });
    }
    return out;
  }

  /** Unticks a group in "Groups to remove", so the user stays in it. */
  async keepGroup(name: string): Promise<void> {
    await this.page
      .getByRole('group', { name: 'Groups to remove' })
      .getByRole('checkbox', { name, exact: true })
      .uncheck();
  }

  /** The wizard's message box (a refusal or what to fix), next to the form. */
  wizardAlert(): Locator {
    return this.page.locator('[data-testid=wizard-alert]');
  }

  /** The wizard's message box when it sits directly under the wizard's form (where it belongs). */
  wizardAlertBesideForm(): Locator {
    return this.page.locator('form.wizard + [data-testid=wizard-alert]');
  }

  /** How many runs the request's page lists. */
  async runsShown(): Promise<number> {
    return this.page.locator('.runs > li').count();
  }

  /** The shown run's "what happened" box of a run that stopped short. */
  runOutcome(): Locator {
    return this.page.locator('.run [data-testid=run-outcome]');
  }

  /** The heading of the shown run's outcome box: how the run stopped. */
  async runOutcomeTitle(): Promise<string> {
    return (await this.runOutcome().locator('h4').innerText()).trim();
  }

  /** The lines of one group ("Failed", "Undone: …") in the shown run's outcome box. */
  async runOutcomeItems(group: string): Promise<string[]> {
    return this.runOutcome().locator(`ul[data-outcome^="${group}"] li`).allInnerTexts();
  }

  /** The notice under a finished run (e.g. where a new account's password goes). */
  runNotice(): Locator {
    return this.page.locator('.run .notice');
  }

  /**
   * Accessibility problems on the page as Chromium's accessibility tree sees it: controls without
   * an accessible name, plus clashing or dangling ids and a missing `aria-live` region.
   */
  async accessibilityProblems(): Promise<string[]> {
    const cdp = await this.context.newCDPSession(this.page);
    try {
      const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
        nodes: {
          ignored: boolean;
          role?: { value?: string };
          name?: { value?: string };
          backendDOMNodeId?: number;
        }[];
      };
      const problems = nodes
        .filter((n) => !n.ignored && NAMED_ROLES.has(String(n.role?.value)))
        .filter((n) => !String(n.name?.value ?? '').trim())
        .map((n) => `${String(n.role?.value)} without a name (DOM node ${n.backendDOMNodeId})`);
      return [...problems, ...(await this.page.evaluate<string[]>(DOM_PROBLEMS))];
    } finally {
      await cdp.detach();
    }
  }

  /**
   * Moves focus with the keyboard until it reaches the control named `name`, and returns how the
   * focused control is outlined (width in px; 0 means focus cannot be seen).
   */
  async focusWithKeyboard(name: string | RegExp, maxTabs = 80): Promise<number> {
    for (let i = 0; i < maxTabs; i++) {
      await this.page.keyboard.press('Tab');
      const focused = await this.page.evaluate<{ name: string; outline: number }>(`(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return { name: '', outline: 0 };
        const style = getComputedStyle(el);
        const label = el.labels && el.labels[0] ? el.labels[0].textContent : el.textContent;
        const outline = style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth) || 0;
        return { name: (el.getAttribute('aria-label') || label || '').trim(), outline };
      })()`);
      if (typeof name === 'string' ? focused.name === name : name.test(focused.name))
        return focused.outline;
    }
    throw new Error(`Tabbing ${maxTabs} times never reached ${String(name)}.`);
  }

  /** The element that has focus now: its tag and text, for checking where focus went. */
  async focused(): Promise<string> {
    return this.page.evaluate<string>(
      `(() => { const el = document.activeElement; return el ? el.tagName.toLowerCase() + ': ' + (el.textContent || '').trim() : ''; })()`,
    );
  }

  /** Whether `target` (an element with an id) has the keyboard focus. */
  async hasFocus(target: Locator): Promise<boolean> {
    const id = await target.getAttribute('id');
    const focused = await this.page.evaluate<string>('document.activeElement?.id ?? ""');
    return id !== null && focused === id;
  }

  /** What live regions announced since the page loaded, oldest first. */
  async announcements(): Promise<string[]> {
    return this.page.evaluate<string[]>('window.cabinetAnnouncements ?? []');
  }

  /** Every tab API answer the page has received so far, as text. */
  async apiResponses(): Promise<string[]> {
    return Promise.all(this.apiBodies);
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
