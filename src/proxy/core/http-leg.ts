import type { UpstreamDispatcher } from './undici-parts.js';
import type { UpstreamAnswer, UpstreamLeg } from './exchange.js';
import { forwardableResponseHeaders, type HeaderPairs } from './headers.js';
import { requestUpstream, type UpstreamResponse } from './upstream-response.js';

export interface HttpLegOptions {
  /** the undici pool the request goes through (it decides how, and where, to connect) */
  dispatcher: UpstreamDispatcher;
  /** `scheme://host[:port]` */
  origin: string;
  /** path and query sent verbatim (no URL re-parsing, which would resolve dot segments behind the policy's back) */
  path: string;
  method: string;
  headers: HeaderPairs;
  /** host[:port] for messages */
  host: string;
  /** turns the upstream's response into the guest's (omitted = hop-by-hop headers dropped, body as is) */
  shape?(response: UpstreamResponse, method: string): UpstreamAnswer;
}

/**
 * An HTTP request upstream through undici: the request body streams from the guest, the
 * response is handed to the exchange as soon as its head arrived. Redirects are never
 * followed (a dispatcher alone does not follow them), so a 3xx goes back to the guest as is.
 */
export function createHttpLeg(options: HttpLegOptions): UpstreamLeg {
  return {
    host: options.host,
    async open(body, abort) {
      const response = await requestUpstream(
        options.dispatcher,
        {
          origin: options.origin,
          path: options.path,
          method: options.method,
          headers: options.headers.flat(),
          body,
        },
        abort,
      );
      if (options.shape) return options.shape(response, options.method);
      return {
        status: response.statusCode,
        headers: forwardableResponseHeaders(response.headers, []),
        body: response.body,
      };
    },
  };
}
