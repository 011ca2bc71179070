// No wallet in this browser yet: join a federation with an invite code (a new recovery phrase) or
// restore one from its recovery phrase.
import { useCallback, useEffect, useState } from "preact/hooks";
import type { RestoreResult, Wallet } from "@conclave/wallet-standard";
import { formatXmr } from "../format.js";
import { ActionStatus, useAction } from "./amount-form.js";
import { QrReader } from "./qr.js";
import { createWallet, restoreWallet, suggestedInvite } from "./session.js";

export function SetupView({
  onWallet,
}: {
  onWallet: (w: Wallet, shown: { mnemonic?: string; restored?: RestoreResult }) => void;
}) {
  const [invite, setInvite] = useState("");
  const [suggested, setSuggested] = useState(false);
  const [mode, setMode] = useState<"create" | "restore">("create");
  const [phrase, setPhrase] = useState("");
  const action = useAction();
  const [busyText, setBusyText] = useState("");

  useEffect(() => {
    suggestedInvite().then(
      (s) => {
        if (s === undefined) return;
        setInvite((old) => (old === "" ? s : old));
        setSuggested(true);
      },
      () => undefined,
    );
  }, []);

  // A scanned invite replaces the suggestion: it is the code the user was given.
  const onInviteScanned = useCallback((text: string) => {
    setInvite(text.trim());
    setSuggested(false);
  }, []);

  const submit = (e: Event) => {
    e.preventDefault();
    if (mode === "create") {
      setBusyText("Asking every guardian for the federation…");
      action.run(
        () => createWallet(invite),
        ({ wallet, mnemonic }) => onWallet(wallet, { mnemonic }),
      );
    } else {
      setBusyText("Restoring: reading your backup and looking for your notes at the guardians…");
      action.run(
        () => restoreWallet(invite, phrase),
        ({ wallet, result }) => onWallet(wallet, { restored: result }),
      );
    }
  };

  return (
    <form onSubmit={submit} class="card" aria-labelledby="setup-h">
      <h2 id="setup-h">Open a wallet in this browser</h2>
      <fieldset class="choice">
        <legend>What do you want to do?</legend>
        <label>
          <input
            type="radio"
            name="mode"
            value="create"
            checked={mode === "create"}
            onChange={() => setMode("create")}
          />{" "}
          Create a new wallet
        </label>
        <label>
          <input
            type="radio"
            name="mode"
            value="restore"
            checked={mode === "restore"}
            onChange={() => setMode("restore")}
          />{" "}
          Restore a wallet from its recovery phrase
        </label>
      </fieldset>
      <label for="invite">Invite code of the federation</label>
      <textarea
        id="invite"
        rows={3}
        value={invite}
        onInput={(e) => setInvite(e.currentTarget.value)}
        spellcheck={false}
        autocomplete="off"
        required
        aria-describedby="invite-help"
      />
      <p id="invite-help" class="muted small">
        {suggested
          ? "Filled in from the guardian that served this page. Compare it with the invite code you were given: the wallet checks it with every guardian it names and trusts only what enough of them agree on."
          : "Paste the invite code (conclave1:…) you were given, or scan its QR code."}
      </p>
      <QrReader onText={onInviteScanned} idPrefix="invite" what="an invite code" />
      {mode === "restore" ? (
        <>
          <label for="phrase">Recovery phrase</label>
          <textarea
            id="phrase"
            rows={3}
            value={phrase}
            onInput={(e) => setPhrase(e.currentTarget.value)}
            spellcheck={false}
            autocomplete="off"
            required
          />
        </>
      ) : null}
      <div class="row">
        <button type="submit" id="setup-submit" disabled={action.busy}>
          {mode === "create" ? "Create wallet" : "Restore wallet"}
        </button>
      </div>
      <ActionStatus action={action} busyText={busyText} />
    </form>
  );
}

/** Shown once after creating a wallet: the recovery phrase, to write down. */
export function PhraseView({ mnemonic, onDone }: { mnemonic: string; onDone: () => void }) {
  const [confirmed, setConfirmed] = useState(false);
  return (
    <section class="card" aria-labelledby="phrase-h">
      <h2 id="phrase-h">Write down your recovery phrase</h2>
      <p>
        These words are the only way to get this wallet back if this browser's data is lost. Anyone who has
        them can spend your notes. They are not stored anywhere: this is the only time they are shown.
      </p>
      <ol class="phrase" id="mnemonic" aria-label="Recovery phrase">
        {mnemonic.split(" ").map((w, i) => (
          <li key={i}>{w}</li>
        ))}
      </ol>
      <label class="inline">
        <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.currentTarget.checked)} />{" "}
        I have written the words down
      </label>
      <div class="row">
        <button type="button" id="phrase-done" disabled={!confirmed} onClick={onDone}>
          Continue to the wallet
        </button>
      </div>
    </section>
  );
}

export function RestoredNote({ result }: { result: RestoreResult }) {
  return (
    <p class="ok" role="status" id="restored">
      Restored {formatXmr(result.amount)} in {result.notes} notes: {result.fromBackup} from the backup
      {result.backupVersion !== undefined ? ` (version ${result.backupVersion})` : " (none found)"},{" "}
      {result.fromScan} found by asking the guardians.
    </p>
  );
}
