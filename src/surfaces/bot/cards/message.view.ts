import { bindTemplate, type AdaptiveCardJson } from './template';

export interface MessageCardOptions {
  readonly title: string;
  readonly text: string;
  readonly style?: 'default' | 'good' | 'warning' | 'attention' | 'accent';
  readonly facts?: readonly { readonly title: string; readonly value: string }[];
  /** A stable error code (CR.*, ACCESS.*) or correlation id, shown small for support. */
  readonly code?: string;
  readonly actions?: readonly {
    readonly title: string;
    readonly verb: string;
    readonly data: object;
  }[];
}

/** A plain informational or error card: never an empty response, always says what to do next. */
export function messageCard(options: MessageCardOptions): AdaptiveCardJson {
  return bindTemplate('message', {
    title: options.title,
    text: options.text,
    style: options.style ?? 'default',
    facts: options.facts ?? [],
    code: options.code ?? '',
    actions: options.actions ?? [],
  });
}
