import { type FormEvent, useState } from "react";

/** One phone number and a button: adding a contact, inviting an admin. */
export function PhoneForm(props: {
  name: string;
  label: string;
  button: string;
  busy: boolean;
  /** Resolves true when done: the field is cleared. */
  onSubmit: (phone: string) => Promise<boolean>;
}) {
  const [phone, setPhone] = useState("");
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await props.onSubmit(phone.trim())) setPhone("");
  };
  return (
    <form className="row" onSubmit={(e) => void submit(e)} aria-label={props.name}>
      <label>
        {props.label}
        <input type="tel" value={phone} onChange={(e) => setPhone(e.target.value)} />
      </label>
      <button type="submit" disabled={props.busy || !phone.trim()}>
        {props.button}
      </button>
    </form>
  );
}
