/**
 * The proxy under measurement, in a process of its own (so the load generator and the fake
 * upstream do not share its event loop). Reads its deps as one JSON line on stdin — secrets
 * never in argv — and prints `{"port":N}`. With `home` set it uses the real audit writer on
 * a database there (synchronous=FULL); otherwise an in-memory sink. With `intercept` set it
 * terminates CONNECTs to the credentials' hosts with a sandbox CA, and prints its certificate
 * too (`{"port":N,"caPem":"…"}`).
 */
import { createInterface } from 'node:readline';
import { createAuditWriter } from '../src/audit/writer.js';
import { createSandboxCa, startProxy, type ProxyDeps } from '../src/proxy/index.js';
import { openDatabase } from '../src/store/database.js';
import { createFakeAudit } from '../test/helpers/fake-audit.js';
import { grantAll } from '../test/helpers/policy.js';

type Input = Pick<ProxyDeps, 'sandboxId' | 'services' | 'credentials' | 'resolve' | 'upstreamCa'> & {
  home?: string;
  intercept?: boolean;
};

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const { intercept, ...input } = JSON.parse(String((await lines.next()).value)) as Input;
const audit = input.home
  ? createAuditWriter({ db: openDatabase({ home: input.home }) })
  : createFakeAudit().sink;
const ca = intercept ? await createSandboxCa({ label: 'bench' }) : undefined;
const proxy = await startProxy(
  {
    ...input,
    ...(ca ? { intercept: { ca } } : {}),
    policy: grantAll(input.services),
    audit,
    limits: { requestsPerSecond: 0 }, // the load generator far outruns a sandbox's default rate
    logger: { level: 'warn', stream: process.stderr },
  },
  { host: '127.0.0.1', port: 0 },
);
console.log(JSON.stringify({ port: proxy.address.port, ...(ca ? { caPem: ca.certPem } : {}) }));
for await (const _ of lines) {
  // stays up until stdin closes
}
await proxy.close();
