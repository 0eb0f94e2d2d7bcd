/**
 * Everything the app says to the HTTP API, in one module: the Bearer token,
 * problem details turned into a message and per-field errors, and the
 * checkout's Idempotency-Key with its retries. Pages call these functions and
 * never `fetch` themselves, so switching to the typed client of
 * packages/client later changes this file only.
 */
import type {
  AppNotification,
  Checkout,
  Delivery,
  DeliveryStatus,
  Invoice,
  Order,
  OrderStats,
  Page,
  PaymentMethod,
  Product,
  Role,
  TodaysDeliveries,
  User,
} from './types';

/** Field path (as the API names it, e.g. `deliveryAddress`, `items.0.quantity`) → message. */
export type FieldErrors = Record<string, string>;

/** A refused or failed request, ready to show: `message` for people, `fields` next to the inputs. */
export class ApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly fields: FieldErrors = {},
    /** From `Retry-After`, when the server said when to try again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Worth sending again unchanged: the network dropped it, or the server asked for a retry. */
  get retryable(): boolean {
    return this.status === 0 || (this.retryAfterMs !== undefined && [409, 429, 503].includes(this.status));
  }
}

let token: string | undefined;
let onSessionEnded: (message: string) => void = () => {};

export function setToken(value: string | undefined) {
  token = value;
}

/** Called when a request made with a token gets 401: the token expired or was revoked. */
export function whenSessionEnds(listener: (message: string) => void) {
  onSessionEnded = listener;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Answer with the body as a Blob (PDFs) instead of JSON. */
  blob?: boolean;
}

