// Authenticated, encrypted links between guardians (TLS 1.3, keys pinned to the federation's configuration).
export { ed25519KeyOfCertificate, guardianCertificate, type GuardianCertificate } from "./certs.js";
export {
  encodeFrame,
  FRAME_BYTES_LIMIT,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameTooLargeError,
} from "./framing.js";
export {
  FEDERATION_ID_BYTES,
  PEER_PROTOCOL_VERSION,
  PeerLinks,
  PeerLinksConfigError,
  type PeerAddress,
  type PeerLinksCounters,
  type PeerLinksOptions,
} from "./links.js";
