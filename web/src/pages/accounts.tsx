import { useCallback, useEffect, useState } from 'preact/hooks';
import { createProduct, createUser, listProducts } from '../api';
import { ErrorMessage, Field, Notice, Pagination } from '../components/ui';
import { useForm } from '../form';
import { money, parseMoney, shownCurrency } from '../format';
import { session } from '../session';
import { useStore } from '../store';
import type { Page, Product, Role, User } from '../types';

/** Admins create sellers, staff and other admins (customers register themselves). */
export function AccountsPage() {
  const form = useForm({ name: '', email: '', password: '', role: 'seller', phone: '' });
  const [created, setCreated] = useState<User | null>(null);
  return (
    <section class="card narrow">
      <h1>New account</h1>
      {created && (
        <Notice tone="success">
          Created {created.role} {created.name} ({created.email}).
        </Notice>
      )}
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void form.submit(async () => {
            const { name, email, password, role, phone } = form.values;
            setCreated(
              await createUser({
                name: name.trim(),
                email: email.trim(),
                password,
                role: role as Role,
                ...(phone.trim() ? { phone } : {}),
              }),
            );
            form.setValues({ name: '', email: '', password: '', role, phone: '' });
          });
        }}
      >
        <Field label="Role" error={form.fields.role}>
          {(a) => (
            <select {...a} {...form.bind('role')}>
              <option value="seller">Seller</option>
              <option value="staff">Staff</option>
              <option value="admin">Admin</option>
              <option value="customer">Customer</option>
            </select>
          )}
        </Field>
        <Field label="Name (a seller's shop name)" error={form.fields.name}>
          {(a) => <input {...a} {...form.bind('name')} required />}
        </Field>
        <Field label="Email" error={form.fields.email}>
          {(a) => <input {...a} {...form.bind('email')} type="email" required />}
        </Field>
        <Field label="Password" error={form.fields.password} hint="At least 8 characters.">
          {(a) => <input {...a} {...form.bind('password')} type="password" autocomplete="new-password" required />}
        </Field>
        <Field label="Phone (optional)" error={form.fields.phone}>
          {(a) => <input {...a} {...form.bind('phone')} type="tel" />}
        </Field>
        <ErrorMessage error={form.error} />
        <button class="button" type="submit" disabled={form.busy}>
          Create account
        </button>
      </form>
    </section>
  );
}

/** A seller's own products, and a form to add one. */
export function ProductsPage() {
  const user = useStore(session)?.user;
  const [page, setPage] = useState(1);
  const [products, setProducts] = useState<Page<Product> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const form = useForm({ name: '', sku: '', price: '', stock: '' });
  const load = useCallback(() => {
    if (user) listProducts({ sellerId: user.id, page, limit: 20 }).then(setProducts, setError);
  }, [user, page]);
  useEffect(load, [load]);
  const currency = products?.data[0]?.currency ?? shownCurrency();

  return (
    <section>
      <h1>Products</h1>
      <form
        class="card"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void form.submit(async () => {
            const { name, sku, price, stock } = form.values;
            const minor = parseMoney(price, currency);
            const units = Number(stock);
            const problems = {
              ...(minor === undefined ? { price: 'Enter a price such as 250 or 249.50' } : {}),
              ...(stock.trim() === '' || !Number.isInteger(units) || units < 0
                ? { stock: 'Enter a whole number' }
                : {}),
            };
            if (Object.keys(problems).length) {
              form.setFields(problems);
              return;
            }
            await createProduct({ name: name.trim(), sku: sku.trim(), price: minor!, stock: units });
            form.setValues({ name: '', sku: '', price: '', stock: '' });
            load();
          });
        }}
      >
        <h2 class="card__title">Add a product</h2>
        <div class="delivery-grid">
          <Field label="Name" error={form.fields.name}>
            {(a) => <input {...a} {...form.bind('name')} />}
          </Field>
          <Field label="SKU" error={form.fields.sku}>
            {(a) => <input {...a} {...form.bind('sku')} />}
          </Field>
          <Field label={`Price (${currency})`} error={form.fields.price}>
            {(a) => <input {...a} {...form.bind('price')} inputMode="decimal" />}
          </Field>
          <Field label="Stock" error={form.fields.stock}>
            {(a) => <input {...a} {...form.bind('stock')} inputMode="numeric" />}
          </Field>
        </div>
        <ErrorMessage error={form.error} />
        <button class="button" type="submit" disabled={form.busy}>
          Add product
        </button>
      </form>
      <ErrorMessage error={error} />
      {products && (
        <table class="table card">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">SKU</th>
              <th scope="col">Price</th>
              <th scope="col">Stock</th>
            </tr>
          </thead>
          <tbody>
            {products.data.map((product) => (
              <tr key={product.id}>
                <th scope="row">{product.name}</th>
                <td>{product.sku}</td>
                <td>{money(product.price, product.currency)}</td>
                <td>{product.stock}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {products && (
        <Pagination label="Product pages" page={products.page} totalPages={products.totalPages} onPage={setPage} />
      )}
    </section>
  );
}
