// Authenticated, encrypted links between guardians: TLS 1.3 over TCP, both ends pinned to the
// Ed25519 keys of the federation's configuration.
//
// Every guardian dials every other guardian and sends only on the connections it dialed; it
// receives only on the connections it accepted. So each direction of each pair has exactly one
// owner, there is no tie-breaking between two simultaneous connections, and a restart on either
// side heals by itself: the dialer redials with backoff, the acceptor replaces an older
// connection from the same guardian. A guardian is identified by the key its certificate
// carries (TLS's CertificateVerify proves possession), never by its source address.
//
// Once TLS is up, the dialer sends a hello {version u8, federation id, sender index u16}; the
// acceptor checks it and answers with its own hello, and only then does the dialer send the
// queued frames, so none is written into a connection that is about to be refused.
//
// Delivery is in order per connection and at most once: frames already handed to a socket that
// then dies are lost. Frames queued while a peer is unreachable wait, up to per-peer bounds.
// onPeerConnected lets the engine resend what it must.
import type * as net from "node:net";
import * as tls from "node:tls";
import { bytesEqual, toHex } from "@conclave/core-common";
import { ed25519PublicKeyOf } from "../node-crypto.js";
import { ed25519KeyOfCertificate, guardianCertificate, type GuardianCertificate } from "./certs.js";
import {
  encodeFrame,
  FRAME_BYTES_LIMIT,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameTooLargeError,
} from "./framing.js";

export const PEER_PROTOCOL_VERSION = 1;
export const FEDERATION_ID_BYTES = 32;
const PUBLIC_KEY_BYTES = 32;
const HELLO_BYTES = 1 + FEDERATION_ID_BYTES + 2;
const GUARDIAN_INDEX_MAX = 0xffff;
// Lets the kernel notice a peer that vanished without a FIN or RST on an idle link.
const TCP_KEEPALIVE_DELAY_MS = 10_000;

export interface PeerAddress {
  index: number;
  /** The guardian's Ed25519 identity key (32 bytes). */
  publicKey: Uint8Array;
  host: string;
  port: number;
}

export interface PeerLinksOptions {
  selfIndex: number;
  /** Own Ed25519 secret seed (32 bytes); must match the public key configured for selfIndex. */
  secretSeed: Uint8Array;
  /** All guardians, self included: self's entry gives the address to listen on. */
  peers: readonly PeerAddress[];
  /** 32 bytes; a guardian of another federation is refused. */
  federationId: Uint8Array;
  /** Largest frame payload sent or accepted. Default 16 MiB. */
  frameBytesMax?: number;
  /** Per peer, bytes (headers included) waiting to be written. Default 64 MiB. */
  sendQueueBytesMax?: number;
  /** Per peer, frames waiting to be written. Default 100_000. */
  sendQueueFramesMax?: number;
  /** First redial delay after a lost link. Default 50 ms. */
  reconnectDelayMsMin?: number;
  /** Cap of the exponential redial delay. Default 5_000 ms. */
  reconnectDelayMsMax?: number;
  /** From TCP connect to hello, on both ends. Default 5_000 ms. */
  handshakeTimeoutMs?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export interface PeerLinksCounters {
  framesSent: number;
  framesReceived: number;
  /** Payload bytes, headers excluded. */
  bytesSent: number;
  bytesReceived: number;
  framesDroppedQueueFull: number;
  /** Connections refused for a wrong or missing key, federation, version, index or hello. */
  handshakesRefused: number;
  /** Authenticated connections closed because the peer declared a frame over frameBytesMax. */
  oversizedFrames: number;
  /** Socket errors of any kind: refused dials, resets, TLS failures, garbage, timeouts. */
  connectionErrors: number;
  /** Redials after a lost or failed connection. */
  reconnects: number;
}

/** The configuration cannot work (a local mistake, not something a peer did): fail at startup. */
export class PeerLinksConfigError extends Error {
  override readonly name = "PeerLinksConfigError";
}

class HandshakeTimeoutError extends Error {
  override readonly name = "HandshakeTimeoutError";
}

type FrameHandler = (peer: number, frame: Uint8Array) => void;
type PeerHandler = (peer: number) => void;

/** FIFO of encoded frames; shift() is O(1) amortised (Array.prototype.shift is O(n)). */
class FrameQueue {
  private items: (Buffer | undefined)[] = [];
  private head = 0;
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(frame: Buffer): void {
    this.items.push(frame);
    this.bytes += frame.length;
  }

