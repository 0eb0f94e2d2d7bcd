import { useRef, useState } from 'preact/hooks';
import { ApiError, type FieldErrors } from './api';

/** A form's state: values, the API's field errors, its other error, and whether it is being sent. */
export function useForm<T extends Record<string, string>>(initial: T) {
  const [values, setValues] = useState(initial);
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // Checked synchronously, so a double submit sends once even before the button re-renders disabled.
  const sending = useRef(false);
  const bind = (name: keyof T & string) => ({
    name,
    value: values[name],
    onInput: (event: Event) => {
      const value = (event.target as HTMLInputElement).value;
      setValues((current) => ({ ...current, [name]: value }));
    },
  });
  async function submit(send: () => Promise<void>) {
    if (sending.current) return;
    sending.current = true;
    setBusy(true);
    setError(null);
    setFields({});
    try {
      await send();
    } catch (caught) {
      if (caught instanceof ApiError && Object.keys(caught.fields).length) setFields(caught.fields);
      setError(caught);
    } finally {
      sending.current = false;
      setBusy(false);
    }
  }
  return { values, setValues, fields, setFields, error, setError, busy, bind, submit };
}
