import type { Server } from 'restify';
import { z } from 'zod';
import type { UseCaseDeps } from '../../application/use-cases/context';
import {
  delegateSeat,
  delegationOptions,
  listClientDelegations,
  listMyDelegations,
  revokeDelegation,
  type DelegationView,
} from '../../application/use-cases/delegations';
import { samePerson, type Person } from '../../domain/shared/person';
import { requestIdParam } from './tab-api.route';
import { apiRoute, parseInput, unwrap, type Authenticate } from './tab-http';

export interface TabDelegationsDeps {
  readonly useCases: UseCaseDeps;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

const NewDelegation = z.object({
  client: z.string().trim().min(1, 'is required').max(16),
  to: z.string().trim().min(1, 'is required').max(64),
  riskCeiling: z.string().trim().min(1, 'is required').max(16),
  validFrom: z.string().trim().max(40).optional(),
  validUntil: z.string().trim().min(1, 'is required').max(40),
});

/**
 * Approval delegations in the tab: what I gave and received, where I may delegate and to whom,
 * every delegation of the clients I lead; create and revoke. The caller is the token's person only.
 */
export function mountTabDelegationsApi(server: Server, deps: TabDelegationsDeps): void {
  const route = (handler: Parameters<typeof apiRoute>[2]) =>
    apiRoute(deps.authenticate, deps.log, handler);
  const uc = deps.useCases;

  server.get(
    '/api/tab/delegations',
    route(async ({ actor }) => {
      const options = await delegationOptions(uc, actor);
      const leads = new Set(options.filter((o) => o.isLead).map((o) => o.client.code as string));
      const led = await Promise.all(
        [...leads].map(async (code) => ({
          client: code,
          delegations: unwrap(await listClientDelegations(uc, { actor, clientCode: code })).map(
            (v) => delegationDto(v, actor, true),
          ),
        })),
      );
      return {
        body: {
          mine: (await listMyDelegations(uc, actor)).map((v) =>
            delegationDto(v, actor, leads.has(v.clientCode)),
          ),
          options: options.map((o) => ({
            client: o.client.code,
            clientName: o.client.name,
            candidates: o.candidates.map((p) => ({ oid: p.oid, name: p.name })),
          })),
          led,
        },
      };
    }),
  );

  server.post(
    '/api/tab/delegations',
    route(async ({ actor, req }) => {
      const body = parseInput(NewDelegation, req.body);
      const created = unwrap(
        await delegateSeat(uc, {
          actor,
          clientCode: body.client,
          toOid: body.to,
          riskCeiling: body.riskCeiling,
          ...(body.validFrom ? { validFrom: body.validFrom } : {}),
          validUntil: body.validUntil,
        }),
      );
      return { status: 201, body: { delegation: delegationDto(created, actor, false) } };
    }),
  );

  server.post(
    '/api/tab/delegations/:id/revoke',
    route(async ({ actor, req }) => {
      const revoked = unwrap(await revokeDelegation(uc, { actor, id: requestIdParam(req) }));
      return { body: { delegation: delegationDto(revoked, actor, false) } };
    }),
  );
}

/** What the page shows: names, not object ids, except the delegation's own id. */
function delegationDto(v: DelegationView, actor: Person, isLead: boolean) {
  const d = v.delegation;
  return {
    id: d.id,
    client: v.clientCode,
    clientName: v.clientName,
    from: d.from.name,
    to: d.to.name,
    mine: samePerson(d.from, actor),
    riskCeiling: d.riskCeiling,
    validFrom: d.validFrom,
    validUntil: d.validUntil,
    ...(d.revokedAt ? { revokedAt: d.revokedAt } : {}),
    inForce: v.inForce,
    ended: v.ended,
    mayRevoke: !v.ended && (samePerson(d.from, actor) || isLead),
  };
}
