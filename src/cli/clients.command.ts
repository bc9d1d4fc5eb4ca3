import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { AuditActor } from '../domain/audit/audit-event';
import type { ClientProfile } from '../domain/client/client';
import { rulesFor } from '../domain/client/client-rules';
import { ValidationError } from '../domain/shared/errors';
import { asClientCode, asTenantId, type TenantId } from '../domain/shared/ids';
import type { ClientDirectory } from '../application/ports/client-directory';
import { configureClientSettings } from '../application/use-cases/client-settings';
import {
  onboardClient,
  setClientRole,
  type ClientRoleList,
  type PersonInput,
} from '../application/use-cases/manage-clients';

export interface ClientsCommandDeps {
  readonly clients: ClientDirectory;
  readonly mspTenantId: TenantId;
  readonly operator: AuditActor;
  readonly out: (line: string) => void;
}

export const CLIENTS_USAGE = `cabinet clients <command>
  add --tenant <guid> --code <CODE> --name <name> [--admin <oid>:<name>]… [--approver <oid>:<name>]…
      [--tech <oid>:<name>]… [--lead <oid>:<name>]… [--timezone <IANA zone>]
  list
  show (--tenant <guid> | --code <CODE>)
  set-admins    --tenant <guid> [--admin <oid>:<name>]…
  set-approvers --tenant <guid> [--approver <oid>:<name>]…
  set-techs     --tenant <guid> [--tech <oid>:<name>]…
  set-leads     --tenant <guid> [--lead <oid>:<name>]…
  settings <CODE> --file <settings.json>   set any of approvalPolicy, schedule, classOverrides,
                                           emergencyQuotaPerMonth, reviewDueBusinessDays, timeZone,
                                           sla, psa (the client's PSA mapping)
                                           (each part replaces the stored one; null resets it)
  settings <CODE> --show                   print the rules in force, defaults filled in
Admins and approvers are people in the client's tenant; techs and leads are in the MSP's tenant.
Every change is recorded in that client's audit chain.`;

const ROLE_OPTIONS = {
  admin: { type: 'string', multiple: true },
  approver: { type: 'string', multiple: true },
  tech: { type: 'string', multiple: true },
  lead: { type: 'string', multiple: true },
} as const;

const SET_COMMANDS: Readonly<
  Record<string, { readonly role: ClientRoleList; readonly option: keyof typeof ROLE_OPTIONS }>
> = {
  'set-admins': { role: 'admins', option: 'admin' },
  'set-approvers': { role: 'approvers', option: 'approver' },
  'set-techs': { role: 'techs', option: 'tech' },
  'set-leads': { role: 'leads', option: 'lead' },
};

/** `cabinet clients …`: onboard clients and say who plays which part, through the audited use cases. Returns the exit code. */
export async function runClientsCommand(
  args: readonly string[],
  deps: ClientsCommandDeps,
): Promise<number> {
  const [command, ...rest] = args;
  if (command === 'settings') return runSettings(rest, deps);
  const { values } = parseArgs({
    args: rest,
    options: {
      tenant: { type: 'string' },
      code: { type: 'string' },
      name: { type: 'string' },
      timezone: { type: 'string' },
      ...ROLE_OPTIONS,
    },
    allowPositionals: false,
  });
  const people = (option: keyof typeof ROLE_OPTIONS): PersonInput[] =>
    (values[option] ?? []).map(parsePerson);

  if (command === 'list') {
    const clients = await deps.clients.list();
    if (clients.length === 0)
      deps.out(
        'No clients yet. Add one with: npm run cabinet -- clients add --tenant <guid> --code <CODE> --name <name>',
      );
    for (const client of clients) deps.out(summary(client));
    return 0;
  }
  if (command === 'show') {
    const tenantId = values.tenant ? asTenantId(values.tenant) : undefined;
    const code = values.code ? asClientCode(values.code) : undefined;
    const stored = tenantId
      ? await deps.clients.get(tenantId)
      : code
        ? await deps.clients.getByCode(code)
        : undefined;
    if (!stored)
      return fail(
        deps,
        'No such client. Give --tenant <guid> or --code <CODE> of an onboarded client (see clients list).',
      );
    deps.out(details(stored.profile));
    return 0;
  }
  if (command === 'add') {
    if (!values.tenant || !values.code || !values.name)
      return fail(deps, 'clients add needs --tenant, --code and --name.\n' + CLIENTS_USAGE);
    const result = await onboardClient(deps, {
      operator: deps.operator,
      tenantId: values.tenant,
      code: values.code,
      name: values.name,
      admins: people('admin'),
      approvers: people('approver'),
      techs: people('tech'),
      leads: people('lead'),
      ...(values.timezone ? { timeZone: values.timezone } : {}),
    });
    if (!result.ok) return fail(deps, result.error.message);
    deps.out(`Added ${summary(result.value)}`);
    return 0;
  }
  const set = command ? SET_COMMANDS[command] : undefined;
  if (set) {
    if (!values.tenant) return fail(deps, `clients ${command} needs --tenant <guid>.`);
    const result = await setClientRole(deps, {
      operator: deps.operator,
      tenantId: values.tenant,
      role: set.role,
      people: people(set.option),
    });
    if (!result.ok) return fail(deps, result.error.message);
    deps.out(details(result.value));
    return 0;
  }
  return fail(deps, CLIENTS_USAGE);
}

