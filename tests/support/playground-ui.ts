/**
 * Page objects for the Microsoft 365 Agents Playground UI, driven by headless Debian Chromium.
 * @remarks The playground's UI is not a stable test API (0.2.x, pre-release), so every selector the tests
 * depend on lives in this one file. Pin the playground version and fix selectors here when it moves.
 * @packageDocumentation
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

/** Debian's chromium package; `.ci/run` installs it. playwright-core never downloads a browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Screenshots land in the git-ignored `artifacts/` folder so CI can keep them. */
export const SCREENSHOT_DIR = resolve(__dirname, '../../artifacts/screenshots');

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

const SELECTORS = {
  personalChat: { role: 'treeitem', name: 'Personal Chat' },
  composeBox: '[role=textbox][contenteditable=true]',
  sendButton: { role: 'button', name: 'Send Message' },
  card: '.ac-adaptiveCard',
} as const;

/** Text to look for: a substring, or a pattern. */
export type TextMatch = string | RegExp;

export interface OpenPlaygroundPageOptions {
  /** Prefix for screenshot file names, e.g. the persona key. */
  readonly name: string;
  readonly timeoutMs?: number;
}

/** Whether the browser this helper drives is installed (outside CI a missing one skips the e2e tests). */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/**
 * One playground page in its own browser (fresh profile, deleted on close), as one persona sees it.
 * @remarks Every request that is not loopback is aborted, so a test can never reach the internet; the only
 * ones the playground makes are fonts and an animation worklet from a Microsoft CDN, which it can do without.
 */
export class PlaygroundPage {
  /** Non-loopback URLs the guard refused, for diagnostics. */
  readonly blockedRequests: string[] = [];

  private constructor(
    readonly page: Page,
    private readonly context: BrowserContext,
    private readonly profileDir: string,
    private readonly name: string,
    private readonly timeoutMs: number,
  ) {}

  /** Launches a browser and loads the playground at `url` (the playground sends the bot an install event now). */
  static async open(url: string, options: OpenPlaygroundPageOptions): Promise<PlaygroundPage> {
    const profileDir = mkdtempSync(join(tmpdir(), `cabinet-chromium-${options.name}-`));
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profileDir, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1400, height: 1000 },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const sut = new PlaygroundPage(
        page,
        context,
        profileDir,
        options.name,
        options.timeoutMs ?? 20_000,
      );
      await context.route('**/*', (route) => {
        const requestUrl = route.request().url();
        if (LOOPBACK.test(requestUrl) || LOCAL_SCHEMES.test(requestUrl)) return route.continue();
        sut.blockedRequests.push(requestUrl);
        return route.abort('internetdisconnected');
      });
      page.setDefaultTimeout(sut.timeoutMs);
      await page.goto(url);
      return sut;
    } catch (error) {
      await context?.close();
      rmSync(profileDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Selects the one-to-one chat with the bot and waits until the compose box is ready. */
  async openPersonalChat(): Promise<void> {
    await this.page
      .getByRole(SELECTORS.personalChat.role, { name: SELECTORS.personalChat.name })
      .click();
    await this.composeBox().waitFor({ state: 'visible' });
  }

  /** Types `text` into the compose box and sends it, as a person would. */
  async sendMessage(text: string): Promise<void> {
    const box = this.composeBox();
    await box.click();
    await box.pressSequentially(text);
    await this.page
      .getByRole(SELECTORS.sendButton.role, { name: SELECTORS.sendButton.name })
      .click();
  }

  /**
   * Waits for a rendered Adaptive Card containing `text` (every one of them, if several); returns the newest
   * such card. Cards the bot replaces in place after a button click count too.
   */
  async waitForCardText(
    text: TextMatch | readonly TextMatch[],
    timeoutMs = this.timeoutMs,
  ): Promise<Locator> {
    const card = this.cardsWith(text).last();
    await card.waitFor({ state: 'visible', timeout: timeoutMs });
    return card;
  }

  /**
   * Runs `action` and waits for one more card containing `text` than there was before: a new message,
   * so an older card with the same words cannot satisfy it.
   */
  async waitForNewCard(
    text: TextMatch | readonly TextMatch[],
    action: () => Promise<void>,
    timeoutMs = this.timeoutMs,
  ): Promise<Locator> {
    const matching = this.cardsWith(text);
    const before = await matching.count();
    await action();
    const card = matching.nth(before);
    await card.waitFor({ state: 'visible', timeout: timeoutMs });
    return card;
  }

  /** Clicks the newest card button with this title (older cards in the chat may carry the same one). */
  async clickCardButton(name: string): Promise<void> {
    await this.cards().getByRole('button', { name, exact: true }).last().click();
  }

  /** Fills the newest card input whose label or placeholder is `labelOrPlaceholder`. */
  async fillCardInput(labelOrPlaceholder: string, value: string): Promise<void> {
    const cards = this.cards();
    await cards
      .getByLabel(labelled(labelOrPlaceholder))
      .or(cards.getByPlaceholder(labelOrPlaceholder, { exact: true }))
      .last()
      .fill(value);
  }

  /**
   * Picks `choice` (its exact title, or a pattern for long titles) in the newest card's `Input.ChoiceSet`
   * labelled `label`.
   * @remarks The playground renders a compact choice set as a Fluent combobox (options in a popup outside
   * the card) and an expanded one as a radio group.
   */
  async selectChoice(label: string, choice: string | RegExp): Promise<void> {
    const cards = this.cards();
    const input = cards
      .getByRole('combobox', { name: labelled(label) })
      .or(cards.getByRole('radiogroup', { name: labelled(label) }))
      .last();
    await input.waitFor({ state: 'visible' });
    if ((await input.getAttribute('role')) === 'combobox') {
      await input.click();
      await this.page.getByRole('option', { name: choice, exact: true }).click();
    } else {
      await input.getByRole('radio', { name: choice, exact: true }).check();
    }
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

  private composeBox(): Locator {
    return this.page.locator(SELECTORS.composeBox).first();
  }

  private cards(): Locator {
    return this.page.locator(SELECTORS.card);
  }

  private cardsWith(text: TextMatch | readonly TextMatch[]): Locator {
    const texts: readonly TextMatch[] =
      typeof text === 'string' || text instanceof RegExp ? [text] : text;
    return texts.reduce((cards, t) => cards.filter({ hasText: t }), this.cards());
  }
}

/** An input's accessible name: its label, plus the ` *` the renderer appends to required inputs. */
function labelled(label: string): RegExp {
  return new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\*?\\s*$`);
}
