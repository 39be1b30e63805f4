/**
 * A listing that runs ahead of its caller by up to `depth` store calls: each call that comes back
 * truncated asks for the next one (from its last key, for as many keys) while fewer than `depth`
 * wait unread, so the store goes on listing while the caller works on what it has. A call that asks
 * for anything else drops the calls ahead and is made as asked.
 */
import type { ListPage } from '../adapters/object-store.ts';

/** The store call a listing makes: one page of keys under a prefix, after a key. */
export interface KeyListing {
  listPage(keyPrefix: string, startAfter: string | null, maxKeys: number): Promise<ListPage>;
}

interface CallAhead {
  startAfter: string;
  page: Promise<ListPage>;
}

export function listingAhead(store: KeyListing, depth = 1): KeyListing {
  /** The calls made ahead, in order; each starts where the one before it ended. */
  let ahead: CallAhead[] = [];
  let keyPrefix = '';
  let maxKeys = 0;
  /** Bumped when the calls ahead are dropped: a call of an older chain asks for no more. */
  let chain = 0;

  /** Once `call` is back, asks for the one after it, if it is still the last and there is room. */
  const follow = (call: CallAhead, ofChain: number) => {
    call.page.then(
      (listed) => {
        const last = ahead.at(-1) === call;
        if (ofChain !== chain || !last || ahead.length >= depth || !listed.isTruncated) return;
        if (listed.lastKey !== null) askAfter(listed.lastKey);
      },
      () => {}, // the caller that reads it gets the failure
    );
  };
  const askAfter = (startAfter: string) => {
    const page = store.listPage(keyPrefix, startAfter, maxKeys);
    page.catch(() => {}); // dropped unread when the caller goes elsewhere: no unhandled rejection
    const call = { startAfter, page };
    ahead.push(call);
    follow(call, chain);
  };

  return {
    async listPage(prefix, startAfter, keys) {
      const next = ahead[0];
      let page: Promise<ListPage>;
      if (next && prefix === keyPrefix && keys === maxKeys && startAfter === next.startAfter) {
        ahead.shift();
        page = next.page;
        // room again: the chain goes on from the last call ahead, once it is back
        const last = ahead.at(-1);
        if (last) follow(last, chain);
      } else {
        chain += 1;
        ahead = [];
        keyPrefix = prefix;
        maxKeys = keys;
        page = store.listPage(prefix, startAfter, keys);
      }
      const listed = await page;
      if (ahead.length === 0 && listed.isTruncated && listed.lastKey !== null) askAfter(listed.lastKey);
      return listed;
    },
  };
}
