// The one Monero address input of the wallet page (withdraw, burn wXMR to a Monero address): checked
// in the browser as the guardians check it (@conclave/monero's parseAddress: length, base58, the
// Keccak checksum, the network's prefix, both keys on the curve), with its label, an error message
// tied to the input (aria-invalid, aria-describedby) and a QR reader for `monero:` codes. An invalid
// address also blocks the form (setCustomValidity), so nothing is spent on a typo.
import type { MoneroNetworkOrRegtest } from "@conclave/monero/address";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { addressOfScan, moneroAddressProblem } from "./address.js";
import { QrReader } from "./qr.js";

export function MoneroAddressField({
  id,
  value,
  onValue,
  network,
  label = "Monero address",
}: {
  /** The input's id; its error is `${id}-problem`, its QR reader's controls `${id}-scan`, `${id}-picture`. */
  id: string;
  value: string;
  onValue: (address: string) => void;
  /** The federation's Monero network (`wallet.moneroNetwork()`); undefined checks the address alone. */
  network: MoneroNetworkOrRegtest | undefined;
  label?: string;
}) {
  const input = useRef<HTMLInputElement>(null);
  // The error shows once the user left the field, tried to submit, or typed an address's full length.
  const [touched, setTouched] = useState(false);
  const problem = moneroAddressProblem(value, network);
  const shown = problem !== "" && (touched || value.trim().length >= 95);
  useEffect(() => {
    input.current?.setCustomValidity(problem);
  }, [problem]);
  const onScanned = useCallback(
    (text: string) => {
      onValue(addressOfScan(text));
      setTouched(true);
    },
    [onValue],
  );
  const help = `${network ? `A ${network === "regtest" ? "regtest (mainnet-prefixed)" : network} address` : "An address"}: the standard address of a Monero wallet (95 characters) or a subaddress.`;
  return (
    <div class="address-field">
      <label for={id}>{label}</label>
      <input
        id={id}
        ref={input}
        class="wide"
        autocomplete="off"
        spellcheck={false}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
        onBlur={() => setTouched(true)}
        onInvalid={() => setTouched(true)}
        required
        aria-invalid={shown}
        aria-describedby={shown ? `${id}-problem` : `${id}-help`}
      />
      {shown ? (
        <p class="bad" role="alert" id={`${id}-problem`}>
          {problem}
        </p>
      ) : (
        <p class="muted small" id={`${id}-help`}>
          {help}
        </p>
      )}
      <QrReader onText={onScanned} idPrefix={id} what="a Monero address" />
    </div>
  );
}
