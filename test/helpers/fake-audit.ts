import type {
  AuditEntry,
  AuditSink,
  DeniedRequest,
  RequestIntent,
  RequestOutcome,
} from '../../src/audit/sink.js';

export interface FakeAudit {
  sink: AuditSink;
  intents: RequestIntent[];
  outcomes: RequestOutcome[];
  denials: DeniedRequest[];
  /** make the next `intent` calls reject (as a failed commit would) */
  failIntents(fail: boolean): void;
  /** resolves once `count` outcomes were recorded */
  outcomesReached(count: number): Promise<RequestOutcome[]>;
}

/** An in-memory AuditSink that records every call (the real one lives in src/audit). */
export function createFakeAudit(): FakeAudit {
  const intents: RequestIntent[] = [];
  const outcomes: RequestOutcome[] = [];
  const denials: DeniedRequest[] = [];
  const waiters: (() => void)[] = [];
  let failing = false;
  let nextId = 1;
  const sink: AuditSink = {
    intent(request) {
      if (failing) return Promise.reject(new Error('disk I/O error (fake)'));
      intents.push(request);
      let done = false;
      const entry: AuditEntry = {
        id: nextId++,
        finish(outcome) {
          if (done) throw new Error('finish called twice');
          done = true;
          outcomes.push(outcome);
          waiters.splice(0).forEach((w) => w());
        },
      };
      return Promise.resolve(entry);
    },
    denied(request) {
      denials.push(request);
    },
  };
  return {
    sink,
    intents,
    outcomes,
    denials,
    failIntents: (fail) => (failing = fail),
    async outcomesReached(count) {
      while (outcomes.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return outcomes;
    },
  };
}