/** `clients settings <CODE> (--file <path> | --show)`: acts as the system, like every CLI command. */
async function runSettings(args: readonly string[], deps: ClientsCommandDeps): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { file: { type: 'string' }, show: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [code] = positionals;
  if (!code || positionals.length > 1 || Boolean(values.file) === Boolean(values.show))
    return fail(deps, 'clients settings needs a client code and either --file <path> or --show.');
  if (values.show) {
    const client = asClientCode(code.toUpperCase());
    const stored = client ? await deps.clients.getByCode(client) : undefined;
    if (!stored) return fail(deps, `No client ${code}; see clients list.`);
    deps.out(`${stored.profile.code} — rules in force (defaults filled in):`);
    deps.out(JSON.stringify(rulesFor(stored.profile), null, 2));
    const psa = stored.profile.settings.psa;
    // Printed apart from the rules (it is not a rule), so the rules stay one JSON document.
    if (psa) deps.out(`PSA mapping:\n${JSON.stringify(psa, null, 2)}`);
    return 0;
  }
  let settings: unknown;
  try {
    settings = JSON.parse(await readFile(values.file!, 'utf8'));
  } catch (error: unknown) {
    const why = error instanceof Error ? error.message : String(error);
    return fail(deps, `Could not read ${values.file} as JSON: ${why}`);
  }
  const result = await configureClientSettings(deps, {
    actor: { kind: 'operator', operator: deps.operator },
    code,
    settings,
  });
  if (!result.ok) {
    if (!(result.error instanceof ValidationError)) return fail(deps, result.error.message);
    deps.out(`${values.file} was not saved; fix:`);
    for (const issue of result.error.issues) deps.out(`  ${issue.field}: ${issue.message}`);
    return 2;
  }
  deps.out(
    result.value.changed.length === 0
      ? `${result.value.profile.code}: nothing changed.`
      : `${result.value.profile.code}: saved ${result.value.changed.join(', ')}.`,
  );
  return 0;
}

function parsePerson(value: string): PersonInput {
  const separator = value.indexOf(':');
  return separator < 0
    ? { oid: value, name: '' }
    : { oid: value.slice(0, separator).trim(), name: value.slice(separator + 1).trim() };
}

function summary(client: ClientProfile): string {
  return `${client.code.padEnd(12)} ${client.name}  tenant ${client.tenantId}  approvers ${client.approvers.length}, techs ${client.techs.length}`;
}

function details(client: ClientProfile): string {
  const list = (label: string, people: ClientProfile['admins']) =>
    `  ${label.padEnd(10)} ${people.length === 0 ? '(none)' : people.map((p) => `${p.name} <${p.oid}>`).join(', ')}`;
  return [
    `${client.code} — ${client.name} (tenant ${client.tenantId}, time zone ${client.settings.timeZone})`,
    list('admins', client.admins),
    list('approvers', client.approvers),
    list('techs', client.techs),
    list('leads', client.leads),
  ].join('\n');
}

function fail(deps: ClientsCommandDeps, message: string): number {
  deps.out(message);
  return 2;
}
