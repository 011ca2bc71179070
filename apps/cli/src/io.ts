// Everything the CLI does to the outside world apart from the wallet: streams, environment, files,
// signals. runCli takes it as a parameter so the tests can run commands in-process and read what
// they print; main.ts passes the real process.
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { createInterface } from "node:readline";

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDir: string;
  readonly stdinIsTty: boolean;
  /** stdout is a terminal: progress bars are redrawn in place (plain lines otherwise). */
  readonly stdoutIsTty?: boolean;
  /** All of stdin as UTF-8; rejects past `bytesMax`. */
  readStdin(bytesMax: number): Promise<string>;
  /** One line typed at the terminal after `prompt` (printed on stderr). */
  promptLine(prompt: string): Promise<string>;
  readFile(path: string, bytesMax: number): Promise<string>;
  /** Calls `handler` on Ctrl-C (SIGINT) until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
  exit(code: number): never;
}

export class InputTooLargeError extends Error {
  override readonly name = "InputTooLargeError";
}

export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    homeDir: homedir(),
    stdinIsTty: process.stdin.isTTY === true,
    stdoutIsTty: process.stdout.isTTY === true,
    readStdin: async (bytesMax) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      for await (const chunk of process.stdin) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
        bytes += b.length;
        if (bytes > bytesMax) throw new InputTooLargeError(`stdin is larger than ${bytesMax} bytes`);
        chunks.push(b);
      }
      return Buffer.concat(chunks).toString("utf8");
    },
    promptLine: (prompt) =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
        rl.question(prompt, (answer) => {
          rl.close();
          resolve(answer);
        });
      }),
    readFile: async (path, bytesMax) => {
      if ((await stat(path)).size > bytesMax)
        throw new InputTooLargeError(`${path} is larger than ${bytesMax} bytes`);
      return readFile(path, "utf8");
    },
    onInterrupt: (handler) => {
      process.on("SIGINT", handler);
      return () => void process.off("SIGINT", handler);
    },
    exit: (code) => process.exit(code),
  };
}
