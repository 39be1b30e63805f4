/**
 * A listing one store call ahead: as soon as a call comes back truncated, the next one (from its
 * last key, for as many keys) is asked for, so the store lists it while the caller works on this
 * one. A call that asks for anything else drops the call ahead and is made as asked.
 */
import type { ListPage } from '../adapters/object-store.ts';
import type { OutputStore } from './missing-outputs.ts';

export function listingAhead(store: OutputStore): OutputStore {
  let ahead: { keyPrefix: string; startAfter: string; maxKeys: number; page: Promise<ListPage> } | null =
    null;
  return {
    async listPage(keyPrefix, startAfter, maxKeys) {
      const asked =
        ahead && ahead.keyPrefix === keyPrefix && ahead.startAfter === startAfter && ahead.maxKeys === maxKeys
          ? ahead.page
          : store.listPage(keyPrefix, startAfter, maxKeys);
      ahead = null;
      const page = await asked;
      if (page.isTruncated && page.lastKey !== null) {
        const next = store.listPage(keyPrefix, page.lastKey, maxKeys);
        // dropped unread when the caller goes elsewhere: no unhandled rejection
        next.catch(() => {});
        ahead = { keyPrefix, startAfter: page.lastKey, maxKeys, page: next };
      }
      return page;
    },
  };
}
