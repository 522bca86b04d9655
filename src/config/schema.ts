import * as z from 'zod';
import { isIP } from 'node:net';
import { DEFAULT_AUDIT_MAX_BYTES } from '../audit/size-cap.js';
import { SERVICE_NAME } from '../policy/index.js';
import { DEFAULT_PROXY_PORT } from './env-vars.js';
import { DEFAULT_GRACE_SECONDS, DEFAULT_PIDS, MIN_PIDS, isSize } from './limits.js';

/**
 * The config file schema (JSON). Every field is described; `docs/config.schema.json` is
 * generated from this (`npx tsx scripts/config-schema.ts`). Shape and single-field checks
 * live here; checks across fields (host patterns, profiles, rules, unknown services) are in
 * validate-config.ts so every problem is reported with its path.
 */

export { DEFAULT_POOL } from '../net/address-pool.js';
import { DEFAULT_POOL } from '../net/address-pool.js';
import { isBudget } from '../budget/budget-rule.js';

/*
 * Building zod schemas is slow (each step of a chain is a new object with its methods bound):
 * the whole schema took ~20 ms of every `airlock run`'s start. So each part is built by a
 * function, and each top-level section only at its first use (`section`): a config of a few
 * fields builds little more than those fields.
 */

/** A top-level section's schema, built when a config first has the section (z.lazy keeps it). */
const section = <T extends z.ZodType>(build: () => T) => z.lazy(build);

const positiveMs = () => z.number().int().positive();
const rate = () => z.number().int().min(0);

const envVarName = () =>
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (letters, digits, _)');

