/**
 * What every API module exports: the versions it speaks and the checks of its
 * request and response bodies. The table in `index.ts` maps names to these.
 */
import type { Check } from '../check.js';

export interface ApiSpec<Req, Res> {
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Checks a request body; throws a `FieldError` naming the first bad field. */
  readonly request: Check<Req>;
  /** Checks a response body, on the client. */
  readonly response: Check<Res>;
}

export function defineApi<Req, Res>(spec: ApiSpec<Req, Res>): ApiSpec<Req, Res> {
  return spec;
}
