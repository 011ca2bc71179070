// What every wallet form shares: one user action at a time with its busy line and its error
// (useAction + ActionStatus), and the labelled amount form (AmountForm: fields, an amount in XMR
// parsed to bigint piconero, a submit button) that send, withdraw, mint and burn are.
import type { ComponentChildren } from "preact";
import { useCallback, useRef, useState } from "preact/hooks";
import { errorText, parseXmr } from "./amount.js";

export interface Action {
  readonly busy: boolean;
  readonly problem: string;
  /** Runs `work` unless one runs already: busy meanwhile, its error shown, `done` with its result. */
  readonly run: <T>(work: () => Promise<T>, done?: (result: T) => void) => void;
  /** Shows an error found before anything was started. */
  readonly fail: (problem: unknown) => void;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState("");
  // The running flag is a ref so that `run` stays the same function across renders (a dependency
  // of callbacks such as the QR reader's) and a double submit in one tick still runs once.
  const running = useRef(false);
  const run = useCallback(<T,>(work: () => Promise<T>, done?: (result: T) => void) => {
    if (running.current) return;
    running.current = true;
    setProblem("");
    setBusy(true);
    work().then(
      (r) => {
        running.current = false;
        setBusy(false);
        done?.(r);
      },
      (e: unknown) => {
        running.current = false;
        setBusy(false);
        setProblem(errorText(e));
      },
    );
  }, []);
  const fail = useCallback((e: unknown) => setProblem(errorText(e)), []);
  return { busy, problem, run, fail };
}

/** The busy line (a status, read out by screen readers) and the error (an alert) of an action. */
export function ActionStatus({ action, busyText }: { action: Action; busyText: string }) {
  return (
    <>
      {action.busy ? (
        <p class="muted" role="status">
          {busyText}
        </p>
      ) : null}
      {action.problem ? (
        <p class="bad" role="alert">
          {action.problem}
        </p>
      ) : null}
    </>
  );
}

/**
 * A form whose last field is an amount in XMR: `children` are the fields before it (each with its
 * label), then the amount's label and input beside the submit button. The amount is parsed here (a
 * bad one is shown and nothing runs); `onAmount` runs as the form's action.
 */
export function AmountForm({
  id,
  submitLabel,
  busyText,
  onAmount,
  children,
  label = "Amount (XMR)",
  disabled = false,
}: {
  /** The amount input's id (its label's `for`). */
  id: string;
  submitLabel: string;
  busyText: string;
  onAmount: (amount: bigint) => Promise<unknown>;
  children?: ComponentChildren;
  label?: string;
  disabled?: boolean;
}) {
  const [text, setText] = useState("");
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    // The fields before the amount check themselves (MoneroAddressField's setCustomValidity): the
    // first invalid one gets the focus and shows its own message (its "invalid" event), instead of
    // the browser's bubble over it; nothing runs.
    const form = e.currentTarget as HTMLFormElement;
    for (const field of Array.from(form.elements))
      if ((field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement) && field.id !== id)
        if (!field.checkValidity()) {
          field.focus();
          return;
        }
    let amount: bigint;
    try {
      amount = parseXmr(text);
    } catch (x) {
      action.fail(x);
      return;
    }
    action.run(() => onAmount(amount));
  };
  return (
    <>
      <form onSubmit={submit} noValidate>
        {children}
        <label for={id}>{label}</label>
        <div class="row">
          <input
            id={id}
            inputMode="decimal"
            autocomplete="off"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            required
          />
          <button type="submit" disabled={action.busy || disabled}>
            {submitLabel}
          </button>
        </div>
      </form>
      <ActionStatus action={action} busyText={busyText} />
    </>
  );
}
