/**
 * `npm run cabinet -- <group> <command> [options]`: operator commands against Cabinet's storage.
 * Each group lives in its own `<group>.command.ts` and is registered in GROUPS below.
 */
import type { TableStorage } from '../adapters/storage/table-storage';
import { ConfigError, loadConfig, type Config } from '../config';
import { AUDIT_USAGE, runAuditCommand } from './audit.command';
import { CliStorageError, openCliStorage } from './cli-storage';
import { EVIDENCE_USAGE, runEvidenceCommand } from './evidence.command';
import { evidenceDepsOptions, openEvidenceDeps } from './evidence-deps';
import { runEvidenceKeysCommand } from './evidence-keys.command';
import { CLIENTS_USAGE, runClientsCommand } from './clients.command';
import { INDEX_USAGE, runIndexCommand } from './index.command';
import { OUTBOX_USAGE, runOutboxCommand } from './outbox.command';
import { REPORT_USAGE, runReportCommand } from './report.command';
import { runTemplatesCommand, TEMPLATES_USAGE } from './templates.command';
import { runWebhooksCommand, WEBHOOKS_USAGE } from './webhooks.command';

/** What every command group gets: configuration, storage on first use, and an output line sink. */
interface CliContext {
  readonly config: Config;
  readonly storage: () => Promise<TableStorage>;
  readonly out: (line: string) => void;
}

interface CommandGroup {
  readonly usage: string;
  run(args: readonly string[], context: CliContext): Promise<number>;
}

/** The CLI's identity in audit chains: an operator at the MSP, acting outside Teams. */
const CLI_OPERATOR_OID = 'cabinet-cli';

const GROUPS: Readonly<Record<string, CommandGroup>> = {
  clients: {
    usage: CLIENTS_USAGE,
    run: async (args, context) =>
      runClientsCommand(args, {
        clients: (await context.storage()).clients,
        mspTenantId: context.config.mspTenantId,
        operator: { tid: context.config.mspTenantId, oid: CLI_OPERATOR_OID },
        out: context.out,
      }),
  },
  audit: {
    usage: AUDIT_USAGE,
    run: async (args, context) =>
      runAuditCommand(args, { audit: (await context.storage()).audit, out: context.out }),
  },
  templates: {
    usage: TEMPLATES_USAGE,
    run: async (args, context) => {
      const storage = await context.storage();
      return runTemplatesCommand(args, {
        templates: storage.catalogue(context.config.mspTenantId),
        clients: storage.clients,
        audit: storage.audit,
        requests: storage.requests,
        clock: { now: () => new Date() },
        mspTenantId: context.config.mspTenantId,
        out: context.out,
      });
    },
  },
  report: {
    usage: REPORT_USAGE,
    run: async (args, context) => {
      const storage = await context.storage();
      return runReportCommand(args, {
        requests: storage.requests,
        templates: storage.catalogue(context.config.mspTenantId),
        clients: storage.clients,
        clock: { now: () => new Date() },
        out: context.out,
      });
    },
  },
  index: {
    usage: INDEX_USAGE,
    run: async (args, context) => {
      const storage = await context.storage();
      return runIndexCommand(args, {
        clients: storage.clients,
        requests: storage.requests,
        index: storage.openRequests,
        out: context.out,
      });
    },
  },
  outbox: {
    usage: OUTBOX_USAGE,
    run: async (args, context) => {
      const storage = await context.storage();
      return runOutboxCommand(args, {
        outbox: storage.outbox,
        clients: storage.clients,
        now: () => new Date(),
        out: context.out,
      });
    },
  },
  evidence: {
    usage: EVIDENCE_USAGE,
    run: async (args, context) =>
      runEvidenceCommand(args, {
        ...(await openEvidenceDeps(
          await context.storage(),
          evidenceDepsOptions(context.config, { clock: { now: () => new Date() } }),
        )),
        out: context.out,
        progress: process.stderr,
      }),
  },
  webhooks: {
    usage: WEBHOOKS_USAGE,
    run: async (args, context) => {
      const storage = await context.storage();
      return runWebhooksCommand(args, {
        keys: storage.webhookKeys,
        clients: storage.clients,
        mspTenantId: context.config.mspTenantId,
        operator: { tid: context.config.mspTenantId, oid: CLI_OPERATOR_OID },
        now: () => new Date(),
        out: context.out,
      });
    },
  },
};

function usage(): string {
  return [
    'Usage: npm run cabinet -- <group> <command> [options]',
    ...Object.values(GROUPS).flatMap((group) => ['', group.usage]),
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const group = GROUPS[name];
  if (!group) {
    console.log(`Unknown command group "${name}".\n\n${usage()}`);
    return 2;
  }
  // Key files need no storage, and a production configuration refuses to load without the key they create.
  if (name === 'evidence' && args[0] === 'keys')
    return runEvidenceKeysCommand(args.slice(1), {
      out: (line) => console.log(line),
      now: () => new Date(),
    });
  const config = loadConfig();
  let opened: Promise<TableStorage> | undefined;
  return group.run(args, {
    config,
    storage: () => (opened ??= openCliStorage(config)),
    out: (line) => console.log(line),
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof CliStorageError)
      console.error(error.message);
    else console.error(error);
    process.exit(2);
  },
);
