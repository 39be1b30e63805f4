/** What Postgres can store as text or jsonb: the api refuses the rest, and no record holds it. */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a string can be stored as Postgres text or jsonb: no NUL, no lone surrogate. */
export function storable(text: string): boolean {
  return !text.includes('\0') && !LONE_SURROGATE.test(text);
}
