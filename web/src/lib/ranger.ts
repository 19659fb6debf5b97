import { useEffect, useLayoutEffect, useRef, useState } from 'react';

/**
 * A Ranger websocket (Rango's protocol): every frame is `{"<stream>": payload}`; streams
 * are added and removed with `{"event":"subscribe"|"unsubscribe","streams":[…]}`.
 *
 * One connection per endpoint is shared by every component. It reconnects by itself with
 * a growing, jittered delay (a restarted server, a 1012 "resync", a dropped network) and
 * subscribes again to every stream that still has listeners; listeners learn of each new
 * connection through `onOpen`, so state built from increments (the order book) starts over
 * from the snapshot the new subscription sends.
 */
export type Listener = (payload: unknown, key: string) => void;
export type ConnectionState = 'connecting' | 'open' | 'closed';

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
}

export class RangerConnection {
  private socket: SocketLike | null = null;
  /** Listeners by message key (a stream's name, or e.g. `<market>.ob-snap`). */
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Subscribed streams with how many holders each has. */
  private readonly streams = new Map<string, number>();
  private readonly openListeners = new Set<() => void>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private retries = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  state: ConnectionState = 'closed';

  constructor(
    private readonly path: string,
    private readonly makeSocket: (url: string) => SocketLike = (url) => new WebSocket(url),
  ) {}

  /** The absolute ws:// or wss:// address of this page's origin. */
  private url(): string {
    const { protocol, host } = window.location;
    return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}${this.path}`;
  }

  /**
   * Holds `stream` and calls `listener` for frames under `stream` and under each of
   * `alsoKeys` (an order book's increments come on `<m>.ob-inc`, its snapshot on
   * `<m>.ob-snap`). Returns the function that lets go of both.
   */
  subscribe(stream: string, listener: Listener, alsoKeys: readonly string[] = []): () => void {
    const keys = [stream, ...alsoKeys];
    for (const key of keys) {
      let set = this.listeners.get(key);
      if (!set) this.listeners.set(key, (set = new Set()));
      set.add(listener);
    }
    const holders = this.streams.get(stream) ?? 0;
    this.streams.set(stream, holders + 1);
    if (holders === 0) this.sendEvent('subscribe', [stream]);
    this.start();
    return () => {
      for (const key of keys) this.listeners.get(key)?.delete(listener);
      const left = (this.streams.get(stream) ?? 1) - 1;
      if (left > 0) {
        this.streams.set(stream, left);
      } else {
        this.streams.delete(stream);
        this.sendEvent('unsubscribe', [stream]);
      }
    };
  }

  /** Subscribes again to `stream`: the server answers with a fresh snapshot (book gap). */
  resubscribe(stream: string): void {
    this.sendEvent('unsubscribe', [stream]);
    this.sendEvent('subscribe', [stream]);
  }

  /** Called on every (re)connection, after the streams are subscribed again. */
  onOpen(listener: () => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Opens the connection (done by the first subscription). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Closes for good (sign-out): no reconnection until `start` again. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'bye');
    this.setState('closed');
  }

  /** Drops the connection and reconnects at once (after sign-in: a new cookie). */
  restart(): void {
    this.stop();
    this.retries = 0;
    if (this.streams.size > 0) this.start();
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private connect(): void {
    this.setState('connecting');
    const socket = this.makeSocket(this.url());
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.retries = 0;
      this.setState('open');
      if (this.streams.size > 0) this.sendEvent('subscribe', [...this.streams.keys()]);
      for (const listener of this.openListeners) listener();
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      this.dispatch(event.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setState('closed');
      if (!this.stopped) this.scheduleReconnect();
    };
    socket.onerror = () => {
      // onclose follows and reconnects.
    };
  }

  private scheduleReconnect(): void {
    const ceiling = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.retries);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.retries += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  /** Delivers one frame to the listeners of each of its keys. */
  dispatch(text: string): void {
    if (text === 'pong') return;
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    for (const [key, payload] of Object.entries(frame)) {
      const set = this.listeners.get(key);
      if (!set) continue;
      for (const listener of [...set]) listener(payload, key);
    }
  }

  private sendEvent(event: 'subscribe' | 'unsubscribe', streams: string[]): void {
    const socket = this.socket;
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({ event, streams }));
  }
}

/** Public streams: books, trades, k-lines, tickers. */
export const publicRanger = new RangerConnection('/api/v2/ranger/public');

/**
 * The member's streams (`order`, `trade`, `balance`, `deposit`, `withdraw`): the upgrade
 * carries the session cookie. `SessionProvider`'s owner restarts it when the member changes.
 */
export const privateRanger = new RangerConnection('/api/v2/ranger/private');

/**
 * Calls `onMessage` for every frame of `stream` (and `alsoKeys`) while mounted. The
 * handler may change between renders without resubscribing. `stream` null: nothing.
 */
export function useRangerStream(
  connection: RangerConnection,
  stream: string | null,
  onMessage: Listener,
  alsoKeys: readonly string[] = [],
): void {
  const handler = useRef(onMessage);
  useLayoutEffect(() => {
    handler.current = onMessage;
  });
  const keys = alsoKeys.join(',');
  useEffect(() => {
    if (stream === null) return;
    return connection.subscribe(
      stream,
      (payload, key) => handler.current(payload, key),
      keys ? keys.split(',') : [],
    );
  }, [connection, stream, keys]);
}

/** The connection's state, for a "reconnecting…" badge. */
export function useConnectionState(connection: RangerConnection): ConnectionState {
  const [state, setState] = useState<ConnectionState>(connection.state);
  useEffect(() => connection.onState(setState), [connection]);
  return state;
}