  shift(): Buffer | undefined {
    const frame = this.items[this.head];
    if (frame === undefined) return undefined;
    this.items[this.head] = undefined;
    this.head += 1;
    this.bytes -= frame.length;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return frame;
  }
}

interface OutboundLink {
  readonly peer: PeerAddress;
  readonly queue: FrameQueue;
  socket: tls.TLSSocket | undefined;
  /** Hellos exchanged: frames may be written. */
  ready: boolean;
  awaitingDrain: boolean;
  flushScheduled: boolean;
  failedAttempts: number;
  reconnectTimer: NodeJS.Timeout | undefined;
  handshakeTimer: NodeJS.Timeout | undefined;
}

function encodeHello(federationId: Uint8Array, index: number): Uint8Array {
  const hello = new Uint8Array(HELLO_BYTES);
  hello[0] = PEER_PROTOCOL_VERSION;
  hello.set(federationId, 1);
  new DataView(hello.buffer).setUint16(1 + FEDERATION_ID_BYTES, index);
  return hello;
}

/** Why a hello is refused, or undefined if it is the one expected. */
function helloRefusal(
  hello: Uint8Array,
  federationId: Uint8Array,
  expectedIndex: number,
): string | undefined {
  if (hello.length !== HELLO_BYTES) return `hello of ${hello.length} bytes, expected ${HELLO_BYTES}`;
  if (hello[0] !== PEER_PROTOCOL_VERSION)
    return `protocol version ${hello[0]}, expected ${PEER_PROTOCOL_VERSION}`;
  if (!bytesEqual(hello.subarray(1, 1 + FEDERATION_ID_BYTES), federationId)) return "another federation";
  const index = new DataView(hello.buffer, hello.byteOffset).getUint16(1 + FEDERATION_ID_BYTES);
  if (index !== expectedIndex) return `hello says guardian ${index}, its key is guardian ${expectedIndex}'s`;
  return undefined;
}

function positiveInteger(name: string, value: number | undefined, fallback: number, max = Infinity): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0 || v > max) {
    throw new PeerLinksConfigError(`${name} must be a positive integer${max < Infinity ? ` <= ${max}` : ""}`);
  }
  return v;
}

function destroyAndWait(socket: net.Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once("close", () => resolve());
    socket.destroy();
  });
}

export class PeerLinks {
  private readonly self: PeerAddress;
  private readonly federationId: Uint8Array;
  private readonly certificate: GuardianCertificate;
  private readonly frameBytesMax: number;
  private readonly sendQueueBytesMax: number;
  private readonly sendQueueFramesMax: number;
  private readonly reconnectDelayMsMin: number;
  private readonly reconnectDelayMsMax: number;
  private readonly handshakeTimeoutMs: number;
  private readonly logger: (event: string, fields: Record<string, unknown>) => void;

  private readonly indexByKey = new Map<string, number>();
  private readonly outbound = new Map<number, OutboundLink>();
  /** The current accepted (receiving) connection of each guardian. */
  private readonly inbound = new Map<number, tls.TLSSocket>();
  /** Every accepted TCP connection, from before the TLS handshake, so close() can end them all. */
  private readonly rawSockets = new Set<net.Socket>();
  /** Every accepted connection past TLS, greeted or not. */
  private readonly acceptedSockets = new Set<tls.TLSSocket>();
  private readonly frameHandlers: FrameHandler[] = [];
  private readonly connectedHandlers: PeerHandler[] = [];
  private readonly disconnectedHandlers: PeerHandler[] = [];
  private readonly stats: PeerLinksCounters = {
    framesSent: 0,
    framesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    framesDroppedQueueFull: 0,
    handshakesRefused: 0,
    oversizedFrames: 0,
    connectionErrors: 0,
    reconnects: 0,
  };

