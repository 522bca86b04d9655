// Two sandboxes in one process, driven from code. Run as root (sandboxes need it):
//   sudo node examples/two-sandboxes.mjs
// It sends nothing to the internet: the one request it makes is refused by the proxy.
import { Engine } from 'airlock';

const engine = await Engine.open({
  // the real key lives in this process only; set OPENAI_API_KEY to use yours
  invokingEnv: { ...process.env, OPENAI_API_KEY: process.env.OPENAI_API_KEY ?? 'sk-example-not-a-real-key' },
  home: process.env.AIRLOCK_HOME,
});
try {
  const agent = await engine.create({
    name: 'example-agent',
    profiles: ['llm-only'],
    credentials: ['OPENAI_API_KEY'],
  });
  const tool = await engine.create({ name: 'example-tool' });

  // the guest sees a placeholder and a base URL on its own gateway, never the key
  const env = await agent.exec(['sh', '-c', 'echo "$OPENAI_API_KEY $OPENAI_BASE_URL"']);
  console.log(`agent sees: ${env.stdout.trim()}`);

  // a service this sandbox was not granted: the proxy refuses it, and records it
  const call = await tool.exec([
    process.execPath,
    '-e',
    'fetch(process.env.AIRLOCK_PROXY_URL + "/proxy/openai/v1/models").then((r) => process.exit(r.status === 403 ? 0 : 1))',
  ]);
  console.log(`tool's call refused as expected: ${call.exitCode === 0}`);

  // exit statuses pass through; commands run side by side
  const [ok, failed] = await Promise.all([agent.exec(['true']), tool.exec(['sh', '-c', 'exit 3'])]);
  console.log(`exit codes: ${ok.exitCode} ${failed.exitCode}`);

  for (const row of await engine.requests({ sandbox: 'example-tool' })) {
    console.log(`audit: ${row.method} ${row.path} → ${row.status} ${row.decision} (${row.reason})`);
  }
  await tool.close();
  console.log(
    `live sandboxes: ${engine
      .list()
      .map((s) => s.name)
      .join(', ')}`,
  );
} finally {
  await engine.close(); // removes every sandbox it still has
}
