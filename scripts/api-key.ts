/**
 * `npm run api-key -- [name] [--read]`: makes a random API key, prints it once, and the
 * `name:sha256` line that API_KEYS or API_KEYS_FILE take. Only the line is configured; the key itself
 * goes to whoever calls the api, and is stored nowhere by the service.
 */
import { parseApiKeyEntry } from '../adapters/config.ts';
import { apiKeyLine, generateApiKey } from '../api/auth.ts';

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg.startsWith('-') && arg !== '--read');
const names = args.filter((arg) => !arg.startsWith('-'));
if (unknown.length > 0 || names.length > 1) {
  process.stderr.write('usage: npm run api-key -- [name] [--read]\n');
  process.exit(2);
}
const name = names[0] ?? `key-${new Date().toISOString().slice(0, 10)}`;
const scope = args.includes('--read') ? 'read' : 'write';
const key = generateApiKey();
const line = apiKeyLine(name, key, scope);
const parsed = parseApiKeyEntry(line);
if ('error' in parsed) {
  process.stderr.write(
    `api-key: the name ${parsed.error.replace(/^has a bad name \((.*)\)$/, 'must be $1')}\n`,
  );
  process.exit(2);
}

process.stdout.write(
  [
    `API key (${scope === 'read' ? 'read-only' : 'read and write'}; shown once, keep it in a secret store):`,
    '',
    `  ${key}`,
    '',
    'Configure the api with this line (its SHA-256, not the key): append it to API_KEYS',
    '(comma-separated) or as a line of API_KEYS_FILE, then restart the api:',
    '',
    `  ${line}`,
    '',
    `Clients send: Authorization: Bearer ${key.slice(0, 6)}...`,
    '',
  ].join('\n'),
);
