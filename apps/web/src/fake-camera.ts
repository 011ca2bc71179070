// A camera for the browser tests: Chromium's fake capture device plays a video file in a loop
// (`--use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE.y4m`), and this writes
// that file showing one QR code. Y4M (YUV4MPEG2) is a header line, then per frame `FRAME\n` and the
// raw I420 planes: luma (one byte per pixel) and the two chroma planes at half resolution (128 =
// no colour). The QR matrix comes from @paulmillr/qr, the library the page draws its codes with.
import { writeFileSync } from "node:fs";
import encodeQR from "@paulmillr/qr";

export interface QrVideoOptions {
  readonly width?: number;
  readonly height?: number;
  /** Frames in the file (Chromium loops it). */
  readonly frames?: number;
}

/** The Y4M bytes of a still video of `text` as a QR code, black on white, centred, as large as fits. */
export function qrVideo(text: string, options: QrVideoOptions = {}): Buffer {
  const { width = 640, height = 480, frames = 3 } = options;
  if (width % 2 !== 0 || height % 2 !== 0) throw new Error("I420 needs an even width and height");
  const cells = encodeQR(text, "raw", { ecc: "low", border: 4 });
  const size = cells.length;
  const scale = Math.floor(Math.min(width, height) / size);
  if (scale < 2) throw new Error(`a ${size}-module QR code does not fit a ${width}x${height} frame`);
  const left = Math.floor((width - size * scale) / 2);
  const top = Math.floor((height - size * scale) / 2);
  const luma = Buffer.alloc(width * height, 235); // white (video range)
  for (let y = 0; y < size * scale; y++) {
    const row = cells[Math.floor(y / scale)]!;
    for (let x = 0; x < size * scale; x++)
      if (row[Math.floor(x / scale)]) luma[(top + y) * width + left + x] = 16; // black
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from("FRAME\n"), luma, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  return Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]);
}

/** Writes `qrVideo(text)` to `path` (the file Chromium's fake camera plays). */
export function writeQrVideo(path: string, text: string, options: QrVideoOptions = {}): void {
  writeFileSync(path, qrVideo(text, options));
}
