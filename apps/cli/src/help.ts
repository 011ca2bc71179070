// `conclave --help` and `conclave <command> --help`, generated from the command table.
import { BUILT_IN, GLOBAL_OPTIONS } from "./commands-spec.js";
import type { CommandSpec, CommandTable, OptionSpec } from "./commands-spec.js";

function optionLine(name: string, o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` <${o.value ?? "value"}>` : ""}`;
  return `  ${flag.padEnd(26)} ${o.help}`;
}

function usageOf(spec: CommandSpec): string {
  const args = spec.args.map((a) =>
    a.endsWith("?") ? `[${a.slice(0, -1).toUpperCase()}]` : a.toUpperCase(),
  );
  const options = Object.entries(spec.options).map(([n, o]) =>
    o.type === "string" ? `[--${n} <${o.value ?? "value"}>]` : `[--${n}]`,
  );
  return ["conclave [options]", spec.name, ...args, ...options].join(" ");
}

export function generalHelp(table: CommandTable = BUILT_IN): string {
  const width = Math.max(...table.all.map((c) => c.name.length)) + 2;
  return [
    "conclave: the command-line e-cash wallet of a Conclave federation",
    "",
    "Usage: conclave [--data <dir>] [--json] <command> [arguments]",
    "",
    "Commands:",
    ...table.all.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    "",
    "Options (before or after the command):",
    ...Object.entries(GLOBAL_OPTIONS).map(([n, o]) => optionLine(n, o)),
    "",
    'Amounts: XMR with up to 12 decimals (0.25) or base units with a "p" suffix (250000000000p).',
    "Exit codes: 0 done, 1 the operation failed (nothing lost), 2 wrong command line, 130 interrupted.",
    "`conclave <command> --help` explains a command. Start with `conclave join <invite>`.",
    "",
  ].join("\n");
}

export function commandHelp(name: string, table: CommandTable = BUILT_IN): string {
  const spec = table.spec(name);
  if (!spec) return generalHelp(table);
  const options = Object.entries(spec.options);
  return [
    `Usage: ${usageOf(spec)}`,
    "",
    `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`,
    ...(spec.details.length > 0 ? ["", ...spec.details] : []),
    ...(options.length > 0 ? ["", "Options:", ...options.map(([n, o]) => optionLine(n, o))] : []),
    "",
    "Global options:",
    ...Object.entries(GLOBAL_OPTIONS).map(([n, o]) => optionLine(n, o)),
    "",
    "Examples:",
    ...spec.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}
