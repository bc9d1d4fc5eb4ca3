import { setTimeout as delay } from 'node:timers/promises';
import {
  AuthenticationHandler,
  Client,
  GraphClientError,
  HTTPMessageHandler,
  TelemetryHandler,
  type AuthenticationProvider,
} from '@microsoft/microsoft-graph-client';
import { Agent } from 'undici';
import {
  DirectoryError,
  type PerformOptions,
  type TenantDirectory,
} from '../../application/ports/tenant-directory';
import type {
  AutoReply,
  CommandOutcome,
  DirectoryCheck,
  DirectoryCommand,
  DirectoryFailure,
  DirectoryGroup,
  DirectorySku,
  DirectoryUser,
  GroupRelation,
} from '../../domain/execution/directory';
import type { TenantId } from '../../domain/shared/ids';
import {
  commandRequest,
  displayNameFilter,
  encodePathSegment,
  GROUP_SELECT,
  isUserSku,
  toAutoReply,
  toDirectoryGroup,
  toDirectorySku,
  toDirectoryUser,
  USER_SELECT,
  type GraphRequestSpec,
  type WireAutoReply,
  type WireGroup,
  type WireSku,
  type WireUser,
} from './graph-directory.mapper';
import {
  isLicenceAlreadySo,
  isMissingReference,
  refusalFromBatchResponse,
  refusalFromError,
  type BatchSubResponse,
  type GraphRefusal,
} from './graph-error.mapper';
import {
  DEFAULT_MAX_CONCURRENT_REQUESTS_PER_TENANT,
  TenantConcurrencyLimit,
} from './graph-concurrency.policy';
import {
  DEFAULT_RETRY,
  exhausted,
  RetryBudget,
  type GraphRetryOptions,
} from './graph-retry.policy';
import {
  MsalTokenProvider,
  PUBLIC_AUTHORITY_BASE,
  type GraphAppCredential,
  type GraphTokenSource,
} from './msal-token-provider';

/** Microsoft Graph in the public cloud. */
export const PUBLIC_GRAPH_BASE = 'https://graph.microsoft.com';

/** Graph's JSON batching limit. */
export const MAX_BATCH = 20;

/**
 * Which Microsoft cloud to talk to: the public one, or Cabinet's sandbox cloud (Graph and sign-in on
 * one HTTPS loopback server whose certificate is signed by its own CA).
 */
export type GraphCloud =
  | { readonly kind: 'public' }
  | { readonly kind: 'sandbox'; readonly url: string; readonly caCertificatePem: string };

export interface CreateGraphDirectoryOptions {
  /** Application (client) id of Cabinet's multi-tenant Graph app. */
  readonly clientId: string;
  readonly credential: GraphAppCredential;
  readonly cloud: GraphCloud;
  readonly retry?: GraphRetryOptions;
  /** Items per page of a directory collection (`$top`, 1–999, default 999: fewest round trips). */
  readonly pageSize?: number;
  /** Abandon one HTTP request after this long (default 30 s); a create that timed out is reconciled. */
  readonly requestTimeoutMs?: number;
  /**
   * HTTP requests to one client tenant in flight at once (default 6; a `$batch` is one); more wait
   * their turn in order, so one big run or many runs for one client cannot hammer its tenant.
   */
  readonly maxConcurrentRequestsPerTenant?: number;
  /** Waits before retries; tests record the requested waits instead of sleeping. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). */
  readonly random?: () => number;
  /** Milliseconds since the epoch, for `Retry-After` given as an HTTP date. */
  readonly now?: () => number;
  /** Receives one line per retry, wait and reconciliation: tenant ids, routes, statuses, codes and request ids only. */
  readonly log?: (message: string) => void;
}

