import type { JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import { Layout } from './components/layout';
import { Link } from './components/ui';
import { showAlert } from './notices';
import { AccountsPage, ProductsPage } from './pages/accounts';
import { RegisterPage, SignInPage } from './pages/auth';
import { MyOrdersPage, SellerDashboardPage, StaffPage } from './pages/dashboards';
import { OrderPage } from './pages/order';
import { CheckoutPage, ShopPage } from './pages/shop';
import { statusLabel } from './format';
import { useSocketEvent } from './realtime';
import { navigate, useLocation } from './router';
import { session } from './session';
import { useStore } from './store';
import type { OrderStatus, Role } from './types';

const HOME: Record<Role, string> = { customer: '/shop', seller: '/dashboard', staff: '/staff', admin: '/staff' };

/** Pages and who may open them. */
const ROUTES: Array<{ path: RegExp; roles: Role[]; page: (match: RegExpMatchArray) => JSX.Element }> = [
  { path: /^\/shop$/, roles: ['customer'], page: () => <ShopPage /> },
  { path: /^\/checkout$/, roles: ['customer'], page: () => <CheckoutPage /> },
  { path: /^\/orders$/, roles: ['customer'], page: () => <MyOrdersPage /> },
  {
    path: /^\/orders\/([0-9a-f]{24})$/i,
    roles: ['customer', 'seller', 'staff', 'admin'],
    page: (m) => <OrderPage key={m[1]} id={m[1]!} />,
  },
  { path: /^\/dashboard$/, roles: ['seller'], page: () => <SellerDashboardPage /> },
  { path: /^\/products$/, roles: ['seller'], page: () => <ProductsPage /> },
  { path: /^\/staff$/, roles: ['staff', 'admin'], page: () => <StaffPage /> },
  { path: /^\/users$/, roles: ['admin'], page: () => <AccountsPage /> },
];

const TITLES: Array<[RegExp, string]> = [
  [/^\/shop/, 'Shop'],
  [/^\/checkout/, 'Cart'],
  [/^\/orders\//, 'Order'],
  [/^\/orders/, 'My orders'],
  [/^\/dashboard/, 'Dashboard'],
  [/^\/products/, 'Products'],
  [/^\/staff/, 'All orders'],
  [/^\/users/, 'Accounts'],
  [/^\/sign-in/, 'Sign in'],
  [/^\/register/, 'Create an account'],
];

export function App() {
  const { path } = useLocation();
  const current = useStore(session);

  useEffect(() => {
    const title = TITLES.find(([pattern]) => pattern.test(path))?.[1];
    document.title = title ? `${title} · Orders` : 'Orders';
  }, [path]);

  // Where to go instead of the page asked for: sign-in when signed out, home for `/` and after signing in.
  const publicPage = path === '/sign-in' || path === '/register';
  const redirect = !current
    ? publicPage
      ? null
      : '/sign-in'
    : publicPage || path === '/'
      ? HOME[current.user.role]
      : null;
  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);

  // Customers hear about their orders wherever they are in the app.
  useSocketEvent<{ orderId: string; orderNumber: string; status: OrderStatus }>('order_status_update', (event) => {
    if (session.get()?.user.role === 'customer') {
      showAlert(`Order ${event.orderNumber} is now ${statusLabel(event.status).toLowerCase()}`, event.orderId);
    }
  });

  let content;
  if (redirect) content = null;
  else if (!current) content = path === '/register' ? <RegisterPage /> : <SignInPage />;
  else {
    const route = ROUTES.map((r) => ({ r, m: path.match(r.path) })).find(({ m }) => m);
    if (!route) content = <NotFound />;
    else if (!route.r.roles.includes(current.user.role))
      content = <NotFound reason="This page is not for your account." />;
    else content = route.r.page(route.m!);
  }
  return <Layout path={path}>{content}</Layout>;
}

function NotFound({ reason = 'There is no such page.' }: { reason?: string }) {
  return (
    <section class="card narrow">
      <h1>Not here</h1>
      <p>{reason}</p>
      <Link to="/">Go to the start page</Link>
    </section>
  );
}
