import { clientChangeLog, monthlyReport } from '../../../application/use-cases/change-log';
import type { UseCaseDeps } from '../../../application/use-cases/context';
import type { Person } from '../../../domain/shared/person';
import { changeLogCard, monthlyReportCard } from '../cards/change-log.view';
import { messageCard } from '../cards/message.view';
import type { AdaptiveCardJson } from '../cards/template';

const COMMAND = /^(changelog|change log|report)(?:\s+(\S+))?(?:\s+(\S+))?$/;
const MONTHISH = /^\d{4}-\d{1,2}$/;

/**
 * `changelog [CODE] [YYYY-MM]` and `report [CODE] [YYYY-MM]`: the client's change log, or its
 * monthly change report, as a card. Without a code the caller's only client (a client user's own,
 * whatever they type), without a month the current one in the client's zone. Undefined when the
 * text is neither command.
 */
export function changeLogCommand(
  uc: UseCaseDeps,
  actor: Person,
  command: string,
): Promise<AdaptiveCardJson> | undefined {
  const found = COMMAND.exec(command);
  if (!found) return undefined;
  const args = [found[2], found[3]].filter((a): a is string => a !== undefined);
  const month = args.find((a) => MONTHISH.test(a));
  const client = args.find((a) => a !== month);
  const input = {
    actor,
    ...(client ? { clientCode: client } : {}),
    ...(month ? { month } : {}),
  };
  const failed = (what: string, example: string) => (error: { message: string; code: string }) =>
    messageCard({
      title: `Cabinet couldn't make that ${what}`,
      text: `${error.message} Try **${example} CONTOSO 2026-11**, or **${example}** for this month.`,
      style: 'attention',
      code: error.code,
    });
  if (found[1] === 'report')
    return monthlyReport(uc, input).then((r) =>
      r.ok ? monthlyReportCard(r.value) : failed('report', 'report')(r.error),
    );
  return clientChangeLog(uc, input).then((r) =>
    r.ok ? changeLogCard(r.value) : failed('change log', 'changelog')(r.error),
  );
}
