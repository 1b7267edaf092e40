import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { openTestProject, type TestProject } from './helpers.js';

interface Received {
  path: string;
  body: Record<string, unknown>;
}

async function waitUntil(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('alerts', () => {
  const received: Received[] = [];
  const mails: string[] = [];
  let flaky = 0;
  let http: Server;
  let smtp: SMTPServer;
  let base: string;
  let smtpPort: number;
  let p: TestProject;

  before(async () => {
    http = createServer((req, res) => {
      let text = '';
      req.on('data', (d) => (text += d));
      req.on('end', () => {
        if (req.url === '/flaky' && flaky++ === 0) {
          res.writeHead(500).end();
          return;
        }
        received.push({ path: req.url ?? '', body: JSON.parse(text) });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, done) {
        let text = '';
        stream.on('data', (d) => (text += d));
        stream.on('end', () => {
          mails.push(text);
          done();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as AddressInfo).port;
    process.env.HOOK = base;
    p = await openTestProject(
      {
        'pipelines/breaks.yaml': `name: breaks
alerts:
  - { on: [failure, retry], webhook: "\${HOOK}/hook" }
  - { on: failure, slack: "\${HOOK}/slack" }
  - { on: failure, email: [oncall@example.com] }
tasks:
  - id: bad
    retries: { max: 1, initial: 10ms }
    run: { command: "echo boom >&2; exit 1" }
`,
        'pipelines/works.yaml': `name: works
sla: 100ms
alerts:
  - { on: [success, sla_miss], webhook: "\${HOOK}/flaky" }
tasks: [{ id: ok, noop: { sleep: 500ms } }]
`,
      },
      {
        sluiceYaml: `orchestrator:\n  pollMs: 50\n  smtp: { host: 127.0.0.1, port: ${smtpPort}, from: sluice@example.com }\n`,
      },
    );
    await p.orch.startWorker();
  });
  after(async () => {
    delete process.env.HOOK;
    await p?.close();
    await new Promise((r) => http?.close(r));
    await new Promise((r) => smtp?.close(() => r(undefined)));
  });

  test('a failing task sends retry and failure alerts by webhook, Slack and e-mail', async () => {
    const run = await p.orch.trigger('breaks');
    assert.equal((await p.orch.waitForRun(run.runId)).state, 'failed');
    await waitUntil(() => received.filter((r) => r.path !== '/flaky').length >= 3 && mails.length >= 1);
    const hook = received.filter((r) => r.path === '/hook').map((r) => r.body);
    assert.deepEqual(
      hook.map((b) => [b.event, b.taskId, b.attempt]),
      [
        ['retry', 'bad', 1],
        ['failure', 'bad', 2],
      ],
    );
    assert.equal(hook[1]?.runId, run.runId);
    assert.match(String(hook[1]?.error), /exited with code 1/);
    const slack = received.filter((r) => r.path === '/slack').map((r) => r.body);
    assert.equal(slack.length, 1);
    assert.deepEqual(Object.keys(slack[0]!), ['text']);
    assert.match(String(slack[0]!.text), /task bad of breaks failed/);
    assert.match(mails[0]!, /To: oncall@example\.com/);
    assert.match(mails[0]!, /task bad of breaks failed/);
  });

  test('a receiver that fails is retried, never failing the run; SLA misses alert once', async () => {
    const run = await p.orch.trigger('works');
    await new Promise((r) => setTimeout(r, 200));
    await p.orch.scheduler().sweep();
    await p.orch.scheduler().sweep();
    assert.equal((await p.orch.waitForRun(run.runId)).state, 'success');
    await waitUntil(() => received.filter((r) => r.path === '/flaky').length >= 2);
    const events = received.filter((r) => r.path === '/flaky').map((r) => r.body.event);
    assert.deepEqual(events.sort(), ['sla_miss', 'success']);
    assert.ok(flaky >= 3, 'the first delivery was refused and retried');
  });
});
