import type { Directory } from './directory-state';
import type { GraphResponse, Query } from './graph-wire';

/** One Graph operation as a handler sees it (top-level or a `$batch` sub-request alike). */
export interface GraphContext {
  readonly directory: Directory;
  /** The `{id}` values of the matched route template, decoded, in order. */
  readonly params: readonly string[];
  readonly query: Query;
  readonly body: unknown;
  readonly now: Date;
  /** `https://localhost:<port>/v1.0`, for `@odata.context`, `Location` and nextLinks. */
  readonly graphUrl: string;
  /** Absolute URL of this resource without query, for nextLinks. */
  readonly selfUrl: string;
}

export type GraphHandler = (context: GraphContext) => GraphResponse;

/** A route: `GET /users/{id}`; every `{id}` matches exactly one path segment. */
export interface GraphRoute {
  readonly method: string;
  readonly template: string;
  /** Any one of these application permissions lets the caller in. */
  readonly permissions: readonly string[];
  /** Changes state: counted and logged once applied. */
  readonly mutation: boolean;
  readonly handler: GraphHandler;
}
