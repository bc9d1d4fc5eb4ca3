import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { UseCaseDeps } from '../application/use-cases/context';
import {
  listTemplates,
  proposeTemplate,
  reenableTemplate,
  saveTemplate,
  suggestPromotions,
} from '../application/use-cases/catalogue';
import { asClientCode, asTenantId, type TenantId } from '../domain/shared/ids';
import type { Person } from '../domain/shared/person';

export type TemplatesCommandDeps = Pick<
  UseCaseDeps,
  'templates' | 'clients' | 'audit' | 'requests' | 'clock' | 'mspTenantId'
> & {
  readonly out: (line: string) => void;
  readonly readText?: (path: string) => Promise<string>;
};

export const TEMPLATES_USAGE = `cabinet templates <command> --as <lead object id>
  create   --file <template.json> [--client <CODE>]   create or edit a template (global unless --client)
  propose  --template <id> --client <CODE>            ask the client's approvers to approve it
  list     [--client <CODE>]                          templates with each client's status
  reenable --template <id> --client <CODE> --reason <text>   re-enable a template a failed run suspended
  suggest  --client <CODE>                            repeated normal changes that could become templates
The JSON file holds {"id", "name", "ranges": {"type", …}, "implementationPlan", "rollbackPlan"}.
--as names the MSP lead acting (recorded in the audit trail); only the client's approvers can approve.`;

/** `cabinet templates …`: the standard-change catalogue, through the audited use cases. Returns the exit code. */
export async function runTemplatesCommand(
  args: readonly string[],
  deps: TemplatesCommandDeps,
): Promise<number> {
  const [command, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      as: { type: 'string' },
      file: { type: 'string' },
      client: { type: 'string' },
      template: { type: 'string' },
      reason: { type: 'string' },
    },
    allowPositionals: false,
  });
  const fail = (message: string) => {
    deps.out(message);
    return 1;
  };
  if (!values.as)
    return fail(`templates ${command ?? ''} needs --as <lead object id>.\n${TEMPLATES_USAGE}`);
  const lead = await leadNamed(deps, values.as);
  if (!lead)
    return fail(
      `No MSP lead with object id ${values.as.slice(0, 60)}; see "cabinet clients list".`,
    );
  const client = values.client ? await clientTenant(deps, values.client) : undefined;
  if (values.client && !client)
    return fail(
      `No client ${values.client.slice(0, 60)}; give its code or tenant id (see "cabinet clients list").`,
    );

  switch (command ?? '') {
    case 'create': {
      if (!values.file) return fail('templates create needs --file <template.json>.');
      let raw: { id?: unknown };
      try {
        raw = JSON.parse(await (deps.readText ?? ((p) => readFile(p, 'utf8')))(values.file)) as {
          id?: unknown;
        };
      } catch (error: unknown) {
        return fail(`Could not read ${values.file} as JSON: ${(error as Error).message}`);
      }
      const result = await saveTemplate(deps, {
        actor: lead,
        id: typeof raw.id === 'string' ? raw.id : '',
        ...(client ? { clientTenantId: client } : {}),
        content: raw,
      });
      if (!result.ok) return fail(`${result.error.message} (${result.error.code})`);
      const t = result.value.template;
      deps.out(
        `${result.value.created ? 'Created' : 'Updated'} ${t.id} v${t.version} (${t.ranges.type}, ${t.scope === 'global' ? 'global' : 'client'})` +
          (result.value.reproposedTo.length > 0
            ? `; re-proposed to ${result.value.reproposedTo.length} client(s) for approval`
            : ''),
      );
      return 0;
    }
    case 'propose': {
      if (!values.template || !client)
        return fail('templates propose needs --template and --client.');
      const result = await proposeTemplate(deps, {
        actor: lead,
        templateId: values.template,
        clientTenantId: client,
      });
      if (!result.ok) return fail(`${result.error.message} (${result.error.code})`);
      deps.out(
        `Proposed ${result.value.templateId} v${result.value.templateVersion}; the client's approvers have a card.`,
      );
      return 0;
    }
    case 'list': {
      const result = await listTemplates(deps, lead, client ? { clientTenantId: client } : {});
      if (!result.ok) return fail(`${result.error.message} (${result.error.code})`);
      if (result.value.length === 0)
        deps.out('No templates yet. Create one with: templates create --file <json> --as <oid>');
      for (const v of result.value) {
        const runs = v.activation
          ? ` runs ${v.activation.successfulRuns} ok / ${v.activation.failedRuns} failed`
          : '';
        deps.out(
          `${v.clientCode}\t${v.template.id} v${v.template.version}\t${v.template.ranges.type}\t${v.status}${runs}\t${v.template.name}`,
        );
      }
      return 0;
    }
    case 'reenable': {
      if (!values.template || !client || !values.reason)
        return fail('templates reenable needs --template, --client and --reason.');
      const result = await reenableTemplate(deps, {
        actor: lead,
        clientTenantId: client,
        templateId: values.template,
        reason: values.reason,
      });
      if (!result.ok) return fail(`${result.error.message} (${result.error.code})`);
      deps.out(`Re-enabled ${result.value.templateId} for the client.`);
      return 0;
    }
    case 'suggest': {
      if (!client) return fail('templates suggest needs --client.');
      const found = await suggestPromotions(deps, client);
      if (found.length === 0) deps.out('No repeated normal changes to promote yet.');
      for (const { suggestion, isNew } of found)
        deps.out(
          `${isNew ? 'NEW ' : ''}${suggestion.draft.ranges.type}: ${suggestion.requestIds.join(', ')} (${suggestion.because}) — draft ${JSON.stringify(suggestion.draft.ranges)}`,
        );
      return 0;
    }
    default:
      return fail(TEMPLATES_USAGE);
  }
}

async function leadNamed(deps: TemplatesCommandDeps, oid: string): Promise<Person | undefined> {
  const clients = await deps.clients.forStaff(deps.mspTenantId, oid.toLowerCase() as Person['oid']);
  return clients.flatMap((c) => c.leads).find((p) => p.oid === oid.toLowerCase());
}

async function clientTenant(
  deps: TemplatesCommandDeps,
  value: string,
): Promise<TenantId | undefined> {
  const code = asClientCode(value);
  const byCode = code ? await deps.clients.getByCode(code) : undefined;
  if (byCode) return byCode.profile.tenantId;
  const tenantId = asTenantId(value);
  return tenantId ? (await deps.clients.get(tenantId))?.profile.tenantId : undefined;
}
