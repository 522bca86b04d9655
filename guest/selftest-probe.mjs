// `airlock doctor --selftest`: the escape attempts, run as the guest inside a real sandbox.
// Standalone (Node built-ins only): it runs with the host's node binary shown read-only in
// the guest's view. Reads its targets as JSON from argv[2]; prints one JSON object of
// results { name: { ok, detail } }. Every attempt has a short time-out.
import { spawn, spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';

const targets = JSON.parse(process.argv[2]);

function tcp(options) {
  return new Promise((resolve) => {
    const socket = connect(options);
    const done = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(2000, () => done('ETIMEDOUT'));
    socket.once('connect', () => done('CONNECTED'));
    socket.once('error', (e) => done(e.code));
  });
}

const result = (ok, detail) => ({ ok, detail });

async function network() {
  const proxy = await tcp({ host: targets.gateway, port: targets.proxyPort });
  const attempts = {
    'gateway:22': await tcp({ host: targets.gateway, port: 22 }),
    [`${targets.hostAddress}:443`]: await tcp({ host: targets.hostAddress, port: 443 }),
    '203.0.113.1:443': await tcp({ host: '203.0.113.1', port: 443 }),
    '[2001:db8::1]:443': await tcp({ host: '2001:db8::1', port: 443 }),
  };
  const through = Object.entries(attempts).filter(([, r]) => r === 'CONNECTED');
  const detail = Object.entries(attempts)
    .map(([t, r]) => `${t} ${r}`)
    .join(', ');
  return result(proxy === 'CONNECTED' && through.length === 0, `proxy port ${proxy}; ${detail}`);
}

async function dns() {
  try {
    const found = await Promise.race([
      lookup('example.com'),
      new Promise((_, reject) =>
        setTimeout(() => reject(Object.assign(new Error(), { code: 'ETIMEDOUT' })), 5000),
      ),
    ]);
    return result(false, `example.com resolved to ${found.address}`);
  } catch (e) {
    return result(true, `lookup of example.com failed (${e.code})`);
  }
}

async function unixSocket() {
  const r = await tcp({ path: targets.socketPath });
  return result(r !== 'CONNECTED', `${targets.socketPath}: ${r}`);
}

function hostFile() {
  try {
    readFileSync(targets.secretFile);
    return result(false, `read ${targets.secretFile}`);
  } catch (e) {
    return result(true, `${targets.secretFile}: ${e.code}`);
  }
}

function scratch() {
  const written = [];
  for (const dir of ['/tmp', '/dev/shm']) {
    writeFileSync(`${dir}/${targets.scratchName}`, 'guest\n');
    written.push(`${dir}/${targets.scratchName}`);
  }
  return result(true, `wrote ${written.join(' ')}`); // the host checks they are not its own
}

function procView() {
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  const init = readFileSync('/proc/1/cmdline', 'latin1').split('\0')[0];
  const status = readFileSync('/proc/self/status', 'utf8');
  const capEff = /^CapEff:\s*(\w+)$/m.exec(status)?.[1];
  const nnp = /^NoNewPrivs:\s*(\d)$/m.exec(status)?.[1];
  const ok = pids.length <= 10 && /bwrap$/.test(init) && /^0+$/.test(capEff ?? '') && nnp === '1';
  return result(ok, `${pids.length} processes visible, PID 1 ${init}, CapEff ${capEff}, NoNewPrivs ${nnp}`);
}

function keyring() {
  if (!existsSync('/usr/bin/keyctl'))
    return result(true, 'keyctl not installed; the filter is checked by the test suite');
  const r = spawnSync('/usr/bin/keyctl', ['show', '@u'], { encoding: 'utf8' });
  return result(
    r.status !== 0 && /not permitted/i.test(r.stderr),
    (r.stderr || r.stdout).trim().split('\n')[0],
  );
}

function memory() {
  const mb = targets.memoryMb * 2;
  const r = spawnSync(process.execPath, ['-e', `Buffer.alloc(${mb} * 2 ** 20, 1); console.log('held')`], {
    encoding: 'utf8',
  });
  return result(
    r.signal === 'SIGKILL',
    `${mb} MB in a ${targets.memoryMb} MB sandbox: ${r.signal ?? `exit ${r.status}`}`,
  );
}

async function pids() {
  const children = [];
  let refused = 0;
  for (let i = 0; i < targets.pids * 2; i++) {
    try {
      const child = spawn('/bin/sleep', ['5'], { stdio: 'ignore' });
      child.on('error', () => refused++);
      children.push(child);
    } catch {
      refused++;
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const child of children) child.kill('SIGKILL');
  return result(refused > 0, `${targets.pids * 2} processes asked for, ${refused} refused`);
}

const results = {
  network: await network(),
  dns: await dns(),
  'unix socket': await unixSocket(),
  'host file': hostFile(),
  scratch: scratch(),
  '/proc view': procView(),
  keyring: keyring(),
  memory: memory(),
  pids: await pids(),
};
process.stdout.write(JSON.stringify(results));
