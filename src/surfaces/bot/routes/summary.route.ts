import type { UseCaseDeps } from '../../../application/use-cases/context';
import { monthlySummary } from '../../../application/use-cases/monthly-summary';
import type { Person } from '../../../domain/shared/person';
import { messageCard } from '../cards/message.view';
import { monthlySummaryCard } from '../cards/summary.view';
import type { AdaptiveCardJson } from '../cards/template';

const SUMMARY = /^summary(?:\s+(\S+))?(?:\s+(\S+))?$/;
const MONTHISH = /^\d{4}-\d{1,2}$/;

/**
 * `summary [CODE] [YYYY-MM]`: the client's monthly change summary as a card; without a code the
 * caller's only client, without a month the current one in the client's zone. Undefined when the
 * text is not this command.
 */
export function summaryCommand(
  uc: UseCaseDeps,
  actor: Person,
  command: string,
): Promise<AdaptiveCardJson> | undefined {
  const found = SUMMARY.exec(command);
  if (!found) return undefined;
  const args = [found[1], found[2]].filter((a): a is string => a !== undefined);
  const month = args.find((a) => MONTHISH.test(a));
  const client = args.find((a) => a !== month);
  return monthlySummary(uc, {
    actor,
    ...(client ? { clientCode: client } : {}),
    ...(month ? { month } : {}),
  }).then((result) =>
    result.ok
      ? monthlySummaryCard(result.value)
      : messageCard({
          title: "Cabinet couldn't make that summary",
          text: `${result.error.message} Try **summary CONTOSO 2026-11**, or **summary** for this month.`,
          style: 'attention',
          code: result.error.code,
        }),
  );
}
