// QR codes: drawn from @paulmillr/qr's module matrix as one SVG path (no innerHTML, nothing the
// content security policy must allow), and read back from a picture or the camera with the same
// library's decoder (pure JavaScript: it needs no BarcodeDetector, which Chromium on Linux lacks).
import encodeQR from "@paulmillr/qr";
import decodeQR from "@paulmillr/qr/decode.js";
import { useEffect, useRef, useState } from "preact/hooks";

/** What one QR code holds at most here (byte mode, low error correction: 2,953 bytes at version 40). */
export const QR_CHARS_MAX = 2_900;

export function QrCode({ text, label, id }: { text: string; label: string; id?: string }) {
  if (text.length > QR_CHARS_MAX)
    return (
      <p class="muted" id={id}>
        Too long for one QR code ({text.length} characters): send it as text.
      </p>
    );
  const cells = encodeQR(text, "raw", { ecc: "low", border: 2 });
  const size = cells.length;
  let d = "";
  cells.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`;
    }),
  );
  return (
    <svg
      class="qr"
      id={id}
      role="img"
      aria-label={label}
      viewBox={`0 0 ${size} ${size}`}
      shape-rendering="crispEdges"
      xmlns="http://www.w3.org/2000/svg"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}

/** The text of the QR code in an image (RGBA pixels); throws when there is none. */
function decodePixels(data: ImageData): string {
  return decodeQR({ width: data.width, height: data.height, data: data.data });
}

async function decodeFile(file: File): Promise<string> {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const g = canvas.getContext("2d");
  if (!g) throw new Error("this browser cannot read pictures");
  g.drawImage(bitmap, 0, 0);
  return decodePixels(g.getImageData(0, 0, bitmap.width, bitmap.height));
}

/** What the user is told when the camera does not start, by the DOMException's name. */
export function cameraProblem(e: unknown): string {
  const name = e instanceof DOMException || e instanceof Error ? e.name : "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return "The camera is not allowed (permission denied): allow it in the browser's site settings, or paste the text or read a picture instead.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera found on this device: paste the text or read a picture of the QR code instead.";
    case "NotReadableError":
    case "AbortError":
      return "The camera is in use by another program or could not be opened: close it there, or paste the text or read a picture instead.";
    default:
      return `The camera did not start (${e instanceof Error ? e.message : String(e)}): paste the text or read a picture instead.`;
  }
}

/**
 * Reads a QR code from a picture (a file or a phone's photo) or, where the browser has one, the
 * camera; calls `onText` with what it holds. `what` names the content in the labels ("the notes").
 */
export function QrReader({
  onText,
  idPrefix,
  what = "a QR code",
}: {
  onText: (text: string) => void;
  idPrefix: string;
  what?: string;
}) {
  const [problem, setProblem] = useState("");
  const [scanning, setScanning] = useState(false);
  const video = useRef<HTMLVideoElement>(null);
  // Browsers offer getUserMedia only in a secure context (https, or http on localhost).
  const hasCamera = typeof navigator.mediaDevices?.getUserMedia === "function";

  useEffect(() => {
    if (!scanning) return;
    let stream: MediaStream | undefined;
    let timer = 0;
    let stopped = false;
    const canvas = document.createElement("canvas");
    const tick = () => {
      const v = video.current;
      const g = canvas.getContext("2d", { willReadFrequently: true });
      if (stopped || !v || !g) return;
      if (v.videoWidth > 0) {
        canvas.width = v.videoWidth;
        canvas.height = v.videoHeight;
        g.drawImage(v, 0, 0);
        try {
          const text = decodePixels(g.getImageData(0, 0, canvas.width, canvas.height));
          setScanning(false);
          onText(text);
          return;
        } catch {
          // no QR code in this frame yet
        }
      }
      timer = window.setTimeout(tick, 250);
    };
    setProblem("");
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" } })
      .then((s) => {
        stream = s;
        if (stopped || !video.current) {
          s.getTracks().forEach((t) => t.stop());
          return;
        }
        video.current.srcObject = s;
        return video.current.play().then(tick);
      })
      .catch((e: unknown) => {
        if (stopped) return;
        setProblem(cameraProblem(e));
        setScanning(false);
      });
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, [scanning, onText]);

  const onFile = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    setProblem("");
    decodeFile(file).then(onText, () =>
      setProblem("No QR code found in that picture: try a sharper or closer one, or paste the text."),
    );
    input.value = "";
  };

  return (
    <div class="qr-reader">
      <label for={`${idPrefix}-picture`}>Read {what} from a picture of a QR code</label>
      <input id={`${idPrefix}-picture`} type="file" accept="image/*" onChange={onFile} />
      {hasCamera ? (
        <button
          type="button"
          class="secondary"
          id={`${idPrefix}-scan`}
          onClick={() => setScanning(!scanning)}
          aria-pressed={scanning}
        >
          {scanning ? "Stop the camera" : `Scan ${what} with the camera`}
        </button>
      ) : (
        <p class="muted small" id={`${idPrefix}-no-camera`}>
          This browser offers no camera to this page (it needs https or localhost): paste the text or read a
          picture instead.
        </p>
      )}
      {scanning ? (
        <video
          ref={video}
          class="camera"
          id={`${idPrefix}-camera`}
          muted
          playsInline
          aria-label={`Camera view: hold ${what} in front of it`}
        />
      ) : null}
      {problem ? (
        <p class="bad" role="alert" id={`${idPrefix}-camera-problem`}>
          {problem}
        </p>
      ) : null}
    </div>
  );
}
