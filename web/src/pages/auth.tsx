import { register, signIn } from '../api';
import { useForm } from '../form';
import { ErrorMessage, Field, Link, Notice } from '../components/ui';
import { navigate } from '../router';
import { sessionNotice, startSession } from '../session';
import { useStore } from '../store';

export function SignInPage() {
  const notice = useStore(sessionNotice);
  const form = useForm({ email: '', password: '' });
  return (
    <section class="card narrow">
      <h1>Sign in</h1>
      {notice && <Notice>{notice}</Notice>}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void form.submit(async () => {
            startSession(await signIn(form.values.email.trim(), form.values.password));
            navigate('/', { replace: true });
          });
        }}
      >
        <Field label="Email" error={form.fields.email}>
          {(a) => <input {...a} {...form.bind('email')} type="email" autocomplete="username" required />}
        </Field>
        <Field label="Password" error={form.fields.password}>
          {(a) => <input {...a} {...form.bind('password')} type="password" autocomplete="current-password" required />}
        </Field>
        <ErrorMessage error={form.error} />
        <button class="button" type="submit" disabled={form.busy}>
          {form.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p class="muted">
        New here? <Link to="/register">Create a customer account</Link>. Sellers and staff get their accounts from an
        admin.
      </p>
    </section>
  );
}

export function RegisterPage() {
  const form = useForm({ name: '', email: '', password: '', phone: '' });
  return (
    <section class="card narrow">
      <h1>Create an account</h1>
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void form.submit(async () => {
            const { name, email, password, phone } = form.values;
            startSession(
              await register({ name: name.trim(), email: email.trim(), password, ...(phone.trim() ? { phone } : {}) }),
            );
            navigate('/shop', { replace: true });
          });
        }}
      >
        <Field label="Name" error={form.fields.name}>
          {(a) => <input {...a} {...form.bind('name')} autocomplete="name" required />}
        </Field>
        <Field label="Email" error={form.fields.email}>
          {(a) => <input {...a} {...form.bind('email')} type="email" autocomplete="email" required />}
        </Field>
        <Field label="Password" error={form.fields.password} hint="At least 8 characters.">
          {(a) => <input {...a} {...form.bind('password')} type="password" autocomplete="new-password" required />}
        </Field>
        <Field label="Phone (optional)" error={form.fields.phone}>
          {(a) => <input {...a} {...form.bind('phone')} type="tel" autocomplete="tel" />}
        </Field>
        <ErrorMessage error={form.error} />
        <button class="button" type="submit" disabled={form.busy}>
          {form.busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
      <p class="muted">
        Already registered? <Link to="/sign-in">Sign in</Link>.
      </p>
    </section>
  );
}
