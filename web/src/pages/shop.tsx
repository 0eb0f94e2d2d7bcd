import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, CheckoutAttempt, listProducts } from '../api';
import { addToCart, bySeller, cart, clearCart, setQuantity } from '../cart';
import { ErrorMessage, Field, Link, Loading, Notice, Pagination, StatusBadge } from '../components/ui';
import { useForm } from '../form';
import { money } from '../format';
import { setQuery, useLocation } from '../router';
import { session } from '../session';
import { useStore } from '../store';
import type { Checkout, Page, Product } from '../types';

const PAGE_SIZE = 12;

export function ShopPage() {
  const { query } = useLocation();
  const search = query.get('search') ?? '';
  const page = Number(query.get('page') ?? '1') || 1;
  const [typed, setTyped] = useState(search);
  const [products, setProducts] = useState<Page<Product> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const lines = useStore(cart);

  useEffect(() => {
    let current = true;
    setError(null);
    listProducts({ search: search || undefined, page, limit: PAGE_SIZE }).then(
      (result) => current && setProducts(result),
      (caught: unknown) => current && setError(caught),
    );
    return () => {
      current = false;
    };
  }, [search, page]);

  // Searching as one types, once the typing pauses.
  useEffect(() => {
    if (typed.trim() === search) return undefined;
    const timer = setTimeout(() => setQuery({ search: typed.trim() || undefined, page: undefined }), 350);
    return () => clearTimeout(timer);
  }, [typed, search]);

  const inCart = new Map(lines.map((line) => [line.productId, line.quantity]));
  const count = lines.reduce((sum, line) => sum + line.quantity, 0);

  return (
    <section>
      <div class="page-head">
        <h1>Shop</h1>
        <Link to="/checkout" class="button">
          Cart ({count})
        </Link>
      </div>
      <form
        role="search"
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery({ search: typed.trim() || undefined, page: undefined });
        }}
      >
        <label class="visually-hidden" for="product-search">
          Search products
        </label>
        <input
          id="product-search"
          type="search"
          placeholder="Search products"
          value={typed}
          onInput={(event) => setTyped((event.target as HTMLInputElement).value)}
        />
        <button class="button button--ghost" type="submit">
          Search
        </button>
      </form>
      <ErrorMessage error={error} />
      {!products && !error && <Loading what="Loading products" />}
      {products && products.data.length === 0 && <p class="muted">No products match.</p>}
      {products && (
        <ul class="grid" aria-label="Products">
          {products.data.map((product) => (
            <li key={product.id} class="card product">
              <h2 class="product__name">{product.name}</h2>
              <p class="muted">
                {product.sellerName} · SKU {product.sku}
              </p>
              <p class="product__price">{money(product.price, product.currency)}</p>
              <p class={product.stock > 0 ? 'muted' : 'warning'}>
                {product.stock > 0 ? `${product.stock} in stock` : 'Out of stock'}
              </p>
              <button
                type="button"
                class="button"
                disabled={product.stock <= (inCart.get(product.id) ?? 0)}
                aria-label={`Add ${product.name} to cart`}
                onClick={() => addToCart(product)}
              >
                Add to cart
              </button>
              {inCart.has(product.id) && <p class="muted">In cart: {inCart.get(product.id)}</p>}
            </li>
          ))}
        </ul>
      )}
      {products && (
        <Pagination
          label="Product pages"
          page={products.page}
          totalPages={products.totalPages}
          onPage={(next) => setQuery({ page: next })}
        />
      )}
    </section>
  );
}