  private state: "new" | "started" | "closed" = "new";
  private server: tls.Server | undefined;
  private listening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: PeerLinksOptions) {
    this.frameBytesMax = positiveInteger(
      "frameBytesMax",
      options.frameBytesMax,
      16 * 1024 * 1024,
      FRAME_BYTES_LIMIT,
    );
    this.sendQueueBytesMax = positiveInteger(
      "sendQueueBytesMax",
      options.sendQueueBytesMax,
      64 * 1024 * 1024,
    );
    this.sendQueueFramesMax = positiveInteger("sendQueueFramesMax", options.sendQueueFramesMax, 100_000);
    this.reconnectDelayMsMin = positiveInteger("reconnectDelayMsMin", options.reconnectDelayMsMin, 50);
    this.reconnectDelayMsMax = positiveInteger("reconnectDelayMsMax", options.reconnectDelayMsMax, 5_000);
    this.handshakeTimeoutMs = positiveInteger("handshakeTimeoutMs", options.handshakeTimeoutMs, 5_000);
    if (this.reconnectDelayMsMax < this.reconnectDelayMsMin) {
      throw new PeerLinksConfigError("reconnectDelayMsMax must not be below reconnectDelayMsMin");
    }
    if (options.federationId.length !== FEDERATION_ID_BYTES) {
      throw new PeerLinksConfigError(`federationId must be ${FEDERATION_ID_BYTES} bytes`);
    }
    this.federationId = Uint8Array.from(options.federationId);
    this.logger = options.log ?? (() => undefined);

    const indices = new Set<number>();
    let self: PeerAddress | undefined;
    for (const peer of options.peers) {
      if (!Number.isInteger(peer.index) || peer.index < 0 || peer.index > GUARDIAN_INDEX_MAX) {
        throw new PeerLinksConfigError(`guardian index ${peer.index} is not in [0, ${GUARDIAN_INDEX_MAX}]`);
      }
      if (indices.has(peer.index)) throw new PeerLinksConfigError(`guardian ${peer.index} is listed twice`);
      indices.add(peer.index);
      if (peer.publicKey.length !== PUBLIC_KEY_BYTES) {
        throw new PeerLinksConfigError(`guardian ${peer.index}: a public key is ${PUBLIC_KEY_BYTES} bytes`);
      }
      if (!Number.isInteger(peer.port) || peer.port <= 0 || peer.port > 0xffff) {
        throw new PeerLinksConfigError(`guardian ${peer.index}: port ${peer.port} is not in [1, 65535]`);
      }
      const copy: PeerAddress = { ...peer, publicKey: Uint8Array.from(peer.publicKey) };
      const key = toHex(copy.publicKey);
      if (this.indexByKey.has(key) || (self !== undefined && toHex(self.publicKey) === key)) {
        throw new PeerLinksConfigError(`guardian ${peer.index} has the same key as another guardian`);
      }
      if (peer.index === options.selfIndex) {
        self = copy;
        continue;
      }
      this.indexByKey.set(key, peer.index);
      this.outbound.set(peer.index, {
        peer: copy,
        queue: new FrameQueue(),
        socket: undefined,
        ready: false,
        awaitingDrain: false,
        flushScheduled: false,
        failedAttempts: 0,
        reconnectTimer: undefined,
        handshakeTimer: undefined,
      });
    }
    if (self === undefined) throw new PeerLinksConfigError(`guardian ${options.selfIndex} is not in peers`);
    if (!bytesEqual(ed25519PublicKeyOf(options.secretSeed), self.publicKey)) {
      throw new PeerLinksConfigError(`the secret seed is not guardian ${self.index}'s configured key`);
    }
    this.self = self;
    this.certificate = guardianCertificate(options.secretSeed);
  }

  get counters(): Readonly<PeerLinksCounters> {
    return { ...this.stats };
  }

  /** Listens on self's host and port, then dials every other guardian. */
  async start(): Promise<void> {
    if (this.state !== "new") throw new Error("PeerLinks.start: already started or closed");
    this.state = "started";
    const server = tls.createServer({
      cert: this.certificate.certPem,
      key: this.certificate.keyPem,
      minVersion: "TLSv1.3",
      maxVersion: "TLSv1.3",
      // The certificate is self-signed: no CA to check against. Trust comes from the pinned key,
      // checked in onAccepted; TLS has already verified that the client holds the private key.
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: this.handshakeTimeoutMs,
    });
    this.server = server;
    server.on("connection", (raw: net.Socket) => this.onTcpAccepted(raw));
    server.on("secureConnection", (socket: tls.TLSSocket) => this.onAccepted(socket));
    // Garbage, non-TLS clients, truncated or timed-out handshakes. Node destroys the socket after
    // a TLS error but not after a handshake timeout: a client that connects and stays silent
    // would hold its socket forever.
    server.on("tlsClientError", (error: Error, socket: tls.TLSSocket) => {
      this.countError(error, undefined, "accepted");
      socket.destroy();
    });
    this.listening = new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.self.host, port: this.self.port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    await this.listening;
    // After listening, an error (e.g. EMFILE on accept) must not crash the process.
    server.on("error", (error: Error) => this.countError(error, undefined, "server"));
    this.log("listening", { host: this.self.host, port: this.self.port });
    if (this.state !== "started") return;
    for (const link of this.outbound.values()) this.dial(link);
  }

  /**
   * Queues a frame for a guardian. False (and counted) if that guardian's queue is full: the
   * new frame is dropped, never an older one. Frames queued before start() or while the guardian
   * is unreachable are written once its link is up.
   */
  send(peer: number, frame: Uint8Array): boolean {
    this.checkFrameSize(frame);
    const link = this.outbound.get(peer);
    if (link === undefined) throw new RangeError(`PeerLinks.send: guardian ${peer} is not another guardian`);
    if (this.state === "closed") return false;
    return this.enqueue(link, encodeFrame(frame));
  }

  /** Queues a frame for every other guardian (encoded once, shared by all queues). */
  broadcast(frame: Uint8Array): void {
    this.checkFrameSize(frame);
    if (this.state === "closed") return;
    const encoded = encodeFrame(frame);
    for (const link of this.outbound.values()) this.enqueue(link, encoded);
  }

  /**
   * Frames from another guardian, in the order it sent them; the frame is the handler's to keep.
   * Handlers run synchronously on the socket's data event: one that throws is a local bug and
   * crashes the process, as an assertion would.
   */
  onFrame(handler: FrameHandler): void {
    this.frameHandlers.push(handler);
  }

  /** Our link to this guardian is up: frames sent to it are being written. */
  onPeerConnected(handler: PeerHandler): void {
    this.connectedHandlers.push(handler);
  }

  /** Our link to this guardian went down; frames written since the last resend may be lost. */
  onPeerDisconnected(handler: PeerHandler): void {
    this.disconnectedHandlers.push(handler);
  }

  /** Whether our (sending) link to this guardian is up. */
  isConnected(peer: number): boolean {
    return this.outbound.get(peer)?.ready ?? false;
  }

  /** Closes the server and every socket and clears every timer. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.state = "closed";
    const closed: Promise<void>[] = [];
    for (const link of this.outbound.values()) {
      clearTimeout(link.reconnectTimer);
      clearTimeout(link.handshakeTimer);
      link.reconnectTimer = undefined;
      link.handshakeTimer = undefined;
      if (link.socket !== undefined) closed.push(destroyAndWait(link.socket));
    }
    for (const socket of this.acceptedSockets) closed.push(destroyAndWait(socket));
    for (const raw of this.rawSockets) closed.push(destroyAndWait(raw));
    const server = this.server;
    if (server !== undefined && this.listening !== undefined) {
      const listened = await this.listening.then(
        () => true,
        () => false,
      );
      // The callback runs once every accepted connection is gone, which the loop above ensures.
      if (listened) closed.push(new Promise<void>((resolve) => server.close(() => resolve())));
    }
    await Promise.all(closed);
    this.log("closed", {});
  }

  private checkFrameSize(frame: Uint8Array): void {
    // The peers use the same limit and would close the link: this is a bug in the caller.
    if (frame.length > this.frameBytesMax) {
      throw new RangeError(`a frame of ${frame.length} bytes exceeds frameBytesMax (${this.frameBytesMax})`);
    }
  }

  private enqueue(link: OutboundLink, encoded: Buffer): boolean {
    const { queue } = link;
    if (queue.length >= this.sendQueueFramesMax || queue.bytes + encoded.length > this.sendQueueBytesMax) {
      this.stats.framesDroppedQueueFull += 1;
      return false;
    }
    queue.push(encoded);
    this.scheduleFlush(link);
    return true;
  }

  // Flushing in a microtask batches every frame queued in the same turn into one corked write
  // (fewer TLS records and syscalls) and adds no measurable latency.
  private scheduleFlush(link: OutboundLink): void {
    if (link.flushScheduled || !link.ready || link.awaitingDrain) return;
    link.flushScheduled = true;
    queueMicrotask(() => this.flush(link));
  }

  private flush(link: OutboundLink): void {
    link.flushScheduled = false;
    const socket = link.socket;
    if (!link.ready || link.awaitingDrain || socket === undefined || socket.destroyed) return;
    socket.cork();
    for (let frame = link.queue.shift(); frame !== undefined; frame = link.queue.shift()) {
      this.stats.framesSent += 1;
      this.stats.bytesSent += frame.length - FRAME_HEADER_BYTES;
      if (!socket.write(frame)) {
        // The socket buffers what it was given; the rest waits in the bounded queue for "drain".
        link.awaitingDrain = true;
        break;
      }
    }
    socket.uncork();
  }

  private dial(link: OutboundLink): void {
    link.reconnectTimer = undefined;
    if (this.state !== "started") return;
    const { peer } = link;
    const socket = tls.connect({
      host: peer.host,
      port: peer.port,
      cert: this.certificate.certPem,
      key: this.certificate.keyPem,
      minVersion: "TLSv1.3",
      maxVersion: "TLSv1.3",
      // Self-signed certificates and no host names: the peer is who holds the pinned key,
      // checked on secureConnect below.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    link.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    link.handshakeTimer = setTimeout(() => {
      socket.destroy(new HandshakeTimeoutError(`no hello from guardian ${peer.index} in time`));
    }, this.handshakeTimeoutMs);
    const decoder = new FrameDecoder(HELLO_BYTES);

    socket.on("secureConnect", () => {
      const key = ed25519KeyOfCertificate(socket.getPeerX509Certificate());
      if (key === undefined || !bytesEqual(key, peer.publicKey)) {
        this.refuse(socket, peer.index, "the server's key is not the dialed guardian's");
        return;
      }
      socket.write(encodeFrame(encodeHello(this.federationId, this.self.index)));
    });
    socket.on("data", (chunk: Buffer) => this.onDialedData(link, socket, decoder, chunk));
    socket.on("drain", () => {
      link.awaitingDrain = false;
      this.flush(link);
    });
    socket.on("error", (error: Error) => this.countError(error, peer.index, "dialed"));
    socket.on("close", () => this.onDialedClose(link, socket));
  }

  /** The acceptor sends one hello and nothing else: anything more is a protocol error. */
  private onDialedData(
    link: OutboundLink,
    socket: tls.TLSSocket,
    decoder: FrameDecoder,
    chunk: Buffer,
  ): void {
    decoder.push(chunk);
    for (let frame = decoder.next(); frame !== undefined && !socket.destroyed; frame = decoder.next()) {
      if (link.ready) {
        this.countError(new Error("data from the accepting end of a link"), link.peer.index, "dialed");
        socket.destroy();
        return;
      }
      const refusal =
        frame instanceof FrameTooLargeError
          ? frame.message
          : helloRefusal(frame, this.federationId, link.peer.index);
      if (refusal !== undefined) {
        this.refuse(socket, link.peer.index, refusal);
        return;
      }
      clearTimeout(link.handshakeTimer);
      link.handshakeTimer = undefined;
      link.ready = true;
      link.failedAttempts = 0;
      this.log("peer.connected", { peer: link.peer.index });
      for (const handler of this.connectedHandlers) handler(link.peer.index);
      this.scheduleFlush(link);
    }
  }

  private onDialedClose(link: OutboundLink, socket: tls.TLSSocket): void {
    if (link.socket !== socket) return;
    clearTimeout(link.handshakeTimer);
    link.handshakeTimer = undefined;
    link.socket = undefined;
    link.awaitingDrain = false;
    const wasReady = link.ready;
    link.ready = false;
    if (wasReady) {
      this.log("peer.disconnected", { peer: link.peer.index });
      for (const handler of this.disconnectedHandlers) handler(link.peer.index);
    }
    if (this.state !== "started") return;
    // A link that was up is redialed quickly; repeated failures back off exponentially, with
    // jitter so that the guardians of a restarted federation do not redial in lockstep.
    link.failedAttempts = wasReady ? 0 : link.failedAttempts + 1;
    const base = Math.min(
      this.reconnectDelayMsMax,
      this.reconnectDelayMsMin * 2 ** Math.min(link.failedAttempts, 30),
    );
    const delayMs = base / 2 + (Math.random() * base) / 2;
    link.reconnectTimer = setTimeout(() => {
      this.stats.reconnects += 1;
      this.dial(link);
    }, delayMs);
  }

  private onTcpAccepted(raw: net.Socket): void {
    if (this.state !== "started") {
      raw.destroy();
      return;
    }
    raw.setNoDelay(true);
    raw.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    this.rawSockets.add(raw);
    raw.once("close", () => this.rawSockets.delete(raw));
    // Errors surface on the TLS socket or as tlsClientError (and are counted there); this listener
    // only keeps an error on the underlying socket from becoming an uncaught exception.
    raw.on("error", () => undefined);
  }

  private onAccepted(socket: tls.TLSSocket): void {
    socket.on("error", (error: Error) => this.countError(error, undefined, "accepted"));
    if (this.state !== "started") {
      socket.destroy();
      return;
    }
    const key = ed25519KeyOfCertificate(socket.getPeerX509Certificate());
    const index = key === undefined ? undefined : this.indexByKey.get(toHex(key));
    if (index === undefined) {
      this.refuse(socket, undefined, "the client's key is not another guardian's");
      return;
    }
    const helloTimer = setTimeout(
      () => this.refuse(socket, index, "no hello in time"),
      this.handshakeTimeoutMs,
    );
    const decoder = new FrameDecoder(HELLO_BYTES);
    let greeted = false;
    this.acceptedSockets.add(socket);
    socket.on("close", () => {
      clearTimeout(helloTimer);
      this.acceptedSockets.delete(socket);
      if (this.inbound.get(index) === socket) this.inbound.delete(index);
    });
    socket.on("data", (chunk: Buffer) => {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== undefined && !socket.destroyed; frame = decoder.next()) {
        if (frame instanceof FrameTooLargeError) {
          if (!greeted) {
            this.refuse(socket, index, frame.message);
          } else {
            this.stats.oversizedFrames += 1;
            this.log("frame.oversized", { peer: index, frameBytes: frame.frameBytes });
            socket.destroy();
          }
          return;
        }
        if (greeted) {
          this.stats.framesReceived += 1;
          this.stats.bytesReceived += frame.length;
          for (const handler of this.frameHandlers) handler(index, frame);
          continue;
        }
        const refusal = helloRefusal(frame, this.federationId, index);
        if (refusal !== undefined) {
          this.refuse(socket, index, refusal);
          return;
        }
        greeted = true;
        clearTimeout(helloTimer);
        decoder.frameBytesMax = this.frameBytesMax;
        // The guardian reconnected (it restarted, or its old connection is half-dead): the newest wins.
        const previous = this.inbound.get(index);
        this.inbound.set(index, socket);
        previous?.destroy();
        socket.write(encodeFrame(encodeHello(this.federationId, this.self.index)));
        this.log("peer.accepted", { peer: index, replaced: previous !== undefined });
      }
    });
  }

  private refuse(socket: tls.TLSSocket, peer: number | undefined, reason: string): void {
    this.stats.handshakesRefused += 1;
    this.log("handshake.refused", { peer, reason, remote: socket.remoteAddress });
    socket.destroy();
  }

  private countError(error: Error, peer: number | undefined, side: "dialed" | "accepted" | "server"): void {
    this.stats.connectionErrors += 1;
    const code = "code" in error ? error.code : undefined;
    this.log("connection.error", { peer, side, code, message: error.message });
  }

  private log(event: string, fields: Record<string, unknown>): void {
    this.logger(event, { self: this.self.index, ...fields });
  }
}
