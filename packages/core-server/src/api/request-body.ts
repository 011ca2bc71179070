// Request bodies: bounded while they stream in, then decoded as JSON.
import type { IncomingMessage } from "node:http";
import { InvalidRequestError, PayloadTooLargeError } from "@conclave/core-common";

/**
 * Read a request body, refusing it as soon as it exceeds `limitBytes`: by its Content-Length when it
 * declares one, else by counting bytes as they arrive. Nothing beyond the limit is buffered. Read
 * from node's stream itself: once refused, the rest flows into nothing and node-server's drain (64
 * MiB or 500 ms at most, then the socket is closed) deals with a client that keeps sending.
 */
export function readBodyLimited(incoming: IncomingMessage, limitBytes: number): Promise<Uint8Array> {
  const declared = incoming.headers["content-length"];
  if (declared !== undefined && Number(declared) > limitBytes)
    return Promise.reject(new PayloadTooLargeError(limitBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const stop = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onGone);
      incoming.off("close", onGone);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limitBytes) {
        stop();
        reject(new PayloadTooLargeError(limitBytes));
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => {
      stop();
      resolve(new Uint8Array(Buffer.concat(chunks, total)));
    };
    const onGone = () => {
      stop();
      reject(new InvalidRequestError("the request body could not be read (did the connection close?)"));
    };
    if (incoming.readableEnded) return onEnd();
    if (incoming.destroyed) return onGone();
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onGone);
    incoming.on("close", onGone);
  });
}

/** A JSON request body, bounded; every way it can be wrong is a 400 (or 413) saying which. */
export async function readJsonBody(incoming: IncomingMessage, limitBytes: number): Promise<unknown> {
  const bytes = await readBodyLimited(incoming, limitBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidRequestError("the request body is not UTF-8 text");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidRequestError(
      text.length === 0 ? "the request body is empty; send JSON" : "the request body is not valid JSON",
    );
  }
}
