import type { SandboxPolicy, SandboxPolicyOptions } from '../../src/policy/index.js';
import { policyWith } from './policy.js';
import { startBench, type Bench, type BenchOptions } from './proxy-bench.js';

export interface PolicyBench extends Bench {
  policy: SandboxPolicy;
}

/** The real proxy listening on 127.0.0.1, in front of the fake upstream, deciding with a real sandbox policy. */
export async function startPolicyBench(
  t: { after(fn: () => unknown): void },
  policyOptions: Omit<SandboxPolicyOptions, 'catalogue'>,
  benchOptions: Omit<BenchOptions, 'services'> = {},
): Promise<PolicyBench> {
  const policy = policyWith(policyOptions);
  const bench = await startBench(t, {
    ...benchOptions,
    services: [...policy.services.keys()],
    deps: { policy, ...benchOptions.deps },
  });
  return { ...bench, policy };
}

/** A request head as raw text: request line, `Host`, extra header lines, blank line. */
export function rawRequest(method: string, target: string, headers: string[] = []): string {
  return `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
}
