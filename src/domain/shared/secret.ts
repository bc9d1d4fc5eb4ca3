/**
 * A secret (a temporary password) that must never reach a log, a stored card, an outbox row or the
 * audit payload. Serialising or inspecting it yields a placeholder; only `reveal()` gives the text.
 */
export class Secret {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  reveal(): string {
    return this.#text;
  }

  toJSON(): string {
    return '[secret]';
  }

  toString(): string {
    return '[secret]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret [secret]';
  }
}
