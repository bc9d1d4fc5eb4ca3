import {
  CHANGE_TYPES,
  PAYLOAD_FIELDS,
  type ChangeType,
} from '../../../domain/change-request/change-request.payloads';
import type { FieldIssue } from '../../../domain/shared/errors';
import type { ClientProfile } from '../../../domain/client/client';
import { CardVerbs } from '../card-verbs';
import { TYPE_HINTS, TYPE_LABELS } from './labels';
import { bindTemplate, type AdaptiveCardJson } from './template';

const FORM_TEMPLATES: { readonly [T in ChangeType]: string } = {
  new_user: 'form-new-user',
  offboard: 'form-offboard',
  licence_change: 'form-licence-change',
  access_change: 'form-access-change',
  general: 'form-general',
  incident: 'form-incident',
};

/** Clients an MSP technician may raise for; empty for client users (their tenant is implied). */
export type ClientChoices = readonly Pick<ClientProfile, 'tenantId' | 'name' | 'code'>[];

export function typePickerCard(clients: ClientChoices, clientTenantId = ''): AdaptiveCardJson {
  return bindTemplate('type-picker', {
    intro:
      clients.length > 0
        ? 'You are raising this on behalf of a client.'
        : 'Pick the kind of change; the next card asks for the details.',
    clientChoices: choicesOf(clients),
    clientTenantId: clientTenantId || (clients.length === 1 ? clients[0]!.tenantId : ''),
    types: CHANGE_TYPES.map((t) => ({ title: `${TYPE_LABELS[t]} — ${TYPE_HINTS[t]}`, value: t })),
  });
}

export interface FormCardOptions {
  readonly values?: Readonly<Record<string, unknown>>;
  readonly errors?: readonly FieldIssue[];
  readonly clients?: ClientChoices;
  readonly clientTenantId?: string;
  /** Set when editing an existing request. */
  readonly edit?: { readonly requestId: string; readonly version: number };
}

/** The intake form of one type, optionally pre-filled and annotated with what to fix. */
export function formCard(type: ChangeType, options: FormCardOptions = {}): AdaptiveCardJson {
  const clients = options.edit ? [] : (options.clients ?? []);
  return bindTemplate(FORM_TEMPLATES[type], {
    heading: options.edit ? `Edit ${options.edit.requestId}` : TYPE_LABELS[type],
    intro: options.edit
      ? 'Saving sends the changed request to the approvers again; earlier approval cards stop working.'
      : TYPE_HINTS[type],
    errors: options.errors ?? [],
    clientChoices: choicesOf(clients),
    clientTenantId: options.clientTenantId ?? (clients.length === 1 ? clients[0]!.tenantId : ''),
    values: formValues(type, options.values ?? {}),
    // Only MSP staff raise emergencies (issue 4 §4); they are the ones offered a client to pick.
    showEmergency: clients.length > 0,
    emergency: {
      value: options.values?.['changeClass'] === 'emergency' ? 'emergency' : 'normal',
      reason:
        typeof options.values?.['emergencyReason'] === 'string'
          ? options.values['emergencyReason']
          : '',
    },
    submitTitle: options.edit ? 'Save changes' : 'Submit request',
    verb: options.edit ? CardVerbs.SaveEdit : CardVerbs.Submit,
    requestId: options.edit?.requestId ?? '',
    version: options.edit?.version ?? 0,
  });
}

/** Every input of the form with a string value, so the template never shows a raw `${…}`. */
function formValues(
  type: ChangeType,
  values: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['title', 'description', ...PAYLOAD_FIELDS[type]]) {
    const value = values[key];
    out[key] = Array.isArray(value)
      ? value.join(', ')
      : typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : '';
  }
  return out;
}

function choicesOf(clients: ClientChoices): { title: string; value: string }[] {
  return clients.map((c) => ({ title: `${c.name} (${c.code})`, value: c.tenantId }));
}