/** Wires the Graph directory for a cloud: one MSAL application for every tenant, one Graph client per tenant. */
export function createGraphDirectory(options: CreateGraphDirectoryOptions): GraphTenantDirectory {
  const { clientId, credential, cloud, ...tuning } = options;
  const base = cloud.kind === 'public' ? undefined : cloud.url.replace(/\/+$/, '');
  const trust = cloud.kind === 'sandbox' ? { caCertificatePem: cloud.caCertificatePem } : {};
  const tokens = new MsalTokenProvider({
    clientId,
    credential,
    authorityBase: base ?? PUBLIC_AUTHORITY_BASE,
    ...trust,
  });
  return new GraphTenantDirectory({
    tokens,
    graphBase: base ?? PUBLIC_GRAPH_BASE,
    ...trust,
    ...tuning,
  });
}

export interface GraphTenantDirectoryOptions
  extends Omit<CreateGraphDirectoryOptions, 'clientId' | 'credential' | 'cloud'> {
  readonly tokens: GraphTokenSource;
  /** `https://graph.microsoft.com`, or the sandbox cloud's URL (no `/v1.0`). */
  readonly graphBase: string;
  /** A CA to trust for Graph's TLS certificate (the sandbox cloud's own CA). */
  readonly caCertificatePem?: string;
}

/** Counters for the bench and diagnostics. */
export interface GraphDirectoryStats {
  /** HTTP requests to Graph; a `$batch` is one. */
  roundTrips: number;
  batches: number;
  /** Requests sent again after a retryable failure (each sub-request counts). */
  retries: number;
  waits: number;
  waitedMs: number;
  /** Reads made to learn whether a create whose answer was lost took effect. */
  reconciliations: number;
}

type GraphReply =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly refusal: GraphRefusal };

/** One command in flight within a `perform`. */
interface CommandTask {
  readonly command: DirectoryCommand;
  readonly request: GraphRequestSpec;
  outcome?: CommandOutcome;
  lastFailure?: DirectoryFailure;
  /** A create that may already have been applied: read the user before sending it again. */
  reconcileFirst: boolean;
  /** An earlier attempt of this create went unanswered, so a later "UPN taken" may be our own user. */
  mayExist: boolean;
}

/**
 * {@link TenantDirectory} over Microsoft Graph v1.0 with the real Graph SDK.
 * @remarks The SDK's own RetryHandler is left out of the middleware chain so one policy governs
 * retries: 429/503/504 and lost connections are retried honouring `Retry-After` within a budget per
 * call ({@link RetryBudget}); past it the failure is handed back `throttled` with `retryAfterMs`.
 * Token failures travel through the SDK as a `GraphClientError` (which it passes on unchanged)
 * carrying the token provider's {@link DirectoryError}. At most `maxConcurrentRequestsPerTenant`
 * requests per tenant are in flight across every run this directory serves
 * ({@link TenantConcurrencyLimit}); a request's timeout starts when it is sent, not while it waits
 * its turn, and no slot is held while waiting out a `Retry-After`. Logs carry ids and codes, never
 * tokens, passwords, UPNs or names.
 */
