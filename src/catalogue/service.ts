/** How a service's credential travels in a request. */
export type CredentialCarrier =
  /** a header whose value is `template` with `{secret}` replaced, e.g. `Bearer {secret}` */
  | { kind: 'header'; header: string; template: string }
  /** HTTP Basic: `Authorization: Basic base64(username:secret)` */
  | { kind: 'basic'; username: string }
  /** a query parameter, e.g. `?key=…` */
  | { kind: 'query'; param: string };

/** A variable that points the guest's SDK at the proxy: `<proxy>/proxy/<service><suffix>`. */
export interface BaseUrlVariable {
  name: string;
  /** appended to the service's proxy route, e.g. `/v1` for OPENAI_BASE_URL (omitted = none) */
  suffix?: string;
}

/** One upstream API airlock can hold a credential for. Pure data. */
export interface Service {
  /** route name: `/proxy/<name>/…` */
  name: string;
  /** a human title for listings */
  title: string;
  /** the variable that names the credential, in the guest and in `--cred` */
  envVar: string;
  /** other variable names SDKs read for the same credential; the guest gets them too */
  aliases: string[];
  /** upstream origin, `https://host[:port]`, with an optional base path */
  upstream: string;
  /** every host this credential may be sent to (the upstream's host first) */
  hosts: string[];
  carrier: CredentialCarrier;
  /** request headers (lowercase) and query parameters that may carry this service's credential;
   * all are removed from guest requests before the real one is set */
  credentialHeaders: string[];
  credentialParams: string[];
  /** variables that point SDKs at the proxy */
  baseUrlVariables: BaseUrlVariable[];
  /** the start of a real key, copied into the placeholder because SDKs check it */
  placeholderPrefix: string;
  /** length of the random part of the placeholder */
  placeholderLength: number;
  /** an LLM provider (part of the `llm-only` profile; usage is parsed for the audit log) */
  llm: boolean;
  /** an extra PEM CA file trusted for this upstream only (omitted = system CAs and config `upstreamCa`) */
  caFile?: string;
  /** which response shape usage is parsed from (omitted = none) */
  usageFormat?: 'openai' | 'anthropic' | 'google';
  /**
   * the service whose credential this one sends to its own upstream, with its own carrier and
   * endpoint rules (`github-git` sends `github`'s token to github.com as git wants it). It has
   * the owner's `envVar` and aliases, and is granted with the owner's credential when the
   * sandbox's profiles allow its upstream host (omitted = a credential of its own)
   */
  credentialOf?: string;
  /**
   * URL prefixes git rewrites to this service's route (`url.<route>/.insteadOf`) in a guest
   * holding its credential, e.g. `https://github.com/` (omitted = none)
   */
  gitUrls?: string[];
}
