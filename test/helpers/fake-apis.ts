import type { UpstreamHandler } from './fake-upstream.js';

/** Canned answers in each API's real shape, chosen by the real hostname and path. */
export const fakeApis: UpstreamHandler = (req, res) => {
  const host = (req.headers.host ?? '').split(':')[0];
  const path = req.url ?? '';
  const json = (body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (host === 'api.openai.com' && path === '/v1/models') {
    return json({
      object: 'list',
      data: [{ id: 'gpt-test', object: 'model', created: 0, owned_by: 'airlock' }],
    });
  }
  if (host === 'api.anthropic.com' && path === '/v1/messages') {
    return json({
      id: 'msg_test', type: 'message', role: 'assistant', model: 'claude-test',
      content: [{ type: 'text', text: 'hi from anthropic' }],
      stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 4 },
    }); // prettier-ignore
  }
  if (host === 'generativelanguage.googleapis.com' && path === '/v1beta/models/gemini-test:generateContent') {
    return json({ candidates: [{ content: { role: 'model', parts: [{ text: 'hi from gemini' }] } }] });
  }
  if (host === 'router.huggingface.co' && path === '/v1/chat/completions') {
    return json({
      id: 'c1', object: 'chat.completion', created: 0, model: 'test/model',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi from hf' } }],
    }); // prettier-ignore
  }
  if (host === 'api.github.com' && path === '/user') return json({ login: 'airlock-bot', id: 1 });
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: `fake upstream has no ${req.method} ${host}${path}` }));
};
