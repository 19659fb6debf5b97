import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import { publicRanger, useRangerStream } from '../../../lib/ranger';
import { type BookAction, type BookState, bookReducer, initialBook } from './orderBook';

/** How long a stale book waits for its new snapshot before asking again. */
const RESYNC_RETRY_MS = 5_000;
/** A hidden tab gets no animation frames: the book still catches up this often. */
const FALLBACK_FLUSH_MS = 100;

/**
 * The live book of `market`, kept outside React and drawn at most once per animation
 * frame (at 50 increments a second, one render per frame, not per message). A gap makes
 * the reducer mark the book stale and this hook subscribe again for a new snapshot; a new
 * connection starts the book over from the snapshot its subscription brings.
 */
export function useOrderBook(market: string): BookState {
  const stream = `${market}.ob-inc`;
  const [book, setBook] = useState<BookState>(initialBook);
  const current = useRef<BookState>(initialBook);
  const pending = useRef<{ frame: number; timer: ReturnType<typeof setTimeout> } | null>(null);

  const dispatch = useRef<(action: BookAction) => void>(() => {});
  useLayoutEffect(() => {
    const flush = () => {
      const scheduled = pending.current;
      if (!scheduled) return;
      cancelAnimationFrame(scheduled.frame);
      clearTimeout(scheduled.timer);
      pending.current = null;
      // Inside the frame callback: the DOM changes before this frame is painted.
      flushSync(() => setBook(current.current));
    };
    dispatch.current = (action) => {
      const before = current.current;
      const after = bookReducer(before, action);
      if (after === before) return;
      current.current = after;
      if (after.status === 'stale' && before.status !== 'stale') publicRanger.resubscribe(stream);
      if (!pending.current) {
        pending.current = {
          frame: requestAnimationFrame(flush),
          timer: setTimeout(flush, FALLBACK_FLUSH_MS),
        };
      }
    };
    return () => {
      const scheduled = pending.current;
      if (scheduled) {
        cancelAnimationFrame(scheduled.frame);
        clearTimeout(scheduled.timer);
      }
      pending.current = null;
    };
  }, [stream]);

  useRangerStream(
    publicRanger,
    stream,
    (payload, key) => dispatch.current({ type: key === stream ? 'increment' : 'snapshot', payload }),
    [`${market}.ob-snap`],
  );

  useEffect(() => publicRanger.onOpen(() => dispatch.current({ type: 'reset' })), []);

  // The new snapshot did not come (the request was lost with a connection): ask again.
  useEffect(() => {
    if (book.status !== 'stale') return;
    const timer = setInterval(() => publicRanger.resubscribe(stream), RESYNC_RETRY_MS);
    return () => clearInterval(timer);
  }, [book.status, stream]);

  return book;
}
