/** S3 lists keys in the byte order of their UTF-8: compare them the same way (not as UTF-16 strings). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
