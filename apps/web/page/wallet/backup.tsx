// Backup and restore: an encrypted backup of the notes stored at the guardians (readable only with
// the recovery phrase), and removing the wallet from this browser (to restore it elsewhere, or here).
import { useState } from "preact/hooks";
import type { BackupResult } from "@conclave/wallet-standard";
import { ActionStatus, useAction } from "./amount-form.js";
import type { ViewProps } from "./notes.js";

export function BackupView({ wallet, info, refresh, onForget }: ViewProps & { onForget: () => void }) {
  const [done, setDone] = useState<BackupResult | undefined>(undefined);
  const [sure, setSure] = useState(false);
  const action = useAction();
  const backup = () =>
    action.run(
      () => wallet.backup(),
      (r) => {
        setDone(r);
        refresh();
      },
    );
  const last = info.lastBackup;
  return (
    <section aria-labelledby="backup-h">
      <h2 id="backup-h">Backup and restore</h2>
      <p>
        Your recovery phrase restores this wallet anywhere: in another browser, or with the{" "}
        <code>conclave</code> command line wallet. A backup makes that fast and complete: it stores your
        notes, encrypted with a key from your phrase, at the guardians. Without one, a restore finds your
        notes by asking the guardians for every note your phrase could have made, which takes longer.
      </p>
      <p id="last-backup">
        {last
          ? `Last backup: version ${last.version}, ${last.notes} notes, ${new Date(last.atMs).toLocaleString()}.`
          : "No backup made from this browser yet."}
      </p>
      <button type="button" id="backup-now" onClick={backup} disabled={action.busy}>
        Back up now
      </button>
      {done ? (
        <p class="ok" role="status" id="backup-done">
          Backup version {done.version} stored by {done.storedBy.length} guardians ({done.notes} notes,{" "}
          {done.bytes} bytes).
        </p>
      ) : null}
      <ActionStatus action={action} busyText="Encrypting and storing the backup at the guardians…" />
      <h3>Restore</h3>
      <p>
        To restore, open this page where there is no wallet (another browser, or after removing this one
        below), choose "Restore a wallet from its recovery phrase" and type the phrase.
      </p>
      <h3>Remove this wallet from this browser</h3>
      <p>
        Deletes the wallet's data from this browser. Only your recovery phrase can bring the notes back: make
        a backup first.
      </p>
      <label class="inline">
        <input type="checkbox" checked={sure} onChange={(e) => setSure(e.currentTarget.checked)} /> I have my
        recovery phrase
      </label>
      <div class="row">
        <button type="button" class="danger" id="forget" disabled={!sure} onClick={onForget}>
          Remove the wallet from this browser
        </button>
      </div>
    </section>
  );
}