const absolutePath = () => z.string().regex(/^\//, 'must be an absolute path');

const SECRET_SOURCE = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/;

const secretSource = () =>
  z
    .string()
    .describe(
      'where the real value comes from: `env:VAR` (a variable of the airlock process) or `file:/absolute/path`',
    )
    .refine((s) => SECRET_SOURCE.test(s), {
      // never echo the value: it may be a secret pasted in by mistake
      message:
        'must be env:VAR or file:/absolute/path; a literal secret is refused (config files get copied, committed and read by others)',
    });

/** a plain IPv4 or IPv6 address (no zone id: a pin names one address) */
const isIpLiteral = (s: string) => isIP(s) !== 0 && !s.includes('%');

const carrier = () =>
  z
    .discriminatedUnion('kind', [
      z
        .strictObject({
          kind: z.literal('header').describe('the credential travels in a request header'),
          header: z
            .string()
            .regex(/^[A-Za-z0-9-]+$/, 'must be a header name')
            .describe('header name, e.g. `authorization` or `x-api-key`'),
          template: z
            .string()
            .refine((t) => t.includes('{secret}'), { message: 'must contain {secret}' })
            .describe('header value with `{secret}` replaced by the credential, e.g. `Bearer {secret}`'),
        })
        .describe('a header whose value is a template'),
      z
        .strictObject({
          kind: z.literal('basic').describe('HTTP Basic authentication'),
          username: z.string().describe('the user name; the credential is the password'),
        })
        .describe('`Authorization: Basic base64(username:secret)`'),
      z
        .strictObject({
          kind: z.literal('query').describe('the credential travels in a query parameter'),
          param: z
            .string()
            .regex(/^[A-Za-z0-9_.-]+$/, 'must be a query parameter name')
            .describe('parameter name, e.g. `key`'),
        })
        .describe('a query parameter, e.g. `?key=…`'),
    ])
    .describe('how the credential is carried in each request');

const customService = () =>
  z
    .strictObject({
      name: z
        .string()
        .regex(SERVICE_NAME, 'must be lowercase letters, digits and -')
        .describe('route name: requests go to `/proxy/<name>/…`'),
      title: z.string().optional().describe('a human title for listings (omitted = the name)'),
      envVar: envVarName().describe('the credential variable, in the guest and in `--cred`'),
      aliases: z
        .array(envVarName())
        .default([])
        .describe('other variable names SDKs read for the same credential'),
      upstream: z
        .string()
        .refine(
          (u) => {
            try {
              const url = new URL(u);
              return url.protocol === 'https:' && !url.username && !url.password && !url.search && !url.hash;
            } catch {
              return false;
            }
          },
          { message: 'must be an https:// URL without credentials, query or fragment' },
        )
        .describe('upstream base URL, `https://host[:port][/base-path]`'),
      extraHosts: z
        .array(z.string())
        .default([])
        .describe('other hosts this credential may be sent to, besides the upstream host'),
      carrier: carrier(),
      baseUrlVariables: z
        .array(
          z.strictObject({
            name: envVarName().describe('variable set in the guest to the proxy route'),
            suffix: z.string().optional().describe('appended to the route, e.g. `/v1` (omitted = none)'),
          }),
        )
        .default([])
        .describe('variables that point the guest SDK at `http://<gateway>:<port>/proxy/<name><suffix>`'),
      caFile: absolutePath()
        .optional()
        .describe('extra PEM CA file trusted for this upstream (omitted = none)'),
      llm: z.boolean().default(false).describe('an LLM provider: included in the `llm-only` profile'),
      placeholderPrefix: z
        .string()
        .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
        .default('')
        .describe('start of a real key, copied into the guest placeholder because SDKs check it'),
      placeholderLength: z
        .number()
        .int()
        .min(16)
        .max(256)
        .default(40)
        .describe('length of the random part of the placeholder'),
    })
    .describe('a custom upstream API');

const endpointRules = () =>
  z
    .array(
      z
        .string()
        .describe(
          '`METHOD /path-glob [COUNT/WINDOW]`, e.g. `POST /v1/chat/completions` or, with a request rate, `POST /v1/chat/* 60/1m` (see docs/policy.md)',
        ),
    )
    .describe('allow-list for one service');

const endpointsMap = () =>
  z
    .record(z.string(), endpointRules())
    .describe('endpoint allow-lists keyed by service name; a service without rules allows every endpoint');

/** Budgets as `--budget` takes them (see src/budget/budget-rule.ts). */
const budgetList = () =>
  z
    .array(
      z.string().refine(isBudget, {
        message:
          'must be [CREDENTIAL:]KIND=AMOUNT[/WINDOW], e.g. tokens=200k/1h, usd=5/day or requests=600/1h',
      }),
    )
    .default([]);

const customProfile = () =>
  z
    .strictObject({
      description: z.string().optional().describe('one line for `airlock profiles` (omitted = none)'),
      extends: z.array(z.string()).default([]).describe('profiles whose hosts and rules this one includes'),
      hosts: z
        .array(z.string())
        .default([])
        .describe(
          'exact host names or `*.example.com` (any subdomain); nothing broader than one registrable domain',
        ),
      endpoints: endpointsMap().default({}),
      budgets: budgetList().describe(
        'token and cost budgets of every sandbox that uses this profile (directly or through `extends`), as `--budget` takes them',
      ),
    })
    .describe('a custom network profile');

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema reference for editors (ignored)'),
    pool: z
      .string()
      .default(DEFAULT_POOL)
      .describe('IPv4 CIDR (RFC 1918, /8 to /30) carved into one /30 per sandbox'),
    proxyPort: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(DEFAULT_PROXY_PORT)
      .describe('TCP port of the per-sandbox proxy listener on the gateway address'),
    credentials: section(() => z.record(envVarName(), secretSource()))
      .default({})
      .describe('credentials granted to every sandbox, by variable name (e.g. OPENAI_API_KEY) → source'),
    services: section(() => z.array(customService()))
      .default([])
      .describe('custom services, in addition to the built-in ones'),
    profiles: section(() => z.record(z.string(), customProfile()))
      .default({})
      .describe('custom network profiles by name, usable with `--profile NAME`'),
    endpoints: section(endpointsMap).default({}),
    resolve: section(() =>
      z.record(
        z.string().describe('host name'),
        z
          .string()
          .refine(isIpLiteral, { message: 'must be an IPv4 (a.b.c.d) or IPv6 address' })
          .describe('the address to connect to'),
      ),
    )
      .default({})
      .describe(
        'host name → IP address, like curl --resolve: TLS SNI and Host stay the name; a pinned host bypasses the SSRF address check',
      ),
    upstreamCa: section(() => z.array(absolutePath()))
      .default([])
      .describe('extra PEM CA files trusted for every upstream, besides the system CAs'),
    timeouts: section(() =>
      z.strictObject({
        connectMs: positiveMs()
          .optional()
          .describe('upstream TCP+TLS connect timeout in ms (omitted = 10000)'),
        headersMs: positiveMs()
          .optional()
          .describe(
            'time from sending a request to the upstream response headers, in ms (omitted = 600000: reasoning models think before the headers)',
          ),
        bodyIdleMs: positiveMs()
          .optional()
          .describe('longest silence between body chunks (e.g. SSE events), in ms (omitted = 600000)'),
      }),
    )
      .default({})
      .describe("proxy time-outs (omitted = the proxy's defaults, which suit long LLM streams)"),
    limits: section(() =>
      z.strictObject({
        memory: z
          .string()
          .refine(isSize, { message: 'must be a size like 512m or 2g (at least 16m)' })
          .optional()
          .describe(
            'memory of the whole sandbox (RAM and tmpfs files, no swap), e.g. `2g` (omitted = half the RAM)',
          ),
        pids: z
          .number()
          .int()
          .min(MIN_PIDS)
          .default(DEFAULT_PIDS)
          .describe('processes and threads the whole sandbox may have at once'),
        cpus: z
          .number()
          .min(0.01)
          .optional()
          .describe('CPU time of the whole sandbox as a number of CPUs, e.g. 1.5 (omitted = no quota)'),
        graceSeconds: z
          .number()
          .int()
          .min(0)
          .default(DEFAULT_GRACE_SECONDS)
          .describe('seconds a guest has to exit after Ctrl-C or SIGTERM before it is killed'),
        requestsPerSecond: rate()
          .optional()
          .describe(
            'requests per second one sandbox may send; past it the guest gets 429 (omitted = 500; 0 = no limit)',
          ),
        requestBurst: rate().optional().describe('requests at once above that rate (omitted = 1000)'),
        refusalsPerSecond: rate()
          .optional()
          .describe(
            'refused requests per second recorded one row each; past it a refusal is answered 429 and counted in one row per second (omitted = 10)',
          ),
        refusalBurst: rate()
          .optional()
          .describe('refusals recorded one row each at once above that rate (omitted = 100)'),
        connections: rate()
          .optional()
          .describe(
            'connections one sandbox may hold open to its proxy at once, tunnels and WebSockets included; past it a new one is closed at once (omitted = 1024; 0 = no limit)',
          ),
      }),
    )
      .default({ pids: DEFAULT_PIDS, graceSeconds: DEFAULT_GRACE_SECONDS })
      .describe(
        'what each sandbox may use: memory, processes, CPU, and request rates, so one sandbox cannot flood the audit log or its upstreams; flags (`--memory`, `--pids`, `--cpus`, `--grace`) override',
      ),
    budgets: budgetList().describe(
      'token and cost budgets of every sandbox, as `--budget` takes them: `tokens=200k/1h`, `usd=5/day`, `OPENAI_API_KEY:output=50k` (kinds tokens, input, output, usd, requests); flags add more (see docs/budgets.md)',
    ),
    prices: section(() =>
      z.strictObject({
        date: z.string().optional().describe('when these prices were read (ISO 8601 date)'),
        models: z
          .record(
            z.string().describe('model name, or the start of one (`gpt-4o` prices `gpt-4o-2024-08-06`)'),
            z.strictObject({
              input: z.number().min(0).describe('USD per million input tokens'),
              output: z.number().min(0).describe('USD per million output tokens'),
            }),
          )
          .default({})
          .describe('USD per million tokens by model'),
      }),
    )
      .default({ models: {} })
      .describe(
        'LLM prices for the estimated cost in USD, over the table shipped in data/llm-prices.json (a model named here replaces the shipped entry)',
      ),
    egress: section(() =>
      z.strictObject({
        allowTestRanges: z
          .boolean()
          .default(false)
          .describe(
            'let the forward proxy reach the documentation and benchmark ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15, 2001:db8::/32); for test benches',
          ),
      }),
    )
      .default({ allowTestRanges: false })
      .describe(
        "where the forward proxy may connect: never this host's own addresses, the sandbox pool or internal ranges",
      ),
    intercept: z
      .enum(['credentials', 'all'])
      .default('credentials')
      .describe(
        "which CONNECTs the proxy terminates with the sandbox's CA: 'credentials' (the hosts of granted credentials, so their tokens are injected) or 'all' (every allowed host, each request then audited with its method and path)",
      ),
    audit: section(() =>
      z.strictObject({
        synchronous: z
          .enum(['FULL', 'NORMAL'])
          .default('FULL')
          .describe('SQLite synchronous mode: FULL survives power loss, NORMAL only process crashes'),
        maxBytes: z
          .number()
          .int()
          .min(1024 * 1024)
          .default(DEFAULT_AUDIT_MAX_BYTES)
          .describe(
            'cap on the audit database and its WAL in this state directory, in bytes; the oldest finished rows are pruned to stay under it (see docs/audit.md); keep it below the free space there',
          ),
      }),
    )
      .default({ synchronous: 'FULL', maxBytes: DEFAULT_AUDIT_MAX_BYTES })
      .describe('audit log settings'),
    daemon: section(() =>
      z.strictObject({
        group: z
          .string()
          .regex(/^[a-z_][a-z0-9_-]*\$?$/, 'must be a group name')
          .optional()
          .describe(
            'group whose members may use the daemon socket (mode 0660); they can do what the daemon API allows and nothing more (omitted = root only, mode 0600)',
          ),
        guestUser: z
          .string()
          .default('nobody')
          .describe(
            'the user the guests of daemon sandboxes run as (NAME, UID or UID:GID); API callers cannot choose another',
          ),
      }),
    )
      .default({ guestUser: 'nobody' })
      .describe('`airlock daemon`: who may use its socket and who its guests run as (see docs/daemon.md)'),
  })
  .describe('airlock configuration file');

/** The config after parsing, with defaults filled in. */
export type AirlockConfig = z.output<typeof ConfigSchema>;
/** The config as written in the file. */
export type AirlockConfigInput = z.input<typeof ConfigSchema>;
export type CustomServiceConfig = AirlockConfig['services'][number];
export type CustomProfileConfig = AirlockConfig['profiles'][string];