export function CheckoutPage() {
  const lines = useStore(cart);
  const user = useStore(session)?.user;
  const form = useForm({ deliveryAddress: '', phone: user?.phone ?? '', notes: '' });
  const attempt = useRef(new CheckoutAttempt());
  const [retrying, setRetrying] = useState<string | null>(null);
  const [placed, setPlaced] = useState<Checkout | null>(null);

  if (placed) return <Confirmation checkout={placed} />;

  const groups = bySeller(lines);
  const currency = lines[0]?.currency ?? 'INR';
  const total = lines.reduce((sum, line) => sum + line.price * line.quantity, 0);
  // The API names items by their index in the body, which is the cart's order.
  const itemError = (index: number) =>
    Object.entries(form.fields).find(([path]) => path.startsWith(`items.${index}.`) || path === `items.${index}`)?.[1];
  const otherItemsError = form.fields.items;

  const place = () =>
    form.submit(async () => {
      setRetrying(null);
      const { deliveryAddress, phone, notes } = form.values;
      try {
        const checkout = await attempt.current.place(
          {
            items: lines.map(({ productId, quantity }) => ({ productId, quantity })),
            deliveryAddress,
            ...(phone.trim() ? { phone } : {}),
            ...(notes.trim() ? { notes } : {}),
          },
          (n, error) => setRetrying(`${error.status === 0 ? 'Connection lost' : error.message}: trying again (${n})…`),
        );
        clearCart();
        setPlaced(checkout);
      } finally {
        setRetrying(null);
      }
    });

  if (lines.length === 0) {
    return (
      <section class="card">
        <h1>Your cart</h1>
        <p>Your cart is empty.</p>
        <Link to="/shop" class="button">
          Browse products
        </Link>
      </section>
    );
  }

  return (
    <section>
      <h1>Your cart</h1>
      {groups.length > 1 && (
        <Notice>Your cart has goods from {groups.length} sellers: each seller gets (and ships) its own order.</Notice>
      )}
      {groups.map((group, g) => (
        <div class="card" key={group[0]!.sellerId}>
          <h2 class="card__title">
            {group[0]!.sellerName ? `From ${group[0]!.sellerName}` : `Order ${g + 1} of ${groups.length}`}
          </h2>
          <ul class="lines">
            {group.map((line) => {
              const index = lines.indexOf(line);
              const error = itemError(index);
              return (
                <li key={line.productId} class="line">
                  <div class="line__what">
                    <strong>{line.name}</strong>
                    <span class="muted"> · {money(line.price, line.currency)} each</span>
                  </div>
                  <div class="line__qty">
                    <label for={`qty-${line.productId}`} class="visually-hidden">
                      Quantity of {line.name}
                    </label>
                    <input
                      id={`qty-${line.productId}`}
                      type="number"
                      min={1}
                      max={10000}
                      value={line.quantity}
                      aria-invalid={Boolean(error)}
                      onChange={(event) =>
                        setQuantity(line.productId, Math.floor(Number((event.target as HTMLInputElement).value)))
                      }
                    />
                    <button
                      type="button"
                      class="button button--link"
                      aria-label={`Remove ${line.name}`}
                      onClick={() => setQuantity(line.productId, 0)}
                    >
                      Remove
                    </button>
                  </div>
                  <div class="line__sum">{money(line.price * line.quantity, line.currency)}</div>
                  {error && (
                    <p class="field__error" role="alert">
                      {error}
                    </p>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      ))}
      <p class="total">
        Total: <strong>{money(total, currency)}</strong> · cash on delivery
      </p>
      <form
        class="card"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void place();
        }}
      >
        <h2 class="card__title">Delivery</h2>
        <Field label="Delivery address" error={form.fields.deliveryAddress}>
          {(a) => <textarea {...a} {...form.bind('deliveryAddress')} rows={3} autocomplete="street-address" required />}
        </Field>
        <Field label="Phone" error={form.fields.phone} hint="So the courier can reach you, e.g. +91 98765 43210.">
          {(a) => <input {...a} {...form.bind('phone')} type="tel" autocomplete="tel" />}
        </Field>
        <Field label="Notes for the sellers (optional)" error={form.fields.notes}>
          {(a) => <textarea {...a} {...form.bind('notes')} rows={2} />}
        </Field>
        {otherItemsError && (
          <p class="field__error" role="alert">
            {otherItemsError}
          </p>
        )}
        {retrying && <Notice>{retrying}</Notice>}
        {form.error instanceof ApiError && form.error.retryable ? (
          <div class="message message--error" role="alert">
            {form.error.message} Your order was not lost: press “Place order” again to finish it (it will not be placed
            twice).
          </div>
        ) : (
          <ErrorMessage error={form.error} />
        )}
        <button class="button button--primary" type="submit" disabled={form.busy}>
          {form.busy ? 'Placing order…' : 'Place order'}
        </button>
      </form>
    </section>
  );
}

function Confirmation({ checkout }: { checkout: Checkout }) {
  const count = checkout.orders.length;
  return (
    <section class="card" aria-labelledby="confirmation-title">
      <h1 id="confirmation-title">Thank you: your order is placed</h1>
      <p>
        {count === 1 ? 'It went to one seller' : `It was split into ${count} orders, one per seller`}; you will see each
        one's progress under <Link to="/orders">My orders</Link>.
      </p>
      <ul class="confirmation" data-testid="confirmation">
        {checkout.orders.map((order) => (
          <li key={order.id} class="confirmation__order">
            <Link to={`/orders/${order.id}`}>
              <strong>{order.orderNumber}</strong>
            </Link>{' '}
            from {order.seller.name} · {money(order.totalAmount, order.currency)} <StatusBadge status={order.status} />
          </li>
        ))}
      </ul>
    </section>
  );
}