async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const url = new URL(`/api${path}`, location.origin);
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
  }
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const sentToken = token;
  if (sentToken) headers.authorization = `Bearer ${sentToken}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';

  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError('Could not reach the server. Check your connection and try again.', 0);
  }
  if (response.ok) {
    if (response.status === 204) return undefined as T;
    if (options.blob) return (await response.blob()) as T;
    return (await response.json()) as T;
  }
  const error = await toApiError(response);
  if (response.status === 401 && sentToken && sentToken === token) {
    onSessionEnded(`Your session has ended (${error.message}). Please sign in again.`);
  }
  throw error;
}

interface Problem {
  title?: string;
  detail?: string;
  errors?: Array<{ path?: string; message?: string }>;
}

/** A problem document (RFC 9457) as a message and field errors; anything else as a plain message, never raw. */
async function toApiError(response: Response): Promise<ApiError> {
  let problem: Problem = {};
  try {
    const body: unknown = await response.json();
    if (body && typeof body === 'object') problem = body as Problem;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  const fields: FieldErrors = {};
  for (const { path, message } of Array.isArray(problem.errors) ? problem.errors : []) {
    if (typeof path === 'string' && typeof message === 'string') fields[path] ??= message;
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  const message =
    typeof problem.detail === 'string' && problem.detail
      ? problem.detail
      : typeof problem.title === 'string' && problem.title
        ? problem.title
        : `The server answered ${response.status} ${response.statusText}`.trim();
  return new ApiError(
    message,
    response.status,
    fields,
    Number.isFinite(retryAfter) && response.headers.has('retry-after') ? retryAfter * 1000 : undefined,
  );
}

const get = <T>(path: string, query?: Query) => request<T>('GET', path, { query });
const post = <T>(path: string, body?: unknown) => request<T>('POST', path, { body });
const put = <T>(path: string, body?: unknown) => request<T>('PUT', path, { body });
const patch = <T>(path: string, body?: unknown) => request<T>('PATCH', path, { body });

interface AuthResult {
  token: string;
  user: User;
}

export const signIn = (email: string, password: string) => post<AuthResult>('/auth/login', { email, password });
export const register = (input: { name: string; email: string; password: string; phone?: string }) =>
  post<AuthResult>('/auth/register', input);
export const currentUser = () => get<User>('/auth/me');
/** Ends every session of the account (the API has no per-device sign-out). */
export const signOut = () => post<void>('/auth/logout');
export const createUser = (input: { name: string; email: string; password: string; role: Role; phone?: string }) =>
  post<User>('/users', input);

export const listProducts = (query: { search?: string; sellerId?: string; page?: number; limit?: number }) =>
  get<Page<Product>>('/products', query);
export const createProduct = (input: { name: string; sku: string; price: number; stock: number }) =>
  post<Product>('/products', input);

export interface OrderQuery {
  search?: string;
  /** Comma-separated statuses. */
  status?: string;
  paymentStatus?: string;
  sellerId?: string;
  page?: number;
  limit?: number;
}

export const listOrders = (query: OrderQuery) => get<Page<Order>>('/orders', { ...query });
export const orderStats = () => get<OrderStats>('/orders/stats');
export const getOrder = (id: string) => get<Order>(`/orders/${id}`);
export const confirmOrder = (id: string, estimatedDelivery?: string) =>
  put<Order>(`/orders/${id}/confirm`, estimatedDelivery ? { estimatedDelivery } : {});
export const shipOrder = (id: string) => put<{ delivery: Delivery; order: Order }>(`/orders/${id}/ship`);
export const cancelOrder = (id: string) => request<Order>('DELETE', `/orders/${id}`);

export const listDeliveries = (orderId: string) => get<{ data: Delivery[] }>(`/orders/${orderId}/deliveries`);
export const createDelivery = (
  orderId: string,
  input: { items: Array<{ productId: string; quantity: number }>; scheduledDate?: string },
) => post<{ delivery: Delivery; order: Order }>(`/orders/${orderId}/deliveries`, input);
export const setDeliveryStatus = (deliveryId: string, status: DeliveryStatus) =>
  patch<{ delivery: Delivery; order: Order }>(`/orders/deliveries/${deliveryId}/status`, { status });
export const deliveriesToday = () => get<TodaysDeliveries>('/deliveries/today');

export const listInvoices = (orderId: string) => get<{ data: Invoice[] }>(`/orders/${orderId}/invoices`);
/** 200 with the invoice when it exists, else 202: the invoice job is queued (an `invoice:generated` event follows). */
export const requestInvoice = (deliveryId: string) =>
  post<{ invoice?: Invoice; jobId?: string }>(`/orders/deliveries/${deliveryId}/invoice`);
export const invoicePdf = (invoiceId: string) => request<Blob>('GET', `/invoices/${invoiceId}/pdf`, { blob: true });
export interface PaymentInput {
  amount: number;
  method: PaymentMethod;
  reference?: string;
}
export const payInvoice = (invoiceId: string, input: PaymentInput) =>
  post<{ order: Order; invoice?: Invoice }>(`/invoices/${invoiceId}/payments`, input);
export const payOrder = (orderId: string, input: PaymentInput) =>
  post<{ order: Order }>(`/orders/${orderId}/payments`, input);

export const listNotifications = (query: { unread?: boolean; page?: number; limit?: number }) =>
  get<Page<AppNotification>>('/notifications', query);
export const markNotificationRead = (id: string) => post<AppNotification>(`/notifications/${id}/read`);
export const markAllNotificationsRead = () => post<{ updated: number }>('/notifications/read-all');

export interface CheckoutInput {
  items: Array<{ productId: string; quantity: number }>;
  deliveryAddress: string;
  phone?: string;
  notes?: string;
}

/** Tries after a cut connection or a "still processing" answer before giving the error to the page. */
const CHECKOUT_ATTEMPTS = 5;

/**
 * One checkout as the customer means it: its Idempotency-Key is made once, on
 * the first "Place order", and sent again with every retry of the same body
 * (automatic ones after a network error or a 409/503 with Retry-After, and the
 * customer's own "Try again"), so the API creates one checkout however often
 * the request goes out. A changed body is another checkout, with a new key.
 */
export class CheckoutAttempt {
  private key: string | undefined;
  private fingerprint: string | undefined;

  async place(input: CheckoutInput, onRetry?: (attempt: number, error: ApiError) => void): Promise<Checkout> {
    const fingerprint = JSON.stringify(input);
    if (!this.key || fingerprint !== this.fingerprint) {
      this.key = newIdempotencyKey();
      this.fingerprint = fingerprint;
    }
    const headers = { 'Idempotency-Key': this.key };
    for (let attempt = 1; ; attempt++) {
      try {
        const checkout = await request<Checkout>('POST', '/orders', { body: input, headers });
        this.key = undefined;
        return checkout;
      } catch (error) {
        if (!(error instanceof ApiError) || !error.retryable || attempt >= CHECKOUT_ATTEMPTS) throw error;
        const wait = error.retryAfterMs ?? 400 * 2 ** (attempt - 1);
        if (wait > 10_000) throw error;
        onRetry?.(attempt, error);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }
}

function newIdempotencyKey(): string {
  // getRandomValues works on plain-HTTP origins too, where randomUUID does not exist.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `checkout-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
