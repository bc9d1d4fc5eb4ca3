import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ACData from 'adaptivecards-templating';

/** An Adaptive Card as JSON, ready to send. */
export type AdaptiveCardJson = Record<string, unknown> & { readonly type: 'AdaptiveCard' };

const TEMPLATE_DIR = join(__dirname, '..', '..', '..', '..', 'adaptiveCards');
const templates = new Map<string, ACData.Template>();

/**
 * Binds `adaptiveCards/<name>.json` to `data`.
 * @remarks adaptivecards-templating leaves `${x}` in place when `x` is undefined, so views always
 * pass every key a template names (empty strings and lists, never undefined).
 */
export function bindTemplate(name: string, data: object): AdaptiveCardJson {
  let template = templates.get(name);
  if (!template) {
    template = new ACData.Template(
      JSON.parse(readFileSync(join(TEMPLATE_DIR, `${name}.json`), 'utf8')) as object,
    );
    templates.set(name, template);
  }
  return template.expand({ $root: data }) as AdaptiveCardJson;
}