export class GraphTenantDirectory implements TenantDirectory {
  readonly #tokens: GraphTokenSource;
  readonly #graphBase: string;
  readonly #dispatcher: Agent | undefined;
  readonly #clients = new Map<TenantId, Client>();
  readonly #retry: Required<GraphRetryOptions>;
  readonly #timeoutMs: number;
  readonly #concurrency: TenantConcurrencyLimit;
  readonly #pageSize: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  readonly #stats: GraphDirectoryStats = {
    roundTrips: 0,
    batches: 0,
    retries: 0,
    waits: 0,
    waitedMs: 0,
    reconciliations: 0,
  };

  constructor(options: GraphTenantDirectoryOptions) {
    this.#tokens = options.tokens;
    this.#graphBase = options.graphBase.replace(/\/+$/, '');
    this.#dispatcher = options.caCertificatePem
      ? new Agent({ connect: { ca: options.caCertificatePem } })
      : undefined;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#concurrency = new TenantConcurrencyLimit(
      options.maxConcurrentRequestsPerTenant ?? DEFAULT_MAX_CONCURRENT_REQUESTS_PER_TENANT,
    );
    this.#pageSize = options.pageSize ?? 999;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => undefined);
  }

  /** A snapshot of the counters since this directory was created. */
  get stats(): Readonly<GraphDirectoryStats> {
    return { ...this.#stats };
  }

  /** Closes the sandbox connection pool (nothing to close for the public cloud). */
  async close(): Promise<void> {
    await this.#dispatcher?.close();
  }

  async findUser(
    tenantId: TenantId,
    userPrincipalNameOrId: string,
  ): Promise<DirectoryUser | undefined> {
    const wire = await this.#read<WireUser>(tenantId, {
      method: 'GET',
      path: `/users/${encodePathSegment(userPrincipalNameOrId)}?$select=${USER_SELECT}`,
      route: 'GET /users/{id}',
    });
    return wire && toDirectoryUser(wire);
  }

  async listGroupsOf(
    tenantId: TenantId,
    userId: string,
    relation: GroupRelation,
  ): Promise<DirectoryGroup[]> {
    const segment = relation === 'member' ? 'memberOf' : 'ownedObjects';
    const groups = await this.#readAll<WireGroup>(tenantId, {
      method: 'GET',
      path: `/users/${encodePathSegment(userId)}/${segment}/microsoft.graph.group?$select=${GROUP_SELECT}&$top=${this.#pageSize}`,
      route: `GET /users/{id}/${segment}/microsoft.graph.group`,
    });
    return groups.map(toDirectoryGroup);
  }

  async findGroups(tenantId: TenantId, displayName: string): Promise<DirectoryGroup[]> {
    const groups = await this.#readAll<WireGroup>(tenantId, {
      method: 'GET',
      path: `/groups?$filter=${displayNameFilter(displayName)}&$select=${GROUP_SELECT}&$top=${this.#pageSize}`,
      route: 'GET /groups?$filter=displayName',
    });
    return groups.map(toDirectoryGroup);
  }

  async getGroup(tenantId: TenantId, groupId: string): Promise<DirectoryGroup | undefined> {
    const wire = await this.#read<WireGroup>(tenantId, {
      method: 'GET',
      path: `/groups/${encodePathSegment(groupId)}?$select=${GROUP_SELECT}`,
      route: 'GET /groups/{id}',
    });
    return wire && toDirectoryGroup(wire);
  }

  async listSkus(tenantId: TenantId): Promise<DirectorySku[]> {
    const skus = await this.#readAll<WireSku>(tenantId, {
      method: 'GET',
      path: '/subscribedSkus',
      route: 'GET /subscribedSkus',
    });
    return skus.filter(isUserSku).map(toDirectorySku);
  }

  async getManager(tenantId: TenantId, userId: string): Promise<DirectoryUser | undefined> {
    const wire = await this.#read<WireUser>(tenantId, {
      method: 'GET',
      path: `/users/${encodePathSegment(userId)}/manager?$select=${USER_SELECT}`,
      route: 'GET /users/{id}/manager',
    });
    return wire && toDirectoryUser(wire);
  }

  async getAutoReply(tenantId: TenantId, userId: string): Promise<AutoReply> {
    const settings = await this.#read<{ automaticRepliesSetting?: WireAutoReply }>(tenantId, {
      method: 'GET',
      path: `/users/${encodePathSegment(userId)}/mailboxSettings`,
      route: 'GET /users/{id}/mailboxSettings',
    });
    if (!settings)
      throw new DirectoryError({
        reason: 'not_found',
        code: 'Request_ResourceNotFound',
        message: `User ${userId} has no mailbox settings (no such user, or no Exchange mailbox).`,
        retryable: false,
      });
    try {
      return toAutoReply(settings.automaticRepliesSetting);
    } catch (error: unknown) {
      if (!(error instanceof RangeError)) throw error;
      throw new DirectoryError(
        {
          reason: 'invalid',
          code: 'UnsupportedTimeZone',
          message: error.message,
          retryable: false,
        },
        { cause: error },
      );
    }
  }

  async check(tenantId: TenantId, check: DirectoryCheck): Promise<boolean> {
    switch (check.kind) {
      case 'user.exists':
        return (
          ((await this.findUser(tenantId, check.userPrincipalName)) !== undefined) ===
          check.expected
        );
      case 'user.enabled': {
        const user = await this.findUser(tenantId, check.userId);
        return (user?.accountEnabled ?? false) === check.expected;
      }
      case 'user.inGroup': {
        const groups = await this.listGroupsOf(tenantId, check.userId, check.relation);
        return groups.some((g) => g.id === check.groupId) === check.expected;
      }
      case 'user.licences': {
        const user = await this.findUser(tenantId, check.userId);
        if (!user) return false;
        // "has" accepts a licence from a group; "lacks" is about what was assigned directly.
        const direct = new Set(user.assignedLicences.map((l) => l.skuId.toLowerCase()));
        const inherited = user.inheritedLicences.map((l) => l.skuId.toLowerCase());
        const any = new Set([...direct, ...inherited]);
        return (
          check.has.every((s) => any.has(s.toLowerCase())) &&
          check.lacks.every((s) => !direct.has(s.toLowerCase()))
        );
      }
      case 'user.manager': {
        const manager = await this.getManager(tenantId, check.userId);
        return (manager?.id ?? null) === check.managerId;
      }
      case 'user.autoReply':
        return (await this.getAutoReply(tenantId, check.userId)).status === check.status;
      case 'user.sessionsRevoked': {
        const validFrom = (await this.findUser(tenantId, check.userId))?.signInSessionsValidFrom;
        return validFrom !== undefined && validFrom !== check.validFromBefore;
      }
      case 'none':
        return true;
    }
  }

  async perform(
    tenantId: TenantId,
    commands: readonly DirectoryCommand[],
    options: PerformOptions,
  ): Promise<CommandOutcome[]> {
    const password = options.initialPassword?.reveal();
    const tasks: CommandTask[] = commands.map((command) => ({
      command,
      request: commandRequest(command, this.#graphBase, password ?? ''),
      reconcileFirst: false,
      mayExist: false,
      ...(command.kind === 'user.create' && !password
        ? {
            outcome: {
              ok: false,
              failure: {
                reason: 'invalid',
                code: 'MissingPassword',
                message: 'A new user needs a temporary password; none was given.',
                retryable: false,
              },
            } satisfies CommandOutcome,
          }
        : {}),
    }));
    const budget = new RetryBudget(this.#retry, this.#random);
    if (options.together) {
      await this.#drive(tenantId, tasks, true, budget);
    } else {
      let parked: DirectoryFailure | undefined;
      for (const task of tasks) {
        if (task.outcome) continue;
        if (parked) task.outcome = { ok: false, failure: parked };
        else parked = await this.#drive(tenantId, [task], false, budget);
      }
    }
    return tasks.map((task) => task.outcome ?? unreachable());
  }

  /**
   * Sends the tasks, retrying the retryable ones in rounds until each has an outcome or the budget
   * stops; returns the stop failure (tasks left get it as their outcome).
   */
  async #drive(
    tenantId: TenantId,
    tasks: readonly CommandTask[],
    together: boolean,
    budget: RetryBudget,
  ): Promise<DirectoryFailure | undefined> {
    let pending = tasks.filter((t) => !t.outcome);
    while (pending.length > 0) {
      await this.#round(tenantId, pending, together);
      const again = pending.filter((t) => !t.outcome);
      if (again.length === 0) return undefined;
      const failures = again.map((t) => t.lastFailure ?? unreachable());
      const decision = budget.next(failures);
      if (decision.kind === 'stop') {
        let stopped: DirectoryFailure | undefined;
        for (const task of again) {
          const failure = exhausted(task.lastFailure ?? unreachable(), decision.retryAfterMs);
          task.outcome = { ok: false, failure };
          stopped ??= failure;
        }
        this.#log(
          `graph ${tenantId}: gave up on ${again.length} request(s) within the retry budget; come back in ${decision.retryAfterMs} ms`,
        );
        return stopped;
      }
      this.#stats.retries += again.length;
      await this.#wait(
        tenantId,
        again.map((t) => t.request.route),
        failures,
        decision.delayMs,
      );
      pending = again;
    }
    return undefined;
  }

  /** One attempt for each task: reconciliation reads first, then the requests, batched when together. */
  async #round(
    tenantId: TenantId,
    tasks: readonly CommandTask[],
    together: boolean,
  ): Promise<void> {
    await Promise.all(
      tasks.filter((t) => t.reconcileFirst).map((t) => this.#reconcileCreate(tenantId, t)),
    );
    const sending = tasks.filter((t) => !t.outcome && !t.reconcileFirst);
    const chunks = together ? chunk(sending, MAX_BATCH) : sending.map((t) => [t]);
    const replies = await Promise.all(
      chunks.map(async (group) => {
        if (group.length === 1) {
          const only = group[0] ?? unreachable();
          return [await this.#send(tenantId, only.request)];
        }
        return this.#sendBatch(
          tenantId,
          group.map((t) => t.request),
        );
      }),
    );
    await Promise.all(
      chunks.flatMap((group, i) =>
        group.map((task, j) => this.#settle(tenantId, task, replies[i]?.[j] ?? unreachable())),
      ),
    );
  }

  /** Records what a reply means for a task: success, a refusal that means "already so", a retry, or a failure. */
  async #settle(tenantId: TenantId, task: CommandTask, reply: GraphReply): Promise<void> {
    if (reply.ok) {
      if (task.command.kind !== 'user.create') task.outcome = { ok: true };
      else this.#created(task, reply.body);
      return;
    }
    const { failure, ambiguous } = reply.refusal;
    if (await this.#alreadySo(tenantId, task.command, failure)) {
      task.outcome = { ok: true };
      return;
    }
    if (failure.retryable) {
      task.lastFailure = failure;
      if (ambiguous && task.command.kind === 'user.create') {
        task.reconcileFirst = true;
        task.mayExist = true;
      }
      return;
    }
    if (task.mayExist && failure.reason === 'already_exists') {
      // Our lost create, which the read-back missed (directory replication lags): read again after a wait.
      task.reconcileFirst = true;
      task.lastFailure = { ...failure, retryable: true };
      return;
    }
    task.outcome = { ok: false, failure };
  }

  /** A create answered with the user; without its id (never seen from Graph) the user is read back. */
  #created(task: CommandTask, body: unknown): void {
    const id = (body as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string') {
      task.outcome = { ok: true, createdUserId: id };
      return;
    }
    task.reconcileFirst = true;
    task.lastFailure = {
      reason: 'unknown',
      code: 'NoUserId',
      message: 'Graph answered the new user without its id.',
      retryable: true,
    };
  }

  /** Refusals that mean the command's aim already holds, so repeating a command is harmless. */
  async #alreadySo(
    tenantId: TenantId,
    command: DirectoryCommand,
    failure: DirectoryFailure,
  ): Promise<boolean> {
    switch (command.kind) {
      case 'group.add':
        return failure.reason === 'already_exists';
      case 'group.remove':
        return isMissingReference(failure);
      case 'user.removeManager':
      case 'user.delete':
        return failure.reason === 'not_found';
      case 'user.assignLicences':
        // One refused removal refuses the whole request, adds included: only the user's licences tell.
        return isLicenceAlreadySo(failure) && (await this.#licencesHold(tenantId, command));
      case 'user.restore':
        // Not among the deleted users any more: restored already, if the user is active.
        return (
          failure.reason === 'not_found' &&
          (await this.#send(tenantId, {
            method: 'GET',
            path: `/users/${encodePathSegment(command.userId)}?$select=id`,
            route: 'GET /users/{id}',
          }).then((reply) => reply.ok))
        );
      case 'user.create':
      case 'user.update':
      case 'user.revokeSessions':
      case 'user.setAutoReply':
      case 'user.setManager':
        return false;
    }
  }

  async #licencesHold(
    tenantId: TenantId,
    command: Extract<DirectoryCommand, { kind: 'user.assignLicences' }>,
  ): Promise<boolean> {
    const read = await this.#send(tenantId, {
      method: 'GET',
      path: `/users/${encodePathSegment(command.userId)}?$select=${USER_SELECT}`,
      route: 'GET /users/{id}',
    });
    if (!read.ok) return false;
    const direct = new Set(
      toDirectoryUser(read.body as WireUser).assignedLicences.map((l) => l.skuId.toLowerCase()),
    );
    return (
      command.add.every((l) => direct.has(l.skuId.toLowerCase())) &&
      command.remove.every((skuId) => !direct.has(skuId.toLowerCase()))
    );
  }

  /**
   * A `POST /users` whose answer was lost may have created the user: read it by UPN before sending
   * the create again, so there is never a second user.
   */
  async #reconcileCreate(tenantId: TenantId, task: CommandTask): Promise<void> {
    if (task.command.kind !== 'user.create') return;
    this.#stats.reconciliations += 1;
    this.#log(`graph ${tenantId}: POST /users had no clear answer; reading the user back first`);
    const read = await this.#send(tenantId, {
      method: 'GET',
      path: `/users/${encodePathSegment(task.command.user.userPrincipalName)}?$select=id`,
      route: 'GET /users/{id}',
    });
    if (read.ok) {
      this.#created(task, read.body);
      return;
    }
    const { failure } = read.refusal;
    if (failure.reason === 'not_found') task.reconcileFirst = false;
    else if (failure.retryable) task.lastFailure = failure;
    else task.outcome = { ok: false, failure };
  }

  /** A read with retries; "not found" is `undefined`, anything else past the budget throws {@link DirectoryError}. */
  async #read<T>(
    tenantId: TenantId,
    spec: GraphRequestSpec,
    budget = new RetryBudget(this.#retry, this.#random),
  ): Promise<T | undefined> {
    for (;;) {
      const reply = await this.#send(tenantId, spec);
      if (reply.ok) return reply.body as T;
      const { failure } = reply.refusal;
      if (failure.reason === 'not_found') return undefined;
      if (!failure.retryable) throw new DirectoryError(failure);
      const decision = budget.next([failure]);
      if (decision.kind === 'stop')
        throw new DirectoryError(exhausted(failure, decision.retryAfterMs));
      this.#stats.retries += 1;
      await this.#wait(tenantId, [spec.route], [failure], decision.delayMs);
    }
  }

  /** Every page of a collection, following `@odata.nextLink`; a missing parent reads as empty. */
  async #readAll<T>(tenantId: TenantId, first: GraphRequestSpec): Promise<T[]> {
    const budget = new RetryBudget(this.#retry, this.#random);
    const items: T[] = [];
    let spec: GraphRequestSpec | undefined = first;
    while (spec) {
      const page: { value?: T[]; '@odata.nextLink'?: string } | undefined = await this.#read(
        tenantId,
        spec,
        budget,
      );
      items.push(...(page?.value ?? []));
      const next: string | undefined = page?.['@odata.nextLink'];
      spec = next ? { method: 'GET', path: next, route: first.route } : undefined;
    }
    return items;
  }

  async #wait(
    tenantId: TenantId,
    routes: readonly string[],
    failures: readonly DirectoryFailure[],
    ms: number,
  ): Promise<void> {
    const first = failures[0];
    const more = routes.length > 1 ? ` and ${routes.length - 1} more` : '';
    this.#log(
      `graph ${tenantId}: ${routes[0] ?? ''}${more} answered ${first?.httpStatus ?? first?.code ?? ''} ${first?.code ?? ''}` +
        `${first?.requestId ? ` (request-id ${first.requestId})` : ''}; retrying in ${ms} ms`,
    );
    this.#stats.waits += 1;
    this.#stats.waitedMs += ms;
    await this.#sleep(ms);
  }

  /** One HTTP round trip through the SDK, in its turn among the tenant's; never throws. */
  #send(tenantId: TenantId, spec: GraphRequestSpec): Promise<GraphReply> {
    return this.#concurrency.run(tenantId, () => this.#sendNow(tenantId, spec));
  }

  async #sendNow(tenantId: TenantId, spec: GraphRequestSpec): Promise<GraphReply> {
    const request = this.#client(tenantId)
      .api(spec.path)
      .option('signal', AbortSignal.timeout(this.#timeoutMs));
    this.#stats.roundTrips += 1;
    try {
      switch (spec.method) {
        case 'GET':
          return { ok: true, body: await request.get() };
        case 'POST':
          return { ok: true, body: await request.post(spec.body) };
        case 'PATCH':
          return { ok: true, body: await request.patch(spec.body) };
        case 'PUT':
          return { ok: true, body: await request.put(spec.body) };
        case 'DELETE':
          return { ok: true, body: await request.delete() };
      }
    } catch (error: unknown) {
      return { ok: false, refusal: refusalFromError(error, this.#now()) };
    }
  }

  /** Up to {@link MAX_BATCH} independent requests in one `$batch` round trip; replies in request order. */
  async #sendBatch(tenantId: TenantId, specs: readonly GraphRequestSpec[]): Promise<GraphReply[]> {
    this.#stats.batches += 1;
    const requests = specs.map((spec, i) => ({
      id: String(i + 1),
      method: spec.method,
      url: spec.path,
      ...(spec.body !== undefined
        ? { headers: { 'Content-Type': 'application/json' }, body: spec.body }
        : {}),
    }));
    const reply = await this.#send(tenantId, {
      method: 'POST',
      path: '/$batch',
      body: { requests },
      route: 'POST /$batch',
    });
    if (!reply.ok) return specs.map(() => reply);
    const responses =
      (reply.body as { responses?: BatchSubResponse[] } | undefined)?.responses ?? [];
    const now = this.#now();
    return specs.map((_, i): GraphReply => {
      const response = responses.find((r) => r.id === String(i + 1));
      if (!response)
        return { ok: false, refusal: refusalFromError(new Error('missing sub-response'), now) };
      if (response.status >= 200 && response.status < 300) return { ok: true, body: response.body };
      return { ok: false, refusal: refusalFromBatchResponse(response, now) };
    });
  }

  /** The tenant's Graph client: the SDK's auth and telemetry handlers, no retry or redirect handler. */
  #client(tenantId: TenantId): Client {
    const cached = this.#clients.get(tenantId);
    if (cached) return cached;
    const tokens = this.#tokens;
    const authProvider: AuthenticationProvider = {
      async getAccessToken(): Promise<string> {
        try {
          return await tokens.accessToken(tenantId);
        } catch (error: unknown) {
          // The SDK rethrows a GraphClientError as is; anything else would lose the DirectoryError.
          const carrier = new GraphClientError('Cabinet could not get a Graph token.');
          carrier.customError = error;
          throw carrier;
        }
      },
    };
    const client = Client.initWithMiddleware({
      baseUrl: this.#graphBase,
      defaultVersion: 'v1.0',
      customHosts: new Set([new URL(this.#graphBase).hostname]),
      middleware: [
        new AuthenticationHandler(authProvider),
        new TelemetryHandler(),
        new HTTPMessageHandler(),
      ],
      ...(this.#dispatcher ? { fetchOptions: { dispatcher: this.#dispatcher } } : {}),
    });
    this.#clients.set(tenantId, client);
    return client;
  }
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

function unreachable(): never {
  throw new Error('A Graph command was left without an outcome.');
}
