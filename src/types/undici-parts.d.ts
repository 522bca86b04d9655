// undici's own files, loaded one by one (src/proxy/core/undici-parts.ts); their types are undici's.
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export default Agent;
}
declare module 'undici/lib/core/connect.js' {
  import { buildConnector } from 'undici';
  export default buildConnector;
}
declare module 'undici/lib/core/errors.js' {
  import type { errors } from 'undici';
  export const RequestAbortedError: typeof errors.RequestAbortedError;
  export const ClientClosedError: typeof errors.ClientClosedError;
}
declare module 'undici/lib/core/util.js' {
  /** raw header pairs (as a handler's onHeaders gets them) → an object, names lowercase, repeats as arrays */
  export function parseHeaders(
    headers: readonly (Buffer | string | string[])[],
    obj?: Record<string, string | string[]>,
  ): Record<string, string | string[]>;
}
