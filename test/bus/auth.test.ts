import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { assertProblem, businessType, call, openTestBus, orderEvent, type TestBus } from './bus-helpers.js';

describe('authentication with JWTs and anonymous modes', () => {
  let jwks: Server;
  let t: TestBus;
  let sign: (
    claims: Record<string, unknown>,
    o?: { expired?: boolean; audience?: string; foreign?: boolean },
  ) => Promise<string>;

  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const other = await generateKeyPair('RS256');
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    t = await openTestBus({
      bus: { auth: { anonymous: 'never', jwks: { url, issuer: 'https://auth.test/', audience: 'sluice' } } },
    });
    sign = (claims, o = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer('https://auth.test/')
        .setAudience(o.audience ?? 'sluice')
        .setIssuedAt()
        .setExpirationTime(o.expired ? Math.floor(Date.now() / 1000) - 60 : '10m')
        .sign(o.foreign ? other.privateKey : privateKey);
  });
  after(async () => {
    await t?.close();
    await new Promise((resolve) => jwks.close(resolve));
  });

  test('scopes and subjects come from verified JWTs', async () => {
    const admin = await sign({
      sub: 'jane',
      scope: 'nakadi.event_type.write nakadi.event_stream.write nakadi.event_stream.read',
    });
    const authz = {
      admins: [{ data_type: 'user', value: 'jane' }],
      readers: [{ data_type: '*', value: '*' }],
      writers: [{ data_type: 'user', value: 'jane' }],
    };
    const created = await call(t, 'POST', '/event-types', {
      token: admin,
      body: businessType('jwt.orders', { authorization: authz }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    assert.equal(
      (await call(t, 'POST', '/event-types/jwt.orders/events', { token: admin, body: [orderEvent('1')] }))
        .status,
      200,
    );

    const bob = await sign({ sub: 'bob', scope: ['nakadi.event_stream.write', 'nakadi.event_stream.read'] });
    await assertProblem(
      await call(t, 'POST', '/event-types/jwt.orders/events', { token: bob, body: [orderEvent('2')] }),
      403,
      /WRITE/,
    );
    const read = await call(t, 'GET', '/event-types/jwt.orders/partitions', { token: bob });
    assert.equal(read.status, 200, 'the wildcard reader list admits everyone');
    const noScope = await sign({ sub: 'jane' });
    await assertProblem(
      await call(t, 'POST', '/event-types/jwt.orders/events', { token: noScope, body: [orderEvent('3')] }),
      403,
      /scope/,
    );
  });

  test('expired, foreign, wrong-audience and malformed tokens are 401', async () => {
    const claims = { sub: 'jane', scope: 'nakadi.event_stream.read' };
    for (const token of [
      await sign(claims, { expired: true }),
      await sign(claims, { foreign: true }),
      await sign(claims, { audience: 'someone-else' }),
      'a.b.c',
      'not-a-jwt-and-not-a-known-token',
    ]) {
      await assertProblem(await call(t, 'GET', '/event-types/jwt.orders/partitions', { token }), 401);
    }
    await assertProblem(
      await call(t, 'GET', '/event-types', { headers: { authorization: 'Basic abc' } }),
      401,
      /Bearer/,
    );
    await assertProblem(await call(t, 'GET', '/event-types'), 401);
  });

  test('anonymous access: always, never, or from loopback only', async () => {
    const always = await openTestBus({ bus: { auth: { anonymous: 'always' } } });
    try {
      assert.equal(
        (await call(always, 'POST', '/event-types', { body: businessType('anon.et') })).status,
        201,
      );
    } finally {
      await always.close();
    }
    const loopback = await openTestBus({ bus: { auth: { anonymous: 'loopback' } } });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: loopback.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    try {
      // app.request has no socket: not known to be loopback.
      await assertProblem(await call(loopback, 'GET', '/event-types'), 401);
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/event-types`);
      assert.equal(res.status, 200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await loopback.close();
    }
  });
});
