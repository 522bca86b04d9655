import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listIpv4Addresses } from '../src/net/ip.js';
import { createFakeInternet } from './helpers/fake-internet.js';
import { hostListener, needsRoot, probe, testSandbox, type ScanResult } from './helpers/sandbox-bench.js';

test(
  'every TCP port of every host address is refused, except its own gateway proxy port',
  { skip: needsRoot },
  async (t) => {
    const inet = await createFakeInternet();
    t.after(() => inet.close());
    const a = await testSandbox(t);
    const b = await testSandbox(t, { proxyPort: a.proxyPort });
    // Listeners a broken rule would expose: every address on a spare port, and b's own proxy port.
    await hostListener(t, a.gateway, a.proxyPort); // the positive control
    await hostListener(t, b.gateway, b.proxyPort);
    await hostListener(t, '0.0.0.0', 9091);
    await hostListener(t, '::', 9092);

    const v4 = (await listIpv4Addresses()).filter((addr) => !addr.startsWith('127.'));
    assert.ok(v4.includes(a.gateway) && v4.includes(b.gateway) && v4.includes(inet.hostV4));

    const scans = await probe<ScanResult>(
      t,
      a,
      v4.map((host) => ({ scan: host, from: 1, to: 65535 })),
    );
    for (const [i, host] of v4.entries()) {
      const s = scans[i]!;
      const expected = host === a.gateway ? [a.proxyPort] : [];
      assert.deepEqual(s.open, expected, `open ports on ${host}`);
      assert.equal(s.timedOut, 0, `ports of ${host} must be refused at once, not time out`);
    }
    // b's guest address: refused too (nothing is forwarded between sandboxes)
    const [toGuestB] = await probe(t, a, [{ tcp: b.guestAddress, port: 22 }]);
    assert.equal(toGuestB!.ok, false);
    const hits = inet.hits();
    assert.equal(hits.listener + hits.packets, 0);
  },
);
