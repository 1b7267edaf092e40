/**
 * TLS for the HTTP and PostgreSQL-wire listeners: certificate and key from files named in
 * sluice.yaml (`server.tls`), and a self-signed pair for development.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Project, projectPath } from '../config/index.js';
import { BackendError, ConfigError, errorMessage } from '../util/index.js';

/** PEM certificate chain and private key. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** Read the certificate and key. @throws ConfigError naming the file that cannot be read or is not PEM */
export async function loadTls(o: { cert: string; key: string }): Promise<TlsMaterial> {
  const read = async (path: string, what: string, marker: RegExp) => {
    let text: Buffer;
    try {
      text = await readFile(path);
    } catch (err) {
      throw new ConfigError(
        path,
        undefined,
        undefined,
        `server.tls.${what}: cannot read it: ${errorMessage(err)}`,
      );
    }
    if (!marker.test(text.toString('latin1')))
      throw new ConfigError(
        path,
        undefined,
        undefined,
        `server.tls.${what}: not a PEM ${what === 'cert' ? 'certificate' : 'private key'}`,
      );
    return text;
  };
  return {
    cert: await read(o.cert, 'cert', /-----BEGIN CERTIFICATE-----/),
    key: await read(o.key, 'key', /-----BEGIN (EC |RSA |ENCRYPTED )?PRIVATE KEY-----/),
  };
}

/**
 * Write a self-signed certificate for `hosts` (DNS names or IPs) into `dir` with openssl:
 * for development and tests only — clients must be told to trust it.
 * @throws BackendError when openssl is missing or fails
 */
export async function createSelfSigned(
  dir: string,
  hosts: readonly string[] = ['localhost', '127.0.0.1', '::1'],
  days = 365,
): Promise<{ cert: string; key: string }> {
  await mkdir(dir, { recursive: true });
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      String(days),
      '-subj',
      `/CN=${hosts[0] ?? 'localhost'}`,
      '-addext',
      `subjectAltName=${san}`,
      '-keyout',
      key,
      '-out',
      cert,
    ]);
  } catch (err) {
    throw new BackendError(
      `cannot create a self-signed certificate: ${errorMessage(err)}`,
      'install openssl, or give server.tls.cert and server.tls.key from your own CA',
    );
  }
  return { cert, key };
}

/**
 * The certificate of `server.tls`: the configured files, or a self-signed pair kept in the
 * data directory (made once, reused on restart). Undefined when TLS is not configured.
 * @throws ConfigError for unreadable files; BackendError when openssl cannot make a certificate
 */
export async function serverTls(project: Project): Promise<TlsMaterial | undefined> {
  const tls = project.config.server.tls;
  if (!tls) return undefined;
  if (tls.cert && tls.key)
    return loadTls({ cert: projectPath(project.dir, tls.cert), key: projectPath(project.dir, tls.key) });
  const dir = join(project.dataDir, 'tls');
  const files = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  if (!existsSync(files.cert) || !existsSync(files.key)) await createSelfSigned(dir);
  return loadTls(files);
}
