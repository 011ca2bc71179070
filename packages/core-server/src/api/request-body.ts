// Request bodies: declared as JSON, bounded in size and in the time they take to arrive, then decoded.
import type { IncomingMessage } from "node:http";
import { ConclaveError, InvalidRequestError, PayloadTooLargeError } from "@conclave/core-common";

/** The body did not arrive within bodyReceiveMsMax (408); the connection is closed with the answer. */
export class RequestTimeoutError extends ConclaveError {
  override readonly name = "RequestTimeoutError";
  constructor(bodyReceiveMsMax: number) {
    super(
      "request_timeout",
      `the request body did not arrive within ${bodyReceiveMsMax} ms (is it shorter than its Content-Length?)`,
      { status: 408, details: { bodyReceiveMsMax } },
    );
  }
}

/** The body is not declared as JSON (415). */
export class UnsupportedMediaTypeError extends ConclaveError {
  override readonly name = "UnsupportedMediaTypeError";
  constructor(message: string, received: string | undefined) {
    super("unsupported_media_type", message, {
      status: 415,
      details: received === undefined ? {} : { contentType: received.slice(0, 100) },
    });
  }
}

/**
 * Refuses a body not declared as `application/json` (parameters allowed; a charset only if UTF-8), so
 * that a form or a text/plain body is never read as JSON. A media type is `type/subtype` followed by
 * `;`-separated parameters (RFC 9110 8.3): split by hand, as the one thing needed is the type and the
 * charset; a quoted parameter value containing `;` does not occur in a charset.
 */
export function checkJsonContentType(header: string | undefined): void {
  const send = "send the body as JSON with Content-Type: application/json";
  if (header === undefined || header.trim() === "")
    throw new UnsupportedMediaTypeError(`the request has no Content-Type; ${send}`, undefined);
  const [type = "", ...parameters] = header.split(";").map((p) => p.trim().toLowerCase());
  if (type !== "application/json")
    throw new UnsupportedMediaTypeError(`a ${type.slice(0, 100)} body is not accepted; ${send}`, header);
  for (const p of parameters) {
    const [name, value = ""] = p.split("=", 2).map((s) => s.trim());
    if (name === "charset" && value.replace(/^"(.*)"$/, "$1") !== "utf-8")
      throw new UnsupportedMediaTypeError(
        `the body must be UTF-8 JSON, not charset ${value.slice(0, 40)}`,
        header,
      );
  }
}

/**
 * Read a request body, refusing it as soon as it exceeds `limitBytes`: by its Content-Length when it
 * declares one, else by counting bytes as they arrive. Nothing beyond the limit is buffered. Read
 * from node's stream itself: once refused, the rest flows into nothing and node-server's drain (64
 * MiB or 500 ms at most, then the socket is closed) deals with a client that keeps sending.
 * A body that has not arrived in full within `receiveMsMax` (fewer bytes than its Content-Length, or
 * a trickle) is refused with 408, whatever node's own requestTimeout would allow.
 */
export function readBodyLimited(
  incoming: IncomingMessage,
  limitBytes: number,
  receiveMsMax: number,
): Promise<Uint8Array> {
  const declared = incoming.headers["content-length"];
  if (declared !== undefined && Number(declared) > limitBytes)
    return Promise.reject(new PayloadTooLargeError(limitBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => onLate(), receiveMsMax);
    const stop = () => {
      clearTimeout(timer);
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
    const onLate = () => {
      stop();
      reject(new RequestTimeoutError(receiveMsMax));
    };
    if (incoming.readableEnded) return onEnd();
    if (incoming.destroyed) return onGone();
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onGone);
    incoming.on("close", onGone);
  });
}

/** A JSON request body, bounded; every way it can be wrong is a 4xx saying which. */
export async function readJsonBody(
  incoming: IncomingMessage,
  limits: { readonly bytesMax: number; readonly receiveMsMax: number },
): Promise<unknown> {
  checkJsonContentType(incoming.headers["content-type"]);
  const bytes = await readBodyLimited(incoming, limits.bytesMax, limits.receiveMsMax);
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
