/**
 * The certificates of a cluster with mTLS on its frontend, made with openssl at start: a CA, the
 * frontend's certificate (for localhost and 127.0.0.1) and a client certificate, all signed by the CA.
 * EC P-256 keys: made in milliseconds, read by Go's TLS, rustls (the worker) and Node's TLS.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface TemporalCerts {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

const DAYS = '825';

async function openssl(args: string[]): Promise<void> {
  await execFileAsync('openssl', args).catch((error: Error) => {
    throw new Error(`openssl ${args[0]} failed (is openssl on PATH?): ${error.message}`);
  });
}

async function signedCertificate(
  certs: Pick<TemporalCerts, 'dir' | 'caCert' | 'caKey'>,
  name: string,
  subject: string,
  extensions: string,
): Promise<{ cert: string; key: string }> {
  const key = path.join(certs.dir, `${name}.key`);
  const csr = path.join(certs.dir, `${name}.csr`);
  const cert = path.join(certs.dir, `${name}.pem`);
  const ext = path.join(certs.dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  await openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    certs.caCert,
    '-CAkey',
    certs.caKey,
    '-CAcreateserial',
    '-days',
    DAYS,
    '-sha256',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return { cert, key };
}

/** Makes a CA, a server and a client certificate in dir (mode 0700). */
export async function makeTemporalCerts(dir: string): Promise<TemporalCerts> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.pem');
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', caKey]);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    caKey,
    '-sha256',
    '-days',
    DAYS,
    '-subj',
    '/CN=execution-replay dev CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    caCert,
  ]);
  const base = { dir, caCert, caKey };
  const server = await signedCertificate(
    base,
    'frontend',
    '/CN=localhost',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
  );
  const client = await signedCertificate(
    base,
    'client',
    '/CN=execution-replay',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
  );
  return {
    ...base,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
  };
}
